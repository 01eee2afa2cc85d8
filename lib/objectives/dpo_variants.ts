/**
 * Reference-based DPO variants outside TRL's `DPOTrainer`: RPO (both papers), Cal-DPO, DPOP,
 * TDPO, R-DPO, α-DPO. Notation: `u = ℓθ − ℓref` (summed), `h = u_w − u_l`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective, type Resolved } from "./define.ts";
import { softplus, stopGradient } from "./numerics.ts";
import { BETA, LABEL_SMOOTHING, NLL_MODE, type ParamSpecs } from "./params.ts";
import { DeviceScalar } from "./state.ts";
import {
  lengths,
  nll,
  type NllMode,
  requireRef,
  requireTokens,
  smoothedLogistic,
} from "./scores.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

function logRatios(name: string, s: SequenceScores): { uW: tf.Tensor1D; uL: tf.Tensor1D } {
  const ref = requireRef(name, s);
  return {
    uW: tf.sub(s.policyChosen, ref.chosen) as tf.Tensor1D,
    uL: tf.sub(s.policyRejected, ref.rejected) as tf.Tensor1D,
  };
}

/** Parameters of {@link rpo} and {@link rpoReg}. */
export interface RpoParams {
  /** β of the DPO term. */
  beta?: number;
  /** Weight of the NLL term (α in Pang et al., η in Liu et al.). */
  alpha?: number;
  /** NLL normalisation, default "token" (−ℓθ(y_w)/|y_w| per pair). */
  nll?: NllMode;
}

function dpoPlusNll(name: string, beta: number, alpha: number, aliases: string[]) {
  return (params: RpoParams): Objective =>
    defineObjective({
      name,
      specs: {
        beta: BETA(beta),
        alpha: {
          default: alpha,
          type: "number",
          range: "[0, inf)",
          aliases,
          about: "weight of NLL(y_w)",
        },
        nll: NLL_MODE,
      },
      batchCoupled: (p) => p.nll === "batch" && p.alpha > 0,
      loss: (s, p) => {
        const { uW, uL } = logRatios(name, s);
        const d = softplus(tf.mul(tf.sub(uL, uW), p.beta));
        return tf.add(d, tf.mul(nll(s, p.nll), p.alpha));
      },
    }, params as Record<string, unknown>);
}

/**
 * Iterative RPO (Pang et al., arXiv 2404.19733): `L = softplus(−βh) + α·NLL(y_w)/|y_w|`.
 * Defaults β = 0.1, α = 1 (TRL `rpo_alpha`; TRL pools the NLL over the batch: `nll: "batch"`).
 *
 * @example
 * ```ts
 * import { rpo } from "./dpo_variants.ts";
 * console.log(rpo().params.alpha); // 1
 * ```
 */
export function rpo(params: RpoParams = {}): Objective {
  return dpoPlusNll("rpo", 0.1, 1, ["rpo_alpha"])(params);
}

/**
 * Regularized Preference Optimization (Liu et al., arXiv 2405.16436): DPO plus an SFT term on
 * the chosen response, `L = softplus(−βh) + η·NLL(y_w)`. Defaults β = 0.01, η = 0.005 (TRL's
 * paper-index reproduction: `loss_type=["sigmoid","sft"]`, weights `[1, 0.005]`). Whether the
 * paper also scales the DPO term by β was not verified.
 *
 * @example
 * ```ts
 * import { rpoReg } from "./dpo_variants.ts";
 * console.log(rpoReg().params.alpha); // 0.005
 * ```
 */
export function rpoReg(params: RpoParams = {}): Objective {
  return dpoPlusNll("rpo_reg", 0.01, 0.005, ["eta"])(params);
}

/**
 * Cal-DPO (Xiao et al., arXiv 2412.14516), as in the authors' code:
 * `L = softplus(−h) + ½[(u_w − 1/(2β))² + (u_l + 1/(2β))²]` (no β inside the sigmoid). The code
 * adds the batch-mean MSE to every pair; here each pair carries its own squared errors, which has
 * the same batch mean and the same gradients, so the objective is per-pair. Default β = 0.002.
 *
 * @example
 * ```ts
 * import { calDpo } from "./dpo_variants.ts";
 * console.log(calDpo().params.beta); // 0.002
 * ```
 */
export function calDpo(params: { beta?: number } = {}): Objective {
  return defineObjective({
    name: "cal_dpo",
    specs: { beta: BETA(0.002, "β: calibration targets ±1/(2β)") },
    loss: (s, p) => {
      const { uW, uL } = logRatios("cal_dpo", s);
      const t = 1 / (2 * p.beta);
      const cal = tf.add(tf.square(tf.sub(uW, t)), tf.square(tf.add(uL, t)));
      return tf.add(softplus(tf.sub(uL, uW)), tf.mul(cal, 0.5));
    },
  }, params as Record<string, unknown>);
}

/**
 * DPO-Positive / Smaug (Pal et al., arXiv 2402.13228):
 * `L = softplus(−β(h − λ·max(0, ℓref(y_w) − ℓθ(y_w))))`. Defaults β = 0.1, λ = 50.
 *
 * @example
 * ```ts
 * import { dpop } from "./dpo_variants.ts";
 * console.log(dpop().params.lambda); // 50
 * ```
 */
export function dpop(params: { beta?: number; lambda?: number } = {}): Objective {
  return defineObjective({
    name: "dpop",
    specs: {
      beta: BETA(0.1),
      lambda: {
        default: 50,
        type: "number",
        range: "[0, inf)",
        aliases: ["dpop_lambda"],
        about: "penalty weight λ on a chosen log-ratio below 0",
      },
    },
    loss: (s, p) => {
      const { uW, uL } = logRatios("dpop", s);
      const pen = tf.relu(tf.neg(uW));
      const z = tf.mul(tf.sub(tf.sub(uW, uL), tf.mul(pen, p.lambda)), p.beta);
      return softplus(tf.neg(z));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link tdpo}. */
export interface TdpoParams {
  beta?: number;
  /** α of TDPO2, default 0.5. */
  alpha?: number;
  /** 1 or 2, default 2. */
  variant?: number;
}

/**
 * TDPO (Zeng et al., arXiv 2404.11999) with sequential KL
 * `K(y) = Σ_t KL(πref(·|x,y_<t) ‖ πθ(·|x,y_<t))` from `tokens.klChosen/klRejected`:
 * TDPO2 `L = softplus(−β(h − α(K(y_l) − sg[K(y_w)])))` (as in the SamPO code);
 * TDPO1 `L = softplus(−β(h − (K(y_l) − K(y_w))))` (recalled from the paper, not re-read).
 * Defaults β = 0.1, α = 0.5, variant 2.
 *
 * @example
 * ```ts
 * import { tdpo } from "./dpo_variants.ts";
 * console.log(tdpo().needsTokens); // true
 * ```
 */
export function tdpo(params: TdpoParams = {}): Objective {
  return defineObjective({
    name: "tdpo",
    specs: {
      beta: BETA(0.1),
      alpha: {
        default: 0.5,
        type: "number",
        range: "[0, inf)",
        aliases: ["tdpo_alpha"],
        about: "TDPO2 weight α of the sequential-KL difference",
      },
      variant: { default: 2, type: "integer", range: "[1, 2]", about: "TDPO1 or TDPO2" },
    },
    needsTokens: () => true,
    loss: (s, p) => {
      const t = requireTokens("tdpo", s, ["klChosen", "klRejected", "chosenMask", "rejectedMask"]);
      const kW = tf.sum(tf.mul(t.klChosen!, t.chosenMask), 1);
      const kL = tf.sum(tf.mul(t.klRejected!, t.rejectedMask), 1);
      const { uW, uL } = logRatios("tdpo", s);
      const h = tf.sub(uW, uL);
      const kl = p.variant === 1 ? tf.sub(kL, kW) : tf.mul(tf.sub(kL, stopGradient(kW)), p.alpha);
      return softplus(tf.neg(tf.mul(tf.sub(h, kl), p.beta)));
    },
  }, params as Record<string, unknown>);
}

/**
 * R-DPO (Park et al., arXiv 2403.19159), length-regularised DPO:
 * `L = softplus(−(βh − α(|y_w| − |y_l|)))`. Default β = 0.1, α = 0.01 (our choice). The α-DPO
 * code writes α = β·`gamma_beta_ratio`; SamPO's `lenN` uses the opposite sign.
 *
 * @example
 * ```ts
 * import { rdpo } from "./dpo_variants.ts";
 * console.log(rdpo().params.alpha); // 0.01
 * ```
 */
export function rdpo(params: { beta?: number; alpha?: number } = {}): Objective {
  return defineObjective({
    name: "r_dpo",
    specs: {
      beta: BETA(0.1),
      alpha: {
        default: 0.01,
        type: "number",
        range: "[0, inf)",
        about: "length penalty α per token of length difference",
      },
    },
    loss: (s, p) => {
      const { uW, uL } = logRatios("r_dpo", s);
      const dLen = tf.sub(s.chosenLength, s.rejectedLength);
      const z = tf.sub(tf.mul(tf.sub(uW, uL), p.beta), tf.mul(dLen, p.alpha));
      return softplus(tf.neg(z));
    },
  }, params as Record<string, unknown>);
}

/** Parameters of {@link alphaDpo}. */
export interface AlphaDpoParams {
  beta?: number;
  gammaBetaRatio?: number;
  alpha?: number;
  labelSmoothing?: number;
  /** Use mean token log-probs (the code's `ln`), default true. */
  lengthNormalize?: boolean;
  /** EMA decay of the running mean/std, default 0.9. */
  emaDecay?: number;
  /** Fixed centre μ (only with `sigma`), default 0. */
  mu?: number;
  /** Fixed scale s > 0: disables the running statistics. */
  sigma?: number;
}

/**
 * α-DPO (Wu et al., "adaptive reward margin", arXiv 2410.10148), as in the authors' code:
 * `ĥ = (ℓ̄θ_w − ℓ̄θ_l) − (ℓ̄ref_w − ℓ̄ref_l)`, `M = (ℓ̄θ_w − ℓ̄θ_l) − sg[α(ĥ − μ)/s + γ/β]`,
 * `L = (1−ε)·softplus(−βM) + ε·softplus(βM)`; μ, s = EMAs (decay 0.9, started at 0 as in the
 * code) of the batch mean and unbiased std of ĥ, updated on every call before use (stateful,
 * batch-coupled, `reset()` clears; a batch of 1 has no std, so pass `sigma`). With `sigma` given,
 * μ and s are fixed (`mu`, `sigma`) and the objective is per-pair. Defaults (Llama-3-8B-Instruct
 * recipe): β = 2.5, γ/β = 0.6, α = 0.2, mean log-probs.
 *
 * @example
 * ```ts
 * import { alphaDpo } from "./dpo_variants.ts";
 * console.log(alphaDpo({ sigma: 1 }).batchCoupled); // false
 * ```
 */
export function alphaDpo(params: AlphaDpoParams = {}): Objective {
  // The EMAs stay on the device: loss() must not read tensors (webgpu cannot).
  const mu = new DeviceScalar(0);
  const sd = new DeviceScalar(0);
  return defineObjective({
    name: "alpha_dpo",
    specs: ALPHA_DPO_SPECS,
    validate: (p) => {
      if (p.mu !== undefined && p.sigma === undefined) {
        throw new TypeError("alpha_dpo: parameter 'mu' needs parameter 'sigma'");
      }
    },
    batchCoupled: (p) => p.sigma === undefined,
    loss: (s, p) => alphaDpoLoss(s, p, { mu, sd }),
    reset: () => {
      mu.reset();
      sd.reset();
    },
    saveState: async () => ({ mu: await mu.read(), sd: await sd.read() }),
    loadState: (state) => {
      mu.load(state.mu as number | null);
      sd.load(state.sd as number | null);
    },
  }, params as Record<string, unknown>);
}

const ALPHA_DPO_SPECS = {
  beta: BETA(2.5),
  gammaBetaRatio: {
    default: 0.6,
    type: "number",
    aliases: ["gamma_beta_ratio"],
    about: "γ/β, fixed part of the margin",
  },
  alpha: { default: 0.2, type: "number", about: "weight α of the adaptive margin" },
  labelSmoothing: LABEL_SMOOTHING,
  lengthNormalize: {
    default: true,
    type: "boolean",
    aliases: ["ln"],
    about: "use mean token log-probs",
  },
  emaDecay: {
    default: 0.9,
    type: "number",
    range: "[0, 1)",
    about: "EMA decay of the running mean/std of ĥ",
  },
  mu: { default: undefined, type: "number", about: "fixed centre μ (with sigma)" },
  sigma: {
    default: undefined,
    type: "number",
    range: "(0, inf)",
    about: "fixed scale s; disables running statistics",
  },
} as const satisfies ParamSpecs;

type AlphaDpoResolved = Resolved<typeof ALPHA_DPO_SPECS>;

/** The running EMAs of ĥ's batch mean and std. */
interface AlphaDpoStats {
  mu: DeviceScalar;
  sd: DeviceScalar;
}

function alphaDpoLoss(s: SequenceScores, p: AlphaDpoResolved, stats: AlphaDpoStats): tf.Tensor {
  const ref = requireRef("alpha_dpo", s);
  const len = lengths(s);
  const norm = (x: tf.Tensor1D, n: tf.Tensor1D) => p.lengthNormalize ? tf.div(x, n) : x;
  const pi = tf.sub(norm(s.policyChosen, len.chosen), norm(s.policyRejected, len.rejected));
  const refD = tf.sub(norm(ref.chosen, len.chosen), norm(ref.rejected, len.rejected));
  const gap = stopGradient(tf.sub(pi, refD));
  const { center, scale } = p.sigma === undefined
    ? runningCenterScale(gap, p.emaDecay, stats)
    : { center: p.mu ?? 0, scale: p.sigma };
  const margin = tf.add(
    tf.mul(tf.div(tf.sub(gap, center), scale), p.alpha),
    p.gammaBetaRatio,
  );
  const m = tf.sub(pi, stopGradient(margin));
  return smoothedLogistic(tf.mul(m, p.beta), p.labelSmoothing);
}

/** Updates the EMAs with this batch's mean and unbiased std of ĥ, before they are used. */
function runningCenterScale(
  gap: tf.Tensor,
  d: number,
  stats: AlphaDpoStats,
): { center: tf.Tensor; scale: tf.Tensor } {
  const n = gap.shape[0];
  if (n < 2) {
    throw new RangeError(
      `alpha_dpo: running statistics need a batch of at least 2 pairs, got ${n}; pass ` +
        "'sigma' (and 'mu') to fix them",
    );
  }
  const m = tf.mean(gap);
  const v = tf.div(tf.sum(tf.square(tf.sub(gap, m))), n - 1);
  const nextMu = tf.add(tf.mul(stats.mu.value(), d), tf.mul(m, 1 - d));
  const nextSd = tf.add(tf.mul(stats.sd.value(), d), tf.mul(tf.sqrt(v), 1 - d));
  stats.mu.set(nextMu);
  stats.sd.set(nextSd);
  // Floored: at the first step of a run the policy is the reference, every ĥ is 0 and so
  // is the std; the authors' code divides 0 by 0 there (NaN loss). With the floor the
  // adaptive term is 0 until ĥ spreads.
  return { center: nextMu, scale: tf.maximum(nextSd, 1e-8) };
}
