/**
 * Summaries and 95% intervals for study results: mean and median, a t-based interval over seeds,
 * a Welch interval for a difference of means, and a seeded percentile bootstrap over pairs.
 *
 * @module
 */
import { mulberry32 } from "../core/rng.ts";

/** An estimate with its interval; `n` observations, `method` says how the interval was made. */
export interface Interval {
  mean: number;
  lo: number;
  hi: number;
  n: number;
  level: number;
  method: string;
}

function finite(xs: readonly number[], who: string, least = 1): void {
  if (!Array.isArray(xs) || xs.length < least) {
    throw new RangeError(`${who}: needs at least ${least} value(s), got ${xs?.length ?? 0}`);
  }
  const bad = xs.findIndex((x) => typeof x !== "number" || !Number.isFinite(x));
  if (bad >= 0) throw new RangeError(`${who}: value ${bad} is not a finite number (${xs[bad]})`);
}

/**
 * Arithmetic mean.
 *
 * @example
 * ```ts
 * import { mean } from "./stats.ts";
 * console.log(mean([1, 2, 6])); // 3
 * ```
 */
export function mean(xs: readonly number[]): number {
  finite(xs, "mean");
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/**
 * Median (the mean of the two middle values for an even count).
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * console.log(median([5, 1, 4, 2])); // 3
 * ```
 */
export function median(xs: readonly number[]): number {
  finite(xs, "median");
  const v = [...xs].sort((a, b) => a - b);
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : (v[m - 1]! + v[m]!) / 2;
}

/**
 * Sample standard deviation (n − 1 in the denominator).
 *
 * @example
 * ```ts
 * import { sampleSd } from "./stats.ts";
 * console.log(sampleSd([2, 4, 4, 4, 5, 5, 7, 9]).toFixed(4)); // 2.1381
 * ```
 */
export function sampleSd(xs: readonly number[]): number {
  finite(xs, "sampleSd", 2);
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}

function logGamma(x: number): number {
  // Lanczos (g = 7, n = 9): ~15 significant digits for x > 0.
  const c = [
    0.99999999999980993,
    676.5203681218851,
    -1259.1392167224028,
    771.32342877765313,
    -176.61502916214059,
    12.507343278686905,
    -0.13857109526572012,
    9.9843695780195716e-6,
    1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0]!;
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

// Continued fraction of the regularized incomplete beta (modified Lentz).
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1, d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    for (
      const num of [
        (m * (b - m) * x) / ((a + 2 * m - 1) * (a + 2 * m)),
        (-(a + m) * (a + b + m) * x) / ((a + 2 * m) * (a + 2 * m + 1)),
      ]
    ) {
      d = 1 + num * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + num / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

function incompleteBeta(a: number, b: number, x: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x),
  );
  return x < (a + 1) / (a + b + 2)
    ? (front * betaFraction(a, b, x)) / a
    : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T ≤ t) for Student's t with `df` degrees of freedom (df may be fractional, as Welch's). */
export function tCdf(t: number, df: number): number {
  const tail = 0.5 * incompleteBeta(df / 2, 0.5, df / (df + t * t));
  return t >= 0 ? 1 - tail : tail;
}

/**
 * The p-quantile of Student's t with `df` degrees of freedom (df > 0, may be fractional).
 *
 * @example
 * ```ts
 * import { tQuantile } from "./stats.ts";
 * console.log(tQuantile(0.975, 4).toFixed(3)); // 2.776 (the table value)
 * ```
 */
export function tQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1)) throw new RangeError(`tQuantile: p must be in (0, 1), got ${p}`);
  if (!(df > 0)) throw new RangeError(`tQuantile: df must be > 0, got ${df}`);
  if (p < 0.5) return -tQuantile(1 - p, df);
  let lo = 0, hi = 1;
  while (tCdf(hi, df) < p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * Mean with a t-based interval, for independent runs (e.g. one value per seed, n ≥ 2); `unit`
 * names them in the interval's description.
 *
 * @example
 * ```ts
 * import { meanCI } from "./stats.ts";
 * const ci = meanCI([1, 2, 3, 4, 5]); // mean 3, sd 1.581, t(0.975, 4) = 2.776
 * console.log(ci.lo.toFixed(3), ci.hi.toFixed(3)); // 1.037 4.963
 * ```
 */
export function meanCI(xs: readonly number[], level = 0.95, unit = "runs"): Interval {
  finite(xs, "meanCI", 2);
  const m = mean(xs), n = xs.length;
  const half = tQuantile(0.5 + level / 2, n - 1) * sampleSd(xs) / Math.sqrt(n);
  return { mean: m, lo: m - half, hi: m + half, n, level, method: `t over ${n} ${unit}` };
}

/**
 * Difference of means `a − b` with Welch's interval (unequal variances, Welch–Satterthwaite
 * degrees of freedom), for two independent sets of runs (or pairs: say so in `unit`); `n` is
 * the smaller size.
 *
 * @example
 * ```ts
 * import { diffMeansCI } from "./stats.ts";
 * const d = diffMeansCI([3, 4, 5], [1, 2, 3]); // diff 2, se 0.8165, df 4
 * console.log(d.mean, d.lo.toFixed(3), d.hi.toFixed(3)); // 2 -0.267 4.267
 * ```
 */
export function diffMeansCI(
  a: readonly number[],
  b: readonly number[],
  level = 0.95,
  unit = "runs",
): Interval {
  finite(a, "diffMeansCI (a)", 2);
  finite(b, "diffMeansCI (b)", 2);
  const va = sampleSd(a) ** 2 / a.length, vb = sampleSd(b) ** 2 / b.length;
  const se = Math.sqrt(va + vb);
  const d = mean(a) - mean(b);
  if (se === 0) {
    return { mean: d, lo: d, hi: d, n: Math.min(a.length, b.length), level, method: "exact" };
  }
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const half = tQuantile(0.5 + level / 2, df) * se;
  return {
    mean: d,
    lo: d - half,
    hi: d + half,
    n: Math.min(a.length, b.length),
    level,
    method: `Welch t, ${a.length} vs ${b.length} ${unit}`,
  };
}

/** Options for {@link bootstrapCI}. */
export interface BootstrapOptions {
  /** Resamples; default 4000. */
  resamples?: number;
  /** Seed of the resampling; default 1 (same data, same interval). */
  seed?: number;
  /** Interval level; default 0.95. */
  level?: number;
}

function quantileSorted(v: readonly number[], p: number): number {
  const i = Math.min(v.length - 1, Math.max(0, Math.ceil(p * v.length) - 1));
  return v[i]!;
}

/**
 * Percentile bootstrap interval of `statistic` over `items` (pairs, prompts: the data as the
 * randomness), resampling with replacement from a seeded generator. `mean` is the statistic on
 * the full data.
 *
 * @example
 * ```ts
 * import { bootstrapCI, mean } from "./stats.ts";
 * const ci = bootstrapCI([0, 0, 0, 1], mean);
 * console.log(ci.lo, ci.hi); // 0 0.75
 * ```
 */
export function bootstrapCI<T>(
  items: readonly T[],
  statistic: (sample: readonly T[]) => number,
  opts: BootstrapOptions = {},
): Interval {
  const n = items.length;
  if (n < 2) throw new RangeError(`bootstrapCI: needs at least 2 items, got ${n}`);
  const resamples = opts.resamples ?? 4000, level = opts.level ?? 0.95;
  if (!(resamples >= 100)) throw new RangeError(`bootstrapCI: resamples must be >= 100`);
  const u = mulberry32(opts.seed ?? 1);
  const stats: number[] = [];
  const sample: T[] = new Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) sample[i] = items[Math.floor(u() * n)]!;
    const s = statistic(sample);
    if (Number.isFinite(s)) stats.push(s);
  }
  if (stats.length < resamples / 2) {
    throw new RangeError(`bootstrapCI: the statistic was not finite on most resamples`);
  }
  stats.sort((a, b) => a - b);
  return {
    mean: statistic(items),
    lo: quantileSorted(stats, (1 - level) / 2),
    hi: quantileSorted(stats, (1 + level) / 2),
    n,
    level,
    method: `bootstrap over ${n} items, ${resamples} resamples`,
  };
}

/** The range a quantity cannot leave, for {@link boundedMeanCI}: `[lower, upper]`. */
export interface Bounds {
  lower: number;
  upper: number;
}

/**
 * Mean of values that cannot leave `[lower, upper]` (shares in [0, 1], correlations in [−1, 1],
 * differences of probabilities) over independent runs, with a t interval built on the logit of
 * the mean's place in the range and mapped back, so both ends stay inside the bounds. The
 * half-width on that scale is `t(n−1) · (s/√n) / (u(1 − u)(upper − lower))` for
 * `u = (mean − lower)/(upper − lower)` (the delta method); for `[−1, 1]` this is Fisher's z
 * (`atanh`) applied to the mean. The point estimate stays the plain mean; when every run gives
 * the same value the interval is that value, with a method saying so.
 *
 * @example
 * ```ts
 * import { boundedMeanCI, meanCI } from "./stats.ts";
 * const shares = [0.1, 0.9, 0.05, 0.2, 0.0];
 * console.log(meanCI(shares).lo < 0); // true: the plain t interval leaves [0, 1]
 * const ci = boundedMeanCI(shares, { lower: 0, upper: 1 });
 * console.log(ci.lo > 0 && ci.hi < 1, ci.mean.toFixed(2)); // true 0.25
 * ```
 */
export function boundedMeanCI(
  xs: readonly number[],
  bounds: Bounds,
  level = 0.95,
  unit = "runs",
): Interval {
  finite(xs, "boundedMeanCI", 2);
  const { lower, upper } = bounds;
  if (!(Number.isFinite(lower) && Number.isFinite(upper) && lower < upper)) {
    throw new RangeError(`boundedMeanCI: bounds must be finite with lower < upper`);
  }
  const out = xs.findIndex((x) => x < lower || x > upper);
  if (out >= 0) {
    throw new RangeError(
      `boundedMeanCI: value ${out} (${xs[out]}) is outside [${lower}, ${upper}]`,
    );
  }
  const m = mean(xs), n = xs.length, sd = sampleSd(xs);
  const scale = lower === -1 && upper === 1 ? "atanh (Fisher z)" : "logit";
  if (sd === 0) return { mean: m, lo: m, hi: m, n, level, method: `all ${n} ${unit} equal` };
  const width = upper - lower, u = (m - lower) / width;
  const half = tQuantile(0.5 + level / 2, n - 1) * (sd / Math.sqrt(n)) / (width * u * (1 - u));
  const z = Math.log(u / (1 - u));
  const back = (v: number) => lower + width / (1 + Math.exp(-v));
  return {
    mean: m,
    lo: back(z - half),
    hi: back(z + half),
    n,
    level,
    method: `t on the ${scale} scale of [${lower}, ${upper}], over ${n} ${unit}`,
  };
}
