/**
 * The SVG renderer's scatter and bar traces: filled areas and stacked bands, lines, markers and
 * text labels; bars side by side or stacked.
 *
 * @module
 */
import { withAlpha } from "../color.ts";
import { escapeXml, svgText } from "../text.ts";
import type { BarTrace, ScatterTrace } from "../types.ts";
import { barWidth, clampPx, toPx, unitsToPx } from "./axes.ts";
import { type AxisState, isNum, isScatter, n2, type Prepared, scatterMode } from "./model.ts";
import { dashArray, pathOf, runs } from "./strokes.ts";

type Px = Array<number | null>;

/**
 * A scatter trace as an SVG group clipped to its subplot: fill (to zero, to the previous trace
 * `prev` on the same axes, to itself, or a stacked band), lines, markers and text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { prepare } from "./prepare.ts";
 * import { drawScatter } from "./traces.ts";
 * const fig = { data: [{ type: "scatter" as const, mode: "lines" as const, x: [0, 1], y: [0, 1] }],
 *   layout: {}, config: {} };
 * const [p] = prepare(fig);
 * const axes = buildAxes(fig, [p], { l: 0, t: 0, r: 100, b: 100 });
 * assert.match(drawScatter(p, undefined, axes, "c0"), /^<g clip-path="url\(#c0\)"><path d="M/);
 * ```
 */
export function drawScatter(
  p: Prepared,
  prev: Prepared | undefined,
  axes: Map<string, AxisState>,
  clip: string,
): string {
  const t = p.trace as ScatterTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const mode = scatterMode(t);
  const xs = t.x.map((v) => toPx(xa, v));
  const ys = (p.ys ?? t.y).map((v) => toPx(ya, v));
  const out: string[] = [];
  const lineW = isNum(t.line?.width) ? t.line.width : 2;
  out.push(...scatterFill(p, prev, xa, ya, xs, ys));
  if (mode.includes("lines") && lineW > 0) out.push(...scatterLines(p, xs, ys, lineW));
  if (mode.includes("markers")) out.push(...scatterMarkers(p, xs, ys));
  if (mode.includes("text") && t.text !== undefined) out.push(...scatterText(t, xs, ys));
  const op = isNum(t.opacity) && t.opacity < 1 ? ` opacity="${t.opacity}"` : "";
  return `<g clip-path="url(#${clip})"${op}>${out.join("")}</g>`;
}

/** The filled polygons of a scatter trace, one per run of points (none without a fill). */
function scatterFill(
  p: Prepared,
  prev: Prepared | undefined,
  xa: AxisState,
  ya: AxisState,
  xs: Px,
  ys: Px,
): string[] {
  const t = p.trace as ScatterTrace;
  const out: string[] = [];
  const stacked = Boolean(t.stackgroup);
  const fill = stacked ? (t.fill && t.fill !== "none" ? t.fill : "tonexty") : t.fill ?? "none";
  if (fill === "none") return out;
  const fc = t.fillcolor ?? withAlpha(p.color, 0.5);
  for (const run of runs(xs, ys, Boolean(t.connectgaps))) {
    const top: Array<[number, number]> = run.map(([x, y]) => [x, y]);
    // The way back along the bottom edge of the band, right to left.
    let back: Array<[number, number]>;
    if (stacked) {
      back = run.map(([x, , i]) => [x, clampPx(ya, toPx(ya, p.base![i]))] as [number, number])
        .reverse();
    } else if (fill === "tonexty" && prev && isScatter(prev.trace)) {
      const pt = prev.trace;
      const pys = (prev.ys ?? pt.y).map((v) => toPx(ya, v));
      back = pt.x.map((v, i) => [toPx(xa, v), pys[i]])
        .filter((q): q is [number, number] => q[0] !== null && q[1] !== null)
        .reverse();
    } else if (fill === "toself") {
      back = [];
    } else {
      const y0 = clampPx(ya, toPx(ya, ya.type === "log" ? null : 0));
      back = [[top[top.length - 1][0], y0], [top[0][0], y0]];
    }
    const poly = [...top, ...back];
    if (poly.length >= 3) {
      out.push(
        `<path d="${pathOf(poly, false)}Z" fill="${escapeXml(fc)}" stroke="none"/>`,
      );
    }
  }
  return out;
}

function scatterLines(p: Prepared, xs: Px, ys: Px, lineW: number): string[] {
  const t = p.trace as ScatterTrace;
  const out: string[] = [];
  const dash = dashArray(t.line?.dash, lineW);
  for (const run of runs(xs, ys, Boolean(t.connectgaps))) {
    if (run.length < 2) continue;
    out.push(
      `<path d="${pathOf(run.map(([x, y]) => [x, y]), t.line?.shape === "hv")}" fill="none" ` +
        `stroke="${escapeXml(p.color)}" stroke-width="${n2(lineW)}" stroke-linejoin="round" ` +
        `stroke-linecap="round"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`,
    );
  }
  return out;
}

function scatterMarkers(p: Prepared, xs: Px, ys: Px): string[] {
  const t = p.trace as ScatterTrace;
  const out: string[] = [];
  const m = t.marker ?? {};
  const r = (isNum(m.size) ? m.size : 6) / 2;
  const op = isNum(m.opacity) ? ` fill-opacity="${m.opacity}"` : "";
  const stroke = m.line?.width
    ? ` stroke="${escapeXml(m.line.color ?? "#FFFFFF")}" stroke-width="${n2(m.line.width)}"`
    : "";
  xs.forEach((x, i) => {
    const y = ys[i];
    if (x === null || y === null) return;
    const c = Array.isArray(m.color) ? m.color[i] ?? p.color : m.color ?? p.color;
    out.push(
      `<circle cx="${n2(x)}" cy="${n2(y)}" r="${n2(r)}" fill="${escapeXml(c)}"${op}${stroke}/>`,
    );
  });
  return out;
}

function scatterText(t: ScatterTrace, xs: Px, ys: Px): string[] {
  const out: string[] = [];
  xs.forEach((x, i) => {
    const y = ys[i];
    const s = Array.isArray(t.text) ? t.text[i] : t.text;
    if (x === null || y === null || !s) return;
    out.push(svgText(x, y - 8, s, { size: 11, anchor: "middle", baseline: "bottom" }));
  });
  return out;
}

/**
 * A bar trace as an SVG group clipped to its subplot; `slot` is `[k, n]`: this trace is the k-th
 * of n bars sharing each x (`[0, 1]` for stacked bars).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { prepare } from "./prepare.ts";
 * import { drawBar } from "./traces.ts";
 * const fig = { data: [{ type: "bar" as const, x: ["a"], y: [1] }], layout: {}, config: {} };
 * const [p] = prepare(fig);
 * const axes = buildAxes(fig, [p], { l: 0, t: 0, r: 100, b: 100 });
 * // One category slot: x in [-0.5, 0.5] -> 0.8 wide; y padded 5% to [-0.05, 1.05].
 * const top = 100 * (0.05 / 1.1), height = 100 / 1.1;
 * const svg = drawBar(p, [0, 1], axes, "c0");
 * assert.ok(svg.includes(`<rect x="10" y="${top.toFixed(2)}" width="80" height="${height.toFixed(2)}"`));
 * ```
 */
export function drawBar(
  p: Prepared,
  slot: [number, number],
  axes: Map<string, AxisState>,
  clip: string,
): string {
  const t = p.trace as BarTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const units = t.x.map((v) =>
    xa.type === "category" ? xa.categories.indexOf(String(v)) : (v as number)
  );
  const w = barWidth(t, units.filter(isNum), xa);
  const [k, n] = slot;
  const zero = clampPx(ya, toPx(ya, ya.type === "log" ? null : 0));
  const out: string[] = [];
  units.forEach((u, i) => {
    const top = p.ys ? p.ys[i] : t.y[i];
    if (!isNum(u) || !isNum(top)) return;
    const c0 = u - w / 2 + (k * w) / n;
    const a = unitsToPx(xa, c0);
    const b = unitsToPx(xa, c0 + w / n);
    const yv = toPx(ya, top);
    const base = p.base?.[i];
    const y0 = isNum(base) && base !== 0 ? clampPx(ya, toPx(ya, base)) : zero;
    if (yv === null) return;
    const fill = Array.isArray(t.marker?.color) ? t.marker.color[i] ?? p.color : p.color;
    out.push(
      `<rect x="${n2(Math.min(a, b))}" y="${n2(Math.min(y0, yv))}" width="${
        n2(Math.abs(b - a))
      }" ` +
        `height="${n2(Math.abs(y0 - yv))}" fill="${escapeXml(fill)}"/>`,
    );
  });
  return `<g clip-path="url(#${clip})">${out.join("")}</g>`;
}
