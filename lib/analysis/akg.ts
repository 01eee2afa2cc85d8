/**
 * The exact per-token A·K·G factors of Ren & Sutherland's Prop. 1 (arXiv 2407.10490, §2 and
 * App. B) on the two toy models whose logits are linear in the parameters' features: the
 * linear softmax (`z_c = Wᵀ x_c`, trained W) and the unconstrained-features model
 * (`z_c = W h_c`, trained W and h). A response is a list of (context, token) positions (one
 * position for the single-token models, one per token over `ToySequenceScorer` contexts).
 *
 * One SGD step of size eta on a pair moves the log-prob of the probe token `y_m` at probe
 * position m by, to first order,
 *
 *   Delta ln pi(y_m | c_m) = -eta sum_l [A(c_m)]_{y_m} K(c_m, c_l) G_l
 *
 * over the pair's positions l (chosen and rejected), with
 * - `A(c) = I - 1 pi(c)ᵀ`, the Jacobian of `ln softmax` (row y: `e_y - pi(c)`);
 * - `K(c, c') = (d z_c/d theta)(d z_c'/d theta)ᵀ`, the empirical NTK of the logits, which here is
 *   closed-form: linear softmax `<x_c, x_c'> I`; unconstrained features
 *   `<h_c, h_c'> I + 1[c = c'] W Wᵀ` (the W part moves every context, the h part only c's own);
 * - `G_l = dL/dz_{c_l}` from that position: `g_w (e_{y_l} - pi(c_l))` on a chosen position,
 *   `g_l (e_{y_l} - pi(c_l))` on a rejected one (`g_w, g_l` the loss's gradient weights).
 *
 * For these models `z` is linear in W (and in h), so the only O(eta^2) terms are those of the
 * softmax and of the W-h product. Everything is computed in float64 from the current parameters.
 *
 * @module
 */
import { LinearSoftmax, UnconstrainedFeatures } from "../models/toy.ts";
import { softmax64 } from "./distribution.ts";

/** A response as positions: `tokens[k]` is drawn from the model's context `contexts[k]`. */
export interface TokenPath {
  contexts: readonly number[];
  tokens: readonly number[];
}

/** Plain float64 parameters of a toy model (see {@link toyParameters}). */
export interface ToyParameters {
  kind: "linear_softmax" | "unconstrained_features";
  /** Per context: its feature vector (x_c for linear softmax, h_c for unconstrained features). */
  features: Float64Array[];
  /** Unembedding rows `W_v` (V of width d): logits `z_c[v] = <W_v, features[c]>`. */
  unembedding: Float64Array[];
}

/**
 * Read a toy model's parameters as float64 rows.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createLinearSoftmax } from "../models/toy.ts";
 * import { toyParameters } from "./akg.ts";
 * const m = createLinearSoftmax({ tokens: ["a", "b", "c"], inputs: [[1, 2]], weights: [[1, 0, 0], [0, 1, 0]] });
 * const p = await toyParameters(m);
 * console.log(p.kind, Array.from(p.unembedding[1])); // linear_softmax [0, 1]
 * m.dispose();
 * ```
 */
export async function toyParameters(
  model: LinearSoftmax | UnconstrainedFeatures,
): Promise<ToyParameters> {
  const rows = (a: number[][]) => a.map((r) => Float64Array.from(r));
  if (model instanceof LinearSoftmax) {
    const x = (await model.inputs.array()) as number[][];
    const w = (await model.weights.array()) as number[][]; // [d][V]
    const V = model.vocabSize;
    const unembedding = Array.from({ length: V }, (_, v) => Float64Array.from(w, (r) => r[v]));
    return { kind: "linear_softmax", features: rows(x), unembedding };
  }
  if (model instanceof UnconstrainedFeatures) {
    const h = (await model.hidden.array()) as number[][];
    const w = (await model.unembedding.array()) as number[][];
    return { kind: "unconstrained_features", features: rows(h), unembedding: rows(w) };
  }
  throw new TypeError("toyParameters: not a LinearSoftmax or UnconstrainedFeatures model");
}

/** Result of {@link akgDecomposition}. */
export interface AkgDecomposition {
  /** `pi(.|c_m)` at each probe position. */
  probs: Float64Array[];
  /** `[A(c_m)]_{y_m} = e_{y_m} - pi(c_m)` at each probe position (the row the probe reads). */
  A: Float64Array[];
  /** `K(c_m, c_l)` as V x V rows, `[m][l]`, for the chosen and the rejected positions. */
  K: { chosen: Float64Array[][][]; rejected: Float64Array[][][] };
  /** `G_l` (length V) of each chosen and rejected position. */
  G: { chosen: Float64Array[]; rejected: Float64Array[] };
  /** `-eta [A]_{y_m} K(c_m, c_l) G_l`, `[m][l]`, for chosen and rejected positions. */
  terms: { chosen: number[][]; rejected: number[][] };
  /** Sums of the terms: the chosen part, the rejected part and their total. */
  total: { chosen: number; rejected: number; change: number };
  /** The whole V-vector `Delta ln pi(.|c_m) = -eta A(c_m) sum_l K(c_m, c_l) G_l`, per m. */
  distributionChange: Float64Array[];
}

/**
 * The empirical NTK `K(c, c')` of a toy model's logits, V x V, closed-form (module doc).
 *
 * @example
 * ```ts
 * import { toyNtk } from "./akg.ts";
 * const p = { kind: "linear_softmax" as const, features: [Float64Array.of(1, 2), Float64Array.of(3, 0)],
 *   unembedding: [Float64Array.of(0, 0), Float64Array.of(0, 0)] };
 * console.log(toyNtk(p, 0, 1).map((r) => Array.from(r))); // [[3, 0], [0, 3]]
 * ```
 */
export function toyNtk(p: ToyParameters, c: number, cPrime: number): Float64Array[] {
  for (const k of [c, cPrime]) {
    if (!Number.isInteger(k) || k < 0 || k >= p.features.length) {
      throw new RangeError(`context ${k} is not one of the model's ${p.features.length}`);
    }
  }
  const V = p.unembedding.length;
  const fdot = dot(p.features[c], p.features[cPrime]);
  return Array.from({ length: V }, (_, a) => {
    const row = new Float64Array(V);
    row[a] = fdot;
    if (p.kind === "unconstrained_features" && c === cPrime) {
      for (let b = 0; b < V; b++) row[b] += dot(p.unembedding[a], p.unembedding[b]);
    }
    return row;
  });
}

/**
 * The per-token A·K·G decomposition of one SGD step of size `lr` on a pair (gradient weights
 * `weights`) seen from a probe response, on a toy model's current parameters.
 *
 * @example The "No ≻ Never" toy: the step on the pair lifts "Yes"
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { displacementToy } from "../models/toy_presets.ts";
 * import { akgDecomposition, toyParameters } from "./akg.ts";
 * const toy = displacementToy();
 * const m = createUnconstrainedFeatures(toy.options);
 * const p = await toyParameters(m);
 * const one = (t: number) => ({ contexts: [0], tokens: [t] });
 * const d = akgDecomposition(p, one(toy.attractor), { chosen: one(toy.chosen), rejected: one(toy.rejected) },
 *   { weights: { chosen: -0.05, rejected: 0.05 }, lr: 0.01 });
 * console.log(d.total.change > 0); // true
 * m.dispose();
 * ```
 */
export function akgDecomposition(
  p: ToyParameters,
  probe: TokenPath,
  pair: { chosen: TokenPath; rejected: TokenPath },
  opts: { weights: { chosen: number; rejected: number }; lr: number },
): AkgDecomposition {
  const V = p.unembedding.length;
  for (
    const [name, path] of [["probe", probe], ["chosen", pair.chosen], [
      "rejected",
      pair.rejected,
    ]] as const
  ) {
    checkPath(path, V, p.features.length, name);
  }
  const dist = (c: number) => softmax64(p.unembedding.map((w) => dot(w, p.features[c])));
  const eMinusPi = (c: number, y: number) => {
    const v = dist(c).map((x) => -x);
    v[y] += 1;
    return v;
  };
  const probs = probe.contexts.map(dist);
  const A = probe.contexts.map((c, m) => eMinusPi(c, probe.tokens[m]));
  const side = (path: TokenPath, g: number) => {
    const G = path.contexts.map((c, l) => eMinusPi(c, path.tokens[l]).map((v) => g * v));
    const K = probe.contexts.map((cm) => path.contexts.map((cl) => toyNtk(p, cm, cl)));
    const KG = K.map((row) => row.map((k, l) => k.map((r) => dot(r, G[l]))));
    const terms = KG.map((row, m) => row.map((kg) => -opts.lr * dot(A[m], kg)));
    return { G, K, KG, terms };
  };
  const ch = side(pair.chosen, opts.weights.chosen);
  const rj = side(pair.rejected, opts.weights.rejected);
  const sum2 = (t: number[][]) => t.flat().reduce((a, b) => a + b, 0);
  const distributionChange = probe.contexts.map((_, m) => {
    const kg = new Float64Array(V);
    for (const s of [ch, rj]) for (const v of s.KG[m]) v.forEach((x, a) => kg[a] += x);
    // -eta A kg with A = I - 1 piᵀ: every entry minus the pi-weighted mean.
    const mean = dot(probs[m], kg);
    return kg.map((x) => -opts.lr * (x - mean));
  });
  const chosen = sum2(ch.terms), rejected = sum2(rj.terms);
  return {
    probs,
    A,
    K: { chosen: ch.K, rejected: rj.K },
    G: { chosen: ch.G, rejected: rj.G },
    terms: { chosen: ch.terms, rejected: rj.terms },
    total: { chosen, rejected, change: chosen + rejected },
    distributionChange,
  };
}

function checkPath(path: TokenPath, V: number, C: number, name: string): void {
  if (path.contexts.length !== path.tokens.length || path.tokens.length === 0) {
    throw new RangeError(
      `${name}: ${path.contexts.length} contexts for ${path.tokens.length} tokens (need equal, >= 1)`,
    );
  }
  path.tokens.forEach((t, k) => {
    if (!Number.isInteger(t) || t < 0 || t >= V) {
      throw new RangeError(`${name}: token ${k} = ${t} is not in [0, ${V})`);
    }
  });
  path.contexts.forEach((c, k) => {
    if (!Number.isInteger(c) || c < 0 || c >= C) {
      throw new RangeError(`${name}: context ${k} = ${c} is not in [0, ${C})`);
    }
  });
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}
