/**
 * Small shared helpers of the analysis area: reading numbers out of tensors or arrays.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** A vector given as a plain array, a typed array or a 1-D tensor. */
export type VectorLike = ArrayLike<number> | tf.Tensor;

/** A matrix given as rows of numbers or a 2-D tensor. */
export type MatrixLike = ArrayLike<ArrayLike<number>> | tf.Tensor;

function isTensor(x: unknown): x is tf.Tensor {
  return typeof x === "object" && x !== null && "dataSync" in x && "shape" in x;
}

/**
 * Copy a vector into a Float64Array (analysis sums run in float64 so that differences of
 * large, nearly equal numbers keep their digits).
 *
 * @example
 * ```ts
 * import { toFloat64 } from "./util.ts";
 * console.log(toFloat64([1, 2], "p")); // Float64Array [1, 2]
 * ```
 */
export function toFloat64(x: VectorLike, name: string): Float64Array {
  if (isTensor(x)) {
    if (x.rank !== 1) {
      throw new RangeError(`${name}: expected a 1-D tensor, got shape [${x.shape}]`);
    }
    return Float64Array.from(x.dataSync() as ArrayLike<number>);
  }
  if (x === null || typeof x !== "object" || typeof x.length !== "number") {
    throw new TypeError(`${name}: expected an array of numbers or a 1-D tensor`);
  }
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== "number") throw new TypeError(`${name}[${i}]: expected a number, got ${v}`);
    out[i] = v;
  }
  return out;
}

/**
 * Copy a matrix into row-major float64 storage.
 *
 * @example
 * ```ts
 * import { toMatrix64 } from "./util.ts";
 * const m = toMatrix64([[1, 2], [3, 4]], "W");
 * console.log(m.rows, m.cols, m.data[3]); // 2 2 4
 * ```
 */
export function toMatrix64(
  x: MatrixLike,
  name: string,
): { rows: number; cols: number; data: Float64Array } {
  if (isTensor(x)) {
    if (x.rank !== 2) {
      throw new RangeError(`${name}: expected a 2-D tensor, got shape [${x.shape}]`);
    }
    return {
      rows: x.shape[0],
      cols: x.shape[1] as number,
      data: Float64Array.from(x.dataSync() as ArrayLike<number>),
    };
  }
  const rows = x.length;
  if (rows === 0) throw new RangeError(`${name}: expected at least one row`);
  const cols = x[0].length;
  const data = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const row = toFloat64(x[r], `${name}[${r}]`);
    if (row.length !== cols) {
      throw new RangeError(`${name}[${r}]: has ${row.length} entries, row 0 has ${cols}`);
    }
    data.set(row, r * cols);
  }
  return { rows, cols, data };
}

/** Throw a RangeError unless `i` is an integer index into a vocabulary of size `n`. */
export function checkIndex(i: number, n: number, name: string): void {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new RangeError(`${name}: ${i} is not a token index in [0, ${n})`);
  }
}
