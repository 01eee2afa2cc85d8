/**
 * Choosing pairs by a score such as CHES: ranking, the paper's percentile subsets
 * (arXiv 2410.08847 section 5: subsets of 512 pairs centred at the 0/25/50/75/100th
 * percentiles) and filtering (section 6: keep the lowest 5% by length-normalised CHES).
 *
 * All functions take the scores as numbers (e.g. `scores.map((s) => s.chesNormalized)`) and
 * return positions into that array.
 *
 * @module
 */
import { toFloat64, type VectorLike } from "./util.ts";

function finiteScores(values: VectorLike): Float64Array {
  const v = toFloat64(values, "scores");
  for (let i = 0; i < v.length; i++) {
    if (!Number.isFinite(v[i])) throw new RangeError(`scores[${i}] = ${v[i]} is not finite`);
  }
  return v;
}

/**
 * Positions sorted by score, lowest first (or highest first with `descending`); ties keep
 * input order.
 *
 * @example
 * ```ts
 * import { rankByScore } from "./ches_select.ts";
 * console.log(rankByScore([3, 1, 2])); // [1, 2, 0]
 * console.log(rankByScore([3, 1, 2], { descending: true })); // [0, 2, 1]
 * ```
 */
export function rankByScore(values: VectorLike, opts: { descending?: boolean } = {}): number[] {
  const v = finiteScores(values);
  const sign = opts.descending ? -1 : 1;
  return Array.from(v.keys()).sort((a, b) => sign * (v[a] - v[b]) || a - b);
}

/** One subset of {@link percentileSubsets}. */
export interface PercentileSubset {
  /** The percentile the subset is centred at. */
  percentile: number;
  /** Positions of its pairs, lowest score first. */
  positions: number[];
  /** Lowest and highest score in the subset. */
  range: [number, number];
}

/** Options of {@link percentileSubsets}. */
export interface PercentileOptions {
  /** Percentiles to centre subsets at (default [0, 25, 50, 75, 100]). */
  percentiles?: readonly number[];
  /** Pairs per subset (default 512, the paper's). */
  sampleSize?: number;
}

/**
 * Contiguous windows of `sampleSize` pairs in score order, centred at each percentile and
 * shifted inwards at the ends, so the 0th is the `sampleSize` lowest and the 100th the
 * `sampleSize` highest. The centre of percentile q is sorted position `round(q/100 (n-1))`.
 *
 * @example
 * ```ts
 * import { percentileSubsets } from "./ches_select.ts";
 * const scores = [5, 0, 9, 3, 7, 1, 8, 2, 6, 4]; // position i has a distinct score
 * const subs = percentileSubsets(scores, { percentiles: [0, 50, 100], sampleSize: 3 });
 * console.log(subs.map((s) => s.positions.map((p) => scores[p]).join(",")));
 * // [ "0,1,2", "4,5,6", "7,8,9" ]
 * ```
 */
export function percentileSubsets(
  values: VectorLike,
  opts: PercentileOptions = {},
): PercentileSubset[] {
  const v = finiteScores(values);
  const n = v.length;
  const size = opts.sampleSize ?? 512;
  if (!Number.isInteger(size) || size < 1) {
    throw new RangeError(`sampleSize: ${opts.sampleSize} is not a positive integer`);
  }
  if (size > n) throw new RangeError(`sampleSize ${size} exceeds the ${n} scored pairs`);
  const sorted = rankByScore(v);
  return (opts.percentiles ?? [0, 25, 50, 75, 100]).map((q) => {
    if (!(q >= 0 && q <= 100)) throw new RangeError(`percentile ${q} is not in [0, 100]`);
    const centre = Math.round((q / 100) * (n - 1));
    const start = Math.min(Math.max(centre - Math.floor(size / 2), 0), n - size);
    const positions = sorted.slice(start, start + size);
    return {
      percentile: q,
      positions,
      range: [v[positions[0]], v[positions[size - 1]]] as [number, number],
    };
  });
}

/** Options of {@link lowestScores}. */
export interface LowestOptions {
  /** Percentage of pairs to keep, in (0, 100] (the paper: 5 for length-normalised CHES). */
  percent: number;
}

/**
 * Positions of the `ceil(percent/100 * n)` lowest-scoring pairs, lowest first: the
 * paper's filter that keeps the pairs least likely to cause likelihood displacement.
 *
 * @example
 * ```ts
 * import { lowestScores } from "./ches_select.ts";
 * console.log(lowestScores([0.4, -1, 3, 0.1], { percent: 50 })); // [1, 3]
 * ```
 */
export function lowestScores(values: VectorLike, opts: LowestOptions): number[] {
  const v = finiteScores(values);
  const pct = opts.percent;
  if (!(pct > 0 && pct <= 100)) throw new RangeError(`percent: ${pct} is not in (0, 100]`);
  // The epsilon keeps 5% of 100 at 5 despite 0.05 * 100 = 5.000000000000001.
  const k = Math.ceil((pct / 100) * v.length - 1e-9);
  return rankByScore(v).slice(0, k);
}
