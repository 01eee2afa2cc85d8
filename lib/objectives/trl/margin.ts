/**
 * TRL loss types of the margin `Δs = s_w − s_l` alone: DPO (and cDPO), hinge, IPO, pairwise EXO,
 * robust DPO, DiscoPOP and length-normalised DPO.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { logSigmoid, sigmoid, softplus } from "../numerics.ts";
import { LABEL_SMOOTHING } from "../params.ts";
import { smoothedLogistic } from "../scores.ts";
import type { Objective } from "../types.ts";
import { trl, type TrlModifiers } from "./builder.ts";

/** Parameters of {@link dpo}. */
export interface DpoParams extends TrlModifiers {
  /** cDPO label smoothing ε ∈ [0, 0.5) (TRL v0.26 `sigmoid`), default 0. */
  labelSmoothing?: number;
}

/**
 * DPO (Rafailov et al., arXiv 2305.18290), TRL `sigmoid`:
 * `L = (1−ε)·softplus(−βΔs) + ε·softplus(βΔs)` (ε = 0: `−log σ(βh)`). Defaults β = 0.1, ε = 0.
 * With ε > 0 this is cDPO; `fDivergence` gives f-DPO, `ldAlpha` LD-DPO, `weighting` WPO.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dpo } from "./margin.ts";
 * const obj = dpo({ beta: 0.1 });
 * const { losses } = obj.loss({
 *   policyChosen: tf.tensor1d([-10]), policyRejected: tf.tensor1d([-12]),
 *   refChosen: tf.tensor1d([-11]), refRejected: tf.tensor1d([-11]),
 *   chosenLength: tf.tensor1d([5]), rejectedLength: tf.tensor1d([6]),
 * });
 * console.log(losses.dataSync()); // [softplus(-0.2) ≈ 0.598]
 * ```
 */
export function dpo(params: DpoParams = {}): Objective {
  return trl({
    name: "dpo",
    specs: { labelSmoothing: LABEL_SMOOTHING },
    body: (c, p) => smoothedLogistic(tf.mul(c.dS, c.beta), p.labelSmoothing),
  }, params);
}

/**
 * Hinge loss (SLiC arXiv 2305.10425 / RSO arXiv 2309.06657), TRL `hinge`:
 * `L = max(0, 1 − βΔs)`; β is the inverse margin. Default β = 0.1.
 *
 * @example
 * ```ts
 * import { hinge } from "./margin.ts";
 * console.log(hinge({ beta: 0.5 }).params.beta); // 0.5
 * ```
 */
export function hinge(params: TrlModifiers = {}): Objective {
  return trl({ name: "hinge", body: (c) => tf.relu(tf.sub(1, tf.mul(c.dS, c.beta))) }, params);
}

/** Parameters of {@link ipo}. */
export interface IpoParams extends TrlModifiers {
  /** Divide each side's score by its completion length (TRL), default true. */
  normalize?: boolean;
}

/**
 * IPO (Azar et al., arXiv 2310.12036, Eq. 17), TRL `ipo`:
 * `L = (s_w/|y_w| − s_l/|y_l| − 1/(2β))²` (β plays τ). `normalize: false` gives the paper's
 * summed form `(Δs − 1/(2β))²`. Default β = 0.1.
 *
 * @example
 * ```ts
 * import { ipo } from "./margin.ts";
 * console.log(ipo().params.normalize); // true
 * ```
 */
export function ipo(params: IpoParams = {}): Objective {
  return trl({
    name: "ipo",
    specs: {
      normalize: {
        default: true,
        type: "boolean",
        about: "divide scores by completion length (TRL); false = paper's summed form",
      },
    },
    body: (c, p) => {
      const d = p.normalize ? tf.sub(tf.div(c.sW, c.lenW), tf.div(c.sL, c.lenL)) : c.dS;
      return tf.square(tf.sub(d, 1 / (2 * c.beta)));
    },
  }, params);
}

/** Parameters of {@link exoPair}. */
export interface ExoParams extends TrlModifiers {
  /** ε ∈ (0, 1): target probability of the rejected response, default 1e-3. */
  labelSmoothing?: number;
}

/**
 * Pairwise EXO (Ji et al., arXiv 2402.00856, Eq. 16, K = 2), TRL `exo_pair`:
 * `q = σ(βΔs)`, `L = q·(log q − log(1−ε)) + (1−q)·(log(1−q) − log ε)` = KL(q ‖ [1−ε, ε]).
 * Defaults β = 0.1, ε = 1e-3 (TRL HEAD rejects ε = 0; v0.26 silently used 1e-3).
 *
 * @example
 * ```ts
 * import { exoPair } from "./margin.ts";
 * console.log(exoPair().params.labelSmoothing); // 0.001
 * ```
 */
export function exoPair(params: ExoParams = {}): Objective {
  return trl({
    name: "exo_pair",
    specs: {
      labelSmoothing: {
        ...LABEL_SMOOTHING,
        default: 1e-3,
        range: "(0, 1)",
        about: "ε: target probability that the rejected response is preferred",
      },
    },
    body: (c, p) => {
      const eps = p.labelSmoothing;
      const z = tf.mul(c.dS, c.beta);
      const w = tf.mul(sigmoid(z), tf.sub(logSigmoid(z), Math.log1p(-eps)));
      const l = tf.mul(sigmoid(tf.neg(z)), tf.sub(logSigmoid(tf.neg(z)), Math.log(eps)));
      return tf.add(w, l);
    },
  }, params);
}

/** Parameters of {@link robust}. */
export interface RobustParams extends TrlModifiers {
  /** Flip rate ε ∈ [0, 0.5), default 0 (TRL default; the paper uses 0.1). */
  labelSmoothing?: number;
}

/**
 * Robust DPO (Chowdhury et al., arXiv 2403.00409), TRL `robust`:
 * `L = [(1−ε)·softplus(−βΔs) − ε·softplus(βΔs)] / (1−2ε)`, an unbiased loss under label flips
 * at rate ε. Defaults β = 0.1, ε = 0 (TRL's default, which reduces to DPO; the paper uses 0.1).
 *
 * @example
 * ```ts
 * import { robust } from "./margin.ts";
 * console.log(robust({ labelSmoothing: 0.1 }).params.labelSmoothing); // 0.1
 * ```
 */
export function robust(params: RobustParams = {}): Objective {
  return trl({
    name: "robust",
    specs: { labelSmoothing: { ...LABEL_SMOOTHING, about: "ε: label flip rate" } },
    body: (c, p) => {
      const eps = p.labelSmoothing;
      const z = tf.mul(c.dS, c.beta);
      const clean = tf.mul(softplus(tf.neg(z)), 1 - eps);
      const flipped = tf.mul(softplus(z), eps);
      return tf.div(tf.sub(clean, flipped), 1 - 2 * eps);
    },
  }, params);
}

/** Parameters of {@link discopop}. */
export interface DiscopopParams extends TrlModifiers {
  /** τ > 0 of the modulation σ(ρ/τ), default 0.05 (TRL `discopop_tau`). */
  tau?: number;
}

/**
 * DiscoPOP / LRML (Chris Lu et al., arXiv 2406.08414, Eq. 5), TRL `discopop`, with `ρ = βΔs`,
 * `m = σ(ρ/τ)`: `L = (1−m)·softplus(−ρ) + m·e^{−ρ}`. The exponential term is evaluated as
 * `exp(log σ(ρ/τ) − ρ)`, so it stays finite where `m → 0` and `e^{−ρ}` overflows. Defaults
 * β = 0.1 (paper setting 0.05), τ = 0.05.
 *
 * @example
 * ```ts
 * import { discopop } from "./margin.ts";
 * console.log(discopop().params.tau); // 0.05
 * ```
 */
export function discopop(params: DiscopopParams = {}): Objective {
  return trl({
    name: "discopop",
    specs: {
      tau: {
        default: 0.05,
        type: "number",
        range: "(0, inf)",
        aliases: ["discopop_tau"],
        about: "temperature τ of the modulation σ(ρ/τ)",
      },
    },
    body: (c, p) => {
      const rho = tf.mul(c.dS, c.beta);
      const zt = tf.div(rho, p.tau);
      const logistic = tf.mul(sigmoid(tf.neg(zt)), softplus(tf.neg(rho)));
      const expo = tf.exp(tf.sub(logSigmoid(zt), rho));
      return tf.add(logistic, expo);
    },
  }, params);
}

/**
 * Length-normalised DPO, TRL HEAD `sigmoid_norm` (the "DPO w/ LN" of SimPO's appendix, used by
 * Tülu 3): `L = softplus(−β(s_w/|y_w| − s_l/|y_l|))`. Default β = 0.1.
 *
 * @example
 * ```ts
 * import { sigmoidNorm } from "./margin.ts";
 * console.log(sigmoidNorm().name); // sigmoid_norm
 * ```
 */
export function sigmoidNorm(params: TrlModifiers = {}): Objective {
  return trl({
    name: "sigmoid_norm",
    body: (c) => {
      const d = tf.sub(tf.div(c.sW, c.lenW), tf.div(c.sL, c.lenL));
      return softplus(tf.neg(tf.mul(d, c.beta)));
    },
  }, params);
}
