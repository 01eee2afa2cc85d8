/**
 * The objective's input when a policy is scored against fixed reference values (the first-order
 * and single-step analyses): the reference enters as constants, so gradients flow only through
 * the policy.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PairScores, SequenceScores } from "../core/scores.ts";

/**
 * The policy's sequence scores with `ref` as the reference log-probs, and the per-token data
 * when the scorer gave it (other fields of `s` are not passed on).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { scoresWithReference } from "./ref_scores.ts";
 * const v = tf.tensor1d([-1, -2]);
 * const s = { policyChosen: v, policyRejected: v, chosenLength: v, rejectedLength: v };
 * const out = scoresWithReference(s, { chosen: [-3, -4], rejected: [-5, -6] });
 * assert.deepEqual(Array.from(out.refRejected!.dataSync()), [-5, -6]);
 * assert.equal(out.tokens, undefined);
 * ```
 */
export function scoresWithReference(
  s: PairScores,
  ref: { chosen: readonly number[]; rejected: readonly number[] },
): SequenceScores {
  const scores: SequenceScores = {
    policyChosen: s.policyChosen,
    policyRejected: s.policyRejected,
    chosenLength: s.chosenLength,
    rejectedLength: s.rejectedLength,
    refChosen: tf.tensor1d(ref.chosen as number[]),
    refRejected: tf.tensor1d(ref.rejected as number[]),
  };
  if (s.tokens !== undefined) scores.tokens = s.tokens;
  return scores;
}
