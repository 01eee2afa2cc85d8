/**
 * Float32 `Add`, `Sub`, `Multiply` and `RealDiv` for the pure-JS `cpu` backend, with
 * broadcasting in one pass.
 *
 * tfjs-backend-cpu (4.22) computes a broadcast binary op (a LayerNorm's `x - mean` against a
 * `[N, T, 1]` mean, an attention mask `[1, 1, T, T]` added to `[N, H, T, T]` scores, and their
 * gradients) with a coordinate array allocated per output element, and every op through a
 * closure call per element; these four were 50% of the kernel time of GPT-2 small's DPO step
 * once its products ran on OpenBLAS. Here the operands' strides (0 along a broadcast
 * dimension) drive an odometer over the output rows, and each op has its own inner loop.
 * Other dtypes, and complex numbers, go to the stock kernels.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { cpuValues } from "./cpu_blas.ts";
import type { CpuBackendInternals } from "./cpu_blas.ts";

/** The ops, by kernel name, and their codes in {@link binaryRow}. */
export const BINARY_OPS: Readonly<Record<string, number>> = {
  Add: 0,
  Sub: 1,
  Multiply: 2,
  RealDiv: 3,
};

/** `out[o + j] = a[ai + j*sa] (op) b[bi + j*sb]` for j < n. */
function binaryRow(
  op: number,
  a: Float32Array,
  ai: number,
  sa: number,
  b: Float32Array,
  bi: number,
  sb: number,
  out: Float32Array,
  o: number,
  n: number,
): void {
  switch (op) {
    case 0:
      for (let j = 0; j < n; j++) out[o + j] = a[ai + j * sa]! + b[bi + j * sb]!;
      break;
    case 1:
      for (let j = 0; j < n; j++) out[o + j] = a[ai + j * sa]! - b[bi + j * sb]!;
      break;
    case 2:
      for (let j = 0; j < n; j++) out[o + j] = a[ai + j * sa]! * b[bi + j * sb]!;
      break;
    default:
      for (let j = 0; j < n; j++) out[o + j] = a[ai + j * sa]! / b[bi + j * sb]!;
  }
}

/** Strides of `shape` against the broadcast `outShape` (right-aligned; 0 where broadcast). */
function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const shift = outShape.length - shape.length;
  const own = tf.util.computeStrides(shape as number[]).concat([1]);
  return outShape.map((d, i) => {
    const k = i - shift;
    return k < 0 || (shape[k] === 1 && d !== 1) ? 0 : own[k]!;
  });
}

/**
 * `a (op) b` with numpy broadcasting, in float32; `op` is a {@link BINARY_OPS} code.
 *
 * @example
 * ```ts
 * import { broadcastBinary } from "./cpu_elementwise.ts";
 * const x = Float32Array.from([1, 2, 3, 4, 5, 6]); // [2, 3]
 * const mean = Float32Array.from([2, 5]); // [2, 1]
 * const { values } = broadcastBinary(1, x, [2, 3], mean, [2, 1]);
 * console.log(Array.from(values)); // [-1, 0, 1, -1, 0, 1]
 * ```
 */
export function broadcastBinary(
  op: number,
  a: Float32Array,
  aShape: readonly number[],
  b: Float32Array,
  bShape: readonly number[],
): { values: Float32Array; shape: number[] } {
  const shape = tf.broadcast_util.assertAndGetBroadcastShape(
    aShape as number[],
    bShape as number[],
  );
  const total = tf.util.sizeFromShape(shape);
  const out = new Float32Array(total);
  if (total === 0) return { values: out, shape };
  if (a.length === total && b.length === total) {
    binaryRow(op, a, 0, 1, b, 0, 1, out, 0, total);
    return { values: out, shape };
  }
  const rank = shape.length;
  if (rank === 0) {
    binaryRow(op, a, 0, 1, b, 0, 1, out, 0, 1);
    return { values: out, shape };
  }
  const sa = broadcastStrides(aShape, shape), sb = broadcastStrides(bShape, shape);
  const inner = shape[rank - 1]!, ia = sa[rank - 1]!, ib = sb[rank - 1]!;
  const idx = new Array<number>(rank).fill(0);
  let offA = 0, offB = 0;
  for (let o = 0; o < total; o += inner) {
    binaryRow(op, a, offA, ia, b, offB, ib, out, o, inner);
    for (let d = rank - 2; d >= 0; d--) {
      offA += sa[d]!;
      offB += sb[d]!;
      if (++idx[d]! < shape[d]!) break;
      offA -= sa[d]! * shape[d]!;
      offB -= sb[d]! * shape[d]!;
      idx[d] = 0;
    }
  }
  return { values: out, shape };
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The kernel function of op `name` over the stock `fallback`. */
export function binaryKernel(name: string, fallback: tf.KernelConfig): tf.KernelFunc {
  const op = BINARY_OPS[name];
  if (op === undefined) throw new RangeError(`no fast cpu kernel for '${name}'`);
  return ((args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = cpuValues(args.backend, a), bv = cpuValues(args.backend, b);
    if (a.dtype !== "float32" || b.dtype !== "float32" || !av || !bv) {
      return fallback.kernelFunc(args);
    }
    const { values, shape } = broadcastBinary(op, av, a.shape, bv, b.shape);
    return (args.backend as unknown as CpuBackendInternals).makeTensorInfo(
      shape,
      "float32",
      values,
    );
  }) as unknown as tf.KernelFunc;
}

/**
 * Softmax over the last axis of `[rows, n]` float32 values, one row at a time (max, exp and
 * sum in float64, like the stock kernel's sequence of ops without its four temporaries and
 * their broadcasting passes).
 *
 * @example
 * ```ts
 * import { softmaxRows } from "./cpu_elementwise.ts";
 * const y = softmaxRows(Float32Array.from([0, Math.log(3), 5, 5]), 2);
 * console.log(Array.from(y)); // [0.25, 0.75, 0.5, 0.5]
 * ```
 */
export function softmaxRows(x: Float32Array, n: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let o = 0; o < x.length; o += n) {
    let max = -Infinity;
    for (let j = 0; j < n; j++) if (x[o + j]! > max) max = x[o + j]!;
    let sum = 0;
    for (let j = 0; j < n; j++) {
      const e = Math.exp(x[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    for (let j = 0; j < n; j++) out[o + j] = out[o + j]! / sum;
  }
  return out;
}

/** The `Softmax` kernel function over the stock `fallback` (last axis, float32 only). */
export function softmaxKernel(fallback: tf.KernelConfig): tf.KernelFunc {
  return ((args: KernelArgs) => {
    const { logits } = args.inputs as { logits: tf.TensorInfo };
    const dim = (args.attrs as { dim: number }).dim;
    const rank = logits.shape.length;
    const v = cpuValues(args.backend, logits);
    if (!v || logits.dtype !== "float32" || rank === 0 || (dim !== -1 && dim !== rank - 1)) {
      return fallback.kernelFunc(args);
    }
    const out = softmaxRows(v, logits.shape[rank - 1]!);
    return (args.backend as unknown as CpuBackendInternals).makeTensorInfo(
      [...logits.shape],
      "float32",
      out,
    );
  }) as unknown as tf.KernelFunc;
}
