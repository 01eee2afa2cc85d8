/**
 * Next-token cross-entropy for causal language models.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/**
 * Mean next-token cross-entropy in nats: `-(1/(N*T)) sum_{n,t} ln softmax(logits[n,t])[y[n,t]]`.
 * `logits` is [N, T, V]; `targets` is [N, T] int32.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { lmLoss } from "./loss.ts";
 * await tf.setBackend("cpu");
 * const logits = tf.zeros([1, 2, 4]) as tf.Tensor3D; // uniform over 4 tokens
 * const loss = lmLoss(logits, tf.tensor2d([[0, 3]], [1, 2], "int32"));
 * console.log(loss.dataSync()[0]); // ln 4 = 1.386...
 * ```
 */
export function lmLoss(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Scalar {
  const [n, t, v] = logits.shape;
  if (targets.shape[0] !== n || targets.shape[1] !== t) {
    throw new RangeError(`targets shape [${targets.shape}] does not match logits [${n}, ${t}, *]`);
  }
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(logits, [n * t, v]));
    const picked = tf.sum(tf.mul(tf.oneHot(tf.reshape(targets, [n * t]), v), logp), 1);
    return tf.neg(tf.mean(picked)) as tf.Scalar;
  });
}

/**
 * Summed next-token log-loss of each row and its token count, for exact averages over many
 * batches: returns [N] sums of `-ln p(y[n,t])`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { rowLossSums } from "./loss.ts";
 * await tf.setBackend("cpu");
 * const sums = rowLossSums(tf.zeros([2, 3, 2]) as tf.Tensor3D, tf.zeros([2, 3], "int32") as tf.Tensor2D);
 * console.log(Array.from(sums.dataSync())); // [3 ln 2, 3 ln 2]
 * ```
 */
export function rowLossSums(logits: tf.Tensor3D, targets: tf.Tensor2D): tf.Tensor1D {
  const [n, t, v] = logits.shape;
  return tf.tidy(() => {
    const logp = tf.logSoftmax(tf.reshape(logits, [n * t, v]));
    const picked = tf.sum(tf.mul(tf.oneHot(tf.reshape(targets, [n * t]), v), logp), 1);
    return tf.neg(tf.sum(tf.reshape(picked, [n, t]), 1)) as tf.Tensor1D;
  });
}
