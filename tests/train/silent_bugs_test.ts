/**
 * Tests for bugs that once passed every other test (issue 12, item 8), each against values worked
 * out by hand: gradient clipping, the learning-rate schedule's step, the train/eval split,
 * checkpoint pruning, and the next-token position of a causal LM.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { train } from "../../lib/train/trainer.ts";
import type { TrainObjective } from "../../lib/train/types.ts";
import type { PreferenceScorer, TrainData } from "../../lib/core/scores.ts";
import { listCheckpoints, saveCheckpoint } from "../../lib/train/checkpoint.ts";
import { splitData, toyData } from "../../lib/train/train_data.ts";
import { causalNextTokenSource } from "../../lib/analysis/next_token.ts";
import type { CausalLM } from "../../lib/models/types.ts";

await useCpu();

/**
 * A linear "model" with one weight vector w (starting at 0): every pair scores w·a as its chosen
 * log-prob, with a = [3, 4]. With the objective below (loss = the chosen score), the gradient of
 * the mean loss is a whatever w is: norm 5, so every update is worked out by hand.
 */
function linearScorer(): PreferenceScorer<number[], never> & { w: tf.Variable } {
  const w = tf.variable(tf.zeros([2]), true, `w${Math.random()}`);
  const a = tf.tensor1d([3, 4]);
  return {
    w,
    variables: () => [w],
    variableNames: () => ["w"],
    scores: (batch) => {
      const s = tf.sum(tf.mul(w, a));
      const n = batch.length;
      return {
        policyChosen: tf.mul(tf.ones([n]), s) as tf.Tensor1D,
        policyRejected: tf.zeros([n]) as tf.Tensor1D,
        chosenLength: tf.ones([n]) as tf.Tensor1D,
        rejectedLength: tf.ones([n]) as tf.Tensor1D,
      };
    },
  };
}

const chosenScore: TrainObjective = {
  name: "chosen_score",
  needsReference: false,
  params: {},
  loss: (s) => ({ losses: tf.mul(s.policyChosen, 1) }),
};

function indexData(n: number): TrainData<number[]> {
  return {
    size: n,
    batch: (p) => [...p],
    fingerprint: () => new Uint8Array([n]),
  };
}

/** w after each step, read right after the update (onStepEnd runs after it). */
async function trainAndTrace(opts: Partial<Parameters<typeof train<number[]>>[0]>) {
  const policy = linearScorer();
  const trace: number[][] = [];
  const result = await train<number[]>({
    policy,
    data: indexData(4),
    objective: chosenScore,
    optimizer: { name: "sgd" },
    lr: 0.1,
    batchSize: 4,
    maxSteps: 1,
    progress: false,
    examplesEvery: false,
    callbacks: [{
      name: "trace",
      onStepEnd: async () => {
        trace.push(Array.from(await policy.w.data()));
      },
    }],
    ...opts,
  });
  return { result, trace };
}

Deno.test("silent bugs: maxGradNorm clips the update (SGD, gradient [3, 4], norm 5)", async () => {
  // Clipped to norm 1: w = -0.1 * [3, 4] / 5 = [-0.06, -0.08]. Unclipped it would be [-0.3, -0.4].
  const clipped = await trainAndTrace({ maxGradNorm: 1 });
  assertClose(clipped.trace[0][0], -0.06, { atol: 1e-7 });
  assertClose(clipped.trace[0][1], -0.08, { atol: 1e-7 });
  assertClose(clipped.result.records[0].grad_norm!, 5, { atol: 1e-6 }); // logged before clipping
  // A bound above the norm leaves the update alone.
  const loose = await trainAndTrace({ maxGradNorm: 10 });
  assertClose(loose.trace[0][0], -0.3, { atol: 1e-7 });
  assertClose(loose.trace[0][1], -0.4, { atol: 1e-7 });
});

Deno.test("silent bugs: the learning rate of update s is the schedule at s, not s + 1", async () => {
  // Linear decay over 5 steps with 2 warm-up steps, base lr 1 (Hugging Face's
  // get_linear_schedule_with_warmup): updates 0..4 use 0, 1/2, 1, 2/3, 1/3.
  const lrs = [0, 0.5, 1, 2 / 3, 1 / 3];
  const { result, trace } = await trainAndTrace({
    lr: 1,
    maxSteps: 5,
    schedule: { kind: "linear", warmupSteps: 2 },
  });
  let sum = 0;
  for (let s = 0; s < 5; s++) {
    sum += lrs[s];
    assertClose(result.records[s].lr!, lrs[s], { atol: 1e-12 });
    // w after update s = -(sum of the rates so far) * [3, 4].
    assertClose(trace[s][0], -3 * sum, { atol: 1e-5 });
    assertClose(trace[s][1], -4 * sum, { atol: 1e-5 });
  }
});

Deno.test("silent bugs: a train/eval split is disjoint, complete, sized by hand and seeded", () => {
  const n = 10;
  const data = toyData({
    prompt: Array.from({ length: n }, () => 0),
    chosen: Array.from({ length: n }, () => 0),
    rejected: Array.from({ length: n }, () => 1),
  });
  const ids = (d: TrainData<unknown>) => Array.from({ length: d.size }, (_, i) => d.pairIndex!(i));
  const sets: string[] = [];
  for (const seed of [0, 1, 2, 3]) {
    const { train: tr, evaluation: ev } = splitData(data, { evalFraction: 0.3, seed });
    const a = ids(tr), b = ids(ev);
    assert.equal(b.length, 3); // round(0.3 * 10)
    assert.equal(a.length, 7);
    assert.equal(a.filter((i) => b.includes(i)).length, 0, "eval pairs leaked into training");
    assert.deepEqual([...a, ...b].sort((x, y) => x - y), Array.from({ length: n }, (_, i) => i));
    const again = splitData(data, { evalFraction: 0.3, seed });
    assert.deepEqual(ids(again.evaluation), b, "same seed, same split");
    sets.push(JSON.stringify([...b].sort()));
  }
  assert.ok(new Set(sets).size > 1, "different seeds give different splits");
});

Deno.test("silent bugs: training never sees an eval pair", async () => {
  const data = indexData(10);
  const withIds: TrainData<number[]> = { ...data, pairIndex: (p) => p };
  const { train: tr, evaluation: ev } = splitData(withIds, { evalFraction: 0.3, seed: 5 });
  const evalIds = new Set(Array.from({ length: ev.size }, (_, i) => ev.pairIndex!(i)));
  const result = await train<number[]>({
    policy: linearScorer(),
    data: tr,
    evalData: ev,
    objective: chosenScore,
    optimizer: { name: "sgd" },
    lr: 0.01,
    batchSize: 2,
    epochs: 2,
    progress: false,
  });
  const seen = (result.rows.examples ?? []).map((r) => r.pair as number);
  assert.equal(seen.length, 2 * 7);
  assert.equal(seen.filter((i) => evalIds.has(i)).length, 0);
});

Deno.test("silent bugs: checkpoint pruning keeps exactly the newest N", async () => {
  const dir = await Deno.makeTempDir();
  const state = (step: number) => ({
    state: {
      format: "dpo-lab-trainer-checkpoint/1" as const,
      step,
      position: { epoch: 0, window: step },
      seed: 0,
      optimizer: { spec: { name: "sgd" as const }, steps: step },
      callbacks: {},
      elapsedSeconds: 0,
      settings: {},
    },
    weights: new Map([["w", { shape: [1], values: new Float32Array([step]) }]]),
    optimizer: { spec: { name: "sgd" as const }, steps: step, slots: new Map() },
  });
  for (let s = 1; s <= 6; s++) await saveCheckpoint(dir, state(s) as never, { keep: 3 });
  assert.deepEqual((await listCheckpoints(dir)).map((c) => c.step), [4, 5, 6]);
  // Through the trainer: a checkpoint every step, keep 2, 5 steps -> steps 4 and 5 remain.
  const run = `${dir}/run`;
  await train<number[]>({
    policy: linearScorer(),
    data: indexData(4),
    objective: chosenScore,
    optimizer: { name: "sgd" },
    lr: 0.01,
    batchSize: 4,
    maxSteps: 5,
    outDir: run,
    checkpointEvery: 1,
    keepCheckpoints: 2,
    progress: false,
  });
  assert.deepEqual((await listCheckpoints(run)).map((c) => c.step), [4, 5]);
  assert.deepEqual([...Deno.readDirSync(`${run}/checkpoints`)].map((e) => e.name).sort(), [
    "step-000004",
    "step-000005",
  ]);
});

/**
 * A stand-in causal LM whose logits at position t put 10 on token (ids[t] + 1) mod V and 0
 * elsewhere: the next-token distribution after a prompt is known exactly, and reading any other
 * position gives a different argmax.
 */
function successorLM(V: number): CausalLM {
  return {
    kind: "successor",
    config: {},
    vocabSize: V,
    hiddenSize: 1,
    forward: (ids) => {
      const [n, t] = ids.shape;
      const flat = ids.arraySync().flat();
      const logits = new Float32Array(n * t * V);
      flat.forEach((tok, i) => (logits[i * V + ((tok + 1) % V)] = 10));
      return { logits: tf.tensor3d(logits, [n, t, V]) };
    },
    variables: () => [],
    namedVariables: () => new Map(),
    dispose: () => {},
  };
}

Deno.test("silent bugs: a causal LM's next-token distribution is read after the last prompt token", async () => {
  const V = 12;
  const src = causalNextTokenSource(successorLM(V), [[3, 7, 2], [5]]);
  const expectTop = 10 - Math.log(Math.exp(10) + (V - 1)); // float64, by hand
  const expectRest = 0 - Math.log(Math.exp(10) + (V - 1));
  for (const [prompt, next] of [[0, 3], [1, 6]]) {
    const lp = src.logProbs(prompt);
    const v = Array.from(await lp.data());
    lp.dispose();
    assert.equal(v.indexOf(Math.max(...v)), next, `prompt ${prompt}`);
    assertClose(v[next], expectTop, { atol: 1e-5 });
    assertClose(v[(next + 1) % V], expectRest, { atol: 1e-5 });
  }
});
