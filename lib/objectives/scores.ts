/**
 * Shared pieces that turn {@link SequenceScores} into the quantities objectives are written in:
 * log-ratios, f-divergence scores, length-desensitised log-probs, WPO weights, NLL terms.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { logSigmoid, stopGradient } from "./numerics.ts";
import type { SequenceScores, TokenScores } from "../core/scores.ts";

/** The reference log-probs, or a `TypeError` naming the missing field. */
export function requireRef(
  objective: string,
  scores: SequenceScores,
): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  for (const f of ["refChosen", "refRejected"] as const) {
    if (!scores[f]) {
      throw new TypeError(
        `${objective}: scores.${f} is missing; this objective needs reference log-probs ` +
          `(or pass referenceFree: true where supported)`,
      );
    }
  }
  return { chosen: scores.refChosen!, rejected: scores.refRejected! };
}

/** The per-token scores with the named fields present, or a `TypeError` naming the first gap. */
export function requireTokens(
  objective: string,
  scores: SequenceScores,
  fields: readonly (keyof TokenScores)[],
): TokenScores {
  const t = scores.tokens;
  if (!t) {
    throw new TypeError(
      `${objective}: scores.tokens is missing; this objective needs per-token data ` +
        `(tokens.${fields.join(", tokens.")})`,
    );
  }
  for (const f of fields) {
    if (!t[f]) throw new TypeError(`${objective}: scores.tokens.${f} is missing`);
  }
  return t;
}

/**
 * The per-token fields of an objective that compares policy and reference token by token: both
 * sides' log-probs under each model, and the completion masks.
 *
 * @example
 * ```ts
 * import { PAIRED_TOKEN_FIELDS } from "./scores.ts";
 * console.log(PAIRED_TOKEN_FIELDS.length); // 6
 * ```
 */
export const PAIRED_TOKEN_FIELDS: readonly (keyof TokenScores)[] = [
  "policyChosen",
  "policyRejected",
  "refChosen",
  "refRejected",
  "chosenMask",
  "rejectedMask",
];

/** Completion lengths clamped below at 1 (TRL's `clamp(min=1)`), so empty completions give 0/1. */
export function lengths(scores: SequenceScores): { chosen: tf.Tensor1D; rejected: tf.Tensor1D } {
  return {
    chosen: tf.maximum(scores.chosenLength, 1) as tf.Tensor1D,
    rejected: tf.maximum(scores.rejectedLength, 1) as tf.Tensor1D,
  };
}

/**
 * LD-DPO (arXiv 2409.06411) aggregation of one side: `Σ_{k≤l_p} logp_k + α Σ_{k>l_p} logp_k`,
 * with `k` the rank of the token inside the completion and `l_p = min(|y_w|, |y_l|)` per pair.
 */
export function ldSum(
  perToken: tf.Tensor2D,
  mask: tf.Tensor2D,
  shared: tf.Tensor1D,
  alpha: number,
): tf.Tensor1D {
  const rank = tf.cumsum(mask, 1);
  const limit = tf.expandDims(shared, 1);
  const inShared = tf.mul(mask, tf.cast(tf.lessEqual(rank, limit), "float32"));
  const inTail = tf.mul(mask, tf.cast(tf.greater(rank, limit), "float32"));
  const w = tf.add(inShared, tf.mul(inTail, alpha));
  return tf.sum(tf.mul(perToken, w), 1) as tf.Tensor1D;
}

/** Summed log-probs of both sides under policy and reference, LD-DPO applied when asked. */
export interface SideLogps {
  policyChosen: tf.Tensor1D;
  policyRejected: tf.Tensor1D;
  /** Zeros when reference-free. */
  refChosen: tf.Tensor1D;
  refRejected: tf.Tensor1D;
}

/**
 * The log-probs an objective should use: as given, with `ℓref := 0` when `referenceFree`, and
 * with TRL-HEAD LD-DPO re-aggregation of policy **and** reference when `ldAlpha` is a number.
 */
export function sideLogps(
  objective: string,
  scores: SequenceScores,
  opts: { referenceFree?: boolean; ldAlpha?: number },
): SideLogps {
  const free = opts.referenceFree === true;
  if (typeof opts.ldAlpha !== "number") {
    const ref = free ? undefined : requireRef(objective, scores);
    return {
      policyChosen: scores.policyChosen,
      policyRejected: scores.policyRejected,
      refChosen: ref ? ref.chosen : tf.zerosLike(scores.policyChosen),
      refRejected: ref ? ref.rejected : tf.zerosLike(scores.policyRejected),
    };
  }
  const need: (keyof TokenScores)[] = [
    "policyChosen",
    "policyRejected",
    "chosenMask",
    "rejectedMask",
  ];
  if (!free) need.push("refChosen", "refRejected");
  const t = requireTokens(`${objective} (ldAlpha)`, scores, need);
  const shared = tf.minimum(tf.sum(t.chosenMask, 1), tf.sum(t.rejectedMask, 1)) as tf.Tensor1D;
  const a = opts.ldAlpha;
  return {
    policyChosen: ldSum(t.policyChosen, t.chosenMask, shared, a),
    policyRejected: ldSum(t.policyRejected, t.rejectedMask, shared, a),
    refChosen: free
      ? tf.zerosLike(scores.policyChosen)
      : ldSum(t.refChosen!, t.chosenMask, shared, a),
    refRejected: free
      ? tf.zerosLike(scores.policyRejected)
      : ldSum(t.refRejected!, t.rejectedMask, shared, a),
  };
}

/** The f-divergences of f-DPO (arXiv 2309.16240) as TRL names them. */
export const F_DIVERGENCES = [
  "reverse_kl",
  "forward_kl",
  "js_divergence",
  "alpha_divergence",
] as const;
/** One of {@link F_DIVERGENCES}. */
export type FDivergence = typeof F_DIVERGENCES[number];

/** Exponent cap for forward-KL / α-divergence scores (TRL caps α at 80 in fp32). */
export const F_EXP_CAP = 80;

/**
 * f-DPO score `s(u)` replacing the log-ratio `u` (TRL HEAD): reverse KL `u`; forward KL
 * `−e^{−u}`; JS `log σ(u)`; α-divergence `e^{(a−1)u}/(a−1)` (a = 1 → `u`). Exponents are
 * capped at {@link F_EXP_CAP}, above which the score is constant.
 */
export function fScore(u: tf.Tensor1D, type: FDivergence, alpha: number): tf.Tensor1D {
  switch (type) {
    case "reverse_kl":
      return u;
    case "forward_kl":
      return tf.neg(tf.exp(tf.clipByValue(tf.neg(u), -Infinity, F_EXP_CAP))) as tf.Tensor1D;
    case "js_divergence":
      return logSigmoid(u) as tf.Tensor1D;
    case "alpha_divergence": {
      if (Math.abs(alpha - 1) < 1e-6) return u;
      const t = tf.clipByValue(tf.mul(u, alpha - 1), -Infinity, F_EXP_CAP);
      return tf.div(tf.exp(t), alpha - 1) as tf.Tensor1D;
    }
  }
}

/**
 * WPO weight `w(y_w)·w(y_l)` (arXiv 2406.11827, TRL HEAD), no gradient:
 * `w(y) = exp( mean_t [log πθ(y_t|·) − log Σ_v πθ(v|·)²] )` over completion tokens.
 */
export function wpoWeight(objective: string, scores: SequenceScores): tf.Tensor1D {
  const t = requireTokens(`${objective} (weighting)`, scores, [
    "policyChosen",
    "policyRejected",
    "chosenMask",
    "rejectedMask",
    "chosenLogSumSquares",
    "rejectedLogSumSquares",
  ]);
  const side = (lp: tf.Tensor2D, lss: tf.Tensor2D, m: tf.Tensor2D) =>
    tf.exp(tf.div(tf.sum(tf.mul(tf.sub(lp, lss), m), 1), tf.maximum(tf.sum(m, 1), 1)));
  const w = tf.mul(
    side(t.policyChosen, t.chosenLogSumSquares!, t.chosenMask),
    side(t.policyRejected, t.rejectedLogSumSquares!, t.rejectedMask),
  );
  return stopGradient(w) as tf.Tensor1D;
}

/** NLL normalisations; see `NLL_MODE` in params.ts. */
export type NllMode = "token" | "sum" | "batch";

/**
 * NLL of the chosen completion, per pair. `batch` returns the batch token-mean
 * `−Σ_i ℓθ(y_w,i) / Σ_i |y_w,i|` in every slot, which equals TRL's cross-entropy over all chosen
 * completion tokens exactly when `policyChosen` is the masked sum of per-token log-probs and
 * `chosenLength` the mask count (the {@link SequenceScores} contract).
 */
export function nll(scores: SequenceScores, mode: NllMode): tf.Tensor1D {
  const lp = scores.policyChosen;
  if (mode === "sum") return tf.neg(lp) as tf.Tensor1D;
  const len = tf.maximum(scores.chosenLength, 1);
  if (mode === "token") return tf.neg(tf.div(lp, len)) as tf.Tensor1D;
  const pooled = tf.neg(tf.div(tf.sum(lp), tf.sum(len)));
  return tf.mul(pooled, tf.onesLike(lp)) as tf.Tensor1D;
}

/** The cDPO / label-smoothed logistic loss `(1−ε)·softplus(−z) + ε·softplus(z)`. */
export function smoothedLogistic(z: tf.Tensor, eps: number): tf.Tensor {
  const clean = tf.neg(logSigmoid(z));
  if (eps === 0) return clean;
  return tf.add(tf.mul(clean, 1 - eps), tf.mul(tf.neg(logSigmoid(tf.neg(z))), eps));
}
