/**
 * Calibration of a positive scale (a learning rate, a step count) so that a measured outcome
 * reaches a target: the "matched effective step size" of studies that compare objectives whose
 * gradients differ by orders of magnitude.
 *
 * @module
 */

/** Options of {@link calibrateScale}. */
export interface CalibrateOptions {
  /** The outcome wanted, e.g. a margin gain of 3 nats after N steps. */
  target: number;
  /** First scale tried (> 0), e.g. a linear extrapolation from a one-step probe. */
  start: number;
  /** Accept a scale whose outcome is within this distance of the target (> 0). */
  tol: number;
  /** Smallest and largest scale tried; default start / 1e4 and start · 1e4. */
  min?: number;
  max?: number;
  /** Factor of each bracketing step; default 4. */
  factor?: number;
  /** Most evaluations of the outcome; default 12. */
  maxEvals?: number;
}

/** What {@link calibrateScale} found: the evaluation closest to the target, and all of them. */
export interface Calibration {
  scale: number;
  value: number;
  /** True when `|value − target| ≤ tol`. */
  reached: boolean;
  history: { scale: number; value: number }[];
}

function checkOptions(o: CalibrateOptions): Required<CalibrateOptions> {
  const full = {
    min: o.start / 1e4,
    max: o.start * 1e4,
    factor: 4,
    maxEvals: 12,
    ...o,
  };
  for (const k of ["start", "tol", "min", "max"] as const) {
    if (!(full[k] > 0 && Number.isFinite(full[k]))) {
      throw new RangeError(`calibrateScale: ${k} must be a finite number > 0, got ${full[k]}`);
    }
  }
  if (!Number.isFinite(full.target)) throw new RangeError(`calibrateScale: target must be finite`);
  if (!(full.factor > 1)) throw new RangeError(`calibrateScale: factor must be > 1`);
  if (!(full.maxEvals >= 2)) throw new RangeError(`calibrateScale: maxEvals must be >= 2`);
  if (!(full.min <= full.start && full.start <= full.max)) {
    throw new RangeError(`calibrateScale: start must lie in [min, max]`);
  }
  return full;
}

// Where the chord from (a, va) to (b, vb) meets the target; on ln-values when all are positive,
// so that an outcome growing as a power of the scale is hit in one step.
function falsePosition(a: number, b: number, va: number, vb: number, target: number): number {
  const logs = va > 0 && vb > 0 && target > 0;
  const [fa, fb, ft] = logs ? [va, vb, target].map(Math.log) : [va, vb, target];
  return a + (b - a) * ((ft - fa) / (fb - fa));
}

/**
 * Find a scale `x` with `f(x)` within `tol` of `target`, for an outcome that grows with the
 * scale (a margin after N steps of SGD grows with the learning rate until the steps become too
 * large). Brackets the target by multiplying or dividing by `factor`, then narrows the bracket
 * by regula falsi on ln x (and ln f where f > 0) with a bisection whenever that stalls. A non-finite outcome (a run that
 * diverged) counts as past the target. When the target is not reached within `maxEvals`
 * evaluations or the [min, max] range, `reached` is false and the closest evaluation is returned.
 *
 * @example
 * ```ts
 * import { calibrateScale } from "./calibrate.ts";
 * // outcome 3(1 − e^(−x)): reaches 2 at x = ln 3
 * const c = await calibrateScale((x) => 3 * (1 - Math.exp(-x)), { target: 2, start: 0.1, tol: 1e-3 });
 * console.log(c.reached, Math.abs(c.scale - Math.log(3)) < 1e-2); // true true
 * ```
 */
export async function calibrateScale(
  f: (scale: number) => number | Promise<number>,
  opts: CalibrateOptions,
): Promise<Calibration> {
  const o = checkOptions(opts);
  const history: { scale: number; value: number }[] = [];
  const gap = (v: number) => (Number.isFinite(v) ? v - o.target : Infinity);
  const evaluate = async (x: number) => {
    const value = await f(x);
    history.push({ scale: x, value });
    return gap(value);
  };
  const done = () => {
    const best = history.reduce((
      a,
      b,
    ) => (Math.abs(gap(b.value)) < Math.abs(gap(a.value)) ? b : a));
    return { ...best, reached: Math.abs(gap(best.value)) <= o.tol, history };
  };
  // Bracket: lo has an outcome below the target, hi one above (or non-finite).
  let x = o.start, g = await evaluate(x);
  let lo: [number, number] | undefined, hi: [number, number] | undefined;
  if (g < 0) lo = [x, g];
  else hi = [x, g];
  while (Math.abs(g) > o.tol && !(lo && hi) && history.length < o.maxEvals) {
    const next = Math.min(o.max, Math.max(o.min, lo ? x * o.factor : x / o.factor));
    if (next === x) return done();
    x = next;
    g = await evaluate(x);
    if (g < 0) lo = [x, g];
    else hi = [x, g];
  }
  // Regula falsi on ln x; after two steps that move the same end (a slow, one-sided approach)
  // or with a non-finite upper outcome, one bisection.
  let lastSide = 0, repeats = 0;
  while (Math.abs(g) > o.tol && lo && hi && history.length < o.maxEvals) {
    const [a, ga] = [Math.log(lo[0]), lo[1]], [b, gb] = [Math.log(hi[0]), hi[1]];
    const bisect = !Number.isFinite(gb) || repeats >= 2;
    const t = bisect ? (a + b) / 2 : falsePosition(a, b, ga + o.target, gb + o.target, o.target);
    x = Math.exp(Math.min(b - 0.02 * (b - a), Math.max(a + 0.02 * (b - a), t)));
    g = await evaluate(x);
    const side = g < 0 ? -1 : 1;
    repeats = bisect ? 0 : side === lastSide ? repeats + 1 : 1;
    lastSide = side;
    if (g < 0) lo = [x, g];
    else hi = [x, g];
  }
  return done();
}
