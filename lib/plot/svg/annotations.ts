/**
 * The SVG renderer's layout decorations: shapes (lines and rects, below or above the traces),
 * annotations (text with an optional background box) and the figure title.
 *
 * @module
 */
import { escapeXml, svgText, textWidth } from "../text.ts";
import type { Layout } from "../types.ts";
import { refPx } from "./axes.ts";
import { type AxisState, type Box, isNum, n2 } from "./model.ts";
import { dashArray } from "./strokes.ts";

/**
 * The layout's shapes in one layer (`layer` default "above"), placed by their `xref`/`yref`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawShapes } from "./annotations.ts";
 * const layout = { shapes: [{ type: "line" as const, x0: 0, x1: 1, y0: 0, y1: 0, xref: "paper",
 *   yref: "paper" }] };
 * const svg = drawShapes(layout, "above", new Map(), { l: 0, t: 0, r: 100, b: 50 });
 * assert.match(svg, /^<line x1="0" y1="50" x2="100" y2="50" /);
 * assert.equal(drawShapes(layout, "below", new Map(), { l: 0, t: 0, r: 100, b: 50 }), "");
 * ```
 */
export function drawShapes(
  layout: Layout,
  layer: "below" | "above",
  axes: Map<string, AxisState>,
  plot: Box,
): string {
  const shapes = layout.shapes ?? [];
  return shapes.filter((s) => (s.layer ?? "above") === layer).map((s) => {
    const x0 = refPx(s.xref, "x", s.x0, axes, plot), x1 = refPx(s.xref, "x", s.x1, axes, plot);
    const y0 = refPx(s.yref, "y", s.y0, axes, plot), y1 = refPx(s.yref, "y", s.y1, axes, plot);
    if (x0 === null || x1 === null || y0 === null || y1 === null) return "";
    const lw = s.line?.width ?? 1.5;
    const stroke = `stroke="${escapeXml(s.line?.color ?? "#444444")}" stroke-width="${n2(lw)}"`;
    const dash = dashArray(s.line?.dash, lw);
    const da = dash ? ` stroke-dasharray="${dash}"` : "";
    if (s.type === "rect") {
      return `<rect x="${n2(Math.min(x0, x1))}" y="${n2(Math.min(y0, y1))}" width="${
        n2(Math.abs(x1 - x0))
      }" height="${n2(Math.abs(y1 - y0))}" fill="${escapeXml(s.fillcolor ?? "none")}" ${
        lw > 0 ? stroke : `stroke="none"`
      }${da}/>`;
    }
    return `<line x1="${n2(x0)}" y1="${n2(y0)}" x2="${n2(x1)}" y2="${n2(y1)}" ${stroke}${da}/>`;
  }).join("");
}

/**
 * The layout's annotations, each with a background box when `bgcolor` is set; `fs` is the
 * default font size.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawAnnotations } from "./annotations.ts";
 * const layout = { annotations: [{ text: "n = 5", x: 0.5, y: 1, xref: "paper", yref: "paper" }] };
 * const out = drawAnnotations(layout, new Map(), { l: 0, t: 0, r: 100, b: 50 }, 12);
 * assert.equal(out.length, 1);
 * assert.match(out[0], /n = 5/);
 * ```
 */
export function drawAnnotations(
  layout: Layout,
  axes: Map<string, AxisState>,
  plot: Box,
  fs: number,
): string[] {
  const out: string[] = [];
  for (const a of layout.annotations ?? []) {
    const x = refPx(a.xref, "x", a.x, axes, plot), y = refPx(a.yref, "y", a.y, axes, plot);
    if (x === null || y === null) continue;
    const anchor = a.xanchor === "left" ? "start" : a.xanchor === "right" ? "end" : "middle";
    const baseline = a.yanchor === "top" ? "top" : a.yanchor === "middle" ? "middle" : "bottom";
    const size = a.font?.size ?? fs;
    const base = a.yanchor === undefined || a.yanchor === "auto" ? "middle" : baseline;
    if (typeof a.bgcolor === "string") {
      const w = textWidth(a.text, size) + 8;
      const h = size * (1.2 * a.text.split(/<br\s*\/?>/i).length) + 4;
      const left = anchor === "start" ? x - 4 : anchor === "end" ? x - w + 4 : x - w / 2;
      const top = base === "top" ? y - 2 : base === "middle" ? y - h / 2 : y - h + 2;
      out.push(
        `<rect x="${n2(left)}" y="${n2(top)}" width="${n2(w)}" height="${n2(h)}" fill="${
          escapeXml(a.bgcolor)
        }"/>`,
      );
    }
    out.push(svgText(x, y, a.text, { size, color: a.font?.color, anchor, baseline: base }));
  }
  return out;
}

/**
 * The figure title, anchored as plotly anchors it (by `xanchor`, else by where `x` falls), in the
 * middle of the top margin `marginTop` of a figure `width` px wide; "" without a title.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawTitle } from "./annotations.ts";
 * assert.match(drawTitle({ title: { text: "loss" } }, 720, 12, 60), /text-anchor="middle"/);
 * assert.equal(drawTitle({}, 720, 12, 60), "");
 * ```
 */
export function drawTitle(layout: Layout, width: number, fs: number, marginTop: number): string {
  const title = layout.title?.text;
  if (!title) return "";
  const tx = isNum(layout.title?.x) ? layout.title.x : 0.5;
  const xa = layout.title?.xanchor;
  const anchor = xa === "left"
    ? "start"
    : xa === "right"
    ? "end"
    : xa === "center"
    ? "middle"
    : tx < 1 / 3
    ? "start"
    : tx > 2 / 3
    ? "end"
    : "middle";
  return svgText(tx * width, Math.max(fs, marginTop / 2), title, {
    size: layout.title?.font?.size ?? fs * 1.3,
    anchor,
    baseline: "middle",
  });
}
