/**
 * Stable Preference Optimization (Jian, Yang et al., arXiv 2507.07723) — **reconstructed**.
 *
 * What is public (abstracts of v1 and v2, and reading notes of v2's results): a bilevel problem
 * whose upper level is a Bradley–Terry preference loss (DPO, CPO, SimPO, DPOP, R-DPO, α-DPO are
 * all used as bases) and whose lower level is SFT on the preferred responses (its optimal set is
 * a "safe alignment region"), solved by a penalty method that moves the lower-level optimal-value
 * constraint into the upper objective, explicitly encouraging an *absolute* rise of the
 * preferred response's likelihood. The paper body and code are not available.
 *
 * Reconstruction: `L = L_base + λ·P(y_w)` with one of three candidate penalties (per pair,
 * per-token normalised as SFT losses are, `ℓ̄` = mean token log-prob, see {@link spoPenalty}):
 * - "value" (default): `ℓ̄ref(y_w) − ℓ̄θ(y_w)` = `L_SFT(θ) − L_SFT(θ_ref)`, the value-function
 *   penalty of a lower-level optimal-value constraint (Shen et al., ICML 2024) with the inner
 *   minimum approximated by the SFT model's (= the reference's) value: the form the reading notes
 *   of v2 describe ("optimal-value constraint moved into the upper objective as a penalty");
 * - "hinge": `max(0, ℓ̄ref(y_w) − ℓ̄θ(y_w))` — penalise only a fall below the reference;
 * - "sft": `−ℓ̄θ(y_w)` — the inner minimum approximated by a constant (0).
 * "value" and "sft" have the same gradient; they differ in the reported loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { alphaDpo, dpop, rdpo } from "./dpo_variants.ts";
import { cpo, simpo } from "./reference_free.ts";
import { dpo } from "./trl/margin.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/** The candidate penalties. */
export type SpoPenalty = "value" | "hinge" | "sft";

/**
 * The reconstructed SPO penalty `P(y_w)` per pair (see the module doc). Replacing this function
 * is all it takes to use the paper's exact form once it is published.
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

/** The Bradley–Terry base losses SPO is applied on top of. */
export const SPO_BASES = ["dpo", "simpo", "cpo", "dpop", "r_dpo", "alpha_dpo"] as const;
/** One of {@link SPO_BASES}. */
export type SpoBase = (typeof SPO_BASES)[number];

const FACTORIES: Record<SpoBase, (p: Record<string, unknown>) => Objective> = {
  dpo: (p) => dpo(p),
  simpo: (p) => simpo(p),
  cpo: (p) => cpo(p),
  dpop: (p) => dpop(p),
  r_dpo: (p) => rdpo(p),
  alpha_dpo: (p) => alphaDpo(p),
};

/** Parameters of {@link spo}; every other key is a parameter of the base loss. */
export interface SpoParams {
  /** Upper-level loss, one of {@link SPO_BASES}; default "dpo". */
  base?: SpoBase;
  /** Candidate penalty, default "value". */
  penalty?: SpoPenalty;
  /** Penalty weight λ ≥ 0, default 1 (DPOP's own λ: `dpop_lambda`). */
  lambda?: number;
  /** Base parameters, e.g. `beta`, `labelSmoothing`, `gammaBetaRatio`, `dpop_lambda`. */
  [baseParam: string]: unknown;
}

const OWN = new Set(["base", "penalty", "lambda", "spo_lambda"]);

/**
 * SPO, **reconstructed**: `L = L_base + λ·spoPenalty(y_w)`. Defaults base "dpo", penalty
 * "value", λ = 1. Keys other than `base`, `penalty`, `lambda` go to the base's factory (its
 * defaults apply; an unknown key is an error naming the base). A stateful base (α-DPO) keeps
 * its statistics through `reset`/`saveState`/`loadState`; `params.beta` is the base's β.
 *
 * @example
 * ```ts
 * import { spo } from "./spo.ts";
 * const o = spo({ base: "simpo", penalty: "sft", lambda: 0.5 });
 * console.log(o.needsReference, o.params.beta); // false 2
 * ```
 */
export function spo(params: SpoParams = {}): Objective {
  const own: Record<string, unknown> = {}, rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params ?? {})) (OWN.has(k) ? own : rest)[k] = v;
  let baseObj: Objective | undefined;
  const obj = defineObjective({
    name: "spo",
    specs: {
      base: {
        default: "dpo",
        type: "string",
        values: SPO_BASES,
        about: "upper-level Bradley–Terry loss",
      },
      penalty: {
        default: "value",
        type: "string",
        values: ["value", "hinge", "sft"],
        about: "lower-level SFT penalty (reconstructed candidates)",
      },
      lambda: {
        default: 1,
        type: "number",
        range: "[0, inf)",
        aliases: ["spo_lambda"],
        about: "penalty weight λ",
      },
    },
    validate: (p) => {
      const base = p.base;
      try {
        baseObj = FACTORIES[base](rest);
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        const Err = e instanceof RangeError ? RangeError : TypeError;
        throw new Err(`spo (base ${base}): ${msg}`);
      }
    },
    needsReference: (p) => baseObj!.needsReference || p.penalty !== "sft",
    needsTokens: () => baseObj!.needsTokens,
    batchCoupled: () => baseObj!.batchCoupled,
    loss: (s, p) => {
      const base = baseObj!.loss(s);
      const pen = spoPenalty(s, p.penalty);
      return {
        losses: tf.add(base.losses, tf.mul(pen, p.lambda)) as tf.Tensor1D,
        extras: { ...(base.extras ?? {}), spoPenalty: pen },
      };
    },
    reset: () => baseObj!.reset?.(),
    saveState: () => baseObj!.saveState ? baseObj!.saveState() : Promise.resolve({}),
    loadState: (state) => baseObj!.loadState?.(state),
  }, own);
  const baseParams = Object.fromEntries(
    Object.entries(baseObj!.params).map(([k, v]) => [`base.${k}`, v]),
  );
  return {
    ...obj,
    params: Object.freeze({ ...obj.params, beta: baseObj!.params.beta, ...baseParams }),
  };
}
