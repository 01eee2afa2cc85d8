/**
 * Ranks and rank correlation, for comparing a predicted ordering (e.g. which tokens gain most,
 * which CHES percentile loses most) with the observed one.
 *
 * @module
 */
import { toFloat64, type VectorLike } from "./util.ts";

/**
 * 1-based ranks in ascending order, ties given the mean of the ranks they span.
 *
 * @example
 * ```ts
 * import { ranks } from "./rank.ts";
 * console.log(ranks([10, 30, 20, 20])); // Float64Array [1, 4, 2.5, 2.5]
 * ```
 */
export function ranks(values: VectorLike): Float64Array {
  const v = toFloat64(values, "values");
  for (let i = 0; i < v.length; i++) {
    if (Number.isNaN(v[i])) throw new RangeError(`values[${i}] is NaN`);
  }
  const order = Array.from(v.keys()).sort((a, b) => v[a] - v[b]);
  const out = new Float64Array(v.length);
  for (let i = 0; i < order.length;) {
    let j = i;
    while (j + 1 < order.length && v[order[j + 1]] === v[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let q = i; q <= j; q++) out[order[q]] = r;
    i = j + 1;
  }
  return out;
}

/**
 * Spearman's rank correlation: the Pearson correlation of the (tie-averaged) ranks.
 * NaN when either input is constant.
 *
 * @example
 * ```ts
 * import { rankCorrelation } from "./rank.ts";
 * console.log(rankCorrelation([1, 2, 3], [10, 40, 90])); // 1
 * ```
 */
export function rankCorrelation(a: VectorLike, b: VectorLike): number {
  const ra = ranks(a), rb = ranks(b);
  if (ra.length !== rb.length) {
    throw new RangeError(`a has ${ra.length} entries but b has ${rb.length}`);
  }
  const n = ra.length;
  if (n < 2) throw new RangeError(`need at least 2 values, got ${n}`);
  const mean = (n + 1) / 2;
  let sab = 0, saa = 0, sbb = 0;
  for (let i = 0; i < n; i++) {
    const x = ra[i] - mean, y = rb[i] - mean;
    sab += x * y;
    saa += x * x;
    sbb += y * y;
  }
  return sab / Math.sqrt(saa * sbb);
}
