import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { train, TrainingDivergedError } from "../../lib/train/trainer.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { probabilityMassTracker } from "../../lib/analysis/mass_tracker.ts";
import type { TrainCallback } from "../../lib/train/callbacks.ts";
import type { TrainObjective } from "../../lib/train/types.ts";
import type { SequenceScores, ToyBatch, ToyProbes } from "../../lib/core/scores.ts";
import { readJsonl } from "../../lib/train/records.ts";
import { dpoObjective, logp, PAIRS, softplus, toyModel } from "./toy_setup.ts";
import { alphaDpo } from "../../lib/objectives/dpo_variants.ts";
import { bcoPair } from "../../lib/objectives/trl.ts";
import { combine } from "../../lib/objectives/combine.ts";

await useCpu();

const TIME_KEYS = new Set(["time_s", "step_time_s"]);
/** An abort controller and a callback that aborts it at the end of step 3. */
function stopAfter3() {
  const controller = new AbortController();
  const stopAt3: TrainCallback<ToyBatch> = {
    name: "stop",
    onStepEnd(ctx) {
      if (ctx.step === 3) controller.abort();
    },
  };
  return { controller, stopAt3 };
}

function withoutTime(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => !TIME_KEYS.has(k))));
}

Deno.test("trainer: metrics are means over every pair of an uneven accumulation window", async () => {
  // 3 pairs, micro-batches of 2, 2 per step: the only window holds micro-batches of 2 and 1
  // pairs. lr = 0 so the scores are those of the initial model; the reference is another model.
  const policy = toyModel(1), reference = toyModel(2);
  const pairs = { prompt: [0, 1, 2], chosen: [0, 1, 2], rejected: [3, 4, 0] };
  const beta = 0.5;
  const result = await train({
    policy,
    data: toyData(pairs),
    objective: dpoObjective(beta),
    reference: { kind: "precompute", scorer: reference },
    optimizer: { name: "sgd" },
    lr: 0,
    batchSize: 2,
    gradAccum: 2,
    maxSteps: 1,
    shuffle: false,
    progress: false,
  });
  const rec = result.records.at(-1)!;
  // By hand, per pair: u = logp_policy - logp_ref; reward = beta u; loss = softplus(-beta(uw-ul)).
  const rw: number[] = [],
    rl: number[] = [],
    loss: number[] = [],
    lc: number[] = [],
    lr: number[] = [];
  for (let i = 0; i < 3; i++) {
    const pc = logp(policy, pairs.prompt[i], pairs.chosen[i]);
    const pr = logp(policy, pairs.prompt[i], pairs.rejected[i]);
    const uw = pc - logp(reference, pairs.prompt[i], pairs.chosen[i]);
    const ul = pr - logp(reference, pairs.prompt[i], pairs.rejected[i]);
    rw.push(beta * uw), rl.push(beta * ul), loss.push(softplus(-beta * (uw - ul)));
    lc.push(pc), lr.push(pr);
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const tol = { rtol: 1e-4, atol: 1e-5 };
  assertClose(rec.loss!, mean(loss), { ...tol, msg: "loss" });
  assertClose(rec["rewards/chosen"]!, mean(rw), { ...tol, msg: "rewards/chosen" });
  assertClose(rec["rewards/rejected"]!, mean(rl), { ...tol, msg: "rewards/rejected" });
  assertClose(rec["rewards/margins"]!, mean(rw.map((x, i) => x - rl[i])), tol);
  const acc = rw.filter((x, i) => x > rl[i]).length / 3;
  assert.equal(rec["rewards/accuracies"], acc);
  assertClose(rec["logps/chosen"]!, mean(lc), tol);
  assertClose(rec["logps/rejected"]!, mean(lr), tol);
  assert.equal(rec.pairs, 3);
  // Not the mean of the two micro-batch means, nor the last micro-batch alone.
  const meanOfMeans = (mean(loss.slice(0, 2)) + loss[2]) / 2;
  assert.ok(Math.abs(meanOfMeans - mean(loss)) > 1e-3, "test data must tell the two apart");
  assert.ok(Math.abs(rec.loss! - meanOfMeans) > 1e-3);
  // Per-pair rows carry the same hand values.
  const rows = result.rows.examples;
  assert.equal(rows.length, 3);
  assertClose(rows.map((r) => r.reward_chosen as number), rw, tol);
  assertClose(rows.map((r) => r.margin as number), rw.map((x, i) => x - rl[i]), tol);
  assert.deepEqual(rows.map((r) => r.pair), [0, 1, 2]);
  policy.dispose();
  reference.dispose();
});

Deno.test("trainer: a window of micro-batches 2+1 gives the gradient of one batch of 3", async () => {
  const pairs = { prompt: [0, 1, 2], chosen: [0, 1, 2], rejected: [3, 4, 0] };
  const weights: Float32Array[][] = [];
  for (const [batchSize, gradAccum] of [[2, 2], [3, 1]]) {
    const policy = toyModel(1), reference = toyModel(2);
    await train({
      policy,
      data: toyData(pairs),
      objective: dpoObjective(0.5),
      reference: { kind: "model", scorer: reference },
      optimizer: { name: "sgd" },
      lr: 0.5,
      batchSize,
      gradAccum,
      maxSteps: 1,
      shuffle: false,
      progress: false,
    });
    weights.push(policy.variables().map((v) => v.dataSync() as Float32Array));
    const init = toyModel(1);
    const moved = Math.abs(init.variables()[1].dataSync()[0] - weights.at(-1)![1][0]);
    assert.ok(moved > 1e-4, "the step must move the weights");
    init.dispose();
    policy.dispose();
    reference.dispose();
  }
  for (let i = 0; i < weights[0].length; i++) {
    assertClose(weights[0][i], weights[1][i], { rtol: 1e-5, atol: 1e-6, msg: `variable ${i}` });
  }
});

Deno.test("trainer: the same seed repeats a run exactly; another seed changes the order", async () => {
  const go = async (seed: number) => {
    const policy = toyModel(3);
    const r = await train({
      policy,
      data: toyData(PAIRS),
      objective: dpoObjective(0.1),
      optimizer: { name: "adam" },
      lr: 0.05,
      batchSize: 3,
      epochs: 2,
      seed,
      progress: false,
    });
    policy.dispose();
    return withoutTime(r.records);
  };
  const a = await go(7), b = await go(7), c = await go(8);
  assert.equal(a.length, 6); // ceil(8/3) = 3 steps per epoch, 2 epochs
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  assertClose(a.map((r) => r.epoch as number), [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2]);
});

function massProbes(): { batch: ToyProbes; prompts: number[]; labels: string[] } {
  return {
    batch: { prompt: Int32Array.from([0, 1]), token: Int32Array.from([2, 3]) },
    prompts: [0, 1],
    labels: ["other", "other"],
  };
}

Deno.test("trainer: resuming from a checkpoint after a crash reproduces every record exactly", async () => {
  const base = await Deno.makeTempDir();
  const common = (outDir: string, extra: TrainCallback<ToyBatch>[] = []) => ({
    data: toyData(PAIRS),
    objective: dpoObjective(0.2),
    optimizer: { name: "adamw" as const, weightDecay: 0.1 },
    lr: 0.05,
    schedule: { kind: "cosine" as const, warmupSteps: 2 },
    batchSize: 2,
    gradAccum: 2,
    maxSteps: 10,
    seed: 11,
    checkpointEvery: 3,
    outDir,
    progress: false as const,
    callbacks: [
      probabilityMassTracker<ToyBatch, ToyProbes>({ positions: [0, 5], probes: massProbes() }),
      ...extra,
    ],
  });
  // Uninterrupted.
  const full = toyModel(4);
  await train({ policy: full, ...common(`${base}/full`) });
  // Crash during step 8 (after its update, before its record), resume from the step-6 checkpoint.
  const crash: TrainCallback<ToyBatch> = {
    name: "crash",
    onStepEnd(ctx) {
      if (ctx.step === 8) throw new Error("simulated crash");
    },
  };
  const first = toyModel(4);
  await assert.rejects(train({ policy: first, ...common(`${base}/cut`, [crash]) }), /simulated/);
  first.dispose();
  // A torn last line, as a kill mid-write would leave.
  await Deno.writeTextFile(`${base}/cut/steps.jsonl`, '{"step": 8, "lo', { append: true });
  const beforeResume = await readJsonl(`${base}/cut/steps.jsonl`);
  assert.equal(beforeResume.at(-1)!.step, 7);
  const fresh = toyModel(99); // different weights: everything must come from the checkpoint
  const resumed = await train({ policy: fresh, ...common(`${base}/cut`), resume: true });
  assert.equal(resumed.records[0].step, 7);
  for (const file of ["steps", "examples", "mass", "evals"]) {
    const a = withoutTime(await readJsonl(`${base}/full/${file}.jsonl`));
    const b = withoutTime(await readJsonl(`${base}/cut/${file}.jsonl`));
    assert.deepEqual(b, a, `${file}.jsonl differs after resume`);
  }
  const steps = await readJsonl(`${base}/full/steps.jsonl`);
  assert.deepEqual(steps.map((r) => r.step), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  for (let i = 0; i < 2; i++) {
    assert.deepEqual(
      Array.from(fresh.variables()[i].dataSync()),
      Array.from(full.variables()[i].dataSync()),
    );
  }
  const status = JSON.parse(await Deno.readTextFile(`${base}/cut/status.json`));
  assert.equal(status.state, "completed");
  full.dispose();
  fresh.dispose();
});

Deno.test("trainer: a non-finite loss stops the run naming the step and the pairs; records stay intact", async () => {
  const dir = await Deno.makeTempDir();
  let calls = 0;
  const inner = dpoObjective(0.1);
  // On the 3rd call (step 3, positions 4 and 5 with shuffle off) the second pair's loss is NaN.
  const poisoned: TrainObjective = {
    ...inner,
    name: "poisoned",
    loss(s: SequenceScores) {
      calls++;
      const { losses } = inner.loss(s);
      if (calls !== 3) return { losses };
      const mask = tf.tensor1d([0, 1]);
      const out = tf.where(tf.cast(mask, "bool"), tf.fill([2], NaN), losses);
      mask.dispose();
      losses.dispose();
      return { losses: out };
    },
  };
  const policy = toyModel(5);
  const err = await train({
    policy,
    data: toyData(PAIRS),
    objective: poisoned,
    optimizer: { name: "rmsprop" },
    lr: 0.01,
    batchSize: 2,
    maxSteps: 4,
    shuffle: false,
    outDir: dir,
    progress: false,
  }).catch((e) => e);
  assert.ok(err instanceof TrainingDivergedError, String(err));
  assert.equal(err.step, 3);
  assert.deepEqual(err.pairs, [5]);
  assert.match(err.message, /step 3/);
  assert.match(err.message, /pair 5 \(NaN\)/);
  const text = await Deno.readTextFile(`${dir}/steps.jsonl`);
  const lines = text.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.step), [1, 2]);
  assert.ok(lines.every((l) => Number.isFinite(l.loss)));
  const status = JSON.parse(await Deno.readTextFile(`${dir}/status.json`));
  assert.equal(status.state, "diverged");
  assert.deepEqual(status.pairs, [5]);
  policy.dispose();
});

Deno.test("trainer: the tensor count is flat across 200 steps (no leaks), trackers included", async () => {
  const policy = toyModel(6);
  const counts: number[] = [];
  const counter: TrainCallback<ToyBatch> = {
    name: "count",
    onStepEnd(ctx) {
      counts[ctx.step] = tf.memory().numTensors;
    },
  };
  const evalData = toyData({ prompt: [0, 1], chosen: [1, 2], rejected: [3, 3] });
  await train({
    policy,
    data: toyData(PAIRS),
    evalData,
    evalEvery: 50,
    objective: dpoObjective(0.1),
    optimizer: { name: "adamw" },
    lr: 0.01,
    batchSize: 3,
    gradAccum: 2,
    maxGradNorm: 1,
    maxSteps: 200,
    progress: false,
    callbacks: [
      probabilityMassTracker<ToyBatch, ToyProbes>({ probes: massProbes(), every: 5 }),
      counter,
    ],
  });
  assert.equal(counts.length, 201);
  assert.equal(counts[200], counts[10], `tensors: step 10 ${counts[10]}, step 200 ${counts[200]}`);
  assert.equal(Math.max(...counts.slice(10)), Math.min(...counts.slice(10)));
  policy.dispose();
});

Deno.test("trainer: callbacks may not overwrite core metrics or each other", async () => {
  const policy = toyModel(7);
  const bad: TrainCallback<ToyBatch> = { name: "bad", onStepEnd: () => ({ loss: 1 }) };
  await assert.rejects(
    train({
      policy,
      data: toyData(PAIRS),
      objective: dpoObjective(0.1),
      optimizer: { name: "sgd" },
      lr: 0.1,
      batchSize: 4,
      maxSteps: 1,
      progress: false,
      callbacks: [bad],
    }),
    (e) =>
      e instanceof RangeError && /callback 'bad' returned core metric key 'loss'/.test(e.message),
  );
  policy.dispose();
});

Deno.test("trainer: an abort signal stops after the current step with a checkpoint; resume finishes the run", async () => {
  const dir = await Deno.makeTempDir();
  const { controller, stopAt3 } = stopAfter3();
  const opts = {
    data: toyData(PAIRS),
    objective: dpoObjective(0.1),
    optimizer: { name: "rmsprop" as const },
    lr: 0.01,
    batchSize: 2,
    maxSteps: 6,
    outDir: dir,
    progress: false as const,
  };
  const policy = toyModel(12);
  const first = await train({ ...opts, policy, signal: controller.signal, callbacks: [stopAt3] });
  assert.equal(first.stopped, true);
  assert.equal(first.steps, 3);
  assert.equal(JSON.parse(await Deno.readTextFile(`${dir}/status.json`)).state, "stopped");
  assert.ok((await Deno.stat(`${dir}/checkpoints/step-000003/state.json`)).isFile);
  const second = await train({ ...opts, policy: toyModel(12), resume: true });
  assert.equal(second.stopped, false);
  assert.deepEqual(second.records.map((r) => r.step), [4, 5, 6]);
  // Same records as a run that was never stopped.
  const full = await train({ ...opts, policy: toyModel(12), outDir: `${dir}/full` });
  assert.deepEqual(
    withoutTime(await readJsonl(`${dir}/steps.jsonl`)),
    withoutTime(full.records),
  );
  policy.dispose();
});

Deno.test("trainer: a stateful objective's running statistics survive a resume (BCO mean, α-DPO EMAs)", async () => {
  const dir = await Deno.makeTempDir();
  const { controller, stopAt3 } = stopAfter3();
  // A fresh objective per run: the statistics live in the instance.
  const objective = () => combine([[bcoPair({ runningMean: true }), 1], [alphaDpo(), 1]]);
  const opts = {
    data: toyData(PAIRS),
    optimizer: { name: "adam" as const },
    lr: 0.05,
    batchSize: 2,
    maxSteps: 6,
    outDir: dir,
    progress: false as const,
  };
  await train({
    ...opts,
    objective: objective(),
    policy: toyModel(5),
    signal: controller.signal,
    callbacks: [stopAt3],
  });
  const saved = JSON.parse(await Deno.readTextFile(`${dir}/checkpoints/step-000003/state.json`));
  // Three calls of BCO's running mean; α-DPO's two EMAs set.
  assert.equal(saved.objective["0"].count, 3);
  assert.equal(typeof saved.objective["1"].mu, "number");
  await train({ ...opts, objective: objective(), policy: toyModel(5), resume: true });
  const full = await train({
    ...opts,
    objective: objective(),
    policy: toyModel(5),
    outDir: `${dir}/full`,
  });
  const resumed = withoutTime(await readJsonl(`${dir}/steps.jsonl`));
  assert.deepEqual(resumed.map((r) => r.step), [1, 2, 3, 4, 5, 6]);
  // Step 4 onwards depends on the statistics of steps 1-3: equal only if they were restored.
  assert.deepEqual(resumed, withoutTime(full.records));
});
