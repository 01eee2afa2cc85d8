/**
 * Log-axis ticks pinned in the figure spec: plotly labels every minor digit (2, 3, ... 9) of a
 * log axis spanning a decade or two, which crowds the labels. The figure instead carries the
 * same ticks the static SVG draws (decades; 1-2-5 under two decades), so both renderings agree.
 *
 * @module
 */
import { logTickLabel, logTicks } from "./ticks.ts";
import type { Axis, Layout, Trace } from "./types.ts";

/** The positive finite values of `data` plotted along axis `id` ("x", "y2", ...), in log10. */
function logExtent(data: Trace[], id: string): [number, number] | undefined {
  const dir = id[0] as "x" | "y";
  let lo = Infinity, hi = -Infinity;
  for (const t of data) {
    const on = (t as Record<string, unknown>)[`${dir}axis`] ?? dir;
    if (on !== id) continue;
    const vals = (t as Record<string, unknown>)[dir];
    if (!Array.isArray(vals)) continue;
    for (const v of vals) {
      if (typeof v !== "number" || !(v > 0) || !Number.isFinite(v)) continue;
      const u = Math.log10(v);
      lo = Math.min(lo, u);
      hi = Math.max(hi, u);
    }
  }
  if (!(hi >= lo)) return undefined;
  if (hi === lo) return [lo - 0.5, hi + 0.5];
  // plotly pads a log range a little around markers: ticks just outside the data still show.
  const pad = 0.05 * (hi - lo);
  return [lo - pad, hi + pad];
}

/**
 * Give every log axis of `layout` that does not choose its own ticks (`tickvals`, `dtick`,
 * `tickmode`, `nticks`) explicit `tickvals`/`ticktext` from its range, or from its traces' data.
 * Changes `layout` in place and returns it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pinLogTicks } from "./log_axes.ts";
 * const layout = pinLogTicks({ xaxis: { type: "log" } }, [
 *   { type: "scatter", x: [0.1, 1, 10], y: [1, 2, 3] },
 * ]);
 * assert.deepEqual((layout.xaxis as { ticktext: string[] }).ticktext, ["0.1", "1", "10"]);
 * ```
 */
export function pinLogTicks(layout: Layout, data: Trace[]): Layout {
  for (const key of Object.keys(layout)) {
    const m = /^([xy])axis(\d*)$/.exec(key);
    const axis = layout[key] as Axis | undefined;
    if (!m || !axis || axis.type !== "log") continue;
    if (["tickvals", "dtick", "tickmode", "nticks"].some((k) => axis[k] !== undefined)) continue;
    const range = Array.isArray(axis.range) && axis.range.every(Number.isFinite)
      ? [Math.min(...axis.range), Math.max(...axis.range)]
      : logExtent(data, `${m[1]}${m[2] === "1" ? "" : m[2]}`);
    if (!range || !(range[1] > range[0])) continue;
    const vals = logTicks(range[0], range[1]);
    layout[key] = { ...axis, tickmode: "array", tickvals: vals, ticktext: vals.map(logTickLabel) };
  }
  return layout;
}
