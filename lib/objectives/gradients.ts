/**
 * Gradient analysis of any objective by automatic differentiation: the gradient weights
 * `g_w = ∂L/∂ℓθ(y_w)`, `g_l = ∂L/∂ℓθ(y_l)` at given scores. Their field over the (u_w, u_l)
 * plane is in `gradient_field.ts`, built on the read steps ({@link WeightReads}) defined here.
 *
 * Each analysis comes twice: a synchronous one for the cpu and wasm backends (handy in
 * notebooks) and an `...Async` one for every backend, webgpu included (tfjs-backend-webgpu under
 * Deno cannot read tensors synchronously). Both run the same code (see {@link WeightReads}).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";
import type { Objective } from "./types.ts";
import type { SequenceScores } from "../core/scores.ts";

/** Result of {@link gradientWeights}; plain numbers. */
export interface GradientWeights {
  /** Per-pair losses. */
  losses: number[];
  /** `g_w[i] = ∂(Σ_j L_j)/∂ policyChosen[i]`. */
  gW: number[];
  /** `g_l[i] = ∂(Σ_j L_j)/∂ policyRejected[i]`. */
  gL: number[];
  /**
   * When `scores.tokens` is given: the gradient with respect to each per-token policy log-prob,
   * `[B][T]` (LD-DPO, WPO, TDPO read token scores instead of, or besides, the sums).
   */
  tokens?: { chosen: number[][]; rejected: number[][] };
}

/** The tensors behind a {@link GradientWeights}, before they are read back. */
export interface WeightTensors {
  losses: tf.Tensor1D;
  gW: tf.Tensor;
  gL: tf.Tensor;
  tokens?: { chosen: tf.Tensor; rejected: tf.Tensor };
}

/** Reads (and disposes) weight tensors synchronously: cpu and wasm only. */
function readSync(w: WeightTensors): GradientWeights {
  try {
    const out: GradientWeights = {
      losses: Array.from(w.losses.dataSync()),
      gW: Array.from(w.gW.dataSync()),
      gL: Array.from(w.gL.dataSync()),
    };
    if (w.tokens) {
      out.tokens = {
        chosen: w.tokens.chosen.arraySync() as number[][],
        rejected: w.tokens.rejected.arraySync() as number[][],
      };
    }
    return out;
  } finally {
    disposeWeights(w);
  }
}

/** Reads (and disposes) weight tensors asynchronously: any backend. */
async function readAsync(w: WeightTensors): Promise<GradientWeights> {
  try {
    const [losses, gW, gL] = await Promise.all([w.losses.data(), w.gW.data(), w.gL.data()]);
    const out: GradientWeights = {
      losses: Array.from(losses),
      gW: Array.from(gW),
      gL: Array.from(gL),
    };
    if (w.tokens) {
      const [chosen, rejected] = await Promise.all([
        w.tokens.chosen.array(),
        w.tokens.rejected.array(),
      ]);
      out.tokens = { chosen: chosen as number[][], rejected: rejected as number[][] };
    }
    return out;
  } finally {
    disposeWeights(w);
  }
}

function disposeWeights(w: WeightTensors): void {
  tf.dispose([w.losses, w.gW, w.gL, ...(w.tokens ? [w.tokens.chosen, w.tokens.rejected] : [])]);
}

/**
 * A computation that hands weight tensors out to be read (`yield`) and gets the numbers back:
 * the same code then runs with synchronous reads ({@link runSync}) or asynchronous ones
 * ({@link runAsync}), so the cpu-only and the any-backend APIs cannot drift apart. Compose with
 * `yield*` and {@link weightReads}.
 */
export type WeightReads<R> = Generator<WeightTensors, R, GradientWeights>;

/**
 * Drives a {@link WeightReads} with synchronous reads (cpu and wasm backends only).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { runSync, weightReads } from "./gradients.ts";
 * import { dpo } from "./trl.ts";
 * const z = tf.tensor1d([0]), one = tf.tensor1d([1]);
 * const s = { policyChosen: z, policyRejected: z, refChosen: z, refRejected: z,
 *   chosenLength: one, rejectedLength: one };
 * console.log(runSync(weightReads(dpo(), s)).gW); // [-0.05]
 * ```
 */
export function runSync<R>(gen: WeightReads<R>): R {
  let step = gen.next();
  while (!step.done) {
    let got: GradientWeights;
    try {
      got = readSync(step.value);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(got);
  }
  return step.value;
}

/**
 * Drives a {@link WeightReads} with asynchronous reads (any backend, webgpu included).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { runAsync, weightReads } from "./gradients.ts";
 * import { dpo } from "./trl.ts";
 * const z = tf.tensor1d([0]), one = tf.tensor1d([1]);
 * const s = { policyChosen: z, policyRejected: z, refChosen: z, refRejected: z,
 *   chosenLength: one, rejectedLength: one };
 * console.log((await runAsync(weightReads(dpo(), s))).gL); // [0.05]
 * ```
 */
export async function runAsync<R>(gen: WeightReads<R>): Promise<R> {
  let step = gen.next();
  while (!step.done) {
    let got: GradientWeights;
    try {
      got = await readAsync(step.value);
    } catch (e) {
      step = gen.throw(e);
      continue;
    }
    step = gen.next(got);
  }
  return step.value;
}

/**
 * The loss and gradient-weight tensors of one evaluation (see {@link gradientWeights}); the
 * caller reads and disposes them.
 */
function weightTensors(objective: Objective, scores: SequenceScores): WeightTensors {
  const t = scores.tokens;
  const xs: tf.Tensor[] = [scores.policyChosen, scores.policyRejected];
  if (t) xs.push(t.policyChosen, t.policyRejected);
  let kept: tf.Tensor1D | undefined;
  const f = (...v: tf.Tensor[]) => {
    const s: SequenceScores = {
      ...scores,
      policyChosen: v[0] as tf.Tensor1D,
      policyRejected: v[1] as tf.Tensor1D,
      ...(t
        ? {
          tokens: { ...t, policyChosen: v[2] as tf.Tensor2D, policyRejected: v[3] as tf.Tensor2D },
        }
        : {}),
    };
    const out = objective.loss(s);
    kept = tf.keep(tf.clone(out.losses));
    // Adding 0·Σv ties every input to the output, so inputs an objective ignores get 0, not an error.
    const tie = v.reduce((acc: tf.Tensor, x) => tf.add(acc, tf.mul(tf.sum(x), 0)), tf.scalar(0));
    return tf.add(tf.sum(out.losses), tie) as tf.Scalar;
  };
  const { value, grads } = tf.valueAndGrads(f)(xs);
  value.dispose();
  return {
    losses: kept!,
    gW: grads[0],
    gL: grads[1],
    ...(t ? { tokens: { chosen: grads[2], rejected: grads[3] } } : {}),
  };
}

/**
 * Gradient weights by autodiff. The derivative is of the batch total `Σ_j L_j`; for per-pair
 * objectives that is each pair's own `∂L_i/∂ℓθ`, the quantity of the analytic tables (DPO:
 * `g_w = −βσ(−βh)`, `g_l = +βσ(−βh)`); for batch-coupled objectives it includes the effect of a
 * pair's score on the other pairs' losses. `g_w < 0` pushes the chosen log-prob up. Calls
 * `objective.loss` once (stateful objectives advance once).
 *
 * Reads the results synchronously, which only the cpu and wasm backends allow; on webgpu use
 * {@link gradientWeightsAsync} (same numbers).
 *
 * Prototyping a new objective takes a few lines:
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gradientWeights } from "./gradients.ts";
 * import type { Objective } from "./types.ts";
 * // A DPO with a chosen-side floor: softplus(-β h) + λ·relu(-u_w).
 * const beta = 0.1, lambda = 0.05;
 * const mine: Objective = {
 *   name: "dpo_floor", needsReference: true, needsTokens: false, batchCoupled: false,
 *   params: { beta, lambda },
 *   loss: (s) => tf.tidy(() => {
 *     const uW = tf.sub(s.policyChosen, s.refChosen!), uL = tf.sub(s.policyRejected, s.refRejected!);
 *     const dpoTerm = tf.softplus(tf.mul(tf.sub(uL, uW), beta));
 *     return { losses: tf.add(dpoTerm, tf.mul(tf.relu(tf.neg(uW)), lambda)) as tf.Tensor1D };
 *   }),
 * };
 * const g = gradientWeights(mine, {
 *   policyChosen: tf.tensor1d([-12]), policyRejected: tf.tensor1d([-12]),
 *   refChosen: tf.tensor1d([-10]), refRejected: tf.tensor1d([-12]),
 *   chosenLength: tf.tensor1d([4]), rejectedLength: tf.tensor1d([4]),
 * });
 * console.log(g.gW, g.gL); // [-0.1·σ(0.2) - 0.05] [0.1·σ(0.2)]
 * ```
 */
export function gradientWeights(objective: Objective, scores: SequenceScores): GradientWeights {
  return runSync(weightReads(objective, scores));
}

/**
 * {@link gradientWeights} as one read step of a {@link WeightReads} computation, for building
 * analyses that run both synchronously and asynchronously.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { runSync, weightReads } from "./gradients.ts";
 * import { dpo } from "./trl.ts";
 * const z = tf.tensor1d([0, 0]), one = tf.tensor1d([1, 1]);
 * const s = { policyChosen: z, policyRejected: z, refChosen: z, refRejected: z,
 *   chosenLength: one, rejectedLength: one };
 * // Two evaluations, one result: the summed g_w.
 * const both = runSync((function* () {
 *   const a = yield* weightReads(dpo({ beta: 0.1 }), s);
 *   const b = yield* weightReads(dpo({ beta: 0.2 }), s);
 *   return a.gW[0] + b.gW[0];
 * })());
 * console.log(both); // -0.15
 * ```
 */
export function* weightReads(
  objective: Objective,
  scores: SequenceScores,
): WeightReads<GradientWeights> {
  return yield weightTensors(objective, scores);
}

/**
 * {@link gradientWeights} on any backend (webgpu included): the same computation, read back
 * asynchronously. The synchronous version works on cpu and wasm only.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { gradientWeightsAsync } from "./gradients.ts";
 * import { dpo } from "./trl.ts";
 * const z = tf.tensor1d([0]);
 * const g = await gradientWeightsAsync(dpo({ beta: 0.1 }), {
 *   policyChosen: z, policyRejected: z, refChosen: z, refRejected: z,
 *   chosenLength: tf.tensor1d([1]), rejectedLength: tf.tensor1d([1]),
 * });
 * console.log(g.gW, g.gL); // [-0.05] [0.05]
 * ```
 */
export function gradientWeightsAsync(
  objective: Objective,
  scores: SequenceScores,
): Promise<GradientWeights> {
  return runAsync(weightReads(objective, scores));
}
