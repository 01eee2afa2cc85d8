import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { displacementToy, dpo, toyRun } from "../../lib/mod.ts";

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

Deno.test("toyRun: one SGD step of DPO moves π exactly as the float64 gradient says", async () => {
  await tf.setBackend("cpu");
  const toy = displacementToy();
  const W = toy.options.unembedding!, h = toy.options.hidden![0]!;
  const [w, l, beta, lr] = [toy.chosen, toy.rejected, 0.1, 0.03];
  // At the reference (step 0) the margin is 0: ∂L/∂z = (β/2)(e_l − e_w) on the logits z = W h.
  const gz = W.map((_, k) => (k === l ? beta / 2 : 0) - (k === w ? beta / 2 : 0));
  const W1 = W.map((row, k) => row.map((v, j) => v - lr * gz[k]! * h[j]!));
  const h1 = h.map((v, j) => v - lr * W.reduce((a, row, k) => a + gz[k]! * row[j]!, 0));
  const expected = softmax(W1.map((row) => row.reduce((a, v, j) => a + v * h1[j]!, 0)));

  const run = await toyRun({
    model: toy.options,
    chosen: w,
    rejected: l,
    objective: dpo({ beta }),
    steps: 1,
    lr,
    every: 1,
  });
  assert.deepEqual(run.history.map((s) => s.step), [0, 1]);
  const got = run.history[1]!.probs;
  expected.forEach((p, k) =>
    assert.ok(Math.abs(got[k]! - p) < 2e-6, `token ${k}: ${got[k]} vs ${p}`)
  );
  assert.ok(Math.abs(run.records.at(-1)!.loss - Math.log(2)) < 1e-5, "step-1 loss is ln 2");
});
