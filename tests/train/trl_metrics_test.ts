/**
 * TRL's token metrics in the step records (entropy, mean_token_accuracy, logits/*, num_tokens,
 * learning_rate, grad_norm), each recomputed here independently: full-vocabulary logits read back
 * and reduced in float64 by hand, the gradient norm from a separately written DPO loss.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { collate } from "../../lib/data/collate.ts";
import type { TokenizedPair } from "../../lib/data/types.ts";
import { causalLMScorer } from "../../lib/scoring/logps.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import { parseTrainerState } from "../../lib/train/records.ts";
import { runConfig } from "../../tools/commands/train.ts";
import { parseTrainConfig } from "../../lib/train/config.ts";

await useCpu();

const PAIRS: TokenizedPair[] = [
  { index: 0, promptIds: [1, 2], chosenIds: [3, 4, 5], rejectedIds: [6] },
  { index: 1, promptIds: [7], chosenIds: [8], rejectedIds: [9, 3] },
  { index: 2, promptIds: [2, 4, 6], chosenIds: [5, 5], rejectedIds: [1, 8, 9] },
];

/** Float64 statistics of every completion token of a batch, from the full logits. */
function float64Stats(model: ReturnType<typeof createGPT2>, pairs: TokenizedPair[]) {
  const b = collate(pairs, 0);
  const n = 2 * b.size, t = b.length, v = model.vocabSize;
  const logits = tf.tidy(() =>
    model.forward(tf.tensor2d(b.inputIds, [n, t], "int32"), {
      attentionMask: tf.tensor2d(b.attentionMask, [n, t]),
    }).logits.dataSync()
  );
  const acc = { ent: 0, tokens: 0, logitC: 0, nC: 0, logitR: 0, nR: 0, correct: 0 };
  for (let r = 0; r < n; r++) {
    for (let p = 1; p < t; p++) {
      if (!b.completionMask[r * t + p]) continue;
      const z = Array.from(logits.subarray(((r * t) + p - 1) * v, ((r * t) + p) * v), Number);
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, x) => s + Math.exp(x - max), 0));
      const ent = z.reduce((s, x) => s - Math.exp(x - lse) * (x - lse), 0);
      const mean = z.reduce((s, x) => s + x, 0) / v;
      acc.ent += ent;
      acc.tokens++;
      if (r < b.size) {
        acc.logitC += mean, acc.nC++;
        if (z.indexOf(max) === b.inputIds[r * t + p]) acc.correct++;
      } else acc.logitR += mean, acc.nR++;
    }
  }
  return {
    entropy: acc.ent / acc.tokens,
    accuracy: acc.correct / acc.nC,
    logitsChosen: acc.logitC / acc.nC,
    logitsRejected: acc.logitR / acc.nR,
  };
}

/** ‖∇ mean DPO loss‖ at the reference point (policy = reference), from per-token log-softmax. */
function float64GradNorm(model: ReturnType<typeof createGPT2>, pairs: TokenizedPair[]): number {
  const b = collate(pairs, 0);
  const n = 2 * b.size, t = b.length, v = model.vocabSize;
  const ids = tf.tensor2d(b.inputIds, [n, t], "int32");
  const attentionMask = tf.tensor2d(b.attentionMask, [n, t]);
  const labels = Array.from({ length: n * t }, (_, i) => i % t === t - 1 ? 0 : b.inputIds[i + 1]);
  const mask = Array.from(
    { length: n * t },
    (_, i) => i % t === t - 1 ? 0 : b.completionMask[i + 1],
  );
  const { grads } = tf.variableGrads(() => {
    const logp = tf.logSoftmax(model.forward(ids, { attentionMask }).logits);
    const picked = tf.sum(tf.mul(logp, tf.oneHot(tf.tensor2d(labels, [n, t], "int32"), v)), 2);
    const seq = tf.sum(tf.mul(picked, tf.tensor2d(mask, [n, t])), 1);
    const [c, r] = tf.split(seq, 2);
    // At step 1 the reference equals the policy: the margin's value is 0, its gradient is not.
    const h = tf.mul(0.1, tf.sub(c, r));
    const margin = tf.sub(h, tf.tensor1d(h.dataSync()));
    return tf.mean(tf.softplus(tf.neg(margin))) as tf.Scalar;
  }, model.variables());
  let sq = 0;
  for (const g of Object.values(grads)) for (const x of g.dataSync()) sq += Number(x) ** 2;
  return Math.sqrt(sq);
}

Deno.test("trl metrics: step records match a float64 recomputation (window of 2 micro-batches)", async () => {
  const model = createGPT2({ vocab_size: 11, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 }, {
    seed: 5,
  });
  try {
    const expected = float64Stats(model, PAIRS);
    const gradNorm = float64GradNorm(model, PAIRS);
    const tokens = PAIRS.reduce(
      (s, p) => s + 2 * p.promptIds.length + p.chosenIds.length + p.rejectedIds.length,
      0,
    );
    const result = await train({
      policy: causalLMScorer(model),
      data: preferenceData(PAIRS, { padId: 0 }),
      objective: dpo({ beta: 0.1 }),
      optimizer: { name: "sgd" },
      lr: 0.5,
      schedule: { kind: "linear" },
      batchSize: 2,
      gradAccum: 2,
      maxSteps: 2,
      shuffle: false,
      progress: false,
    });
    const [s1, s2] = result.records;
    const tol = { rtol: 1e-4, atol: 1e-5 };
    assertClose(s1.entropy!, expected.entropy, { ...tol, msg: "entropy" });
    assertClose(s1.mean_token_accuracy!, expected.accuracy, { ...tol, msg: "accuracy" });
    assertClose(s1["logits/chosen"]!, expected.logitsChosen, { ...tol, msg: "logits/chosen" });
    assertClose(s1["logits/rejected"]!, expected.logitsRejected, {
      ...tol,
      msg: "logits/rejected",
    });
    assertClose(s1.grad_norm!, gradNorm, { rtol: 1e-3, atol: 1e-6, msg: "grad_norm" });
    assert.equal(tokens, 24); // by hand: (4+3+1) + (2+1+2) + (6+2+3)
    assert.equal(s1.num_tokens, tokens);
    assert.equal(s2.num_tokens, 2 * tokens);
    // Linear decay over 2 steps: step 1 uses 0.5 · 2/2, step 2 uses 0.5 · 1/2.
    assert.deepEqual([s1.learning_rate, s2.learning_rate], [0.5, 0.25]);
    assert.equal(s1.lr, s1.learning_rate);
  } finally {
    model.dispose();
  }
});

Deno.test("trl metrics: lab train on a toy config writes them, by hand", async () => {
  const out = await Deno.makeTempDir();
  const cfg = parseTrainConfig({
    model: { toy: { kind: "linear", tokens: ["a", "b", "c"], prompts: 1, dim: 3 } },
    data: { pairs: [{ prompt: 0, chosen: "a", rejected: "b" }] },
    objective: { name: "dpo", params: { beta: 0.1 } },
    optimizer: { name: "sgd" },
    lr: 0,
    batchSize: 1,
    steps: 2,
    out,
  }, "toy.json");
  const result = await runConfig(cfg, { quiet: true });
  const steps = (await Deno.readTextFile(`${out}/steps.jsonl`)).trim().split("\n").map((l) =>
    JSON.parse(l)
  ).filter((r) => r.step > 0);
  assert.equal(steps.length, 2);
  // lr 0: the model never moves; its single prompt's logits decide every value.
  const model = (await import("../../lib/models/toy.ts")).createLinearSoftmax({
    tokens: ["a", "b", "c"],
    prompts: 1,
    dim: 3,
    seed: 0,
  });
  const z = Array.from(model.logits([0]).dataSync(), Number);
  model.dispose();
  const lse = Math.log(z.reduce((s, x) => s + Math.exp(x), 0));
  const entropy = -z.reduce((s, x) => s + Math.exp(x - lse) * (x - lse), 0);
  for (const [i, s] of steps.entries()) {
    assertClose(s.entropy, entropy, { rtol: 1e-5 });
    assertClose(s["logits/chosen"], (z[0] + z[1] + z[2]) / 3, { rtol: 1e-5, atol: 1e-7 });
    assert.equal(s.mean_token_accuracy, z.indexOf(Math.max(...z)) === 0 ? 1 : 0);
    assert.equal(s.num_tokens, 4 * (i + 1)); // a toy pair: 2 rows of prompt + answer
    assert.equal(s.learning_rate, 0);
  }
  assert.equal(result.steps, 2);
});

Deno.test("trl metrics: import-trl keeps learning_rate and the token metrics", () => {
  const run = parseTrainerState(
    JSON.stringify({
      log_history: [{
        step: 1,
        learning_rate: 1e-6,
        grad_norm: 2.5,
        entropy: 1.5,
        mean_token_accuracy: 0.25,
        num_tokens: 300,
        "logits/chosen": -1,
        "logits/rejected": -2,
      }],
    }),
    "trainer_state.json",
  );
  const s = run.steps[0];
  assert.deepEqual(
    [s.lr, s.learning_rate, s.grad_norm, s.entropy, s.mean_token_accuracy, s.num_tokens],
    [1e-6, 1e-6, 2.5, 1.5, 0.25, 300],
  );
  assert.deepEqual([s["logits/chosen"], s["logits/rejected"]], [-1, -2]);
});
