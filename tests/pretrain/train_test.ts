import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { pretrain, type PretrainConfig, type PretrainData } from "../../tools/pretrain/train.ts";

const V = 40;

function toyData(): PretrainData {
  // A stream with structure (a repeating phrase with variations), ids < V - 1; V - 1 is EOS.
  const stream = (n: number, k: number) =>
    Int32Array.from({ length: n }, (_, i) => (i % 7 === 6 ? V - 1 : (i * k + (i >> 3)) % (V - 1)));
  return {
    tokenizer: {
      encode: (t) => Array.from(t, (c) => c.charCodeAt(0) % (V - 1)),
      decode: (ids) => ids.map((i) => String.fromCharCode(97 + (i % 26))).join(""),
      eosId: V - 1,
      vocabSize: V,
    },
    train: stream(2000, 3),
    heldOut: stream(200, 5),
    trainDocs: ["t"],
    heldOutDocs: ["h"],
  };
}

const CONFIG: Partial<PretrainConfig> = {
  seed: 3,
  vocabSize: V,
  nEmbd: 16,
  nLayer: 1,
  nHead: 2,
  nPositions: 8,
  batchSize: 2,
  seqLen: 8,
  steps: 5,
  warmupSteps: 2,
  evalEvery: 2,
  evalRows: 4,
  checkpointEvery: 2,
};

function weights(model: { namedVariables(): ReadonlyMap<string, { dataSync(): unknown }> }) {
  const out: number[] = [];
  for (const v of model.namedVariables().values()) out.push(...(v.dataSync() as Float32Array));
  return out;
}

Deno.test("pretrain: an interrupted run resumed from its checkpoint ends where an uninterrupted one does", async () => {
  await useCpu();
  const data = toyData();
  const dirA = await Deno.makeTempDir(), dirB = await Deno.makeTempDir();
  try {
    const a = await pretrain(CONFIG, dirA, { data });
    assert.equal(a.step, 5);
    assert.ok(a.done);
    const wa = weights(a.model);
    a.model.dispose();

    const b1 = await pretrain(CONFIG, dirB, { data, stopAfter: 3 });
    assert.equal(b1.step, 3);
    assert.equal(b1.done, false);
    b1.model.dispose();
    // A step written after the checkpoint (as by a crash) must not survive the resume.
    await Deno.writeTextFile(`${dirB}/log.jsonl`, '{"step":4,"loss":0}\n', { append: true });
    const b2 = await pretrain(CONFIG, dirB, { data, resume: true });
    assert.equal(b2.step, 5);
    assertClose(weights(b2.model), wa, { rtol: 1e-6, atol: 1e-7 });
    b2.model.dispose();

    const lines = (await Deno.readTextFile(`${dirB}/log.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.deepEqual(lines.filter((r) => "loss" in r).map((r) => r.step), [1, 2, 3, 4, 5]);
    assert.deepEqual(lines.filter((r) => "eval_loss" in r).map((r) => r.step), [2, 4, 5]);
    const linesA = (await Deno.readTextFile(`${dirA}/log.jsonl`)).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assertClose(
      lines.filter((r) => "loss" in r).map((r) => r.loss),
      linesA.filter((r) => "loss" in r).map((r) => r.loss),
      { rtol: 1e-5 },
    );
    // The first loss of a fresh model is near ln V (uniform predictions).
    assertClose(linesA[0].loss, Math.log(V), { rtol: 0.05 });
  } finally {
    await Deno.remove(dirA, { recursive: true });
    await Deno.remove(dirB, { recursive: true });
  }
});
