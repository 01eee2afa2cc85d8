/**
 * Whether the chosen log-prob can fall: the gradients of `l_w = ln pi(y_w|x)` and
 * `l_l = ln pi(y_l|x)` with respect to every policy parameter, their inner product and norms,
 * and the first-order change they imply (objectives.md section 3, derived): one plain
 * gradient step of size eta on a loss with gradient weights `g_w = dL/dl_w`, `g_l = dL/dl_l`
 * changes
 *
 *   l_w by -eta (g_w ||grad l_w||^2 + g_l <grad l_w, grad l_l>)
 *   l_l by -eta (g_w <grad l_w, grad l_l> + g_l ||grad l_l||^2)
 *
 * so for DPO (`g_w = -g_l < 0`) the chosen log-prob falls exactly when
 * `<grad l_w, grad l_l> > ||grad l_w||^2`. The weights of any objective come from
 * `gradientWeights` in `lib/objectives/gradients.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { PreferenceScorer } from "../core/scores.ts";

/** Inner products of the two log-prob gradients. */
export interface GradientGeometry {
  /** `<grad l_w, grad l_l>`. */
  inner: number;
  /** `||grad l_w||^2`. */
  chosenSq: number;
  /** `||grad l_l||^2`. */
  rejectedSq: number;
  /** `inner / (||grad l_w|| ||grad l_l||)`. */
  cosine: number;
}

/**
 * Gradients of the summed chosen and summed rejected log-probs of `batch` with respect to all
 * the scorer's variables, reduced to their inner product and squared norms (for a batch of
 * one pair: that pair's `l_w` and `l_l`). Two backward passes; nothing is updated.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { gradientInnerProducts } from "./gradient_alignment.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const batch = { prompt: Int32Array.of(0), chosen: Int32Array.of(1), rejected: Int32Array.of(2), pairIndex: [0] };
 * const g = await gradientInnerProducts(m, batch);
 * console.log(g.cosine > -1 && g.cosine < 1); // true
 * m.dispose();
 * ```
 */
export async function gradientInnerProducts<B>(
  policy: PreferenceScorer<B, unknown>,
  batch: B,
): Promise<GradientGeometry> {
  const vars = policy.variables();
  if (vars.length === 0) throw new RangeError("policy has no variables to differentiate");
  const grad = (pick: "policyChosen" | "policyRejected") =>
    tf.variableGrads(() => tf.sum(policy.scores(batch)[pick]) as tf.Scalar, vars).grads;
  const packed = tf.tidy(() => {
    const gw = grad("policyChosen"), gl = grad("policyRejected");
    let i: tf.Tensor = tf.scalar(0), c: tf.Tensor = tf.scalar(0), r: tf.Tensor = tf.scalar(0);
    for (const v of vars) {
      // A variable the score does not touch (e.g. another prompt's embedding) has no entry.
      const a = gw[v.name], b = gl[v.name];
      if (a) c = tf.add(c, tf.sum(tf.square(a)));
      if (b) r = tf.add(r, tf.sum(tf.square(b)));
      if (a && b) i = tf.add(i, tf.sum(tf.mul(a, b)));
    }
    return tf.stack([i, c, r]);
  });
  let inner: number, cSq: number, rSq: number;
  try {
    [inner, cSq, rSq] = Array.from(await packed.data());
  } finally {
    packed.dispose();
  }
  return { inner, chosenSq: cSq, rejectedSq: rSq, cosine: inner / Math.sqrt(cSq * rSq) };
}

/**
 * First-order change of `l_w` and `l_l` under one plain gradient step of size `lr` (see the
 * module doc); the sign of `chosen` says whether the chosen log-prob falls.
 *
 * @example
 * ```ts
 * import { firstOrderLogpChange } from "./gradient_alignment.ts";
 * // DPO weights; the gradients overlap more than the chosen one's own norm: chosen falls.
 * const d = firstOrderLogpChange({ inner: 2, chosenSq: 1, rejectedSq: 5, cosine: 0.89 },
 *   { weights: { chosen: -0.05, rejected: 0.05 }, lr: 1 });
 * console.log(d.chosen.toFixed(2), d.rejected.toFixed(2)); // -0.05 -0.15
 * ```
 */
export function firstOrderLogpChange(
  geometry: GradientGeometry,
  opts: { weights: { chosen: number; rejected: number }; lr: number },
): { chosen: number; rejected: number } {
  const { chosen: gw, rejected: gl } = opts.weights;
  const { inner, chosenSq, rejectedSq } = geometry;
  return {
    chosen: -opts.lr * (gw * chosenSq + gl * inner),
    rejected: -opts.lr * (gw * inner + gl * rejectedSq),
  };
}
