/**
 * Theory next to experiment for the unconstrained-features model of Razin et al.
 * (arXiv 2410.08847, section 4): one prompt x with a free hidden vector `h` (d) and a free
 * unembedding `W` (V x d), `pi(.|x) = softmax(W h)`, trained by gradient flow
 * `d theta/dt = -grad L` on a single preference pair (y+, y-).
 *
 * Derivation (theta = (W, h), `Wbar = W^T pi` the pi-weighted mean unembedding). With
 * `l(y) = ln pi(y|x)`: `grad_W l(y) = (e_y - pi) h^T` and `grad_h l(y) = W_y - Wbar`. Write the
 * loss's gradient as `g_w grad l(y+) + g_l grad l(y-)` (`g_w = dL/dl(y+)`, `g_l = dL/dl(y-)`;
 * for a DPO-type loss `L = ell(l(y+) - l(y-))`, `g_w = ell'` and `g_l = -ell'`). Then
 * `dW/dt = -r h^T`, `dh/dt = -q` with `r = g_w e_{y+} + g_l e_{y-} - (g_w + g_l) pi` and
 * `q = g_w W_{y+} + g_l W_{y-} - (g_w + g_l) Wbar`, so every logit moves as
 * `dz_k/dt = -(r_k ||h||^2 + <W_k, q>)` and, since `ln pi(z) = z_z - logsumexp(z)`,
 *
 *   d/dt ln pi(z|x) = -[ (r_z - sum_k pi_k r_k) ||h||^2 + <W_z - Wbar, q> ].
 *
 * For a DPO-type loss this is
 * `-ell' [ (1[z=y+] - 1[z=y-] - pi(y+) + pi(y-)) ||h||^2 + <W_z - Wbar, W_{y+} - W_{y-}> ]`:
 * for z outside {y+, y-} it is Theorem 5 (`-ell' [<W_z, W_{y+} - W_{y-}> + c]`, c the same for
 * every z), and for z = y+ expanding `<W_{y+} - Wbar, W_{y+} - W_{y-}>` gives Theorem 4.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { Ref, UnconstrainedFeatures } from "../models/toy.ts";
import { softmax64 } from "./distribution.ts";
import { checkIndex, type MatrixLike, toFloat64, toMatrix64, type VectorLike } from "./util.ts";

/**
 * The current `W` (V x d) and `h_x` (d) of an unconstrained-features toy model, as plain
 * numbers, for {@link ufmPredictedLogProbChange}.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { ufmParameters, ufmPredictedLogProbChange } from "./ufm_theory.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const { W, h } = await ufmParameters(m, "x0");
 * const p = ufmPredictedLogProbChange(W, h, { yPlus: m.tokenId("No"), yMinus: m.tokenId("Never"), lossDerivative: -0.05 });
 * console.log(p.rate.length); // 3
 * m.dispose();
 * ```
 */
export async function ufmParameters(
  model: UnconstrainedFeatures,
  prompt: Ref,
): Promise<{ W: number[][]; h: number[] }> {
  const x = model.promptId(prompt);
  const W = (await model.unembedding.array()) as number[][];
  const row = tf.gather(model.hidden, x);
  try {
    return { W, h: (await row.array()) as number[] };
  } finally {
    row.dispose();
  }
}

/** The loss's slope: `ell'(t)` of a DPO-type loss `ell(ln pi(y+) - ln pi(y-))`. */
export type LossDerivative = number | ((margin: number) => number);

/** Options of {@link ufmPredictedLogProbChange}. */
export interface UfmPredictOptions {
  /** Preferred token y+. */
  yPlus: number;
  /** Dispreferred token y-. */
  yMinus: number;
  /**
   * `ell'` at the current margin `t = ln pi(y+|x) - ln pi(y-|x)` (a number, or a function of
   * t), for a loss of the form `ell(t)`; e.g. DPO: `t => -beta * sigmoid(-beta * (t - tRef))`.
   * Give either this or `weights`.
   */
  lossDerivative?: LossDerivative;
  /**
   * The gradient weights `g_w = dL/d ln pi(y+)`, `g_l = dL/d ln pi(y-)` of any loss (not only
   * DPO-type ones, e.g. with an SFT term: `g_w != -g_l`).
   */
  weights?: { chosen: number; rejected: number };
}

/** Result of {@link ufmPredictedLogProbChange}. */
export interface UfmPrediction {
  /** Predicted `d/dt ln pi(z|x)` for every token z (length V). */
  rate: Float64Array;
  /** The current distribution `pi(.|x)`. */
  probs: Float64Array;
  /** The current margin `ln pi(y+|x) - ln pi(y-|x)`. */
  margin: number;
  /** The gradient weights used. */
  weights: { chosen: number; rejected: number };
}

/**
 * Predicted instantaneous change of `ln pi(z|x)` for every token z under gradient flow on one
 * preference pair, in the unconstrained-features model (Theorems 4 and 5 of arXiv 2410.08847,
 * general form in the module doc). Computed in float64.
 *
 * @example
 * ```ts
 * import { ufmPredictedLogProbChange } from "./ufm_theory.ts";
 * const W = [[1, 0], [0.9, 0.1], [-1, 0.2]];
 * const h = [0.5, 0.5];
 * const p = ufmPredictedLogProbChange(W, h, { yPlus: 0, yMinus: 1, lossDerivative: -0.05 });
 * console.log(p.rate.length); // 3
 * ```
 */
export function ufmPredictedLogProbChange(
  W: MatrixLike,
  h: VectorLike,
  opts: UfmPredictOptions,
): UfmPrediction {
  const w = toMatrix64(W, "W");
  const x = toFloat64(h, "h");
  const V = w.rows, d = w.cols;
  if (x.length !== d) throw new RangeError(`h has ${x.length} entries but W has ${d} columns`);
  checkIndex(opts.yPlus, V, "yPlus");
  checkIndex(opts.yMinus, V, "yMinus");
  if (opts.yPlus === opts.yMinus) throw new RangeError("yPlus and yMinus must differ");
  if ((opts.lossDerivative === undefined) === (opts.weights === undefined)) {
    throw new TypeError("give exactly one of lossDerivative and weights");
  }
  const row = (k: number) => w.data.subarray(k * d, (k + 1) * d);
  const logits = new Float64Array(V);
  for (let k = 0; k < V; k++) logits[k] = dot(row(k), x);
  const pi = softmax64(logits);
  const margin = logits[opts.yPlus] - logits[opts.yMinus];
  let gw: number, gl: number;
  if (opts.weights) {
    gw = opts.weights.chosen;
    gl = opts.weights.rejected;
  } else {
    const lp = opts.lossDerivative!;
    gw = typeof lp === "number" ? lp : lp(margin);
    gl = -gw;
  }
  if (!Number.isFinite(gw) || !Number.isFinite(gl)) {
    throw new RangeError(`loss derivative/weights must be finite, got ${gw}, ${gl}`);
  }
  const wbar = new Float64Array(d);
  for (let k = 0; k < V; k++) {
    const rk = row(k);
    for (let j = 0; j < d; j++) wbar[j] += pi[k] * rk[j];
  }
  const q = new Float64Array(d);
  const wp = row(opts.yPlus), wm = row(opts.yMinus);
  for (let j = 0; j < d; j++) q[j] = gw * wp[j] + gl * wm[j] - (gw + gl) * wbar[j];
  const r = (k: number) =>
    (k === opts.yPlus ? gw : 0) + (k === opts.yMinus ? gl : 0) - (gw + gl) * pi[k];
  let rMean = 0;
  for (let k = 0; k < V; k++) rMean += pi[k] * r(k);
  const h2 = dot(x, x);
  const wbarQ = dot(wbar, q);
  const rate = new Float64Array(V);
  for (let z = 0; z < V; z++) rate[z] = -((r(z) - rMean) * h2 + dot(row(z), q) - wbarQ);
  return { rate, probs: pi, margin, weights: { chosen: gw, rejected: gl } };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** A pair loss in terms of the two log-probs, written with tfjs ops. */
export type PairLossFn = (logpChosen: tf.Scalar, logpRejected: tf.Scalar) => tf.Scalar;

/** Options of {@link ufmObservedLogProbChange}. */
export interface UfmObserveOptions {
  yPlus: number;
  yMinus: number;
  /** The loss of the pair, e.g. DPO `(a, b) => softplus(-beta (a - b - tRef))`. */
  loss: PairLossFn;
  /** Gradient-descent step size eta (default 1e-3); the result is divided by it. */
  stepSize?: number;
}

/** Result of {@link ufmObservedLogProbChange}. */
export interface UfmObservation {
  /** `(ln pi_1(z|x) - ln pi_0(z|x)) / eta` for every token z (length V). */
  rate: Float64Array;
  /** Distribution before the step. */
  before: Float64Array;
  /** Distribution after the step. */
  after: Float64Array;
}

/**
 * Take one plain gradient-descent step of size eta on `(W, h)` (copies; the inputs are not
 * changed) and report the observed change of `ln pi(z|x)` per unit step, for overlaying on
 * {@link ufmPredictedLogProbChange}: the two agree to O(eta).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import { ufmObservedLogProbChange } from "./ufm_theory.ts";
 * const W = tf.tensor2d([[1, 0], [0.9, 0.1], [-1, 0.2]]);
 * const h = tf.tensor1d([0.5, 0.5]);
 * const loss = (a: tf.Scalar, b: tf.Scalar) => tf.softplus(tf.neg(tf.mul(0.1, tf.sub(a, b)))) as tf.Scalar;
 * const o = await ufmObservedLogProbChange(W, h, { yPlus: 0, yMinus: 1, loss, stepSize: 1e-3 });
 * console.log(o.rate.length); // 3
 * ```
 */
export async function ufmObservedLogProbChange(
  W: tf.Tensor2D,
  h: tf.Tensor1D,
  opts: UfmObserveOptions,
): Promise<UfmObservation> {
  const eta = opts.stepSize ?? 1e-3;
  if (!(eta > 0)) throw new RangeError(`stepSize: ${eta} is not positive`);
  const [V, d] = W.shape;
  if (h.shape[0] !== d) throw new RangeError(`h has ${h.shape[0]} entries but W has ${d} columns`);
  checkIndex(opts.yPlus, V, "yPlus");
  checkIndex(opts.yMinus, V, "yMinus");
  // Autodiff gives the gradient; the step and the log-probs are done in float64 so that the
  // O(eta) difference is not lost to float32 rounding of W and ln pi.
  const [gW, gh] = tf.tidy(() => {
    const f = (w: tf.Tensor, x: tf.Tensor) => {
      const z = tf.reshape(tf.matMul(w as tf.Tensor2D, tf.reshape(x, [d, 1])), [V]);
      const lp = tf.logSoftmax(z);
      return opts.loss(
        tf.gather(lp, opts.yPlus) as tf.Scalar,
        tf.gather(lp, opts.yMinus) as tf.Scalar,
      );
    };
    return tf.grads(f)([W, h]);
  });
  let w0: Float64Array, x0: Float64Array, dW: Float64Array, dh: Float64Array;
  try {
    [w0, x0, dW, dh] = (await Promise.all([W.data(), h.data(), gW.data(), gh.data()])).map((a) =>
      Float64Array.from(a as Float32Array)
    );
  } finally {
    gW.dispose();
    gh.dispose();
  }
  const w1 = w0.map((v, i) => v - eta * dW[i]);
  const x1 = x0.map((v, i) => v - eta * dh[i]);
  const lp0 = logSoftmax64(w0, x0, V, d), lp1 = logSoftmax64(w1, x1, V, d);
  const rate = new Float64Array(V);
  for (let z = 0; z < V; z++) rate[z] = (lp1[z] - lp0[z]) / eta;
  return { rate, before: lp0.map(Math.exp), after: lp1.map(Math.exp) };
}

function logSoftmax64(w: Float64Array, x: Float64Array, V: number, d: number): Float64Array {
  const z = new Float64Array(V);
  let m = -Infinity;
  for (let k = 0; k < V; k++) {
    z[k] = dot(w.subarray(k * d, (k + 1) * d), x);
    m = Math.max(m, z[k]);
  }
  let s = 0;
  for (let k = 0; k < V; k++) s += Math.exp(z[k] - m);
  const lse = m + Math.log(s);
  return z.map((v) => v - lse);
}
