/**
 * Stable Preference Optimization (Jian, Yang et al., arXiv 2507.07723) — **reconstructed**.
 *
 * What is public (abstract, v1 and v2): a bilevel problem whose upper level is a preference
 * loss (DPO, CPO or SimPO) and whose lower level is SFT on preferred responses (its optimal set
 * is a "safe alignment region"), solved by a penalty method that moves the lower-level
 * optimality constraint into the objective, explicitly encouraging an *absolute* rise of the
 * preferred response's likelihood. The exact penalty was not available.
 *
 * Reconstruction: `L = L_base + λ·P(y_w)` with one of three candidate penalties (per pair,
 * per-token normalised, `ℓ̄` = mean token log-prob, see {@link spoPenalty}):
 * - "hinge" (default): `max(0, ℓ̄ref(y_w) − ℓ̄θ(y_w))` — penalise only a fall of the preferred
 *   likelihood below the reference (the SFT model), i.e. enforce absolute improvement;
 * - "value": `ℓ̄ref(y_w) − ℓ̄θ(y_w)` — value-function penalty `L_SFT(θ) − L_SFT*` with the
 *   inner minimum approximated by the reference model's SFT loss;
 * - "sft": `−ℓ̄θ(y_w)` — the same with the inner minimum approximated by a constant (0).
 * "value" and "sft" have the same gradient; they differ in the reported loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { cpo, simpo } from "./reference_free.ts";
import { dpo } from "./trl.ts";
import type { Objective, SequenceScores } from "./types.ts";

/** The candidate penalties. */
export type SpoPenalty = "hinge" | "value" | "sft";

/**
 * The reconstructed SPO penalty `P(y_w)` per pair (see the module doc). Replacing this function
 * is all it takes to use the paper's exact form.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { spoPenalty } from "./spo.ts";
 * const s = {
 *   policyChosen: tf.tensor1d([-12]), policyRejected: tf.tensor1d([-9]),
 *   refChosen: tf.tensor1d([-10]), refRejected: tf.tensor1d([-9]),
 *   chosenLength: tf.tensor1d([4]), rejectedLength: tf.tensor1d([3]),
 * };
 * console.log(spoPenalty(s, "hinge").dataSync()); // [0.5]
 * ```
 */
export function spoPenalty(scores: SequenceScores, penalty: SpoPenalty): tf.Tensor1D {
  const len = tf.maximum(scores.chosenLength, 1);
  const mean = tf.div(scores.policyChosen, len);
  if (penalty === "sft") return tf.neg(mean) as tf.Tensor1D;
  if (!scores.refChosen) {
    throw new TypeError(`spo: scores.refChosen is missing; penalty '${penalty}' needs it`);
  }
  const gap = tf.sub(tf.div(scores.refChosen, len), mean);
  return (penalty === "hinge" ? tf.relu(gap) : gap) as tf.Tensor1D;
}

/** Parameters of {@link spo}. */
export interface SpoParams {
  /** Upper-level loss: "dpo" (default), "cpo" or "simpo". */
  base?: "dpo" | "cpo" | "simpo";
  /** Candidate penalty, default "hinge". */
  penalty?: SpoPenalty;
  /** Penalty weight λ ≥ 0, default 1. */
  lambda?: number;
  /** β of the base loss (default: the base's own, 0.1 / 0.1 / 2.0). */
  beta?: number;
  /** Base label smoothing ε. */
  labelSmoothing?: number;
  /** SimPO base only: γ/β. */
  gammaBetaRatio?: number;
  /** CPO base only: NLL weight α. */
  alpha?: number;
}

/**
 * SPO, **reconstructed**: `L = L_base + λ·spoPenalty(y_w)`. Defaults base "dpo", penalty
 * "hinge", λ = 1. Base parameters are passed to {@link dpo}, {@link cpo} or {@link simpo}.
 *
 * @example
 * ```ts
 * import { spo } from "./spo.ts";
 * const o = spo({ base: "simpo", penalty: "sft", lambda: 0.5 });
 * console.log(o.needsReference); // false
 * ```
 */
export function spo(params: SpoParams = {}): Objective {
  let baseObj: Objective | undefined;
  const obj = defineObjective({
    name: "spo",
    specs: {
      base: {
        default: "dpo",
        type: "string",
        values: ["dpo", "cpo", "simpo"],
        about: "upper-level loss",
      },
      penalty: {
        default: "hinge",
        type: "string",
        values: ["hinge", "value", "sft"],
        about: "lower-level SFT penalty (reconstructed candidates)",
      },
      lambda: { default: 1, type: "number", range: "[0, inf)", about: "penalty weight λ" },
      beta: { default: undefined, type: "number", range: "(0, inf)", about: "β of the base loss" },
      labelSmoothing: {
        default: undefined,
        type: "number",
        range: "[0, 0.5)",
        aliases: ["label_smoothing"],
        about: "label smoothing ε of the base loss",
      },
      gammaBetaRatio: {
        default: undefined,
        type: "number",
        aliases: ["gamma_beta_ratio"],
        about: "SimPO base only: γ/β",
      },
      alpha: {
        default: undefined,
        type: "number",
        range: "[0, inf)",
        about: "CPO base only: NLL weight",
      },
    },
    validate: (p) => {
      if (p.gammaBetaRatio !== undefined && p.base !== "simpo") {
        throw new TypeError("spo: parameter 'gammaBetaRatio' applies only to base 'simpo'");
      }
      if (p.alpha !== undefined && p.base !== "cpo") {
        throw new TypeError("spo: parameter 'alpha' applies only to base 'cpo'");
      }
      const common = {
        beta: p.beta as number | undefined,
        labelSmoothing: p.labelSmoothing as number | undefined,
      };
      baseObj = p.base === "dpo"
        ? dpo(common)
        : p.base === "cpo"
        ? cpo({ ...common, alpha: p.alpha as number | undefined })
        : simpo({ ...common, gammaBetaRatio: p.gammaBetaRatio as number | undefined });
    },
    needsReference: (p) => p.base === "dpo" || p.penalty !== "sft",
    loss: (s, p) => {
      const base = baseObj!.loss(s).losses;
      return tf.add(base, tf.mul(spoPenalty(s, p.penalty as SpoPenalty), p.lambda as number));
    },
  }, params as Record<string, unknown>);
  return { ...obj, params: Object.freeze({ ...obj.params, beta: baseObj!.params.beta }) };
}
