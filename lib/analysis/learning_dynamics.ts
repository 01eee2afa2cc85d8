/**
 * The learning-dynamics decomposition of Ren & Sutherland (arXiv 2407.10490, Prop. 1 and
 * App. B) for a set of training pairs and a set of observed responses (probes): how one plain
 * gradient step on each pair moves each probe's log-prob, split into the part that comes from
 * the chosen response's gradient and the part from the rejected one's.
 *
 * For a pair loss with gradient weights `g_w = dL/d ln pi(y_w)`, `g_l = dL/d ln pi(y_l)`, one
 * SGD step `theta <- theta - eta grad L` changes a probe's log-prob `ln pi(p)` to first order by
 *
 *   Delta ln pi(p) = -eta g_w <grad ln pi(p), grad ln pi(y_w)>  -  eta g_l <grad ln pi(p), grad ln pi(y_l)>
 *                    \_____________ chosen part ______________/    \____________ rejected part _____________/
 *
 * (an influence matrix, probes x pairs, for each part). {@link influenceMatrix} computes it for
 * any {@link PreferenceScorer} with `logps` (causal LMs via `lmScorer`, the toy models) by
 * autodiff, and next to it the change observed after a real step of size `eta` on each pair
 * alone; the two differ by O(eta^2).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { TrainObjective } from "../train/types.ts";
import type { PreferenceScorer } from "../core/scores.ts";

/** Options of {@link influenceMatrix}. */
export interface InfluenceOptions {
  /** The pair loss (sequence-level: it must depend on the policy only through the summed log-probs). */
  objective: TrainObjective;
  /** Step size eta of the plain SGD step. */
  lr: number;
  /**
   * Reference log-probs of each pair (one value per pair batch). Default: the policy's own
   * scores, as at step 0 of a run whose reference is the starting model.
   */
  reference?: { chosen: readonly number[]; rejected: readonly number[] };
  /** Also take the real step on each pair and record the observed change (default true). */
  observe?: boolean;
}

/** Result of {@link influenceMatrix}; matrices are `[probe][pair]`. */
export interface InfluenceMatrix {
  /** Source pair index of each pair batch. */
  pairIndex: number[];
  /** Probe log-probs before any step. */
  probeLogps: number[];
  /** `g_w` and `g_l` of each pair at the current scores. */
  weights: { chosen: number[]; rejected: number[] };
  /** `<grad ln pi(p), grad ln pi(y_w)>` and `<grad ln pi(p), grad ln pi(y_l)>`. */
  inner: { chosen: number[][]; rejected: number[][] };
  /** `-eta g_w <grad ln pi(p), grad ln pi(y_w)>`: the chosen gradient's part. */
  chosen: number[][];
  /** `-eta g_l <grad ln pi(p), grad ln pi(y_l)>`: the rejected gradient's part. */
  rejected: number[][];
  /** `chosen + rejected`: the first-order change. */
  predicted: number[][];
  /** Change of each probe's log-prob after a real SGD step on that pair alone. */
  observed?: number[][];
  /**
   * `||predicted - observed||_F / ||observed||_F` over the whole matrix (when observed).
   */
  relativeError?: number;
  lr: number;
}

/** Concatenated gradient of a scalar function of the policy, one flat tensor (zeros where unused). */
function flatGrad(vars: tf.Variable[], f: () => tf.Scalar): tf.Tensor1D {
  return tf.tidy(() => {
    const { grads } = tf.variableGrads(f, vars);
    return tf.concat(
      vars.map((v) => tf.reshape(grads[v.name] ?? tf.zerosLike(v), [-1])),
    ) as tf.Tensor1D;
  });
}

/** Read a tensor as plain numbers and dispose it. */
async function take(t: tf.Tensor): Promise<number[]> {
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

/** `g_w`, `g_l` of a one-pair batch: the loss's derivatives in the two summed log-probs. */
async function pairWeights<B>(
  policy: PreferenceScorer<B, unknown>,
  batch: B,
  objective: TrainObjective,
  ref: { chosen: number; rejected: number } | undefined,
): Promise<{ chosen: number; rejected: number; logps: [number, number] }> {
  const packed = tf.tidy(() => {
    const s = policy.scores(batch);
    if (s.policyChosen.shape[0] !== 1) {
      throw new RangeError(`each pair batch must hold one pair, got ${s.policyChosen.shape[0]}`);
    }
    const c0 = s.policyChosen, r0 = s.policyRejected;
    const refC = ref ? tf.tensor1d([ref.chosen]) : tf.clone(c0);
    const refR = ref ? tf.tensor1d([ref.rejected]) : tf.clone(r0);
    const loss = (c: tf.Tensor, r: tf.Tensor) =>
      tf.sum(
        objective.loss({
          policyChosen: c as tf.Tensor1D,
          policyRejected: r as tf.Tensor1D,
          refChosen: refC,
          refRejected: refR,
          chosenLength: s.chosenLength,
          rejectedLength: s.rejectedLength,
        }).losses,
      ) as tf.Scalar;
    const [gw, gl] = tf.grads(loss)([c0, r0]);
    return tf.concat([gw, gl, c0, r0]);
  });
  const [chosen, rejected, c, r] = await take(packed);
  return { chosen, rejected, logps: [c, r] };
}

/**
 * The influence matrix of one SGD step on each pair over a set of probes, split into the chosen
 * and the rejected gradient's parts, and (by default) the change observed after a real step of
 * size `lr` on each pair alone, from the same starting weights (restored afterwards). `pairs`
 * are batches of one pair each (e.g. `data.batch([i])`); `probes` one probe batch, scored by
 * `policy.logps`. Costs one backward pass per probe and two per pair; the flat gradients are
 * kept on the backend (probes + 2 x pairs vectors of the model's size).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createUnconstrainedFeatures } from "../models/toy.ts";
 * import { dpo } from "../objectives/trl.ts";
 * import { influenceMatrix } from "./learning_dynamics.ts";
 * const m = createUnconstrainedFeatures({ tokens: ["Yes", "No", "Never"], dim: 4, seed: 0 });
 * const pair = { prompt: Int32Array.of(0), chosen: Int32Array.of(1), rejected: Int32Array.of(2), pairIndex: [0] };
 * const probes = { prompt: Int32Array.of(0, 0, 0), token: Int32Array.of(0, 1, 2) };
 * const inf = await influenceMatrix(m, [pair], probes, { objective: dpo({ beta: 1 }), lr: 1e-3 });
 * console.log(inf.predicted[2][0] < 0, inf.relativeError! < 0.05); // true true: "Never" falls
 * m.dispose();
 * ```
 */
export async function influenceMatrix<B, P>(
  policy: PreferenceScorer<B, P>,
  pairs: readonly B[],
  probes: P,
  opts: InfluenceOptions,
): Promise<InfluenceMatrix> {
  const lr = opts.lr;
  if (!(typeof lr === "number" && Number.isFinite(lr) && lr > 0)) {
    throw new RangeError(`lr must be a positive number, got ${lr}`);
  }
  if (!policy.logps) throw new TypeError("the policy cannot score probes (it has no logps)");
  if ((opts.objective as { needsTokens?: boolean }).needsTokens) {
    throw new TypeError(
      `objective ${opts.objective.name} reads per-token scores; the chosen/rejected split needs ` +
        `a loss of the summed log-probs only`,
    );
  }
  if (pairs.length === 0) throw new RangeError("no pairs");
  const ref = opts.reference;
  if (ref && (ref.chosen.length !== pairs.length || ref.rejected.length !== pairs.length)) {
    throw new RangeError(
      `reference has ${ref.chosen.length}/${ref.rejected.length} values for ${pairs.length} pairs`,
    );
  }
  const vars = policy.variables();
  if (vars.length === 0) throw new RangeError("policy has no variables");
  const logps = () => policy.logps!(probes);
  const probeLogps = await take(tf.tidy(logps));
  const nProbes = probeLogps.length;
  const refOf = (i: number) => ref && { chosen: ref.chosen[i], rejected: ref.rejected[i] };
  const weights = { chosen: [] as number[], rejected: [] as number[] };
  for (const [i, b] of pairs.entries()) {
    const w = await pairWeights(policy, b, opts.objective, refOf(i));
    weights.chosen.push(w.chosen);
    weights.rejected.push(w.rejected);
  }
  const inner = await gradientInnerProducts(policy, pairs, logps, nProbes, vars);
  const part = (m: number[][], g: number[]) => m.map((row) => row.map((v, i) => -lr * g[i] * v));
  const chosen = part(inner.chosen, weights.chosen);
  const rejected = part(inner.rejected, weights.rejected);
  const predicted = chosen.map((row, j) => row.map((v, i) => v + rejected[j][i]));
  const out: InfluenceMatrix = {
    pairIndex: pairs.map((b) => (b as { pairIndex?: number[] }).pairIndex?.[0] ?? NaN),
    probeLogps,
    weights,
    inner,
    chosen,
    rejected,
    predicted,
    lr,
  };
  if (opts.observe ?? true) {
    const observed: number[][] = Array.from({ length: nProbes }, () => []);
    for (const [i, b] of pairs.entries()) {
      const after = await afterStep(policy, b, logps, opts.objective, lr, refOf(i));
      after.forEach((v, j) => observed[j].push(v - probeLogps[j]));
    }
    out.observed = observed;
    out.relativeError = frobenius(predicted, observed) / frobenius(observed);
  }
  return out;
}

/** `[probe][pair]` inner products of the probe gradients with each pair's two gradients. */
async function gradientInnerProducts<B, P>(
  policy: PreferenceScorer<B, P>,
  pairs: readonly B[],
  logps: () => tf.Tensor1D,
  nProbes: number,
  vars: tf.Variable[],
): Promise<{ chosen: number[][]; rejected: number[][] }> {
  const probeGrads: tf.Tensor1D[] = [], pairGrads: tf.Tensor1D[] = [];
  try {
    for (let j = 0; j < nProbes; j++) {
      probeGrads.push(flatGrad(vars, () => tf.sum(tf.slice(logps(), [j], [1])) as tf.Scalar));
    }
    for (const b of pairs) {
      pairGrads.push(flatGrad(vars, () => tf.sum(policy.scores(b).policyChosen) as tf.Scalar));
      pairGrads.push(flatGrad(vars, () => tf.sum(policy.scores(b).policyRejected) as tf.Scalar));
    }
    const gram = tf.tidy(() => tf.matMul(tf.stack(probeGrads), tf.stack(pairGrads), false, true));
    const flat = await take(gram);
    const n = 2 * pairs.length;
    const rows = Array.from({ length: nProbes }, (_, j) => flat.slice(j * n, (j + 1) * n));
    return {
      chosen: rows.map((r) => r.filter((_, k) => k % 2 === 0)),
      rejected: rows.map((r) => r.filter((_, k) => k % 2 === 1)),
    };
  } finally {
    tf.dispose([...probeGrads, ...pairGrads]);
  }
}

/** Probe log-probs after one SGD step on `batch`'s loss; the variables are restored. */
async function afterStep<B>(
  policy: PreferenceScorer<B, unknown>,
  batch: B,
  logps: () => tf.Tensor1D,
  objective: TrainObjective,
  lr: number,
  ref: { chosen: number; rejected: number } | undefined,
): Promise<number[]> {
  const vars = policy.variables();
  const saved = vars.map((v) => tf.clone(v));
  try {
    const refScores = tf.tidy(() => {
      if (ref) return [tf.tensor1d([ref.chosen]), tf.tensor1d([ref.rejected])];
      const s = policy.scores(batch);
      return [tf.clone(s.policyChosen), tf.clone(s.policyRejected)];
    });
    const { value, grads } = tf.variableGrads(() => {
      const s = policy.scores(batch);
      return tf.sum(
        objective.loss({
          policyChosen: s.policyChosen,
          policyRejected: s.policyRejected,
          chosenLength: s.chosenLength,
          rejectedLength: s.rejectedLength,
          refChosen: refScores[0] as tf.Tensor1D,
          refRejected: refScores[1] as tf.Tensor1D,
        }).losses,
      ) as tf.Scalar;
    }, vars);
    tf.tidy(() => {
      for (const v of vars) {
        const g = grads[v.name];
        if (g) v.assign(tf.sub(v, tf.mul(g, lr)));
      }
    });
    tf.dispose([value, ...Object.values(grads), ...refScores]);
    return await take(tf.tidy(logps));
  } finally {
    vars.forEach((v, i) => v.assign(saved[i]));
    tf.dispose(saved);
  }
}

function frobenius(a: number[][], b?: number[][]): number {
  let s = 0;
  a.forEach((row, j) => row.forEach((v, i) => s += (v - (b ? b[j][i] : 0)) ** 2));
  return Math.sqrt(s);
}
