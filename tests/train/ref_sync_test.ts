/**
 * The moving reference (TR-DPO / TRL `sync_ref_model`): the reference parameters after τ steps
 * are the hand-computed mix of the policy snapshots, and precomputed reference log-probs are
 * recomputed under the moved reference (checked against a model built from the hand mix).
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { dpoObjective, logp, PAIRS, toyModel } from "./toy_setup.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import { readReferenceFile } from "../../lib/scoring/ref_cache.ts";
import { resolveRefSync } from "../../lib/train/ref_sync.ts";
import type { TrainCallback } from "../../lib/train/callbacks.ts";
import type { ToyBatch } from "../../lib/core/scores.ts";

await useCpu();

const common = {
  data: toyData(PAIRS),
  objective: dpoObjective(0.5),
  optimizer: { name: "sgd" as const },
  lr: 0.5,
  batchSize: 4,
  shuffle: false,
  progress: false as const,
};

/** Float64 copies of a model's weights after every step, taken by a callback. */
function snapshots(model: ReturnType<typeof toyModel>) {
  const at: Record<number, number[][]> = {};
  const read = () => model.variables().map((v) => Array.from(v.dataSync(), Number));
  const cb: TrainCallback<ToyBatch> = {
    name: "snap",
    onTrainBegin() {
      at[0] = read();
    },
    onStepEnd(ctx) {
      at[ctx.step] = read();
    },
  };
  return { at, cb };
}

const mixed = (a: number[][], b: number[][], alpha: number) =>
  a.map((t, i) => t.map((x, j) => alpha * x + (1 - alpha) * b[i][j]));

Deno.test("ref sync: the reference model is α·θ_τ + (1-α)·ref after each τ steps, by hand", async () => {
  const policy = toyModel(2), reference = toyModel(2);
  const snap = snapshots(policy);
  try {
    const result = await train({
      ...common,
      policy,
      reference: { kind: "model", scorer: reference },
      maxSteps: 5,
      syncReference: { alpha: 0.6, every: 2 },
      callbacks: [snap.cb],
    });
    // Syncs after steps 2 and 4: ref_4 = 0.6 θ_4 + 0.4 (0.6 θ_2 + 0.4 θ_0); step 5 changes nothing.
    const expected = mixed(snap.at[4], mixed(snap.at[2], snap.at[0], 0.6), 0.6);
    const got = reference.variables().map((v) => Array.from(v.dataSync(), Number));
    got.forEach((g, i) => assertClose(g, expected[i], { rtol: 1e-5, atol: 1e-6 }));
    assert.deepEqual(result.records.map((r) => r["reference/syncs"]), [0, 1, 1, 2, 2]);
    // The policy really moved between syncs, so the mix is not trivially a copy.
    assert.ok(Math.abs(snap.at[4][0][0] - snap.at[2][0][0]) > 1e-4);
  } finally {
    policy.dispose();
    reference.dispose();
  }
});

Deno.test("ref sync: precomputed reference log-probs are recomputed under the moved reference", async () => {
  const policy = toyModel(3);
  const snap = snapshots(policy);
  const out = await Deno.makeTempDir();
  try {
    const result = await train({
      ...common,
      policy,
      maxSteps: 3,
      outDir: out,
      examplesEvery: 1,
      syncReference: { alpha: 0.6, every: 2 },
      callbacks: [snap.cb],
    });
    // An independent model holding the hand mix 0.6 θ_2 + 0.4 θ_0 scores every pair in float64.
    const check = toyModel(99);
    try {
      const w = mixed(snap.at[2], snap.at[0], 0.6);
      check.variables().forEach((v, i) => v.assign(tensorLike(v, w[i])));
      const table = await readReferenceFile(`${out}/reference_logps.safetensors`);
      PAIRS.prompt.forEach((p, i) => {
        assertClose(table.chosen[i], logp(check, p, PAIRS.chosen[i]), { rtol: 1e-5, atol: 1e-5 });
        assertClose(table.rejected[i], logp(check, p, PAIRS.rejected[i]), {
          rtol: 1e-5,
          atol: 1e-5,
        });
      });
      // Step 3's records used that table: ref_chosen of its pairs equals the hand value.
      const rows = (await Deno.readTextFile(`${out}/examples.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l)).filter((r) => r.step === 3);
      assert.equal(rows.length, 4);
      for (const r of rows) {
        const i = r.pair;
        assertClose(r.ref_chosen, logp(check, PAIRS.prompt[i], PAIRS.chosen[i]), {
          rtol: 1e-5,
          atol: 1e-5,
        });
      }
    } finally {
      check.dispose();
    }
    // The policy's own weights were put back after the rescoring.
    const now = policy.variables().map((v) => Array.from(v.dataSync(), Number));
    now.forEach((g, i) => assertClose(g, snap.at[3][i], { rtol: 0, atol: 0 }));
    assert.equal(result.records.at(-1)!["reference/syncs"], 1);
  } finally {
    policy.dispose();
  }
});

Deno.test("ref sync: hard sync (α = 1) makes the reference equal the policy: rewards 0 next step", async () => {
  const policy = toyModel(4);
  try {
    const result = await train({
      ...common,
      policy,
      maxSteps: 2,
      syncReference: { alpha: 1, every: 1 },
    });
    assert.ok(Math.abs(result.records[0]["rewards/margins"]!) < 1e-7); // step 1: ref = θ_0
    assertClose(result.records[1]["rewards/chosen"]!, 0, { atol: 1e-6 });
    assertClose(result.records[1]["rewards/rejected"]!, 0, { atol: 1e-6 });
  } finally {
    policy.dispose();
  }
});

Deno.test("ref sync: bad settings are refused with the field named", async () => {
  assert.deepEqual(resolveRefSync({}), { alpha: 0.6, every: 512 }); // TRL's defaults
  assert.throws(() => resolveRefSync({ alpha: 0 }), /syncReference\.alpha must be in \(0, 1\]/);
  assert.throws(() => resolveRefSync({ every: 1.5 }), /syncReference\.every must be an integer/);
  assert.throws(
    () => resolveRefSync({ tau: 3 } as never),
    /syncReference\.tau is not a field/,
  );
  const policy = toyModel(5);
  try {
    const { sft } = await import("../../lib/objectives/mod.ts");
    await assert.rejects(
      () => train({ ...common, objective: sft(), policy, maxSteps: 1, syncReference: {} }),
      /syncReference: objective 'sft' uses no reference/,
    );
  } finally {
    policy.dispose();
  }
});

function tensorLike(v: { shape: number[] }, values: number[]) {
  return tf.tensor(values, v.shape);
}

Deno.test("ref sync: lab train config field syncReference (validated, passed to the run)", async () => {
  const { parseTrainConfig } = await import("../../lib/train/config.ts");
  const { runConfig } = await import("../../tools/commands/train.ts");
  const base = {
    model: { toy: { kind: "unconstrained", tokens: ["a", "b", "c"], prompts: 1, dim: 2 } },
    data: { pairs: [{ prompt: 0, chosen: "a", rejected: "b" }] },
    objective: { name: "dpo", params: { beta: 0.1 } },
    optimizer: { name: "sgd" },
    lr: 0.1,
    batchSize: 1,
    steps: 4,
    out: await Deno.makeTempDir(),
  };
  assert.throws(
    () => parseTrainConfig({ ...base, syncReference: { alpha: 2 } }, "run.json"),
    /run\.json: field 'syncReference': syncReference\.alpha must be in \(0, 1\], got 2/,
  );
  const cfg = parseTrainConfig({ ...base, syncReference: { alpha: 1, every: 2 } }, "run.json");
  const result = await runConfig(cfg, { quiet: true });
  assert.deepEqual(result.records.map((r) => r["reference/syncs"]), [0, 1, 1, 2]);
  // Hard sync after step 2: step 3's rewards are measured against θ_2 = the scoring weights.
  assertClose(result.records[2]["rewards/chosen"]!, 0, { atol: 1e-6 });
  const config = JSON.parse(await Deno.readTextFile(`${base.out}/config.json`));
  assert.deepEqual(config.train.syncReference, { alpha: 1, every: 2 });
});

Deno.test("ref sync: a run stopped and resumed continues the moved reference exactly", async () => {
  for (const kind of ["precompute", "model"] as const) {
    const straight = await syncRun(kind, await Deno.makeTempDir());
    const dir = await Deno.makeTempDir();
    const first = await syncRun(kind, dir, 3);
    assert.equal(first.stopped, true);
    const names = [...Deno.readDirSync(`${dir}/checkpoints`)].map((e) => e.name);
    assert.ok(
      names.every((n) => Deno.statSync(`${dir}/checkpoints/${n}/reference.safetensors`).isFile),
    );
    const resumed = await syncRun(kind, dir, undefined, true);
    const tail = (r: typeof straight) => r.records.filter((x) => x.step > 3);
    assert.deepEqual(tail(resumed).map((r) => r.step), [4, 5]);
    tail(resumed).forEach((r, i) => {
      for (const k of ["loss", "rewards/chosen", "rewards/rejected", "reference/syncs"]) {
        assertClose(r[k]!, tail(straight)[i][k]!, { rtol: 1e-6, atol: 1e-7, msg: `${kind} ${k}` });
      }
    });
    straight.weights.forEach((w, i) =>
      assertClose(resumed.weights[i], w, { rtol: 1e-6, atol: 1e-7 })
    );
    straight.ref.forEach((w, i) => assertClose(resumed.ref[i], w, { rtol: 1e-6, atol: 1e-7 }));
  }
});

/** 5 steps with a moving reference (every 2); optionally stopped after `stopAt`, or resumed. */
async function syncRun(
  kind: "precompute" | "model",
  outDir: string,
  stopAt?: number,
  resume = false,
) {
  const policy = toyModel(6), reference = toyModel(6);
  const ac = new AbortController();
  const stopper: TrainCallback<ToyBatch> = {
    name: "stopper",
    onStepEnd(ctx) {
      if (ctx.step === stopAt) ac.abort();
    },
  };
  try {
    const result = await train({
      ...common,
      policy,
      reference: kind === "model" ? { kind, scorer: reference } : { kind },
      maxSteps: 5,
      outDir,
      resume,
      checkpointEvery: 1,
      signal: ac.signal,
      syncReference: { alpha: 0.6, every: 2 },
      callbacks: [stopper],
    });
    const read = (vs: { dataSync(): ArrayLike<number> }[]) =>
      vs.map((v) => Array.from(v.dataSync()));
    const table = kind === "precompute"
      ? await readReferenceFile(`${outDir}/reference_logps.safetensors`)
      : undefined;
    return {
      stopped: result.stopped,
      records: (await Deno.readTextFile(`${outDir}/steps.jsonl`)).trim().split("\n")
        .map((l) => JSON.parse(l)) as Record<string, number>[],
      weights: read(policy.variables()),
      ref: kind === "model" ? read(reference.variables()) : [Array.from(table!.chosen)],
    };
  } finally {
    policy.dispose();
    reference.dispose();
  }
}
