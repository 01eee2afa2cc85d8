/**
 * Loss and gradient weights of one objective at one point, in one call: the check a new
 * objective needs first (does it give DPO's weights where it should?), without building tensors
 * by hand.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { gradientWeights } from "./gradients.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores, TokenScores } from "../core/scores.ts";

/** Per-token inputs of one pair, for token-level objectives; one number per completion token. */
export interface TokenPoint {
  policyChosen: readonly number[];
  policyRejected: readonly number[];
  /** Default: every reference token log-prob is `refW / |y_w|` (resp. `refL / |y_l|`). */
  refChosen?: readonly number[];
  refRejected?: readonly number[];
  /** Any other per-token field of {@link TokenScores} (`klChosen`, `guideChosen`, ...). */
  extra?: Partial<Record<keyof TokenScores, readonly number[]>>;
}

/** One pair, written in the quantities papers use. */
export interface WeightPoint {
  /** Log-ratio of the chosen completion, u_w = ℓθ(y_w) − ℓref(y_w). */
  uW: number;
  /** Log-ratio of the rejected completion, u_l = ℓθ(y_l) − ℓref(y_l). */
  uL: number;
  /** Reference log-probs ℓref(y_w), ℓref(y_l); default −10 each. */
  refW?: number;
  refL?: number;
  /** Completion lengths |y_w|, |y_l|; default 1 each (or the token counts when tokens are given). */
  lenW?: number;
  lenL?: number;
  /**
   * Per-token data; then `uW`/`uL` are ignored: sums are the token sums, and g_w, g_l include
   * the mean over tokens of ∂L/∂(token log-prob).
   */
  tokens?: TokenPoint;
}

/** What {@link weightsAt} returns: the loss and `g_w = ∂L/∂ℓθ(y_w)`, `g_l = ∂L/∂ℓθ(y_l)`. */
export interface PointWeights {
  loss: number;
  g_w: number;
  g_l: number;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

function tokenScores(t: TokenPoint, refW: number, refL: number): TokenScores {
  const nW = t.policyChosen.length, nL = t.policyRejected.length;
  if (nW === 0 || nL === 0) {
    throw new RangeError("weightsAt: tokens.policyChosen and tokens.policyRejected need ≥ 1 token");
  }
  const row = (xs: readonly number[], n: number, what: string) => {
    if (xs.length !== n) {
      throw new RangeError(`weightsAt: tokens.${what} has ${xs.length} values, expected ${n}`);
    }
    return tf.tensor2d([Array.from(xs)]);
  };
  const out: TokenScores = {
    policyChosen: row(t.policyChosen, nW, "policyChosen"),
    policyRejected: row(t.policyRejected, nL, "policyRejected"),
    refChosen: row(t.refChosen ?? Array(nW).fill(refW / nW), nW, "refChosen"),
    refRejected: row(t.refRejected ?? Array(nL).fill(refL / nL), nL, "refRejected"),
    chosenMask: tf.ones([1, nW]),
    rejectedMask: tf.ones([1, nL]),
  };
  for (const [k, v] of Object.entries(t.extra ?? {}) as [keyof TokenScores, number[]][]) {
    out[k] = row(v, /Chosen$/.test(k) ? nW : nL, k);
  }
  return out;
}

function scoresAt(p: WeightPoint): SequenceScores {
  const t = p.tokens;
  const refW = t?.refChosen ? sum(t.refChosen) : p.refW ?? -10;
  const refL = t?.refRejected ? sum(t.refRejected) : p.refL ?? -10;
  const polW = t ? sum(t.policyChosen) : refW + p.uW;
  const polL = t ? sum(t.policyRejected) : refL + p.uL;
  return {
    policyChosen: tf.tensor1d([polW]),
    policyRejected: tf.tensor1d([polL]),
    refChosen: tf.tensor1d([refW]),
    refRejected: tf.tensor1d([refL]),
    chosenLength: tf.tensor1d([p.lenW ?? t?.policyChosen.length ?? 1]),
    rejectedLength: tf.tensor1d([p.lenL ?? t?.policyRejected.length ?? 1]),
    ...(t ? { tokens: tokenScores(t, refW, refL) } : {}),
  };
}

const mean = (xs: number[]) => sum(xs) / xs.length;

/**
 * Loss and gradient weights of `objective` at one pair. Sequence-level: `g_w = ∂L/∂ℓθ(y_w)`.
 * With `tokens`: each token's total derivative (through the sums and the token itself), averaged
 * over the completion's tokens. Synchronous reads: cpu and wasm backends.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { weightsAt } from "./weights_at.ts";
 * import { dpo } from "./trl.ts";
 * // DPO at h = u_w − u_l = 1, β = 0.1: g_w = −β·σ(−βh).
 * const w = weightsAt(dpo({ beta: 0.1 }), { uW: 0.5, uL: -0.5 });
 * const want = -0.1 / (1 + Math.exp(0.1));
 * if (Math.abs(w.g_w - want) > 1e-6 || Math.abs(w.g_l + want) > 1e-6) throw new Error("DPO weights");
 * ```
 */
export function weightsAt(objective: Objective, point: WeightPoint): PointWeights {
  const s = scoresAt(point);
  try {
    const g = gradientWeights(objective, s);
    const tw = g.tokens ? mean(g.tokens.chosen[0]) : 0;
    const tl = g.tokens ? mean(g.tokens.rejected[0]) : 0;
    return { loss: g.losses[0], g_w: g.gW[0] + tw, g_l: g.gL[0] + tl };
  } finally {
    const t = s.tokens;
    tf.dispose([
      ...[s.policyChosen, s.policyRejected, s.refChosen!, s.refRejected!],
      ...[s.chosenLength, s.rejectedLength],
      ...(t ? Object.values(t).filter((v): v is tf.Tensor => v instanceof tf.Tensor) : []),
    ]);
  }
}
