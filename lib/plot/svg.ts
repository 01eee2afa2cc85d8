/**
 * A small, pure-TypeScript SVG renderer for the plotly figures dpo-lab builds. plotly.js needs a
 * DOM and cannot run in the kernel, yet GitHub and untrusted notebooks show only static images;
 * this renderer draws scatter lines/markers, filled and stacked areas, heatmaps, bars, line
 * segments, shapes and annotations on cartesian subplots, with nice ticks, titles, a legend and
 * a colorbar. It aims at "readable", not at pixel parity with plotly.
 *
 * This file writes the document; its steps live in `svg/`: `prepare.ts` (colours, stacking),
 * `axes.ts` (ranges, pixel mapping), `traces.ts` and `heatmap.ts` (what is drawn), `axis_ticks.ts`
 * and `axis_draw.ts` (grid, ticks, labels), `legend.ts`, `annotations.ts` (shapes, annotations,
 * title).
 *
 * @module
 */
import { FONT_FAMILY } from "./style.ts";
import { escapeXml } from "./text.ts";
import type { Figure, Layout } from "./types.ts";
import { buildAxes, span } from "./svg/axes.ts";
import { drawAxes, drawGrid } from "./svg/axis_draw.ts";
import { drawAnnotations, drawShapes, drawTitle } from "./svg/annotations.ts";
import { colorbarOf, type ColorbarSpec, drawColorbar, drawHeatmap } from "./svg/heatmap.ts";
import { drawLegend, type Legend, legendOf } from "./svg/legend.ts";
import { type AxisState, type Box, isNum, isScatter, n2, type Prepared } from "./svg/model.ts";
import { prepare } from "./svg/prepare.ts";
import { drawBar, drawScatter } from "./svg/traces.ts";

/** Options for {@link figureToSvg}. */
export interface SvgOptions {
  /** Width in px; default `layout.width`, else 720. */
  width?: number;
  /** Height in px; default `layout.height`, else 440. */
  height?: number;
}

/** Small deterministic hash so ids differ between figures yet output stays reproducible. */
function hashId(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

/**
 * Render a figure as a standalone SVG document (a static fallback for where plotly.js cannot run:
 * GitHub, untrusted notebooks, write-ups).
 *
 * @example
 * ```ts
 * import { figureToSvg } from "./svg.ts";
 * const svg = figureToSvg({
 *   data: [{ type: "scatter", mode: "lines", x: [0, 1, 2], y: [0, 1, 4], name: "y = x²" }],
 *   layout: { title: { text: "demo" } },
 *   config: {},
 * });
 * console.log(svg.startsWith("<svg")); // true
 * ```
 */
export function figureToSvg(fig: Figure, opts: SvgOptions = {}): string {
  const layout = fig.layout ?? {};
  const W = opts.width ?? (isNum(layout.width) ? layout.width : 720);
  const H = opts.height ?? (isNum(layout.height) ? layout.height : 440);
  if (!(W > 0) || !(H > 0)) throw new RangeError(`figureToSvg: bad size ${W}x${H}`);
  const fs = layout.font?.size ?? 12;
  const family = layout.font?.family ?? FONT_FAMILY;
  const ink = layout.font?.color ?? "#222222";
  const supported = fig.data.filter((t) =>
    isScatter(t) || t.type === "heatmap" || t.type === "bar"
  );
  const prepared = prepare({ ...fig, data: supported });
  const uid = `f${hashId(JSON.stringify(fig.data).slice(0, 20000) + JSON.stringify(layout))}`;

  const m = { l: 80, r: 30, t: 60, b: 64, ...(layout.margin ?? {}) };
  const legend = legendOf(layout, prepared, fs);
  const cbar = colorbarOf(prepared, fs);
  const rightReserve = (legend.width ? legend.width + 8 : 0) + (cbar ? cbar.width : 0);
  const plot: Box = { l: m.l, t: m.t, r: Math.max(m.l + 40, W - m.r - rightReserve), b: H - m.b };
  const axes = buildAxes({ ...fig, data: supported }, prepared, plot);

  const bg = layout.paper_bgcolor ?? "#FFFFFF";
  const frames = subplotFrames(layout, prepared, axes, uid);
  const out: string[] = [
    frames.defs,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="${escapeXml(bg)}"/>`,
    ...frames.backgrounds,
  ];
  const grid = drawGrid(axes, plot);
  out.push(grid.svg);
  out.push(drawShapes(layout, "below", axes, plot));
  out.push(...drawTraces(prepared, axes, frames.clipOf));
  out.push(drawAxes(axes, plot, grid.ticks, fs));
  out.push(drawShapes(layout, "above", axes, plot));
  out.push(...drawAnnotations(layout, axes, plot, fs));
  out.push(drawTitle(layout, W, fs, m.t));
  out.push(...sidePanel(legend, cbar, axes, plot, fs, uid));

  return `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" ` +
    `width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="${escapeXml(family)}" ` +
    `fill="${escapeXml(ink)}">${out.join("")}</svg>`;
}

/**
 * Subplots: every (x, y) pair a trace uses, plus anchored axis pairs without traces; each gets a
 * clip path (its id by `"xa|ya"`) and a background rect.
 */
function subplotFrames(
  layout: Layout,
  prepared: Prepared[],
  axes: Map<string, AxisState>,
  uid: string,
): { defs: string; backgrounds: string[]; clipOf: Map<string, string> } {
  const pairs = new Map<string, [AxisState, AxisState]>();
  for (const p of prepared) pairs.set(`${p.xa}|${p.ya}`, [axes.get(p.xa)!, axes.get(p.ya)!]);
  for (const ax of axes.values()) {
    if (ax.dir === "x" && ax.anchor && axes.has(ax.anchor)) {
      pairs.set(`${ax.id}|${ax.anchor}`, [ax, axes.get(ax.anchor)!]);
    }
  }
  const defs: string[] = [];
  const backgrounds: string[] = [];
  const clipOf = new Map<string, string>();
  let k = 0;
  for (const [key, [xa, ya]] of pairs) {
    const [x0, x1] = span(xa), [y0, y1] = span(ya);
    const id = `${uid}-c${k++}`;
    clipOf.set(key, id);
    defs.push(
      `<clipPath id="${id}"><rect x="${n2(x0)}" y="${n2(y0)}" width="${n2(x1 - x0)}" height="${
        n2(y1 - y0)
      }"/></clipPath>`,
    );
    const pbg = layout.plot_bgcolor ?? "#FFFFFF";
    backgrounds.push(
      `<rect x="${n2(x0)}" y="${n2(y0)}" width="${n2(x1 - x0)}" height="${n2(y1 - y0)}" fill="${
        escapeXml(pbg)
      }"/>`,
    );
  }
  return { defs: `<defs>${defs.join("")}</defs>`, backgrounds, clipOf };
}

/** Traces, in order, each clipped to its subplot; bars on one subplot sit side by side. */
function drawTraces(
  prepared: Prepared[],
  axes: Map<string, AxisState>,
  clipOf: Map<string, string>,
): string[] {
  const out: string[] = [];
  const barSlots = new Map<string, Prepared[]>();
  for (const p of prepared) {
    if (p.trace.type === "bar") {
      const key = `${p.xa}|${p.ya}`;
      barSlots.set(key, [...(barSlots.get(key) ?? []), p]);
    }
  }
  const lastOnAxes = new Map<string, Prepared>();
  for (const p of prepared) {
    const key = `${p.xa}|${p.ya}`;
    const clip = clipOf.get(key)!;
    if (isScatter(p.trace)) out.push(drawScatter(p, lastOnAxes.get(key), axes, clip));
    else if (p.trace.type === "heatmap") out.push(drawHeatmap(p, axes, clip));
    else if (p.trace.type === "bar") {
      const slots = barSlots.get(key)!;
      // Stacked bars share the full slot; grouped ones sit side by side.
      const slot: [number, number] = p.base ? [0, 1] : [slots.indexOf(p), slots.length];
      out.push(drawBar(p, slot, axes, clip));
    }
    if (isScatter(p.trace)) lastOnAxes.set(key, p);
  }
  return out;
}

/** The colorbar and the legend, right of the plot area. */
function sidePanel(
  legend: Legend,
  cbar: ColorbarSpec | null,
  axes: Map<string, AxisState>,
  plot: Box,
  fs: number,
  uid: string,
): string[] {
  const out: string[] = [];
  // Equal-scale axes may end short of the plot area; keep the colorbar next to them.
  const xEnd = Math.max(
    ...[...axes.values()].filter((a) => a.dir === "x").map((a) => span(a)[1]),
    plot.l,
  );
  let rx = cbar ? Math.min(plot.r, xEnd + 12) + 8 : plot.r + 8;
  if (cbar) {
    out.push(drawColorbar(cbar, rx + 8, plot, fs, uid));
    rx += cbar.width;
  }
  if (legend.width) out.push(drawLegend(legend, rx, plot.t, fs));
  return out;
}
