/**
 * singleStepChange on the unconstrained-features toy model: the observed change against a
 * float64 hand computation of the same DPO gradient step (z = W h, log-softmax), the model left
 * exactly as it was, and the change per unit step against the first-order prediction.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { singleStepChange } from "../../lib/analysis/single_step.ts";
import {
  firstOrderLogpChange,
  gradientInnerProducts,
} from "../../lib/analysis/gradient_alignment.ts";
import { createUnconstrainedFeatures } from "../../lib/models/toy.ts";
import { dpo } from "../../lib/objectives/trl.ts";

await useCpu();

const W0 = [
  [1.0, 0.2, -0.3],
  [0.9, 0.3, -0.2],
  [-0.5, 1.1, 0.4],
  [0.2, -0.7, 0.9],
];
const H0 = [0.6, -0.4, 0.8];

function model() {
  return createUnconstrainedFeatures({
    tokens: ["a", "b", "c", "d"],
    prompts: 2,
    dim: 3,
    hidden: [H0, [0.1, 0.2, 0.3]],
    unembedding: W0,
  });
}

function logSoftmax(W: number[][], h: number[]): number[] {
  const z = W.map((row) => row.reduce((s, w, j) => s + w * h[j], 0));
  const m = Math.max(...z);
  const lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** One DPO (beta) step by hand at margin `m` (policy minus reference), float64. */
function handStep(yw: number, yl: number, beta: number, m: number, lr: number) {
  const lp = logSoftmax(W0, H0);
  const p = lp.map(Math.exp);
  const s = 1 / (1 + Math.exp(beta * m)); // sigma(-beta m)
  const gw = -beta * s, gl = beta * s; // dL/dl_w, dL/dl_l
  // grad of l_y: d/dW_k = (1[k=y] - p_k) h ; d/dh = W_y - sum_k p_k W_k
  const mix = H0.map((_, j) => W0.reduce((acc, row, k) => acc + p[k] * row[j], 0));
  const W1 = W0.map((row, k) =>
    row.map((w, j) =>
      w - lr * (gw * ((k === yw ? 1 : 0) - p[k]) + gl * ((k === yl ? 1 : 0) - p[k])) * H0[j]
    )
  );
  const h1 = H0.map((h, j) => h - lr * (gw * (W0[yw][j] - mix[j]) + gl * (W0[yl][j] - mix[j])));
  const lp1 = logSoftmax(W1, h1);
  return { chosen: lp1[yw] - lp[yw], rejected: lp1[yl] - lp[yl] };
}

const batch = {
  prompt: Int32Array.of(0),
  chosen: Int32Array.of(0),
  rejected: Int32Array.of(1),
  pairIndex: [0],
};

Deno.test("singleStepChange equals a hand-computed DPO gradient step and restores the model", async () => {
  const m = model();
  const before = m.variables().map((v) => Array.from(v.dataSync()));
  const lr = 0.5, beta = 1;
  const tensors = tf.memory().numTensors;
  const r = await singleStepChange(m, batch, { objective: dpo({ beta }), lr });
  assert.equal(tf.memory().numTensors, tensors, "no tensor left behind");
  const hand = handStep(0, 1, beta, 0, lr);
  assertClose(r.change.chosen[0], hand.chosen, { atol: 2e-6, rtol: 1e-4 });
  assertClose(r.change.rejected[0], hand.rejected, { atol: 2e-6, rtol: 1e-4 });
  assertClose(r.loss, Math.log(2), { rtol: 1e-6 });
  const lp = logSoftmax(W0, H0);
  assertClose(r.before.chosen[0], lp[0], { rtol: 1e-6 });
  m.variables().forEach((v, i) => assert.deepEqual(Array.from(v.dataSync()), before[i]));
  // With a reference that puts the margin at 1, the weights shrink by sigma(-1) / (1/2).
  const r2 = await singleStepChange(m, batch, {
    objective: dpo({ beta }),
    lr,
    reference: { chosen: [lp[0] - 0.5], rejected: [lp[1] + 0.5] },
  });
  const hand2 = handStep(0, 1, beta, 1, lr);
  assertClose(r2.change.chosen[0], hand2.chosen, { atol: 2e-6, rtol: 1e-4 });
  m.dispose();
});

Deno.test("singleStepChange per unit step approaches the first-order prediction", async () => {
  const m = model();
  const lr = 1e-3, beta = 0.1;
  const g = await gradientInnerProducts(m, batch);
  const pred = firstOrderLogpChange(g, { weights: { chosen: -beta / 2, rejected: beta / 2 }, lr });
  const r = await singleStepChange(m, batch, { objective: dpo({ beta }), lr });
  assertClose(r.change.chosen[0], pred.chosen, { rtol: 0.02, atol: 1e-7 });
  assertClose(r.change.rejected[0], pred.rejected, { rtol: 0.02, atol: 1e-7 });
  await assert.rejects(() => singleStepChange(m, batch, { objective: dpo(), lr: 0 }), RangeError);
  m.dispose();
});
