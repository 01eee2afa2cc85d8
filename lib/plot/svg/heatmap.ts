/**
 * The SVG renderer's heatmaps and their colorbar: an evenly spaced heatmap on linear axes becomes
 * one embedded PNG (small, and never flipped by reversed axes); any other, one rect per cell.
 *
 * @module
 */
import { colorAt, parseColor, resolveColorscale } from "../color.ts";
import { encodePng, toBase64 } from "../png.ts";
import { svgText, textWidth } from "../text.ts";
import { formatTick, linearTicks, niceStep } from "../ticks.ts";
import type { Colorscale, HeatmapTrace } from "../types.ts";
import { toPx } from "./axes.ts";
import { type AxisState, type Box, heatmapEdges, isNum, n2, type Prepared } from "./model.ts";

type Rgba = ReturnType<typeof colorAt>;

function evenlySpaced(c: number[] | undefined): boolean {
  if (!c || c.length < 3) return true;
  const d = c[1] - c[0];
  return c.every((v, i) => i === 0 || Math.abs(v - c[i - 1] - d) <= 1e-6 * Math.abs(d));
}

/**
 * The colour range of a heatmap: `zmin`/`zmax` where given, else its finite values' extent
 * (widened to one unit when flat).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { heatRange } from "./heatmap.ts";
 * assert.deepEqual(heatRange({ type: "heatmap", z: [[1, NaN], [3, 2]] }), [1, 3]);
 * assert.deepEqual(heatRange({ type: "heatmap", z: [[2]] }), [1.5, 2.5]);
 * ```
 */
export function heatRange(t: HeatmapTrace): [number, number] {
  let lo = Infinity, hi = -Infinity;
  for (const row of t.z) {
    for (const v of row) {
      if (isNum(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  const zmin = isNum(t.zmin) ? t.zmin : Number.isFinite(lo) ? lo : 0;
  const zmax = isNum(t.zmax) ? t.zmax : Number.isFinite(hi) ? hi : 1;
  return zmax > zmin ? [zmin, zmax] : [zmin - 0.5, zmin + 0.5];
}

/**
 * A heatmap trace as an SVG group clipped to its subplot ("" when it has no cells).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildAxes } from "./axes.ts";
 * import { drawHeatmap } from "./heatmap.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "heatmap" as const, z: [[0, 1], [1, 0]] }], layout: {}, config: {} };
 * const [p] = prepare(fig);
 * const axes = buildAxes(fig, [p], { l: 0, t: 0, r: 100, b: 100 });
 * assert.match(drawHeatmap(p, axes, "c0"), /<image .*xlink:href="data:image\/png;base64,/);
 * ```
 */
export function drawHeatmap(p: Prepared, axes: Map<string, AxisState>, clip: string): string {
  const t = p.trace as HeatmapTrace;
  const xa = axes.get(p.xa)!, ya = axes.get(p.ya)!;
  const ny = t.z.length;
  const nx = Math.max(0, ...t.z.map((r) => r.length));
  if (!nx || !ny) return "";
  const scale = resolveColorscale(t.colorscale);
  const [zmin, zmax] = heatRange(t);
  const rgba = (v: number | null | undefined) => {
    if (!isNum(v)) return null;
    const f = (v - zmin) / (zmax - zmin);
    return colorAt(scale, t.reversescale ? 1 - f : f);
  };
  const xe = heatmapEdges(t.x, nx).map((v) => toPx(xa, v));
  const ye = heatmapEdges(t.y, ny).map((v) => toPx(ya, v));
  const linear = xa.type === "linear" && ya.type === "linear";
  if (linear && evenlySpaced(t.x) && evenlySpaced(t.y) && xe.every(isNum) && ye.every(isNum)) {
    return heatmapImage(t, xe as number[], ye as number[], rgba, clip);
  }
  return heatmapCells(t, xe, ye, rgba, clip);
}

/** One image, columns/rows in pixel order so it is never flipped by reversed axes. */
function heatmapImage(
  t: HeatmapTrace,
  xe: number[],
  ye: number[],
  rgba: (v: number | null | undefined) => Rgba | null,
  clip: string,
): string {
  const ny = ye.length - 1, nx = xe.length - 1;
  const xRev = xe[nx] < xe[0];
  const yRev = ye[ny] < ye[0];
  const px = new Uint8Array(nx * ny * 4);
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const col = rgba(t.z[yRev ? ny - 1 - r : r]?.[xRev ? nx - 1 - c : c]);
      const o = (r * nx + c) * 4;
      if (col) {
        px[o] = Math.round(col.r);
        px[o + 1] = Math.round(col.g);
        px[o + 2] = Math.round(col.b);
        px[o + 3] = Math.round(col.a * 255);
      }
    }
  }
  const x0 = Math.min(xe[0], xe[nx]);
  const y0 = Math.min(ye[0], ye[ny]);
  const w = Math.abs(xe[nx] - xe[0]);
  const h = Math.abs(ye[ny] - ye[0]);
  const href = `data:image/png;base64,${toBase64(encodePng(nx, ny, px))}`;
  return `<g clip-path="url(#${clip})"><image x="${n2(x0)}" y="${n2(y0)}" width="${n2(w)}" ` +
    `height="${n2(h)}" preserveAspectRatio="none" image-rendering="optimizeSpeed" ` +
    `style="image-rendering:pixelated" xlink:href="${href}"/></g>`;
}

/** One rect per cell, for uneven spacing or non-linear axes. */
function heatmapCells(
  t: HeatmapTrace,
  xe: Array<number | null>,
  ye: Array<number | null>,
  rgba: (v: number | null | undefined) => Rgba | null,
  clip: string,
): string {
  const ny = ye.length - 1, nx = xe.length - 1;
  const cells: string[] = [];
  for (let r = 0; r < ny; r++) {
    for (let c = 0; c < nx; c++) {
      const col = rgba(t.z[r]?.[c]);
      const [xa0, xa1, ya0, ya1] = [xe[c], xe[c + 1], ye[r], ye[r + 1]];
      if (!col || xa0 === null || xa1 === null || ya0 === null || ya1 === null) continue;
      const hex = `rgb(${Math.round(col.r)},${Math.round(col.g)},${Math.round(col.b)})`;
      cells.push(
        `<rect x="${n2(Math.min(xa0, xa1))}" y="${n2(Math.min(ya0, ya1))}" ` +
          `width="${n2(Math.abs(xa1 - xa0))}" height="${n2(Math.abs(ya1 - ya0))}" fill="${hex}"` +
          `${col.a < 1 ? ` fill-opacity="${n2(col.a)}"` : ""}/>`,
      );
    }
  }
  return `<g clip-path="url(#${clip})" shape-rendering="crispEdges">${cells.join("")}</g>`;
}

/** The colorbar of the first heatmap that shows one: its trace, scale, range and width. */
export interface ColorbarSpec {
  trace: HeatmapTrace;
  scale: Colorscale;
  range: [number, number];
  width: number;
}

/**
 * The colorbar to draw (the first heatmap with `showscale` not false), or null.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { colorbarOf } from "./heatmap.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "heatmap" as const, z: [[0, 4]] }], layout: {}, config: {} };
 * assert.deepEqual(colorbarOf(prepare(fig), 12)!.range, [0, 4]);
 * assert.equal(colorbarOf([], 12), null);
 * ```
 */
export function colorbarOf(prepared: Prepared[], fs: number): ColorbarSpec | null {
  const p = prepared.find((q) => q.trace.type === "heatmap" && q.trace.showscale !== false);
  if (!p) return null;
  const t = p.trace as HeatmapTrace;
  const range = heatRange(t);
  const step = niceStep(range[1] - range[0], 5);
  const labels = linearTicks(range[0], range[1], 5).map((v) => formatTick(v, step));
  const title = t.colorbar?.title?.text ?? "";
  const w = Math.max(
    14 + 6 + Math.max(0, ...labels.map((l) => textWidth(l, fs * 0.9))),
    textWidth(title, fs * 0.9),
  );
  return { trace: t, scale: resolveColorscale(t.colorscale), range, width: w + 24 };
}

/**
 * The colorbar at `x`, spanning `len` of the plot height about `y` (plotly's colorbar fields),
 * with ticks and title; `uid` keeps its gradient id unique per figure.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { colorbarOf, drawColorbar } from "./heatmap.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [{ type: "heatmap" as const, z: [[0, 4]] }], layout: {}, config: {} };
 * const cb = colorbarOf(prepare(fig), 12)!;
 * const svg = drawColorbar(cb, 500, { l: 0, t: 0, r: 480, b: 300 }, 12, "f1");
 * assert.match(svg, /^<g class="colorbar"><defs><linearGradient id="f1-cb"/);
 * ```
 */
export function drawColorbar(
  cb: ColorbarSpec,
  x: number,
  plot: Box,
  fs: number,
  uid: string,
): string {
  const t = cb.trace;
  const len = isNum(t.colorbar?.len) ? t.colorbar.len : 1;
  const yc = isNum(t.colorbar?.y) ? t.colorbar.y : 0.5;
  const title = t.colorbar?.title?.text ?? "";
  const titleH = title ? fs * 1.6 : 0;
  const fullTop = plot.b - (yc + len / 2) * (plot.b - plot.t);
  const top = fullTop + titleH;
  const bottom = plot.b - (yc - len / 2) * (plot.b - plot.t);
  const h = Math.max(10, bottom - top);
  const id = `${uid}-cb`;
  const stops = cb.scale.map(([f, c]) => {
    const col = parseColor(c);
    const off = t.reversescale ? f : 1 - f;
    return { off, c: `rgb(${col.r},${col.g},${col.b})`, a: col.a };
  }).sort((a, b) => a.off - b.off)
    .map((s) =>
      `<stop offset="${n2(s.off)}" stop-color="${s.c}"${s.a < 1 ? ` stop-opacity="${s.a}"` : ""}/>`
    );
  const out = [
    `<defs><linearGradient id="${id}" x1="0" y1="0" x2="0" y2="1">${
      stops.join("")
    }</linearGradient></defs>`,
    `<rect x="${n2(x)}" y="${n2(top)}" width="14" height="${
      n2(h)
    }" fill="url(#${id})" stroke="#444444" stroke-width="0.5"/>`,
  ];
  const [lo, hi] = cb.range;
  const step = niceStep(hi - lo, 5);
  for (const v of linearTicks(lo, hi, 5)) {
    const y = bottom - ((v - lo) / (hi - lo)) * h;
    out.push(
      `<line x1="${n2(x + 14)}" y1="${n2(y)}" x2="${n2(x + 18)}" y2="${n2(y)}" stroke="#444444"/>`,
    );
    out.push(svgText(x + 21, y, formatTick(v, step), { size: fs * 0.9, baseline: "middle" }));
  }
  if (title) out.push(svgText(x, fullTop + fs * 0.2, title, { size: fs * 0.9, baseline: "top" }));
  return `<g class="colorbar">${out.join("")}</g>`;
}
