/**
 * Layer norm and the tanh GELU as single differentiable ops with closed-form gradients.
 *
 * Why: tfjs differentiates a composite op by walking every primitive it recorded, and on the
 * CPU backends each primitive is a kernel dispatch and a pass over memory. Layer norm built from
 * `tf.moments` records about 9 ops and backpropagates through about 25; GPT-2's GELU written as
 * `u * sigmoid(2k(u + a u³))` records 7 and backpropagates through about 17 (one more cast and
 * add per broadcast scalar). The forms below record the same forward values with fewer ops and
 * give the textbook gradients in 11 (layer norm) and 10 (GELU) element-wise ops.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

type CustomGradFn = Parameters<typeof tf.customGrad>[0];

/** Sums a gradient over every axis but the last: the gradient of a broadcast [D] parameter. */
function sumToLast(g: tf.Tensor): tf.Tensor1D {
  const d = g.shape[g.shape.length - 1]!;
  return tf.sum(tf.reshape(g, [-1, d]), 0) as tf.Tensor1D;
}

function layerNormOp(eps: number) {
  return tf.customGrad(
    ((x: tf.Tensor, w: tf.Tensor1D, b: tf.Tensor1D, save: tf.GradSaveFunc) => {
      const last = x.rank - 1;
      const centred = tf.sub(x, tf.mean(x, last, true));
      const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), last, true), eps));
      const xhat = tf.mul(centred, rstd);
      save([xhat, rstd, w]);
      return {
        value: tf.add(tf.mul(xhat, w), b),
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [xh, rs, ws] = saved;
          // y = xhat w + b with xhat = (x - mean) rstd (biased variance):
          // dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy w.
          const g = tf.mul(dy, ws);
          const a = tf.mean(g, last, true);
          const c = tf.mean(tf.mul(g, xh), last, true);
          const dx = tf.mul(tf.sub(tf.sub(g, a), tf.mul(xh, c)), rs);
          return [dx, sumToLast(tf.mul(dy, xh)), sumToLast(dy)];
        },
      };
    }) as unknown as CustomGradFn,
  ) as (x: tf.Tensor, w: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor;
}

const layerNorms = new Map<number, ReturnType<typeof layerNormOp>>();

/**
 * Layer norm over the last axis, `(x - mean) / sqrt(var + eps) * weight + bias` with the biased
 * variance (PyTorch's `F.layer_norm`), as one op whose gradient is the closed form.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { layerNorm } from "./fused_ops.ts";
 * await tf.setBackend("cpu");
 * const y = layerNorm(tf.tensor2d([[1, 3]]), tf.tensor1d([2, 2]), tf.tensor1d([0, 1]), 0);
 * console.log(Array.from(y.dataSync())); // [-2, 3]
 * ```
 */
export function layerNorm(x: tf.Tensor, weight: tf.Tensor1D, bias: tf.Tensor1D, eps: number) {
  let op = layerNorms.get(eps);
  if (!op) layerNorms.set(eps, op = layerNormOp(eps));
  return op(x, weight, bias);
}

/** sqrt(2/π), the tanh GELU's scale. */
const K = Math.sqrt(2 / Math.PI);
/** The tanh GELU's cubic coefficient. */
const A = 0.044715;

/**
 * GPT-2's GELU (`gelu_new`, PyTorch's `gelu(approximate="tanh")`):
 * `0.5 u (1 + tanh(k (u + a u³)))`, computed as the identical `u σ(2k (u + a u³))` (wasm's
 * Sigmoid is vectorised, its Tanh is not), with the derivative
 * `σ + u σ (1 - σ) 2k (1 + 3a u²)` in one backward op.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { geluTanh } from "./fused_ops.ts";
 * await tf.setBackend("cpu");
 * console.log(geluTanh(tf.tensor1d([0, 1])).dataSync()[1].toFixed(4)); // "0.8412"
 * ```
 */
export const geluTanh = tf.customGrad(
  ((u: tf.Tensor, save: tf.GradSaveFunc) => {
    const inner = tf.mul(u, tf.add(tf.mul(tf.square(u), 2 * K * A), 2 * K));
    const s = tf.sigmoid(inner);
    save([u, s]);
    return {
      value: tf.mul(u, s),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [us, ss] = saved;
        const slope = tf.add(tf.mul(tf.square(us), 6 * K * A), 2 * K);
        const spread = tf.mul(tf.mul(tf.mul(ss, tf.sub(1, ss)), us), slope);
        return [tf.mul(dy, tf.add(spread, ss))];
      },
    };
  }) as unknown as CustomGradFn,
) as (u: tf.Tensor) => tf.Tensor;
