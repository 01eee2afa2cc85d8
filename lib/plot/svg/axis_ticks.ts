/**
 * The SVG renderer's tick positions and labels per axis: category slots thinned to fit, decades
 * on log axes, nice steps on linear ones.
 *
 * @module
 */
import { formatTick, linearTicks, logTickLabel, logTicks, niceStep } from "../ticks.ts";
import { toPx } from "./axes.ts";
import type { AxisState } from "./model.ts";

/** A tick: pixel position, label and value (axis units). */
export interface Tick {
  px: number;
  label: string;
  value: number;
}

/**
 * The ticks of a placed axis, about one per 90 px (x) or 55 px (y); an axis that pins its ticks
 * (`tickvals`, with `ticktext` or not, as plotly takes them) gets exactly those inside its range.
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
  const pinned = pinnedTicks(ax, lo, hi);
  if (pinned) return pinned;
  if (ax.type === "log") {
    return logTicks(lo, hi).map((v) => ({ px: toPx(ax, v)!, value: v, label: logTickLabel(v) }));
  }
  const step = niceStep(hi - lo, target);
  return linearTicks(lo, hi, target).map((v) => ({
    px: toPx(ax, v)!,
    value: v,
    label: formatTick(v, step),
  }));
}

/** The axis's own `tickvals`/`ticktext` inside the range, or undefined when it sets none. */
function pinnedTicks(ax: AxisState, lo: number, hi: number): Tick[] | undefined {
  const vals = ax.spec.tickvals, text = ax.spec.ticktext;
  if (!Array.isArray(vals) || ax.type === "category") return undefined;
  const out: Tick[] = [];
  vals.forEach((v, i) => {
    if (typeof v !== "number") return;
    const u = ax.type === "log" ? Math.log10(v) : v;
    const px = toPx(ax, v);
    if (px === null || !(u >= lo - 1e-9 && u <= hi + 1e-9)) return;
    const label = Array.isArray(text) && text[i] !== undefined ? String(text[i]) : undefined;
    out.push({ px, value: v, label: label ?? (ax.type === "log" ? logTickLabel(v) : String(v)) });
  });
  return out;
}
