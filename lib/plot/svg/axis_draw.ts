/**
 * The SVG renderer's axis furniture: grid and zero lines behind the traces, and in front of them
 * the axis lines, ticks, tick labels and axis titles.
 *
 * @module
 */
import { svgText, textWidth } from "../text.ts";
import { span, toPx } from "./axes.ts";
import { type Tick, ticksFor } from "./axis_ticks.ts";
import { type AxisState, type Box, n2 } from "./model.ts";

/**
 * Grid lines at every axis' ticks and zero lines on linear axes, drawn across the perpendicular
 * anchor axis' domain; the ticks are returned by axis id for {@link drawAxes}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { drawGrid } from "./axis_draw.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "scatter" as const, x: [-1, 1], y: [0, 1] }], layout: {}, config: {} };
 * const axes = buildAxes(fig, prepare(fig), { l: 0, t: 0, r: 200, b: 100 });
 * const { svg, ticks } = drawGrid(axes, { l: 0, t: 0, r: 200, b: 100 });
 * assert.match(svg, /^<g class="grid"><line /);
 * assert.ok(ticks.get("x")!.length >= 2);
 * ```
 */
export function drawGrid(
  axes: Map<string, AxisState>,
  plot: Box,
): { svg: string; ticks: Map<string, Tick[]> } {
  const gridOut: string[] = [];
  const tickCache = new Map<string, Tick[]>();
  for (const ax of axes.values()) {
    const anchor = ax.anchor ? axes.get(ax.anchor) : undefined;
    const [c0, c1] = anchor ? span(anchor) : ax.dir === "x" ? [plot.t, plot.b] : [plot.l, plot.r];
    const ticks = ticksFor(ax);
    tickCache.set(ax.id, ticks);
    const grid = (ax.spec.gridcolor as string | undefined) ?? "#E5E5E5";
    const line = (v: number, color: string, w: number) =>
      ax.dir === "x"
        ? `<line x1="${n2(v)}" y1="${n2(c0)}" x2="${n2(v)}" y2="${
          n2(c1)
        }" stroke="${color}" stroke-width="${w}"/>`
        : `<line x1="${n2(c0)}" y1="${n2(v)}" x2="${n2(c1)}" y2="${
          n2(v)
        }" stroke="${color}" stroke-width="${w}"/>`;
    if (ax.spec.showgrid !== false) { for (const t of ticks) gridOut.push(line(t.px, grid, 1)); }
    if (ax.spec.zeroline !== false && ax.type === "linear") {
      const z = toPx(ax, 0);
      const [lo, hi] = span(ax);
      const zc = (ax.spec.zerolinecolor as string | undefined) ?? "#B0B0B0";
      if (z !== null && z > lo + 0.5 && z < hi - 0.5) gridOut.push(line(z, zc, 1));
    }
  }
  return { svg: `<g class="grid">${gridOut.join("")}</g>`, ticks: tickCache };
}

/**
 * Axis lines, ticks, tick labels and titles of every axis (`ticks` from {@link drawGrid}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { drawAxes, drawGrid } from "./axis_draw.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "scatter" as const, x: [0, 1], y: [0, 1] }],
 *   layout: { xaxis: { title: { text: "step" } } }, config: {} };
 * const plot = { l: 50, t: 0, r: 250, b: 100 };
 * const axes = buildAxes(fig, prepare(fig), plot);
 * const svg = drawAxes(axes, plot, drawGrid(axes, plot).ticks, 12);
 * assert.match(svg, />step</);
 * ```
 */
export function drawAxes(
  axes: Map<string, AxisState>,
  plot: Box,
  ticks: Map<string, Tick[]>,
  fs: number,
): string {
  const axOut: string[] = [];
  for (const ax of axes.values()) {
    const anchor = ax.anchor ? axes.get(ax.anchor) : undefined;
    const pos = ax.dir === "x"
      ? (anchor ? span(anchor)[1] : plot.b)
      : anchor
      ? span(anchor)[0]
      : plot.l;
    const lc = (ax.spec.linecolor as string | undefined) ?? "#444444";
    if (ax.spec.showline !== false) axOut.push(axisLine(ax, pos, lc));
    const labelExtent = drawTicks(ax, pos, lc, ticks.get(ax.id) ?? [], fs, axOut);
    const title = axisTitle(ax, pos, labelExtent, fs);
    if (title) axOut.push(title);
  }
  return `<g class="axes">${axOut.join("")}</g>`;
}

function axisLine(ax: AxisState, pos: number, lc: string): string {
  const [a0, a1] = span(ax);
  return ax.dir === "x"
    ? `<line x1="${n2(a0)}" y1="${n2(pos)}" x2="${n2(a1)}" y2="${n2(pos)}" stroke="${lc}"/>`
    : `<line x1="${n2(pos)}" y1="${n2(a0)}" x2="${n2(pos)}" y2="${n2(a1)}" stroke="${lc}"/>`;
}

/** Tick marks and labels pushed onto `out`; returns the widest y label (0 for x axes). */
function drawTicks(
  ax: AxisState,
  pos: number,
  lc: string,
  ticks: Tick[],
  fs: number,
  out: string[],
): number {
  const showLabels = ax.spec.showticklabels !== false;
  let labelExtent = 0;
  for (const t of ticks) {
    if (ax.dir === "x") {
      out.push(
        `<line x1="${n2(t.px)}" y1="${n2(pos)}" x2="${n2(t.px)}" y2="${
          n2(pos + 5)
        }" stroke="${lc}"/>`,
      );
      if (showLabels) {
        out.push(
          svgText(t.px, pos + 8, t.label, { size: fs, anchor: "middle", baseline: "top" }),
        );
      }
    } else {
      out.push(
        `<line x1="${n2(pos - 5)}" y1="${n2(t.px)}" x2="${n2(pos)}" y2="${
          n2(t.px)
        }" stroke="${lc}"/>`,
      );
      if (showLabels) {
        out.push(
          svgText(pos - 8, t.px, t.label, { size: fs, anchor: "end", baseline: "middle" }),
        );
        labelExtent = Math.max(labelExtent, textWidth(t.label, fs));
      }
    }
  }
  return labelExtent;
}

/** The axis title below the x labels, or left of the y labels turned upright ("" if none). */
function axisTitle(ax: AxisState, pos: number, labelExtent: number, fs: number): string {
  const title = ax.spec.title?.text;
  if (!title) return "";
  const [a0, a1] = span(ax);
  const showLabels = ax.spec.showticklabels !== false;
  const tfs = ax.spec.title?.font?.size ?? fs;
  if (ax.dir === "x") {
    return svgText((a0 + a1) / 2, pos + 8 + (showLabels ? fs * 1.4 : 0), title, {
      size: tfs,
      anchor: "middle",
      baseline: "top",
    });
  }
  const x = pos - 8 - labelExtent - 6;
  return svgText(x, (a0 + a1) / 2, title, {
    size: tfs,
    anchor: "middle",
    baseline: "bottom",
    rotate: -90,
  });
}
