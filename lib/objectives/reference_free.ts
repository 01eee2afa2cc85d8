/**
 * Reference-free objectives: SimPO, ORPO, CPO, ASFT, AlphaPO, SLiC-HF. None reads `ref*`.
 * `ℓ̄ = ℓθ/|y|` is the mean token log-prob of a completion.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective } from "./define.ts";
import { log1mexp, logSigmoid } from "./numerics.ts";
import { BETA, LABEL_SMOOTHING, NLL_MODE } from "./params.ts";
import { lengths, nll, type NllMode, smoothedLogistic } from "./scores.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

function meanLogps(s: SequenceScores): { w: tf.Tensor1D; l: tf.Tensor1D } {
  const len = lengths(s);
  return {
    w: tf.div(s.policyChosen, len.chosen) as tf.Tensor1D,
    l: tf.div(s.policyRejected, len.rejected) as tf.Tensor1D,
  };
}

/** Parameters of {@link simpo}. */
export interface SimpoParams {
  /** β, default 2.0 (SimPO code default). */
  beta?: number;
  /** γ/β, default 0.25 (SimPO `gamma_beta_ratio`). Ignored when `gamma` is given. */
  gammaBetaRatio?: number;
  /** Absolute target margin γ (TRL CPO `simpo_gamma`); overrides `gammaBetaRatio`. */
  gamma?: number;
  /** Label smoothing ε ∈ [0, 0.5), default 0. */
  labelSmoothing?: number;
  /** Weight of an added NLL term on y_w (SimPO `sft_weight`), default 0. */
  sftWeight?: number;
  /** NLL normalisation, default "token". */
  nll?: NllMode;
}

/**
 * SimPO (Meng et al., arXiv 2405.14734): `m = β(ℓ̄θ(y_w) − ℓ̄θ(y_l)) − γ`,
 * `L = (1−ε)·softplus(−m) + ε·softplus(m) + sftWeight·NLL(y_w)`, γ = β·gammaBetaRatio unless
 * `gamma` is given. Defaults β = 2.0, γ/β = 0.25 (SimPO code), ε = 0, sftWeight = 0.
 *
 * @example
 * ```ts
 * import { simpo } from "./reference_free.ts";
 * console.log(simpo().needsReference); // false
 * ```
 */
export function simpo(params: SimpoParams = {}): Objective {
  return defineObjective({
    name: "simpo",
    specs: {
      beta: BETA(2.0),
      gammaBetaRatio: {
        default: 0.25,
        type: "number",
        aliases: ["gamma_beta_ratio"],
        about: "target margin as a multiple of β (γ = β·ratio)",
      },
      gamma: {
        default: undefined,
        type: "number",
        aliases: ["simpo_gamma"],
        about: "absolute target margin γ (overrides gammaBetaRatio)",
      },
      labelSmoothing: LABEL_SMOOTHING,
      sftWeight: {
        default: 0,
        type: "number",
        range: "[0, inf)",
        aliases: ["sft_weight"],
        about: "weight of an NLL(y_w) term",
      },
      nll: NLL_MODE,
    },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch" && p.sftWeight > 0,
    loss: (s, p) => {
      const beta = p.beta;
      const gamma = typeof p.gamma === "number" ? p.gamma : beta * p.gammaBetaRatio;
      const l = meanLogps(s);
      const m = tf.sub(tf.mul(tf.sub(l.w, l.l), beta), gamma);
      const pref = smoothedLogistic(m, p.labelSmoothing);
      const w = p.sftWeight;
      return w > 0 ? tf.add(pref, tf.mul(nll(s, p.nll), w)) : pref;
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link orpo}. */
export interface OrpoParams {
  /** λ, the odds-ratio weight (TRL calls it `beta`), default 0.1. */
  beta?: number;
  /** NLL normalisation, default "token" (per-pair token mean). */
  nll?: NllMode;
}

/**
 * ORPO (Hong et al., arXiv 2403.07691): with `p = exp(ℓ̄θ)` and odds `o = log(p/(1−p))
 * = ℓ̄ − log(1 − e^ℓ̄)`, `L = NLL(y_w) − λ·log σ(o_w − o_l)`. Default λ = 0.1 (TRL `beta`).
 * TRL's NLL is the batch token-mean (`nll: "batch"`); the default here is the per-pair token mean,
 * equal for a batch of one. Needs ℓ̄ < 0 (a proper log-probability).
 *
 * @example
 * ```ts
 * import { orpo } from "./reference_free.ts";
 * console.log(orpo().params.beta); // 0.1
 * ```
 */
export function orpo(params: OrpoParams = {}): Objective {
  return defineObjective({
    name: "orpo",
    specs: {
      beta: { ...BETA(0.1, "λ, weight of the odds-ratio term"), aliases: ["lambda"] },
      nll: NLL_MODE,
    },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch",
    loss: (s, p) => {
      const l = meanLogps(s);
      const odds = tf.sub(tf.sub(l.w, l.l), tf.sub(log1mexp(l.w), log1mexp(l.l)));
      return tf.sub(nll(s, p.nll), tf.mul(logSigmoid(odds), p.beta));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link cpo}. */
export interface CpoParams {
  /** β, default 0.1. */
  beta?: number;
  /** Weight α of the NLL term (TRL `cpo_alpha`), default 1.0. */
  alpha?: number;
  /** Label smoothing ε ∈ [0, 0.5), default 0. */
  labelSmoothing?: number;
  /** NLL normalisation, default "token". */
  nll?: NllMode;
}

/**
 * CPO (Xu et al., arXiv 2401.08417): `L = (1−ε)·softplus(−β(ℓθ_w − ℓθ_l)) + ε·softplus(·)
 * + α·NLL(y_w)` with summed log-probs. Defaults β = 0.1, α = 1.0, ε = 0. TRL's NLL is the
 * batch token-mean (`nll: "batch"`); the default is the per-pair token mean.
 *
 * @example
 * ```ts
 * import { cpo } from "./reference_free.ts";
 * console.log(cpo().params.alpha); // 1
 * ```
 */
export function cpo(params: CpoParams = {}): Objective {
  return defineObjective({
    name: "cpo",
    specs: {
      beta: BETA(0.1),
      alpha: {
        default: 1.0,
        type: "number",
        range: "[0, inf)",
        aliases: ["cpo_alpha"],
        about: "weight α of NLL(y_w)",
      },
      labelSmoothing: LABEL_SMOOTHING,
      nll: NLL_MODE,
    },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch" && p.alpha > 0,
    loss: (s, p) => {
      const z = tf.mul(tf.sub(s.policyChosen, s.policyRejected), p.beta);
      const pref = smoothedLogistic(z, p.labelSmoothing);
      return tf.add(pref, tf.mul(nll(s, p.nll), p.alpha));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link asft}. */
export interface AsftParams {
  /** λ ≥ 0, weight of the pointwise odds terms, default 0.1. */
  lambda?: number;
  /** Use mean token log-probs (p = exp(ℓ̄)), default true. */
  normalize?: boolean;
}

/**
 * ASFT (Wang et al., arXiv 2409.10571): `L = −log p_w − λ[log σ(o_w) + log σ(−o_l)]
 * = −(1+λ)·log p_w − λ·log(1 − p_l)`, `p = exp(ℓ̄θ)` (`normalize: false`: `exp(ℓθ)`).
 * Default λ = 0.1 (our choice; the paper's value was not read).
 *
 * @example
 * ```ts
 * import { asft } from "./reference_free.ts";
 * console.log(asft().params.lambda); // 0.1
 * ```
 */
export function asft(params: AsftParams = {}): Objective {
  return defineObjective({
    name: "asft",
    specs: {
      lambda: {
        default: 0.1,
        type: "number",
        range: "[0, inf)",
        about: "weight λ of the pointwise odds terms",
      },
      normalize: { default: true, type: "boolean", about: "p = exp(mean token log-prob)" },
    },
    needsReference: () => false,
    loss: (s, p) => {
      const lam = p.lambda;
      const l = p.normalize ? meanLogps(s) : { w: s.policyChosen, l: s.policyRejected };
      return tf.sub(tf.mul(l.w, -(1 + lam)), tf.mul(log1mexp(l.l), lam));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link alphapo}. */
export interface AlphapoParams {
  /** Reward shape α ≠ 0, default 0.25. */
  alpha?: number;
  /** β, default 2.5. */
  beta?: number;
  /** Absolute target margin γ (TRL `simpo_gamma`), default 0.1. */
  gamma?: number;
  /** Label smoothing ε ∈ [0, 0.5), default 0. */
  labelSmoothing?: number;
}

/**
 * AlphaPO (Gupta et al., arXiv 2501.03884), as in TRL's CPO trainer: SimPO with the reward
 * `r = (1 − p^{−α})/α`, `p = exp(ℓ̄θ)`: `L = (1−ε)·softplus(−(β(r_w − r_l) − γ)) + ε·softplus(·)`.
 * α → 0 recovers SimPO's `r = ℓ̄`. Defaults α = 0.25, β = 2.5, γ = 0.1 (TRL example).
 *
 * @example
 * ```ts
 * import { alphapo } from "./reference_free.ts";
 * console.log(alphapo().params.alpha); // 0.25
 * ```
 */
export function alphapo(params: AlphapoParams = {}): Objective {
  return defineObjective({
    name: "alphapo",
    specs: {
      alpha: { default: 0.25, type: "number", about: "reward shape α (≠ 0)" },
      beta: BETA(2.5),
      gamma: {
        default: 0.1,
        type: "number",
        aliases: ["simpo_gamma"],
        about: "absolute target margin γ",
      },
      labelSmoothing: LABEL_SMOOTHING,
    },
    validate: (p) => {
      if (p.alpha === 0) throw new RangeError("alphapo: parameter 'alpha' must be non-zero");
    },
    needsReference: () => false,
    loss: (s, p) => {
      const a = p.alpha;
      const l = meanLogps(s);
      const r = (x: tf.Tensor) => tf.div(tf.sub(1, tf.exp(tf.mul(x, -a))), a);
      const m = tf.sub(tf.mul(tf.sub(r(l.w), r(l.l)), p.beta), p.gamma);
      return smoothedLogistic(m, p.labelSmoothing);
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link slicHf}. */
export interface SlicParams {
  /** Ranking margin δ, default 1. */
  delta?: number;
  /** Weight λ of the regularising NLL on y_w, default 0.1. */
  lambda?: number;
  /** NLL normalisation, default "sum" (sequence NLL, as in the paper). */
  nll?: NllMode;
}

/**
 * SLiC-HF (Zhao et al., arXiv 2305.10425), calibration with the chosen response as the
 * regularisation target: `L = max(0, δ − ℓθ(y_w) + ℓθ(y_l)) + λ·NLL(y_w)`. Defaults δ = 1,
 * λ = 0.1 (our choice), NLL summed.
 *
 * @example
 * ```ts
 * import { slicHf } from "./reference_free.ts";
 * console.log(slicHf().params.delta); // 1
 * ```
 */
export function slicHf(params: SlicParams = {}): Objective {
  return defineObjective({
    name: "slic_hf",
    specs: {
      delta: { default: 1, type: "number", range: "[0, inf)", about: "ranking margin δ" },
      lambda: {
        default: 0.1,
        type: "number",
        range: "[0, inf)",
        about: "weight λ of NLL(y_w)",
      },
      nll: { ...NLL_MODE, default: "sum" },
    },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch" && p.lambda > 0,
    loss: (s, p) => {
      const rank = tf.relu(tf.add(tf.sub(s.policyRejected, s.policyChosen), p.delta));
      return tf.add(rank, tf.mul(nll(s, p.nll), p.lambda));
    },
  }, params as Record<string, unknown>);
}
