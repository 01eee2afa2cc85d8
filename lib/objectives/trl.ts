/**
 * Every `loss_type` of Hugging Face TRL's `DPOTrainer` (HEAD f2cd577 list, v0.26 options where
 * they differ), with TRL's modifiers as parameters of each: `referenceFree`, `fDivergence` /
 * `fAlpha` (f-DPO), `ldAlpha` (LD-DPO) and `weighting` (WPO).
 *
 * Notation: `u = ℓθ − ℓref` (summed completion log-probs), `s = f-score(u)`, `Δs = s_w − s_l`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { defineObjective, type Resolved } from "./define.ts";
import { logSigmoid, sigmoid, softplus, sortAscending, stopGradient } from "./numerics.ts";
import { BETA, LABEL_SMOOTHING, NLL_MODE, type ParamSpecs } from "./params.ts";
import { DeviceScalar } from "./state.ts";
import {
  F_DIVERGENCES,
  type FDivergence,
  fScore,
  lengths,
  nll,
  type NllMode,
  type SideLogps,
  sideLogps,
  smoothedLogistic,
  wpoWeight,
} from "./scores.ts";
import type { Objective, ObjectiveState, ParamValue } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

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
interface Ctx {
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
type TrlResolved<S extends ParamSpecs> = Resolved<typeof TRL_MODIFIER_SPECS & S>;

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

interface TrlDef<S extends ParamSpecs> {
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

// `{}` (no own parameters) is the default of S, so a loss type without specs still types.
// deno-lint-ignore ban-types
function trl<const S extends ParamSpecs = {}>(
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
 * import { dpo } from "./trl.ts";
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
 * import { hinge } from "./trl.ts";
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
 * import { ipo } from "./trl.ts";
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
 * import { exoPair } from "./trl.ts";
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

/**
 * Pairwise NCA (Chen et al., arXiv 2402.05369), TRL `nca_pair`, with `r = βs`:
 * `L = −log σ(r_w) − ½ log σ(−r_w) − ½ log σ(−r_l)`. Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { ncaPair } from "./trl.ts";
 * console.log(ncaPair().name); // nca_pair
 * ```
 */
export function ncaPair(params: TrlModifiers = {}): Objective {
  return trl({
    name: "nca_pair",
    body: (c) => {
      const rW = tf.mul(c.sW, c.beta);
      const rL = tf.mul(c.sL, c.beta);
      return tf.add(softplus(tf.neg(rW)), tf.mul(tf.add(softplus(rW), softplus(rL)), 0.5));
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
 * import { robust } from "./trl.ts";
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

/** Parameters of {@link bcoPair}. */
export interface BcoParams extends TrlModifiers {
  /** v0.26 behaviour: δ = running mean of the batch-mean reward. Default false (HEAD: δ = 0). */
  runningMean?: boolean;
}

/**
 * Pairwise BCO (Jung et al., arXiv 2404.04656), TRL `bco_pair`:
 * `L = −log σ(βs_w − δ) − log σ(−(βs_l − δ))`. HEAD uses δ = 0 (default). With
 * `runningMean: true` (TRL v0.26) δ is the running mean, over calls, of the batch mean of
 * `[βu_w; βu_l]` including the current batch; the objective is then stateful and batch-coupled
 * (`reset()` clears it). Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { bcoPair } from "./trl.ts";
 * console.log(bcoPair({ runningMean: true }).batchCoupled); // true
 * ```
 */
export function bcoPair(params: BcoParams = {}): Objective {
  // The running mean stays on the device: loss() must not read tensors (webgpu cannot).
  const mean = new DeviceScalar(0);
  let count = 0;
  return trl({
    name: "bco_pair",
    specs: {
      runningMean: {
        default: false,
        type: "boolean",
        about: "TRL v0.26: δ = running mean of batch-mean βu (stateful); HEAD: δ = 0",
      },
    },
    batchCoupled: (p) => p.runningMean === true,
    body: (c, p) => {
      let delta: tf.Tensor | number = 0;
      if (p.runningMean) {
        // δ is a statistic of the batch, not a path for gradients (TRL computes it detached).
        const m = tf.mean(stopGradient(tf.mul(tf.concat([c.uW, c.uL]), c.beta)));
        count += 1;
        const prev = mean.value();
        const next = tf.add(prev, tf.div(tf.sub(m, prev), count));
        mean.set(next);
        delta = next;
      }
      const rW = tf.sub(tf.mul(c.sW, c.beta), delta);
      const rL = tf.sub(tf.mul(c.sL, c.beta), delta);
      return tf.add(softplus(tf.neg(rW)), softplus(rL));
    },
    state: {
      reset: () => {
        mean.reset();
        count = 0;
      },
      save: async () => ({ mean: await mean.read(), count }),
      load: (state) => {
        mean.load(state.mean as number | null);
        count = state.count as number;
      },
    },
  }, params);
}

/**
 * SPPO with hard labels (Wu et al., arXiv 2405.00675), TRL `sppo_hard`:
 * `L = (s_w − 1/(2β))² + (s_l + 1/(2β))²`. Default β = 0.1 (paper setting 0.001).
 *
 * @example
 * ```ts
 * import { sppoHard } from "./trl.ts";
 * console.log(sppoHard().name); // sppo_hard
 * ```
 */
export function sppoHard(params: TrlModifiers = {}): Objective {
  return trl({
    name: "sppo_hard",
    body: (c) => {
      const h = 1 / (2 * c.beta);
      return tf.add(tf.square(tf.sub(c.sW, h)), tf.square(tf.add(c.sL, h)));
    },
  }, params);
}

// The sort runs on the device (no read back), so AOT trains on every backend.
function sortedDifference(a: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor1D {
  return tf.sub(sortAscending(a), sortAscending(b)) as tf.Tensor1D;
}

/** Parameters of {@link aot} and {@link aotUnpaired}. */
export interface AotParams extends TrlModifiers {
  /** Label smoothing ε ∈ [0, 0.5), default 0. */
  labelSmoothing?: number;
}

/**
 * Paired AOT (Melnyk et al., arXiv 2406.05882), TRL `aot`:
 * `d = sort_B(ℓθ_w − ℓθ_l) − sort_B(ℓref_w − ℓref_l)` (ascending **across the batch**),
 * `L = (1−ε)·softplus(−βd) + ε·softplus(βd)`. Batch-coupled: `losses[i]` belongs to the i-th
 * quantile, not to pair i, and `mean(losses)` is TRL's batch loss. f-divergence scores are not
 * used (as in TRL). For B = 1 it equals cDPO. Default β = 0.1 (paper setting 0.01).
 *
 * @example
 * ```ts
 * import { aot } from "./trl.ts";
 * console.log(aot().batchCoupled); // true
 * ```
 */
export function aot(params: AotParams = {}): Objective {
  return trl({
    name: "aot",
    specs: { labelSmoothing: LABEL_SMOOTHING },
    batchCoupled: true,
    noWeighting: true,
    body: (c, p) => {
      const d = sortedDifference(
        tf.sub(c.logps.policyChosen, c.logps.policyRejected) as tf.Tensor1D,
        tf.sub(c.logps.refChosen, c.logps.refRejected) as tf.Tensor1D,
      );
      return smoothedLogistic(tf.mul(d, c.beta), p.labelSmoothing);
    },
  }, params);
}

/**
 * Unpaired AOT (arXiv 2406.05882), TRL `aot_unpaired` (v0.26 `aot_pair`):
 * `d = sort_B(u_w) − sort_B(u_l)`, same smoothed logistic loss as {@link aot}. Batch-coupled.
 *
 * @example
 * ```ts
 * import { aotUnpaired } from "./trl.ts";
 * console.log(aotUnpaired().name); // aot_unpaired
 * ```
 */
export function aotUnpaired(params: AotParams = {}): Objective {
  return trl({
    name: "aot_unpaired",
    specs: { labelSmoothing: LABEL_SMOOTHING },
    batchCoupled: true,
    noWeighting: true,
    body: (c, p) =>
      smoothedLogistic(tf.mul(sortedDifference(c.uW, c.uL), c.beta), p.labelSmoothing),
  }, params);
}

/**
 * APO-zero (D'Oosterlinck et al., arXiv 2408.06266, Eq. 7), TRL `apo_zero`:
 * `L = (1 − σ(βu_w)) + σ(βu_l)` (log-ratios u, not f-scores). Default β = 0.1.
 *
 * @example
 * ```ts
 * import { apoZero } from "./trl.ts";
 * console.log(apoZero().name); // apo_zero
 * ```
 */
export function apoZero(params: TrlModifiers = {}): Objective {
  return trl({
    name: "apo_zero",
    body: (c) => tf.add(tf.sub(1, sigmoid(tf.mul(c.uW, c.beta))), sigmoid(tf.mul(c.uL, c.beta))),
  }, params);
}

/**
 * APO-down (arXiv 2408.06266, Eq. 8), TRL `apo_down`: `L = σ(βu_w) + (1 − σ(βΔs))`.
 * Default β = 0.1.
 *
 * @example
 * ```ts
 * import { apoDown } from "./trl.ts";
 * console.log(apoDown().name); // apo_down
 * ```
 */
export function apoDown(params: TrlModifiers = {}): Objective {
  return trl({
    name: "apo_down",
    body: (c) => tf.add(sigmoid(tf.mul(c.uW, c.beta)), tf.sub(1, sigmoid(tf.mul(c.dS, c.beta)))),
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
 * import { discopop } from "./trl.ts";
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
 * import { sigmoidNorm } from "./trl.ts";
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

/** Parameters of {@link sft}. */
export interface SftParams {
  /** Normalisation of the NLL; default "batch" (TRL's token-mean over the whole batch). */
  nll?: NllMode;
}

/**
 * SFT / NLL term, TRL `sft`: cross-entropy of the chosen completion. Default `nll: "batch"`:
 * every slot holds `−Σ_i ℓθ(y_w,i) / Σ_i |y_w,i|`, TRL's token-mean over all chosen tokens of
 * the batch, so `mean(losses)` equals it and the objective is batch-coupled. This needs no
 * per-token data: with `policyChosen` the masked sum of token log-probs and `chosenLength` the
 * token count it is exact, not an approximation. `"token"` (per-pair mean) and `"sum"` are
 * per-pair alternatives. Never reads the reference.
 *
 * @example
 * ```ts
 * import { sft } from "./trl.ts";
 * console.log(sft().batchCoupled, sft({ nll: "token" }).batchCoupled); // true false
 * ```
 */
export function sft(params: SftParams = {}): Objective {
  return defineObjective({
    name: "sft",
    specs: { nll: { ...NLL_MODE, default: "batch" } },
    needsReference: () => false,
    batchCoupled: (p) => p.nll === "batch",
    loss: (scores, p) => nll(scores, p.nll),
  }, params as Record<string, unknown>);
}
