/**
 * Numerically stable building blocks with explicit gradients, so that every objective stays
 * finite (value and gradient) in float32 for margins up to |β·h| = 100 and beyond.
 *
 * tfjs's own `softplus` forward is stable (it switches to `x` / `exp(x)` in the tails); the
 * gradients are written here with `tf.customGrad` so that their stability is part of this code,
 * tested at |x| = 100, and `log(sigmoid(x))` is never formed.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "../kernels/gradients.ts";

type Unary = (x: tf.Tensor) => tf.Tensor;

/** A unary op with an explicit gradient `dL/dx = grad(dy, x)`. */
function withGrad(value: Unary, grad: (dy: tf.Tensor, x: tf.Tensor) => tf.Tensor): Unary {
  const body = (x: tf.Tensor, save: tf.GradSaveFunc) => {
    save([x]);
    return { value: value(x), gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => grad(dy, saved[0]) };
  };
  const f = tf.customGrad(body as unknown as Parameters<typeof tf.customGrad>[0]);
  return (x) => f(x);
}

const detach = withGrad(tf.clone, (dy) => tf.zerosLike(dy));

/**
 * `softplus(x) = log(1 + e^x)`, gradient `σ(x)`. Exact to float32 rounding for all finite x
 * (at x = −100 it returns ≈3.7e−44, at x = 100 it returns 100).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { softplus } from "./numerics.ts";
 * console.log(softplus(tf.tensor1d([-100, 0, 100])).dataSync()); // [~3.7e-44, 0.6931, 100]
 * ```
 */
export const softplus: Unary = withGrad(tf.softplus, (dy, x) => tf.mul(dy, tf.sigmoid(x)));

/**
 * `log σ(x) = −softplus(−x)`, gradient `σ(−x)`; never computed as `log(sigmoid(x))`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { logSigmoid } from "./numerics.ts";
 * console.log(logSigmoid(tf.tensor1d([-100])).dataSync()); // [-100]
 * ```
 */
export function logSigmoid(x: tf.Tensor): tf.Tensor {
  return tf.neg(softplus(tf.neg(x)));
}

/**
 * Logistic `σ(x)` with gradient `σ(x)σ(−x)` (computed from both tails, so it is exact, not
 * `s(1−s)` with cancellation, when σ(x) is near 1).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sigmoid } from "./numerics.ts";
 * console.log(sigmoid(tf.tensor1d([0])).dataSync()); // [0.5]
 * ```
 */
export const sigmoid: Unary = withGrad(
  tf.sigmoid,
  (dy, x) => tf.mul(dy, tf.mul(tf.sigmoid(x), tf.sigmoid(tf.neg(x)))),
);

/**
 * Identity in the forward pass, zero gradient (PyTorch's `.detach()`, JAX's `stop_gradient`).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { stopGradient } from "./numerics.ts";
 * const g = tf.grad((x: tf.Tensor) => tf.sum(tf.mul(x, stopGradient(x))))(tf.tensor1d([3]));
 * console.log(g.dataSync()); // [3]
 * ```
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T;
}

/**
 * `log(1 − e^x)` for x < 0 (−Infinity at x = 0), the log of a complement probability: used by
 * ORPO/ASFT odds. Uses `log(−expm1(x))` near 0 and `log1p(−e^x)` in the tail; gradient
 * `−1/expm1(−x)`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { log1mexp } from "./numerics.ts";
 * console.log(log1mexp(tf.tensor1d([Math.log(0.5)])).dataSync()); // [log 0.5]
 * ```
 */
export const log1mexp: Unary = withGrad(
  (x) => {
    const near = tf.greater(x, -Math.LN2);
    const a = tf.log(tf.neg(tf.expm1(tf.minimum(x, 0))));
    const b = tf.log1p(tf.neg(tf.exp(tf.minimum(x, -Math.LN2))));
    return tf.where(near, a, b);
  },
  (dy, x) => tf.neg(tf.div(dy, tf.expm1(tf.neg(x)))),
);

/**
 * `x[perm]` for a 1-D tensor with a constant permutation; the gradient scatters back through the
 * inverse permutation. Used by the batch-sorting AOT losses.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { permute } from "./numerics.ts";
 * console.log(permute(tf.tensor1d([5, 7, 9]), [2, 0, 1]).dataSync()); // [9, 5, 7]
 * ```
 */
export function permute(x: tf.Tensor1D, perm: readonly number[]): tf.Tensor1D {
  const inverse = new Array<number>(perm.length);
  perm.forEach((p, i) => inverse[p] = i);
  const f = withGrad(
    (v) => tf.gather(v, tf.tensor1d(perm as number[], "int32")),
    (dy) => tf.gather(dy, tf.tensor1d(inverse, "int32")),
  );
  return f(x) as tf.Tensor1D;
}

/**
 * `x` sorted ascending along its only axis, differentiable: the gradient of the k-th smallest
 * entry flows back to the entry it came from. Ties keep index order (stable), as
 * {@link argsortAscending} does. The permutation is found on the device (`tf.topk` of `−x`) and
 * never read back, so this works on every backend, webgpu included; {@link permute} with a host
 * permutation needs a synchronous read. Used by the batch-sorting AOT losses.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sortAscending } from "./numerics.ts";
 * const x = tf.tensor1d([3, 1, 2]);
 * console.log(await sortAscending(x).data()); // [1, 2, 3]
 * const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(sortAscending(v as tf.Tensor1D), [1, 10, 100])));
 * console.log(await g(x).data()); // [100, 1, 10]
 * ```
 */
export function sortAscending(x: tf.Tensor1D): tf.Tensor1D {
  if (x.rank !== 1) throw new RangeError(`sortAscending: x must be 1-D, got shape [${x.shape}]`);
  // topk needs k >= 1; an empty vector is its own sort.
  return (x.shape[0] === 0 ? tf.clone(x) : sortAscendingOp(x)) as tf.Tensor1D;
}

// Inside tf.customGrad the forward ops are not taped, so the integer permutation (which has no
// gradient) never enters the tape; only this one node, with the gradient below, does.
const sortAscendingOp = tf.customGrad(
  ((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const n = x.shape[0]!;
    // topk sorts descending and breaks ties by lower index on every backend, so topk(−x) is the
    // stable ascending order.
    const order = tf.topk(tf.neg(x), n).indices;
    // The inverse permutation (each entry's rank) is the order of the order.
    const rank = tf.topk(tf.neg(tf.cast(order, "float32")), n).indices;
    save([rank]);
    return {
      value: tf.gather(x, order),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.gather(dy, saved[0]),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0],
);

/** Indices that sort `values` ascending (stable), computed on the host. */
export function argsortAscending(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  return idx.sort((i, j) => values[i] - values[j] || i - j);
}
