/**
 * Pieces shared by the two sides of the data-parallel scorer (lib/scoring/parallel.ts and its
 * worker): score tensors flattened to named leaves, batches split by pairs, and the scalar
 * whose gradient is a vector-Jacobian product.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceBatch } from "../data/types.ts";
import type { PairScores } from "../core/scores.ts";

/** One float tensor of a `PairScores`, named by its path (`policyChosen`, `tokens.chosenMask`). */
export interface Leaf {
  path: string;
  tensor: tf.Tensor;
}

/**
 * The float32 tensors of `scores` (nested objects such as `tokens` included), in a fixed order.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { flattenScores } from "./parallel_shared.ts";
 * const v = tf.tensor1d([1]);
 * const leaves = flattenScores({ policyChosen: v, policyRejected: v, chosenLength: v, rejectedLength: v });
 * console.log(leaves.map((l) => l.path).join(",")); // chosenLength,policyChosen,policyRejected,rejectedLength
 * ```
 */
export function flattenScores(scores: PairScores): Leaf[] {
  const out: Leaf[] = [];
  const walk = (x: unknown, prefix: string) => {
    if (x instanceof tf.Tensor) {
      if (x.dtype === "float32") out.push({ path: prefix, tensor: x });
      return;
    }
    if (x && typeof x === "object") {
      for (const k of Object.keys(x).sort()) {
        walk((x as Record<string, unknown>)[k], prefix ? `${prefix}.${k}` : k);
      }
    }
  };
  walk(scores, "");
  return out;
}

/**
 * True for a leaf that is data, not a function of the weights: masks, lengths, presence flags
 * and token counts. The main thread rebuilds the worker's data leaves as constants, because
 * objectives compare them (`Less`, `Greater`: ops without a gradient), which fails on a tape
 * that ties them to the weights.
 *
 * @example
 * ```ts
 * import { isDataLeaf } from "./parallel_shared.ts";
 * console.log(isDataLeaf("tokens.chosenMask"), isDataLeaf("tokens.policyChosen")); // true false
 * ```
 */
export function isDataLeaf(path: string): boolean {
  return /(Mask|Length)$/.test(path) || path.startsWith("present.") ||
    path === "tokenStats.correctChosen" || path === "tokenStats.inputTokens";
}

/**
 * Rebuild a `PairScores`-shaped object with each leaf of `like` replaced by `tensors` (same order
 * as {@link flattenScores}); non-float entries are kept.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { flattenScores, rebuildScores } from "./parallel_shared.ts";
 * const v = tf.tensor1d([1]);
 * const s = { policyChosen: v, policyRejected: v, chosenLength: v, rejectedLength: v };
 * const r = rebuildScores(s, flattenScores(s).map(() => tf.tensor1d([2])));
 * console.log(r.policyChosen.dataSync()[0]); // 2
 * ```
 */
export function rebuildScores(like: PairScores, tensors: readonly tf.Tensor[]): PairScores {
  let i = 0;
  const walk = (x: unknown): unknown => {
    if (x instanceof tf.Tensor) return x.dtype === "float32" ? tensors[i++] : x;
    if (x && typeof x === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(x).sort()) o[k] = walk((x as Record<string, unknown>)[k]);
      return o;
    }
    return x;
  };
  return walk(like) as PairScores;
}

/**
 * Pairs `[from, to)` of a batch (rows `from..to` of the chosen half and of the rejected half).
 *
 * @example
 * ```ts
 * import { pairSlice } from "./parallel_shared.ts";
 * const b = { size: 2, length: 1, inputIds: Int32Array.of(1, 2, 3, 4),
 *   attentionMask: new Float32Array(4).fill(1), completionMask: new Float32Array(4).fill(1),
 *   pairIndex: [7, 8], promptLength: [0, 0, 0, 0], completionLength: [1, 1, 1, 1] };
 * console.log(Array.from(pairSlice(b, 1, 2).inputIds)); // [2, 4]
 * ```
 */
export function pairSlice(batch: PreferenceBatch, from: number, to: number): PreferenceBatch {
  const b = batch.size, t = batch.length;
  const rows = [
    ...Array.from({ length: to - from }, (_, i) => from + i),
    ...Array.from({ length: to - from }, (_, i) => b + from + i),
  ];
  const take = <A extends Int32Array | Float32Array>(x: A, make: (n: number) => A): A => {
    const out = make(rows.length * t);
    rows.forEach((r, i) => out.set(x.subarray(r * t, (r + 1) * t), i * t));
    return out;
  };
  return {
    size: to - from,
    length: t,
    inputIds: take(batch.inputIds, (n) => new Int32Array(n)),
    attentionMask: take(batch.attentionMask, (n) => new Float32Array(n)),
    completionMask: take(batch.completionMask, (n) => new Float32Array(n)),
    pairIndex: batch.pairIndex.slice(from, to),
    promptLength: rows.map((r) => batch.promptLength[r]),
    completionLength: rows.map((r) => batch.completionLength[r]),
  };
}

/**
 * `Σ_leaves sum(dy ⊙ leaf)`: its gradient with respect to the model's variables is the
 * vector-Jacobian product of the score tensors with the upstream gradients `dy`.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { vjpTarget } from "./parallel_shared.ts";
 * const y = vjpTarget([{ path: "a", tensor: tf.tensor1d([1, 2]) }], [{ path: "a", tensor: tf.tensor1d([3, 4]) }]);
 * console.log(y.dataSync()[0]); // 11
 * ```
 */
export function vjpTarget(leaves: readonly Leaf[], dy: readonly Leaf[]): tf.Scalar {
  const byPath = new Map(dy.map((d) => [d.path, d.tensor]));
  let total: tf.Tensor = tf.scalar(0);
  for (const l of leaves) {
    const g = byPath.get(l.path);
    if (g) total = tf.add(total, tf.sum(tf.mul(l.tensor, g)));
  }
  return total as tf.Scalar;
}
