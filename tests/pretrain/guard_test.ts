/**
 * Issue 12 for `lab pretrain`: a rerun never starts over a previous run or a folder of the user's
 * files, `--resume` without a checkpoint is an error, and the export never replaces a model folder
 * (by default the shipped data/models/tiny) without `--force`, checked before training.
 */
import assert from "node:assert/strict";
import { snapshot, useCpu } from "../helpers.ts";
import { pretrain, type PretrainConfig, type PretrainData } from "../../tools/pretrain/train.ts";
import { pretrainCommand } from "../../tools/pretrain/cli.ts";

const V = 20;
const stream = (n: number) => Int32Array.from({ length: n }, (_, i) => i % V);
const DATA: PretrainData = {
  tokenizer: { encode: () => [], decode: () => "", eosId: V - 1, vocabSize: V },
  train: stream(400),
  heldOut: stream(60),
  trainDocs: ["t"],
  heldOutDocs: ["h"],
};
const CONFIG: Partial<PretrainConfig> = {
  vocabSize: V,
  nEmbd: 8,
  nLayer: 1,
  nHead: 2,
  nPositions: 8,
  batchSize: 2,
  seqLen: 8,
  steps: 2,
  warmupSteps: 1,
  evalEvery: 2,
  evalRows: 2,
  checkpointEvery: 1,
};

Deno.test("pretrain: a second run into a finished run's folder is refused; --force replaces only its files", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const first = await pretrain(CONFIG, dir, { data: DATA });
  first.model.dispose();
  const before = snapshot(dir);
  await assert.rejects(pretrain({ ...CONFIG, seed: 9 }, dir, { data: DATA }), /--force/);
  assert.deepEqual(snapshot(dir), before);
  const removed: string[][] = [];
  const again = await pretrain({ ...CONFIG, seed: 9 }, dir, {
    data: DATA,
    force: true,
    onReplaced: (n) => removed.push(n),
  });
  again.model.dispose();
  assert.deepEqual(removed, [["checkpoint", "log.jsonl", "run.json"]]);
  assert.equal(JSON.parse(Deno.readTextFileSync(`${dir}/run.json`)).seed, 9);
});

Deno.test("pretrain: a folder of the user's files is refused even with force, and unchanged", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/log.jsonl`, '{"mine": true}\n');
  await Deno.writeTextFile(`${dir}/notes.txt`, "thesis");
  const before = snapshot(dir);
  await assert.rejects(
    pretrain(CONFIG, dir, { data: DATA, force: true }),
    /not a pretrain run folder \(holds notes\.txt\)/,
  );
  assert.deepEqual(snapshot(dir), before);
});

Deno.test("pretrain: --resume without a checkpoint is an error and the log is kept", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/log.jsonl`, '{"step":1,"loss":9}\n');
  await assert.rejects(
    pretrain(CONFIG, dir, { data: DATA, resume: true }),
    /no checkpoint to resume/,
  );
  assert.equal(Deno.readTextFileSync(`${dir}/log.jsonl`), '{"step":1,"loss":9}\n');
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["log.jsonl"]);
});

Deno.test("lab pretrain: an existing --model-dir is refused before training starts", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/model`);
  await Deno.writeTextFile(`${dir}/model/config.json`, '{"mine": 1}');
  await Deno.writeTextFile(`${dir}/model/model.safetensors`, "weights");
  const before = snapshot(dir);
  const t0 = performance.now();
  await assert.rejects(
    pretrainCommand([
      ...["--steps", "1", "--batch", "2", "--seq", "8", "--vocab", "300", "--embd", "8"],
      ...["--layers", "1", "--heads", "2", "--positions", "8", "--eval-rows", "1"],
      ...["--backend", "cpu", "--out", `${dir}/run`, "--model-dir", `${dir}/model`],
    ]),
    /--model-dir .*holds an exported model; pass --force/,
  );
  assert.deepEqual(snapshot(dir), before, "nothing written, not even the run folder");
  assert.ok(performance.now() - t0 < 5_000, "refused before any training");
});
