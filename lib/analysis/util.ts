/**
 * Small shared helpers of the analysis area: checked copies of numbers into float64.
 *
 * The pure functions of this area take plain arrays, not tensors: a tensor is read with
 * `await t.data()` (or `await t.array()`), which works on every backend, whereas synchronous
 * reads fail on WebGPU under Deno.
 *
 * @module
 */

/** A vector: a plain or typed array of numbers (e.g. what `await tensor.data()` gives). */
export type VectorLike = ArrayLike<number>;

/** A matrix: rows of numbers (e.g. what `await tensor.array()` gives for a 2-D tensor). */
export type MatrixLike = ArrayLike<ArrayLike<number>>;

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
  if (x === null || typeof x !== "object" || typeof x.length !== "number") {
    throw new TypeError(`${name}: expected an array of numbers (read tensors with await t.data())`);
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
  if (x === null || typeof x !== "object" || typeof x.length !== "number") {
    throw new TypeError(`${name}: expected rows of numbers (read tensors with await t.array())`);
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
