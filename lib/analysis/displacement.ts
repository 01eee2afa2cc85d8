/**
 * Likelihood displacement (Razin et al., arXiv 2410.08847, Definition 1): training lowered the
 * log-probability of the preferred response, `ln pi_t(y+|x) < ln pi_0(y+|x)`, per pair and on
 * average; and a label for where the lost mass went (benign or catastrophic).
 *
 * @module
 */
import { toFloat64, type VectorLike } from "./util.ts";

/** One pair's preferred log-prob at the start and now. */
export interface PairDisplacement {
  /** Position of the pair in the inputs. */
  index: number;
  initial: number;
  final: number;
  /** `final - initial` (nats). */
  change: number;
  /** Definition 1 per sample: `final < initial`. */
  displaced: boolean;
}

/** Result of {@link displacement}. */
export interface DisplacementSummary {
  pairs: PairDisplacement[];
  /** Share of pairs whose preferred log-prob fell. */
  fractionDisplaced: number;
  meanInitial: number;
  meanFinal: number;
  /** `meanFinal - meanInitial`. */
  meanChange: number;
  /**
   * Definition 1 over the data: the mean preferred log-prob fell (and, when losses were given,
   * the loss decreased).
   */
  displaced: boolean;
  /** Whether the loss decreased; undefined when no losses were given. */
  lossDecreased?: boolean;
}

/** Options of {@link displacement}. */
export interface DisplacementOptions {
  /** Training loss at the start and at the end; Definition 1 requires that it decreased. */
  loss?: { initial: number; final: number };
}

/**
 * Per-pair and mean likelihood displacement from preferred-response log-probs at the start
 * (`initial`) and now (`final`), both summed over completion tokens.
 *
 * @example
 * ```ts
 * import { displacement } from "./displacement.ts";
 * const d = displacement([-2, -3], [-2.5, -2.9]);
 * console.log(d.fractionDisplaced, d.meanChange.toFixed(2), d.displaced); // 0.5 -0.20 true
 * ```
 */
export function displacement(
  initial: VectorLike,
  final: VectorLike,
  opts: DisplacementOptions = {},
): DisplacementSummary {
  const a = toFloat64(initial, "initial"), b = toFloat64(final, "final");
  if (a.length !== b.length) {
    throw new RangeError(`initial has ${a.length} entries but final has ${b.length}`);
  }
  if (a.length === 0) throw new RangeError("initial: no pairs");
  const pairs: PairDisplacement[] = [];
  let s0 = 0, s1 = 0, count = 0;
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
      throw new RangeError(`pair ${i}: log-probs must be finite, got ${a[i]} -> ${b[i]}`);
    }
    const displaced = b[i] < a[i];
    pairs.push({ index: i, initial: a[i], final: b[i], change: b[i] - a[i], displaced });
    s0 += a[i];
    s1 += b[i];
    if (displaced) count++;
  }
  const n = a.length;
  const meanInitial = s0 / n, meanFinal = s1 / n;
  const lossDecreased = opts.loss ? opts.loss.final < opts.loss.initial : undefined;
  return {
    pairs,
    fractionDisplaced: count / n,
    meanInitial,
    meanFinal,
    meanChange: meanFinal - meanInitial,
    displaced: meanFinal < meanInitial && lossDecreased !== false,
    lossDecreased,
  };
}

/** A log-probability at the start and now. */
export interface LogProbPath {
  initial: number;
  final: number;
}

/** Options of {@link labelDisplacement}. */
export interface LabelOptions {
  /**
   * Log-probs (initial and final) of responses judged as good as y+ (y+ itself excluded).
   * Any set works: paraphrases of y+, other refusals, synonyms of a single token.
   */
  good: readonly LogProbPath[];
  /**
   * Share of the mass lost by y+ that the good set must gain for the displacement to count
   * as benign (default 0.5: "mostly").
   */
  benignShare?: number;
}

/** Result of {@link labelDisplacement}. */
export interface DisplacementLabel {
  /** `final < initial` for y+. */
  displaced: boolean;
  /** `pi_0(y+) - pi_t(y+)` (may underflow to 0 for long sequences; the share does not). */
  lostMass: number;
  /** Total `pi_t(g) - pi_0(g)` over the good set. */
  goodGain: number;
  /** `goodGain / lostMass`, computed in a shifted log scale so it survives underflow. */
  goodShare: number;
  /** "none" when not displaced; else "benign" when `goodShare >= benignShare`, else "catastrophic". */
  kind: "none" | "benign" | "catastrophic";
}

/**
 * Label a preferred response's displacement benign (its lost mass went mostly to responses as
 * good as it) or catastrophic (it went elsewhere), from log-probs at the start and now.
 *
 * @example
 * ```ts
 * import { labelDisplacement } from "./displacement.ts";
 * const chosen = { initial: Math.log(0.6), final: Math.log(0.2) };
 * const good = [{ initial: Math.log(0.1), final: Math.log(0.4) }];
 * console.log(labelDisplacement(chosen, { good }).kind); // benign
 * ```
 */
export function labelDisplacement(chosen: LogProbPath, opts: LabelOptions): DisplacementLabel {
  const threshold = opts.benignShare ?? 0.5;
  if (!(threshold >= 0 && threshold <= 1)) {
    throw new RangeError(`benignShare: ${threshold} is not in [0, 1]`);
  }
  const all = [chosen, ...opts.good];
  all.forEach((p, i) => {
    const name = i === 0 ? "chosen" : `good[${i - 1}]`;
    if (typeof p?.initial !== "number" || typeof p?.final !== "number") {
      throw new TypeError(`${name}: expected { initial: number, final: number }`);
    }
    if (Number.isNaN(p.initial) || Number.isNaN(p.final) || p.initial > 1e-9 || p.final > 1e-9) {
      throw new RangeError(`${name}: ${p.initial} -> ${p.final} are not log-probabilities`);
    }
  });
  const displaced = chosen.final < chosen.initial;
  // Shift by the largest log-prob so that the ratio survives when every probability underflows.
  let m = -Infinity;
  for (const p of all) m = Math.max(m, p.initial, p.final);
  if (m === -Infinity) m = 0;
  const lost = Math.exp(chosen.initial - m) - Math.exp(chosen.final - m);
  let gained = 0;
  for (const g of opts.good) gained += Math.exp(g.final - m) - Math.exp(g.initial - m);
  const share = lost > 0 ? gained / lost : NaN;
  const scale = Math.exp(m);
  return {
    displaced,
    lostMass: lost * scale,
    goodGain: gained * scale,
    goodShare: share,
    kind: !displaced ? "none" : share >= threshold ? "benign" : "catastrophic",
  };
}
