/**
 * The first step of the SVG renderer: each trace's colour and axes, and the running totals of
 * stacked areas (`stackgroup`) and stacked bars (`barmode` "stack" / "relative").
 *
 * @module
 */
import { PALETTE } from "../style.ts";
import type { BarTrace, Figure } from "../types.ts";
import { isNum, isScatter, type Prepared, traceAxes } from "./model.ts";

/**
 * The figure's traces ready to draw: colour (own or the colorway's), axes, and stack heights for
 * traces sharing a stackgroup (points aligned by x value) or stacked bars.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { prepare } from "./prepare.ts";
 * const [a, b] = prepare({
 *   data: [
 *     { type: "scatter", x: [0, 1], y: [1, 2], stackgroup: "s" },
 *     { type: "scatter", x: [0, 1], y: [3, 4], stackgroup: "s" },
 *   ],
 *   layout: {},
 *   config: {},
 * });
 * assert.deepEqual(b.base, [1, 2]);
 * assert.deepEqual(b.ys, [4, 6]);
 * assert.notEqual(a.color, b.color);
 * ```
 */
export function prepare(fig: Figure): Prepared[] {
  const colorway = (fig.layout.colorway as string[] | undefined) ?? [...PALETTE];
  const sums = new Map<string, Map<string | number, number>>();
  const bars = new Map<string, { up: number; down: number }>();
  return fig.data.map((trace, i) => {
    const [xa, ya] = traceAxes(trace);
    const own = isScatter(trace)
      ? trace.line?.color ??
        (typeof trace.marker?.color === "string" ? trace.marker.color : undefined)
      : trace.type === "bar" && typeof trace.marker?.color === "string"
      ? trace.marker.color
      : undefined;
    const p: Prepared = { trace, color: own ?? colorway[i % colorway.length], xa, ya };
    if (isScatter(trace) && trace.stackgroup) {
      const key = `${trace.stackgroup}|${xa}|${ya}`;
      const acc = sums.get(key) ?? new Map<string | number, number>();
      sums.set(key, acc);
      stackOn(p, trace.x, trace.y, (x, y) => {
        const b = acc.get(x) ?? 0;
        acc.set(x, b + y);
        return b;
      });
    }
    if (trace.type === "bar" && stacksBars(fig)) stackBar(p, bars);
    return p;
  });
}

/** Whether bars on one subplot stack (plotly's `barmode` "stack" or "relative"). */
function stacksBars(fig: Figure): boolean {
  const mode = (fig.layout as { barmode?: string }).barmode;
  return mode === "stack" || mode === "relative";
}

/** Stack a bar trace on those before it on its axes: positives up, negatives down, per x. */
function stackBar(p: Prepared, sums: Map<string, { up: number; down: number }>): void {
  const t = p.trace as BarTrace;
  stackOn(p, t.x, t.y, (x, y) => {
    const key = `${p.xa}|${p.ya}|${x}`;
    const acc = sums.get(key) ?? { up: 0, down: 0 };
    sums.set(key, acc);
    const b = y >= 0 ? acc.up : acc.down;
    if (y >= 0) acc.up += y;
    else acc.down += y;
    return b;
  });
}

/**
 * Sets `p.base` to where each point stacks from (`baseOf`, called in order for the points that
 * exist) and `p.ys` to its top; a point with no x or no numeric y stays a gap in both.
 */
function stackOn(
  p: Prepared,
  xs: readonly (string | number | null)[],
  ys: readonly unknown[],
  baseOf: (x: string | number, y: number) => number,
): void {
  p.ys = [];
  p.base = [];
  xs.forEach((x, j) => {
    const y = ys[j];
    if (x === null || !isNum(y)) {
      p.ys!.push(null);
      p.base!.push(null);
      return;
    }
    const b = baseOf(x, y);
    p.base!.push(b);
    p.ys!.push(b + y);
  });
}
