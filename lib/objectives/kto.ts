/**
 * KTO (Ethayarajh et al., arXiv 2402.01306) for paired or unpaired data.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { sigmoid, stopGradient } from "./numerics.ts";
import { BETA } from "./params.ts";
import { requireRef } from "./scores.ts";
import type { Objective } from "./types.ts";

/** Parameters of {@link kto}. */
export interface KtoParams {
  /** β, default 0.1. */
  beta?: number;
  /** λ_D, weight of desirable examples, default 1. */
  desirableWeight?: number;
  /** λ_U, weight of undesirable examples, default 1. */
  undesirableWeight?: number;
  /**
   * Reference point z0: a number, or "kl" (default) for
   * `max(0, mean(kl.policy − kl.ref))` over the mismatched completions in `scores.kl`, detached.
   */
  z0?: number | "kl";
}

/**
 * KTO, as in TRL's `KTOTrainer`. Every completion is an example: the chosen one desirable,
 * the rejected one undesirable, with `u = ℓθ − ℓref`:
 * desirable `λ_D(1 − σ(β(u − z0)))`, undesirable `λ_U(1 − σ(β(z0 − u)))`; the batch loss is
 * the mean over all examples present. So that `mean(losses)` equals it, row i carries
 * `(B/N)·(its desirable term + its undesirable term)`, N = number of examples present (for full
 * pairs, half the sum of the two terms). Unpaired data: mark absent sides with
 * `scores.present` (their log-probs are then ignored). Batch-coupled (z0 and N are batch
 * quantities). Defaults β = 0.1, λ_D = λ_U = 1, z0 = "kl".
 *
 * @example
 * ```ts
 * import { kto } from "./kto.ts";
 * console.log(kto({ z0: 0 }).params.z0); // 0
 * ```
 */
export function kto(params: KtoParams = {}): Objective {
  return defineObjective({
    name: "kto",
    specs: {
      beta: BETA(0.1),
      desirableWeight: {
        default: 1,
        type: "number",
        range: "(0, inf)",
        aliases: ["desirable_weight"],
        about: "λ_D",
      },
      undesirableWeight: {
        default: 1,
        type: "number",
        range: "(0, inf)",
        aliases: ["undesirable_weight"],
        about: "λ_U",
      },
      z0: {
        default: "kl",
        type: "number|string",
        values: ["kl"],
        about: "reference point: a number, or 'kl' = max(0, mean(kl.policy − kl.ref)) (detached)",
      },
    },
    batchCoupled: () => true,
    loss: (s, p) => {
      const ref = requireRef("kto", s);
      const beta = p.beta;
      let z0: tf.Tensor | number;
      if (typeof p.z0 === "number") {
        z0 = p.z0;
      } else {
        if (!s.kl) {
          throw new TypeError(
            "kto: scores.kl is missing; z0 = 'kl' needs the log-probs of mismatched " +
              "completions (or pass parameter 'z0' as a number)",
          );
        }
        z0 = stopGradient(tf.relu(tf.mean(tf.sub(s.kl.policy, s.kl.ref))));
      }
      const uW = tf.sub(s.policyChosen, ref.chosen);
      const uL = tf.sub(s.policyRejected, ref.rejected);
      const ones = tf.onesLike(uW);
      const pw = s.present?.chosen ?? ones;
      const pl = s.present?.rejected ?? ones;
      const des = tf.mul(
        tf.sub(1, sigmoid(tf.mul(tf.sub(uW, z0), beta))),
        p.desirableWeight,
      );
      const und = tf.mul(
        tf.sub(1, sigmoid(tf.mul(tf.sub(z0, uL), beta))),
        p.undesirableWeight,
      );
      const n = tf.add(tf.sum(pw), tf.sum(pl));
      const total = tf.add(tf.mul(des, pw), tf.mul(und, pl));
      return tf.div(tf.mul(total, uW.shape[0]), n);
    },
  }, params as Record<string, unknown>);
}
