/** TRL metric names and definitions, checked against numbers worked out by hand. */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { preferenceMetrics } from "../../lib/objectives/mod.ts";

await useCpu();

function scores(free = false) {
  return {
    policyChosen: tf.tensor1d([-10, -20, -6]),
    policyRejected: tf.tensor1d([-12, -18, -9]),
    ...(free
      ? {}
      : { refChosen: tf.tensor1d([-11, -19, -6]), refRejected: tf.tensor1d([-11, -19, -9]) }),
    chosenLength: tf.tensor1d([5, 10, 3]),
    rejectedLength: tf.tensor1d([6, 9, 3]),
  };
}

Deno.test("rewards, margins, accuracies, logps: hand-computed, with the signs TRL uses", () => {
  const m = preferenceMetrics(scores(), { beta: 0.5, losses: [0.2, 0.9, 0.4] });
  // Pair 0: u_w = -10 - (-11) = 1, u_l = -12 - (-11) = -1 -> rewards 0.5, -0.5, margin 1, acc 1.
  // Pair 1: u_w = -1, u_l = 1 -> rewards -0.5, 0.5, margin -1, acc 0.
  // Pair 2: u_w = 0, u_l = 0 -> rewards 0, 0, margin 0, acc 0 (strict >).
  assert.deepEqual(m.perPair["rewards/chosen"], [0.5, -0.5, 0]);
  assert.deepEqual(m.perPair["rewards/rejected"], [-0.5, 0.5, 0]);
  assert.deepEqual(m.perPair["rewards/margins"], [1, -1, 0]);
  assert.deepEqual(m.perPair["rewards/accuracies"], [1, 0, 0]);
  assert.deepEqual(m.perPair["logps/chosen"], [-10, -20, -6]);
  assert.deepEqual(m.perPair["logps/rejected"], [-12, -18, -9]);
  assertClose(m.mean["rewards/accuracies"]!, 1 / 3);
  assertClose(m.mean["logps/chosen"]!, -12);
  assertClose(m.mean["rewards/margins"]!, 0);
  assertClose(m.mean.loss!, 0.5);
});

Deno.test("reference-free rewards are β·ℓθ; lengthNormalize uses mean token log-probs", () => {
  const m = preferenceMetrics(scores(true), { beta: 2 });
  assert.deepEqual(m.perPair["rewards/chosen"], [-20, -40, -12]);
  assert.deepEqual(m.perPair["rewards/margins"], [4, -4, 6]);
  const n = preferenceMetrics(scores(true), { beta: 2, lengthNormalize: true });
  assertClose(n.perPair["rewards/chosen"]!, [-4, -4, -4]);
  assertClose(n.perPair["logps/rejected"]!, [-2, -2, -3]);
  assertClose(n.perPair["rewards/accuracies"]!, [0, 0, 1]);
});

Deno.test("preferenceMetrics rejects a non-positive beta, naming it", () => {
  assert.throws(
    () => preferenceMetrics(scores(), { beta: 0 }),
    (e) => e instanceof RangeError && /beta/.test(String(e)),
  );
});
