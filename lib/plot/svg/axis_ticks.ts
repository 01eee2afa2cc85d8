/**
 * The SVG renderer's tick positions and labels per axis: category slots thinned to fit, decades
 * on log axes, nice steps on linear ones.
 *
 * @module
 */
import { formatTick, linearTicks, logTicks, niceStep } from "../ticks.ts";
import { toPx } from "./axes.ts";
import type { AxisState } from "./model.ts";

/** A tick: pixel position, label and value (axis units). */
export interface Tick {
  px: number;
  label: string;
  value: number;
}

/** "1e−12" for a power of ten (shorter than "1.0e−12", so decades stay apart), else as formatTick. */
function decadeLabel(v: number): string {
  const k = Math.round(Math.log10(v));
  if (Math.abs(v / 10 ** k - 1) > 1e-9) return formatTick(v, v / 10);
  return `1e${k < 0 ? "\u2212" : ""}${Math.abs(k)}`;
}

/**
 * The ticks of a placed axis, about one per 90 px (x) or 55 px (y).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ticksFor } from "./axis_ticks.ts";
 * const ax = { id: "x", dir: "x" as const, spec: {}, type: "linear" as const, categories: [],
 *   range: [0, 10] as [number, number], px: [0, 200] as [number, number] };
 * assert.deepEqual(ticksFor(ax).map((t) => t.label), ["0", "5", "10"]);
 * ```
 */
export function ticksFor(ax: AxisState): Tick[] {
  const [lo, hi] = [Math.min(...ax.range), Math.max(...ax.range)];
  const lenPx = Math.abs(ax.px[1] - ax.px[0]);
  const target = Math.max(2, Math.round(lenPx / (ax.dir === "x" ? 90 : 55)));
  if (ax.type === "category") {
    const every = Math.max(1, Math.ceil(ax.categories.length / Math.max(2, lenPx / 40)));
    return ax.categories.flatMap((c, i) =>
      i % every === 0 && i >= lo && i <= hi ? [{ px: toPx(ax, c)!, label: c, value: i }] : []
    );
  }
  if (ax.type === "log") {
    return logTicks(lo, hi).map((v) => ({
      px: toPx(ax, v)!,
      value: v,
      label: v >= 1e4 || v < 1e-3 ? decadeLabel(v) : formatTick(v, v < 1 ? v : 1),
    }));
  }
  const step = niceStep(hi - lo, target);
  return linearTicks(lo, hi, target).map((v) => ({
    px: toPx(ax, v)!,
    value: v,
    label: formatTick(v, step),
  }));
}
