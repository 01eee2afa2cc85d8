/**
 * Axis ticks for the static SVG renderer: "nice" steps (1, 2, 5 x 10^k) and compact labels.
 *
 * @module
 */

/**
 * A step of the form {1, 2, 5} x 10^k close to `span / target`.
 *
 * @example
 * ```ts
 * import { niceStep } from "./ticks.ts";
 * console.log(niceStep(10, 5)); // 2
 * console.log(niceStep(0.37, 5)); // 0.1
 * ```
 */
export function niceStep(span: number, target = 6): number {
  if (!(span > 0) || !Number.isFinite(span)) {
    throw new RangeError(`niceStep: span must be a positive finite number, got ${span}`);
  }
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const mult = norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10;
  return mult * mag;
}

/** Decimal places needed to print multiples of `step` exactly. */
export function stepDecimals(step: number): number {
  for (let d = 0; d < 15; d++) {
    const scaled = step * 10 ** d;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-9 * Math.max(1, scaled)) return d;
  }
  return 15;
}

/**
 * Tick values inside `[min, max]` at a nice step, aiming for about `target` ticks.
 *
 * @example
 * ```ts
 * import { linearTicks } from "./ticks.ts";
 * console.log(linearTicks(0, 1)); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 * ```
 */
export function linearTicks(min: number, max: number, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) {
    throw new RangeError(`linearTicks: need finite min < max, got [${min}, ${max}]`);
  }
  const step = niceStep(max - min, target);
  const decimals = stepDecimals(step);
  const first = Math.ceil(min / step - 1e-9);
  const last = Math.floor(max / step + 1e-9);
  const out: number[] = [];
  for (let k = first; k <= last; k++) out.push(Number((k * step).toFixed(decimals)));
  return out;
}

/**
 * Ticks for a log axis whose range is given in log10 units (plotly's convention): whole decades,
 * plus 2 and 5 within each decade when the range spans fewer than two decades (never the minor
 * digits 3, 4, 6, ...), and only every 2nd, 5th, 10th, ... decade when it spans more than eight.
 * Returns the tick values themselves (not their logs).
 *
 * @example
 * ```ts
 * import { logTicks } from "./ticks.ts";
 * console.log(logTicks(0, 3)); // [1, 10, 100, 1000]
 * console.log(logTicks(-34, -2).length); // 6 (every 5th decade: 1e-30 ... 1e-5)
 * ```
 */
export function logTicks(min: number, max: number): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max) || !(max > min)) {
    throw new RangeError(`logTicks: need finite min < max (log10 units), got [${min}, ${max}]`);
  }
  const mults = max - min < 2 ? [1, 2, 5] : [1];
  // Over many decades, every k-th decade (k from 1, 2, 5, 10, ...) so at most ~8 labels fit.
  const every = max - min <= 8 ? 1 : niceStep(max - min, 6);
  const out: number[] = [];
  for (let d = Math.ceil(Math.floor(min) / every) * every; d <= Math.ceil(max); d += every) {
    for (const m of mults) {
      const v = m * 10 ** d;
      const lv = Math.log10(v);
      if (lv >= min - 1e-9 && lv <= max + 1e-9) out.push(Number(v.toPrecision(12)));
    }
  }
  return out;
}

/**
 * A tick label: as many decimals as the step needs, exponent form for very large or small
 * magnitudes, and a true minus sign (U+2212) as typeset figures use.
 *
 * @example
 * ```ts
 * import { formatTick } from "./ticks.ts";
 * console.log(formatTick(-0.5, 0.25)); // "−0.50"
 * console.log(formatTick(2e-6, 1e-6)); // "2e−6"
 * ```
 */
export function formatTick(value: number, step: number): string {
  if (value === 0 || Object.is(value, -0)) return "0";
  const a = Math.abs(value);
  let s: string;
  if (a >= 1e6 || step < 1e-4) {
    const digits = Math.max(0, Math.min(6, stepDecimals(step / 10 ** Math.floor(Math.log10(a)))));
    s = value.toExponential(digits).replace("e+", "e");
  } else {
    s = value.toFixed(Math.min(10, stepDecimals(step)));
  }
  return s.replaceAll("-", "\u2212");
}

/**
 * The label of a log-axis tick: "1e−12" for decades far from 1 (shorter than "1.0e−12", so
 * decades stay apart), plain decimals near 1 ("0.05", "200").
 *
 * @example
 * ```ts
 * import { logTickLabel } from "./ticks.ts";
 * console.log(logTickLabel(0.05), logTickLabel(200), logTickLabel(1e-6), logTickLabel(2e-6)); // 0.05 200 1e−6 2e−6
 * ```
 */
export function logTickLabel(v: number): string {
  if (v >= 1e4 || v < 1e-3) {
    const k = Math.round(Math.log10(v));
    // 1-2-5 ticks between decades: "2e−6", not "2.0e−6".
    if (Math.abs(v / 10 ** k - 1) > 1e-9) return formatTick(v, v);
    return `1e${k < 0 ? "\u2212" : ""}${Math.abs(k)}`;
  }
  return formatTick(v, v < 1 ? v : 1);
}
