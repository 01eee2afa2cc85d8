/**
 * Summaries of repeated timings: the median and the spread of a handful of runs.
 *
 * A benchmark on a shared machine sees slow outliers (another process took the core) far more
 * often than fast ones, so the median is the figure and the spread is given as the quartiles
 * and the extremes rather than a standard deviation.
 *
 * @module
 */

/** Median and spread of repeated measurements. */
export interface Summary {
  /** Number of measurements. */
  n: number;
  median: number;
  min: number;
  max: number;
  /** First and third quartiles (linear interpolation between order statistics). */
  q1: number;
  q3: number;
  /** (q3 - q1) / median: the relative spread; 0 for a single measurement. */
  relIqr: number;
}

function finiteList(xs: readonly number[], what: string): number[] {
  if (xs.length === 0) throw new RangeError(`${what}: no measurements to summarise`);
  xs.forEach((x, i) => {
    if (!Number.isFinite(x)) throw new RangeError(`${what}: measurement ${i} is ${x}`);
  });
  return [...xs].sort((a, b) => a - b);
}

/**
 * The p-quantile (0 <= p <= 1) of sorted values, interpolating linearly between neighbours
 * (the "type 7" rule of R and numpy's default).
 *
 * @example
 * ```ts
 * import { quantileSorted } from "./stats.ts";
 * console.log(quantileSorted([1, 2, 3, 4], 0.25)); // 1.75
 * ```
 */
export function quantileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError("quantileSorted: empty list");
  if (!(p >= 0 && p <= 1)) throw new RangeError(`quantileSorted: p must be in [0, 1], got ${p}`);
  const h = (sorted.length - 1) * p;
  const lo = Math.floor(h), hi = Math.ceil(h);
  return sorted[lo]! + (h - lo) * (sorted[hi]! - sorted[lo]!);
}

/**
 * Median of a list (the mean of the two middle values for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * console.log(median([5, 1, 3, 100])); // 4
 * ```
 */
export function median(xs: readonly number[]): number {
  return quantileSorted(finiteList(xs, "median"), 0.5);
}

/**
 * Median, quartiles, extremes and relative spread of repeated measurements. Throws when the
 * list is empty or holds a non-finite value (a failed run must not pass as a number).
 *
 * @example
 * ```ts
 * import { summarize } from "./stats.ts";
 * const s = summarize([10, 12, 11, 30]);
 * console.log(s.median, s.q1, s.q3); // 11.5 10.75 16.5
 * ```
 */
export function summarize(xs: readonly number[], what = "summarize"): Summary {
  const s = finiteList(xs, what);
  const med = quantileSorted(s, 0.5);
  const q1 = quantileSorted(s, 0.25), q3 = quantileSorted(s, 0.75);
  return {
    n: s.length,
    median: med,
    min: s[0]!,
    max: s[s.length - 1]!,
    q1,
    q3,
    relIqr: med === 0 ? 0 : (q3 - q1) / Math.abs(med),
  };
}

/**
 * Turns per-run durations (ms) into per-run rates (`units / second`) and summarises them; the
 * median rate is `units / median time` (a monotone map keeps the median's place).
 *
 * @example
 * ```ts
 * import { rateSummary } from "./stats.ts";
 * console.log(rateSummary([500, 1000, 250], 100).median); // 200 (units per second)
 * ```
 */
export function rateSummary(durationsMs: readonly number[], units: number): Summary {
  if (!(units > 0)) throw new RangeError(`rateSummary: units must be positive, got ${units}`);
  durationsMs.forEach((d, i) => {
    if (!(d > 0)) throw new RangeError(`rateSummary: duration ${i} is ${d} ms`);
  });
  return summarize(durationsMs.map((d) => (units * 1000) / d), "rateSummary");
}

/**
 * One-line rendering: `median (q1-q3, n=5)` with `digits` significant digits.
 *
 * @example
 * ```ts
 * import { formatSummary, summarize } from "./stats.ts";
 * console.log(formatSummary(summarize([1, 2, 3]))); // "2.00 (1.50-2.50, n=3)"
 * ```
 */
export function formatSummary(s: Summary, digits = 3): string {
  const f = (x: number) => formatNumber(x, digits);
  return s.n === 1 ? `${f(s.median)} (n=1)` : `${f(s.median)} (${f(s.q1)}-${f(s.q3)}, n=${s.n})`;
}

/**
 * A number with `digits` significant digits, without exponent for everyday magnitudes.
 *
 * @example
 * ```ts
 * import { formatNumber } from "./stats.ts";
 * console.log(formatNumber(12345.6), formatNumber(0.012345)); // "12346" "0.0123"
 * ```
 */
export function formatNumber(x: number, digits = 3): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const mag = Math.floor(Math.log10(Math.abs(x)));
  if (mag >= digits - 1) return Math.round(x).toString();
  if (mag < -4) return x.toExponential(digits - 1);
  return x.toFixed(digits - 1 - mag);
}
