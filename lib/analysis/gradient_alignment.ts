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
  const sum = (pick: "policyChosen" | "policyRejected") => () =>
    tf.sum(policy.scores(batch)[pick]) as tf.Scalar;
  const { inner, chosenSq, rejectedSq, cosine } = await geometryOf(
    variablesOf(policy),
    sum("policyChosen"),
    sum("policyRejected"),
  );
  return { inner, chosenSq, rejectedSq, cosine };
}

/** One pair's chosen and rejected responses as two one-row batches for a scorer's `logps`. */
export interface PairSides<P> {
  chosen: P;
  rejected: P;
  /**
   * Completion token counts of the two sides. With them, the gradient-alignment tracker shares
   * its passes' log-probs with the other trackers of the step instead of scoring the pair again.
   */
  lengths?: { chosen: number; rejected: number };
}

/**
 * {@link gradientInnerProducts} of one pair given as two one-row probe batches
 * ({@link PairSides}) scored by `policy.logps`: each of the two backward passes runs only the
 * row it differentiates, where a pair batch runs both rows (the other with a zero gradient).
 * Also returns the two log-probs the passes computed, `l_w` and `l_l`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/mod.ts";
 * import { collateProbes } from "../data/mod.ts";
 * import { lmScorer } from "../scoring/mod.ts";
 * import { sideGradientInnerProducts } from "./gradient_alignment.ts";
 * const model = createGPT2({ vocab_size: 16, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const row = (name: string, ids: number[]) =>
 *   collateProbes([{ index: 0, name, promptIds: [1, 2], completionIds: ids }], 0);
 * const g = await sideGradientInnerProducts(lmScorer(model), {
 *   chosen: row("chosen", [3, 4]),
 *   rejected: row("rejected", [5, 6]),
 * });
 * console.log(g.chosen < 0 && g.cosine > -1 && g.cosine < 1); // true
 * model.dispose();
 * ```
 */
export async function sideGradientInnerProducts<P>(
  policy: PreferenceScorer<unknown, P>,
  sides: PairSides<P>,
): Promise<GradientGeometry & { chosen: number; rejected: number }> {
  const logps = policy.logps;
  if (!logps) throw new TypeError("sideGradientInnerProducts needs a scorer with logps()");
  const sum = (probes: P) => () => {
    const lp = logps(probes);
    if (lp.size !== 1) {
      lp.dispose();
      throw new RangeError(`sideGradientInnerProducts: a side has ${lp.size} rows, expected 1`);
    }
    return tf.sum(lp) as tf.Scalar;
  };
  return await geometryOf(variablesOf(policy), sum(sides.chosen), sum(sides.rejected));
}

function variablesOf(policy: { variables(): tf.Variable[] }): tf.Variable[] {
  const vars = policy.variables();
  if (vars.length === 0) throw new RangeError("policy has no variables to differentiate");
  return vars;
}

/** Inner products of the gradients of two scalar functions, plus the functions' values. */
async function geometryOf(
  vars: tf.Variable[],
  chosenFn: () => tf.Scalar,
  rejectedFn: () => tf.Scalar,
): Promise<GradientGeometry & { chosen: number; rejected: number }> {
  const packed = tf.tidy(() => {
    const gw = tf.variableGrads(chosenFn, vars), gl = tf.variableGrads(rejectedFn, vars);
    let i: tf.Tensor = tf.scalar(0), c: tf.Tensor = tf.scalar(0), r: tf.Tensor = tf.scalar(0);
    for (const v of vars) {
      // A variable the score does not touch (e.g. another prompt's embedding) has no entry.
      const a = gw.grads[v.name], b = gl.grads[v.name];
      if (a) c = tf.add(c, tf.sum(tf.square(a)));
      if (b) r = tf.add(r, tf.sum(tf.square(b)));
      if (a && b) i = tf.add(i, tf.sum(tf.mul(a, b)));
    }
    return tf.stack([i, c, r, gw.value, gl.value]);
  });
  let v: number[];
  try {
    v = Array.from(await packed.data());
  } finally {
    packed.dispose();
  }
  const [inner, chosenSq, rejectedSq, chosen, rejected] = v as [
    number,
    number,
    number,
    number,
    number,
  ];
  return {
    inner,
    chosenSq,
    rejectedSq,
    cosine: inner / Math.sqrt(chosenSq * rejectedSq),
    chosen,
    rejected,
  };
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
