/**
 * firstOrderBatchChange on the unconstrained-features toy model: a one-pair batch reduces to
 * the single-pair formula of firstOrderLogpChange, and for a three-pair batch the predicted
 * change of every pair (inside the batch or not) matches a small plain gradient step on the
 * batch's mean loss, taken by hand here.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { firstOrderBatchChange } from "../../lib/analysis/batch_effect.ts";
import {
  firstOrderLogpChange,
  gradientInnerProducts,
} from "../../lib/analysis/gradient_alignment.ts";
import { createUnconstrainedFeatures } from "../../lib/models/toy.ts";
import { dpo } from "../../lib/objectives/trl.ts";
import type { ToyBatch } from "../../lib/core/scores.ts";

await useCpu();

function model() {
  return createUnconstrainedFeatures({
    tokens: ["a", "b", "c", "d", "e"],
    prompts: 4,
    dim: 3,
    seed: 3,
  });
}

const toy = (prompt: number[], chosen: number[], rejected: number[]): ToyBatch => ({
  prompt: Int32Array.from(prompt),
  chosen: Int32Array.from(chosen),
  rejected: Int32Array.from(rejected),
  pairIndex: prompt.map((_, i) => i),
});

Deno.test("firstOrderBatchChange of a one-pair batch equals the single-pair formula", async () => {
  const m = model();
  const pair = toy([0], [1], [2]);
  const beta = 0.5;
  const d = await firstOrderBatchChange(m, [pair], pair, { objective: dpo({ beta }), lr: 0.3 });
  const g = await gradientInnerProducts(m, pair);
  const f = firstOrderLogpChange(g, {
    weights: { chosen: -beta / 2, rejected: beta / 2 },
    lr: 0.3,
  });
  assertClose(d.chosen[0], f.chosen, { rtol: 1e-4, atol: 1e-7 });
  assertClose(d.rejected[0], f.rejected, { rtol: 1e-4, atol: 1e-7 });
  assertClose(d.loss, Math.log(2), { rtol: 1e-6 });
  m.dispose();
});

Deno.test("firstOrderBatchChange matches a small gradient step on the batch's mean loss", async () => {
  const m = model();
  const batch = toy([0, 1, 2], [1, 1, 3], [2, 0, 4]);
  const targets = [toy([0], [1], [2]), toy([1], [1], [0]), toy([2], [3], [4]), toy([3], [2], [4])];
  const beta = 1, lr = 1e-3;
  // A reference that puts the margins at 0.4, -0.2 and 1 (weights sigma(-beta m) differ).
  const s0 = m.scores(batch);
  const c0 = Array.from(s0.policyChosen.dataSync()), r0 = Array.from(s0.policyRejected.dataSync());
  const margins = [0.4, -0.2, 1];
  const reference = { chosen: c0.map((c, i) => c - margins[i]), rejected: r0 };
  const tensors = tf.memory().numTensors;
  const pred = await firstOrderBatchChange(m, targets, batch, {
    objective: dpo({ beta }),
    lr,
    reference,
  });
  assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
  // The step by hand: DPO mean loss, plain descent, then re-score the targets.
  const vars = m.variables();
  const saved = vars.map((v) => tf.clone(v));
  const before = targets.map((t) => {
    const s = m.scores(t);
    return [s.policyChosen.dataSync()[0], s.policyRejected.dataSync()[0]];
  });
  const { grads } = tf.variableGrads(() => {
    const s = m.scores(batch);
    const u = tf.sub(
      tf.sub(s.policyChosen, reference.chosen),
      tf.sub(s.policyRejected, reference.rejected),
    );
    return tf.mean(tf.softplus(tf.neg(tf.mul(beta, u)))) as tf.Scalar;
  }, vars);
  for (const v of vars) if (grads[v.name]) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
  targets.forEach((t, i) => {
    const s = m.scores(t);
    const dc = s.policyChosen.dataSync()[0] - before[i][0];
    const dr = s.policyRejected.dataSync()[0] - before[i][1];
    assertClose(pred.chosen[i], dc, { rtol: 0.02, atol: 1e-8, msg: `target ${i} chosen` });
    assertClose(pred.rejected[i], dr, { rtol: 0.02, atol: 1e-8, msg: `target ${i} rejected` });
  });
  assert.ok(pred.chosen.some((c) => Math.abs(c) > 1e-5), "changes are not all negligible");
  vars.forEach((v, i) => v.assign(saved[i]));
  m.dispose();
});
