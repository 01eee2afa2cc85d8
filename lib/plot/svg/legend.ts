/**
 * The SVG renderer's legend: which traces get an entry (named, shown, one per legend group), its
 * width, and each entry's key (swatch for bars and filled areas, line and/or marker otherwise).
 *
 * @module
 */
import { escapeXml, svgText, textWidth } from "../text.ts";
import type { Layout } from "../types.ts";
import { isNum, isScatter, n2, type Prepared, scatterMode } from "./model.ts";
import { dashArray } from "./strokes.ts";

/** The legend's entries and its width in px (0 when there is no legend). */
export interface Legend {
  entries: Array<{ name: string; p: Prepared }>;
  width: number;
}

/**
 * The legend of the figure: shown for two or more named traces unless `layout.showlegend` says.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { legendOf } from "./legend.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [
 *   { type: "scatter" as const, x: [0], y: [0], name: "a" },
 *   { type: "scatter" as const, x: [0], y: [0], name: "b" },
 * ], layout: {}, config: {} };
 * assert.equal(legendOf(fig.layout, prepare(fig), 12).entries.length, 2);
 * assert.equal(legendOf({ showlegend: false }, prepare(fig), 12).width, 0);
 * ```
 */
export function legendOf(layout: Layout, prepared: Prepared[], fs: number): Legend {
  const entries: Array<{ name: string; p: Prepared }> = [];
  const groups = new Set<string>();
  for (const p of prepared) {
    const t = p.trace;
    if (t.showlegend === false || !t.name || t.type === "heatmap") continue;
    if (t.legendgroup) {
      if (groups.has(t.legendgroup)) continue;
      groups.add(t.legendgroup);
    }
    entries.push({ name: t.name, p });
  }
  const show = layout.showlegend ?? entries.length >= 2;
  if (!show || !entries.length) return { entries: [], width: 0 };
  const w = Math.max(...entries.map((e) => textWidth(e.name, fs)));
  return { entries, width: Math.min(260, 10 + 30 + 6 + w + 10) };
}

/**
 * The legend as an SVG group, its top-left at (`x`, `y`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { drawLegend, legendOf } from "./legend.ts";
 * import { prepare } from "./prepare.ts";
 * const fig = { data: [
 *   { type: "scatter" as const, mode: "lines" as const, x: [0], y: [0], name: "a" },
 *   { type: "bar" as const, x: [0], y: [0], name: "b" },
 * ], layout: {}, config: {} };
 * const svg = drawLegend(legendOf(fig.layout, prepare(fig), 12), 600, 60, 12);
 * assert.match(svg, /^<g class="legend"><line /);
 * ```
 */
export function drawLegend(legend: Legend, x: number, y: number, fs: number): string {
  const out: string[] = [];
  const row = fs * 1.5;
  legend.entries.forEach(({ name, p }, i) => {
    const cy = y + row * i + row / 2;
    const t = p.trace;
    const sx = x + 10;
    if (t.type === "bar" || (isScatter(t) && (t.stackgroup || (t.fill && t.fill !== "none")))) {
      const fc = isScatter(t) && t.fillcolor ? t.fillcolor : p.color;
      out.push(
        `<rect x="${n2(sx)}" y="${n2(cy - fs * 0.4)}" width="30" height="${n2(fs * 0.8)}" ` +
          `fill="${escapeXml(fc)}" stroke="${escapeXml(p.color)}" stroke-width="1"/>`,
      );
    } else if (isScatter(t)) {
      const mode = scatterMode(t);
      const lw = isNum(t.line?.width) ? t.line.width : 2;
      if (mode.includes("lines") && lw > 0) {
        const dash = dashArray(t.line?.dash, lw);
        out.push(
          `<line x1="${n2(sx)}" y1="${n2(cy)}" x2="${n2(sx + 30)}" y2="${n2(cy)}" ` +
            `stroke="${escapeXml(p.color)}" stroke-width="${n2(Math.min(4, lw))}"` +
            `${dash ? ` stroke-dasharray="${dash}"` : ""}${
              isNum(t.opacity) ? ` stroke-opacity="${t.opacity}"` : ""
            }/>`,
        );
      }
      if (mode.includes("markers")) {
        const c = typeof t.marker?.color === "string" ? t.marker.color : p.color;
        out.push(`<circle cx="${n2(sx + 15)}" cy="${n2(cy)}" r="4" fill="${escapeXml(c)}"/>`);
      }
    }
    out.push(svgText(sx + 36, cy, name, { size: fs, baseline: "middle" }));
  });
  return `<g class="legend">${out.join("")}</g>`;
}
