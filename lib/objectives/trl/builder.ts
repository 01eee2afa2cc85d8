/**
 * The builder every TRL loss type of `trl/` is written with: TRL's modifiers as parameters of
 * each loss (`referenceFree`, `fDivergence` / `fAlpha`, `ldAlpha`, `weighting`), and the
 * quantities a loss body reads (log-ratios u, f-scores s, their difference Δs, lengths).
 *
 * Notation: `u = ℓθ − ℓref` (summed completion log-probs), `s = f-score(u)`, `Δs = s_w − s_l`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective, type Resolved } from "../define.ts";
import { BETA, type ParamSpecs } from "../params.ts";
import {
  F_DIVERGENCES,
  type FDivergence,
  fScore,
  lengths,
  type SideLogps,
  sideLogps,
  wpoWeight,
} from "../scores.ts";
import type { Objective, ObjectiveState, ParamValue } from "../types.ts";
import type { SequenceScores } from "../../core/scores.ts";

/** TRL modifiers accepted by every loss type of this file. */
export interface TrlModifiers {
  /** β, default 0.1 (TRL `beta`). */
  beta?: number;
  /** Treat the reference log-probs as 0 (TRL v0.26 `reference_free`). Default false. */
  referenceFree?: boolean;
  /** f-DPO score (TRL `f_divergence_type`). Default "reverse_kl" (= plain DPO). */
  fDivergence?: FDivergence;
  /** α of the α-divergence (TRL HEAD `f_alpha_divergence_coef`), default 0.5. */
  fAlpha?: number;
  /** LD-DPO tail weight in [0, 1] (TRL `ld_alpha`); needs `scores.tokens`. Default off. */
  ldAlpha?: number;
  /** WPO weighting (TRL `use_weighting`); needs `scores.tokens`. Default false. */
  weighting?: boolean;
}

/** Parameter specs of {@link TrlModifiers}. */
export const TRL_MODIFIER_SPECS = {
  beta: BETA(0.1),
  referenceFree: {
    default: false,
    type: "boolean",
    aliases: ["reference_free"],
    about: "use ℓref := 0 (no reference model)",
  },
  fDivergence: {
    default: "reverse_kl",
    type: "string",
    values: F_DIVERGENCES,
    aliases: ["f_divergence_type"],
    about: "f-DPO score s(u): reverse_kl u, forward_kl −e^{−u}, js_divergence log σ(u), " +
      "alpha_divergence e^{(a−1)u}/(a−1)",
  },
  fAlpha: {
    default: 0.5,
    type: "number",
    aliases: ["f_alpha_divergence_coef"],
    about: "a of the α-divergence score (a = 1 is reverse KL)",
  },
  ldAlpha: {
    default: undefined,
    type: "number",
    range: "[0, 1]",
    aliases: ["ld_alpha"],
    about: "LD-DPO weight of tokens beyond min(|y_w|,|y_l|), policy and reference (needs tokens)",
  },
  weighting: {
    default: false,
    type: "boolean",
    aliases: ["use_weighting"],
    about: "WPO: multiply each pair's loss by sg[w(y_w)·w(y_l)] (needs tokens)",
  },
} as const satisfies ParamSpecs;

/** Quantities a TRL loss body is written in. */
export interface Ctx {
  beta: number;
  logps: SideLogps;
  uW: tf.Tensor1D;
  uL: tf.Tensor1D;
  sW: tf.Tensor1D;
  sL: tf.Tensor1D;
  dS: tf.Tensor1D;
  lenW: tf.Tensor1D;
  lenL: tf.Tensor1D;
}

/** Resolved TRL modifiers plus a loss type's own parameters `S`. */
export type TrlResolved<S extends ParamSpecs> = Resolved<typeof TRL_MODIFIER_SPECS & S>;

function context(
  name: string,
  scores: SequenceScores,
  p: Resolved<typeof TRL_MODIFIER_SPECS>,
): Ctx {
  const logps = sideLogps(name, scores, {
    referenceFree: p.referenceFree,
    ldAlpha: p.ldAlpha,
  });
  const uW = tf.sub(logps.policyChosen, logps.refChosen) as tf.Tensor1D;
  const uL = tf.sub(logps.policyRejected, logps.refRejected) as tf.Tensor1D;
  const f = p.fDivergence;
  const a = p.fAlpha;
  const sW = fScore(uW, f, a);
  const sL = fScore(uL, f, a);
  const len = lengths(scores);
  return {
    beta: p.beta,
    logps,
    uW,
    uL,
    sW,
    sL,
    dS: tf.sub(sW, sL) as tf.Tensor1D,
    lenW: len.chosen,
    lenL: len.rejected,
  };
}

/** A TRL loss type: its name, own parameters, preset defaults, flags and loss body. */
export interface TrlDef<S extends ParamSpecs> {
  name: string;
  specs?: S;
  defaults?: Partial<Record<string, ParamValue>>;
  batchCoupled?: boolean | ((p: TrlResolved<S>) => boolean);
  noWeighting?: boolean;
  body: (c: Ctx, p: TrlResolved<S>, scores: SequenceScores) => tf.Tensor;
  state?: {
    reset: () => void;
    save: () => Promise<ObjectiveState>;
    load: (state: ObjectiveState) => void;
  };
}

/** Presets change default values only, never a parameter's type. */
function withDefaults<T extends ParamSpecs>(
  specs: T,
  defaults: Partial<Record<string, ParamValue>>,
): T {
  const out: ParamSpecs = {};
  for (const [k, v] of Object.entries(specs)) {
    out[k] = k in defaults ? { ...v, default: defaults[k] } : v;
  }
  return out as T;
}

/**
 * The objective of the TRL loss type `def` with the parameters `given`: TRL's modifiers are
 * parameters of every loss type, and the loss body sees the quantities of {@link Ctx}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { trl } from "./builder.ts";
 * // A made-up loss type: the margin βΔs itself.
 * const margin = trl({ name: "margin", body: (c) => tf.mul(c.dS, c.beta) }, { beta: 0.5 });
 * const { losses } = margin.loss({
 *   policyChosen: tf.tensor1d([-1]), policyRejected: tf.tensor1d([-3]),
 *   refChosen: tf.tensor1d([-2]), refRejected: tf.tensor1d([-2]),
 *   chosenLength: tf.tensor1d([1]), rejectedLength: tf.tensor1d([1]),
 * });
 * assert.deepEqual(Array.from(losses.dataSync()), [1]); // 0.5 · ((−1+2) − (−3+2))
 * assert.equal(margin.needsReference, true);
 * ```
 */
// `{}` (no own parameters) is the default of S, so a loss type without specs still types.
// deno-lint-ignore ban-types
export function trl<const S extends ParamSpecs = {}>(
  def: TrlDef<S>,
  given: object | undefined,
): Objective {
  const specs = withDefaults(
    { ...TRL_MODIFIER_SPECS, ...def.specs } as typeof TRL_MODIFIER_SPECS & S,
    def.defaults ?? {},
  );
  return defineObjective({
    name: def.name,
    specs,
    needsReference: (p) => p.referenceFree !== true,
    needsTokens: (p) => typeof p.ldAlpha === "number" || p.weighting === true,
    batchCoupled: def.batchCoupled ?? false,
    validate: (p) => {
      if (def.noWeighting && p.weighting === true) {
        throw new RangeError(`${def.name}: parameter 'weighting' is not allowed with ${def.name}`);
      }
    },
    loss: (scores, p) => {
      // Own specs never redefine a modifier, so the modifiers keep their types.
      const c = context(def.name, scores, p as Resolved<typeof TRL_MODIFIER_SPECS>);
      let losses = def.body(c, p, scores);
      if (p.weighting === true) losses = tf.mul(losses, wpoWeight(def.name, scores));
      return {
        losses: losses as tf.Tensor1D,
        extras: { chosenScore: c.sW, rejectedScore: c.sL },
      };
    },
    reset: def.state?.reset,
    saveState: def.state?.save,
    loadState: def.state?.load,
  }, given as Record<string, unknown> | undefined);
}
