/**
 * Where probability mass went: pure functions on two next-token distributions (before and
 * after training), for the single-token experiments of the likelihood-displacement paper
 * (arXiv 2410.08847, section 3) and the squeezing effect (arXiv 2407.10490, section 3.3).
 *
 * @module
 */
import { toFloat64, type VectorLike } from "./util.ts";

/** One token's probability before and after, as ranked by {@link topKGains}. */
export interface TokenGain {
  token: number;
  before: number;
  after: number;
  /** `after - before` in probability. */
  gain: number;
  /** `ln after - ln before` (Infinity when `before` is 0 and `after` is not). */
  logGain: number;
}

/** Options of {@link topKGains}. */
export interface TopKOptions {
  /** How many tokens to return (default 10). */
  k?: number;
  /** Rank by probability gain (default) or by log-probability gain, as the paper's tracker does both. */
  by?: "probability" | "logProbability";
  /** Tokens to leave out of the ranking (e.g. y+ and y-). */
  exclude?: Iterable<number>;
}

function checkDistribution(p: Float64Array, name: string): void {
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    if (!(p[i] >= 0)) throw new RangeError(`${name}[${i}] = ${p[i]} is not a probability`);
    s += p[i];
  }
  if (Math.abs(s - 1) > 1e-3) throw new RangeError(`${name} sums to ${s}, not 1`);
}

/**
 * The `k` tokens whose probability rose most from `p0` to `p1`: where the mass that left
 * the preferred response went.
 *
 * @example
 * ```ts
 * import { topKGains } from "./distribution.ts";
 * const top = topKGains([0.5, 0.3, 0.2], [0.2, 0.3, 0.5], 1);
 * console.log(top[0].token, top[0].gain.toFixed(2)); // 2 0.30
 * ```
 */
export function topKGains(
  p0: VectorLike,
  p1: VectorLike,
  opts: number | TopKOptions = {},
): TokenGain[] {
  const o: TopKOptions = typeof opts === "number" ? { k: opts } : opts;
  const k = o.k ?? 10;
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`k: ${k} is not a count`);
  const a = toFloat64(p0, "p0"), b = toFloat64(p1, "p1");
  if (a.length !== b.length) {
    throw new RangeError(`p0 has ${a.length} entries but p1 has ${b.length}`);
  }
  checkDistribution(a, "p0");
  checkDistribution(b, "p1");
  const skip = new Set(o.exclude ?? []);
  const rows: TokenGain[] = [];
  for (let z = 0; z < a.length; z++) {
    if (skip.has(z)) continue;
    rows.push({
      token: z,
      before: a[z],
      after: b[z],
      gain: b[z] - a[z],
      logGain: Math.log(b[z]) - Math.log(a[z]),
    });
  }
  const key = o.by === "logProbability" ? "logGain" : "gain";
  // Ties broken by token id so the order is reproducible.
  rows.sort((x, y) => (y[key] - x[key]) || (x.token - y.token));
  return rows.slice(0, k);
}

/** Summary of how peaked a distribution is, for the squeezing effect. */
export interface ArgmaxMass {
  /** The most probable token. */
  token: number;
  /** Its probability: the mass of the greedy (single-token) response. */
  mass: number;
  /** Its log-probability: the greedy response's log-prob. */
  logProb: number;
}

/**
 * The argmax token of a distribution and its mass. Under a negative gradient the argmax mass
 * grows while nearly every other token falls (the squeezing effect).
 *
 * @example
 * ```ts
 * import { argmaxMass } from "./distribution.ts";
 * console.log(argmaxMass([0.1, 0.7, 0.2]).token); // 1
 * ```
 */
export function argmaxMass(p: VectorLike): ArgmaxMass {
  const a = toFloat64(p, "p");
  if (a.length === 0) throw new RangeError("p: empty distribution");
  let best = 0;
  for (let i = 1; i < a.length; i++) if (a[i] > a[best]) best = i;
  return { token: best, mass: a[best], logProb: Math.log(a[best]) };
}

/**
 * Softmax of a logit vector in float64 (max-shifted).
 *
 * @example
 * ```ts
 * import { softmax64 } from "./distribution.ts";
 * console.log(softmax64([0, 0])); // Float64Array [0.5, 0.5]
 * ```
 */
export function softmax64(logits: VectorLike): Float64Array {
  const z = toFloat64(logits, "logits");
  let m = -Infinity;
  for (const v of z) m = Math.max(m, v);
  let s = 0;
  const out = new Float64Array(z.length);
  for (let i = 0; i < z.length; i++) s += out[i] = Math.exp(z[i] - m);
  for (let i = 0; i < z.length; i++) out[i] /= s;
  return out;
}

/** Options of {@link massShift}. */
export interface MassShiftOptions {
  /** The preferred token y+. */
  chosen: number;
  /** The dispreferred token y-. */
  rejected?: number;
  /** Tokens judged as good as y+ (for the benign/catastrophic split). */
  good?: Iterable<number>;
}

/** How the mass of a single-token distribution moved between two times. */
export interface MassShift {
  /** Change of pi(y+): negative when y+ was displaced. */
  chosen: number;
  /** Change of pi(y-), NaN without `rejected`. */
  rejected: number;
  /** Change of the total mass of the good set (y+ excluded). */
  good: number;
  /** Change of the mass of every other token (neither y+, y- nor good): the "OOD" mass. */
  other: number;
}

/**
 * Split the change from `p0` to `p1` into y+, y-, the good set and everything else; the four
 * parts sum to zero.
 *
 * @example
 * ```ts
 * import { massShift } from "./distribution.ts";
 * const s = massShift([0.6, 0.3, 0.1], [0.4, 0.1, 0.5], { chosen: 0, rejected: 1 });
 * console.log(s.chosen.toFixed(1), s.other.toFixed(1)); // -0.2 0.4
 * ```
 */
export function massShift(p0: VectorLike, p1: VectorLike, opts: MassShiftOptions): MassShift {
  const a = toFloat64(p0, "p0"), b = toFloat64(p1, "p1");
  if (a.length !== b.length) {
    throw new RangeError(`p0 has ${a.length} entries but p1 has ${b.length}`);
  }
  const n = a.length;
  const check = (i: number, name: string) => {
    if (!Number.isInteger(i) || i < 0 || i >= n) {
      throw new RangeError(`${name}: ${i} is not a token index in [0, ${n})`);
    }
  };
  check(opts.chosen, "chosen");
  if (opts.rejected !== undefined) check(opts.rejected, "rejected");
  const good = new Set(opts.good ?? []);
  for (const g of good) check(g, "good");
  good.delete(opts.chosen);
  if (opts.rejected !== undefined) good.delete(opts.rejected);
  const out: MassShift = { chosen: 0, rejected: NaN, good: 0, other: 0 };
  for (let z = 0; z < n; z++) {
    const d = b[z] - a[z];
    if (z === opts.chosen) out.chosen = d;
    else if (z === opts.rejected) out.rejected = d;
    else if (good.has(z)) out.good += d;
    else out.other += d;
  }
  return out;
}
