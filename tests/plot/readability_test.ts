// Readability of rendered figures (issue 16): which tick labels the static SVG and the plotly
// spec carry, which colours series get, row labels on every heatmap panel, panel spacing.
import assert from "node:assert/strict";
import { lineFigure } from "../../lib/plot/generic.ts";
import { figureToSvg } from "../../lib/plot/svg.ts";
import type { Axis, Figure } from "../../lib/plot/types.ts";

/** Texts of the static SVG as [x, y, anchor, dy, label]. */
function svgTexts(
  svg: string,
): Array<{ x: number; y: number; anchor: string; dy: string; s: string }> {
  const re =
    /<text x="([\d.-]+)" y="([\d.-]+)"[^>]*text-anchor="(\w+)"[^>]*><tspan[^>]*dy="([^"]+)">([^<]*)<\/tspan><\/text>/g;
  return [...svg.matchAll(re)].map((m) => ({
    x: +m[1],
    y: +m[2],
    anchor: m[3],
    dy: m[4],
    s: m[5],
  }));
}

/** The x tick labels: top-aligned, centred texts on the highest such row (titles sit lower). */
function xTickLabels(svg: string): string[] {
  const xs = svgTexts(svg).filter((t) => t.anchor === "middle" && t.dy === "0.8em");
  const row = Math.min(...xs.map((t) => t.y));
  return xs.filter((t) => t.y === row).map((t) => t.s);
}

Deno.test("log x axis over 2.6 decades: decade labels only, in the plotly spec and the SVG", () => {
  // 0.05 .. 20: log10 span 2.6, so only the decades 0.1, 1 and 10 are labelled.
  const fig = lineFigure({ x: [0.05, 0.3, 1, 4, 20], y: [1, 2, 3, 2, 1] }, { logX: true });
  const ax = fig.layout.xaxis as Axis;
  assert.deepEqual(ax.tickvals, [0.1, 1, 10]);
  assert.deepEqual(ax.ticktext, ["0.1", "1", "10"]);
  assert.deepEqual(xTickLabels(figureToSvg(fig)), ["0.1", "1", "10"]);
});

Deno.test("log x axis under two decades: 1-2-5 labels, never the minor digits 3, 4, 6 ...", () => {
  // 0.3 .. 3 (one decade): of 0.2, 0.5, 1, 2, 5 only 0.5, 1 and 2 lie inside.
  const fig = lineFigure({ x: [0.3, 0.6, 1, 3], y: [1, 2, 3, 4] }, { logX: true });
  assert.deepEqual((fig.layout.xaxis as Axis).ticktext, ["0.5", "1", "2"]);
  assert.deepEqual(xTickLabels(figureToSvg(fig)), ["0.5", "1", "2"]);
});

Deno.test("an axis that sets its own ticks keeps them (plotly spec and SVG)", () => {
  const fig: Figure = lineFigure({ x: [1, 100], y: [1, 2] }, { logX: true });
  const own = lineFigure({ x: [1, 100], y: [1, 2] }, { logX: true });
  (own.layout.xaxis as Axis).tickvals = [3, 30];
  (own.layout.xaxis as Axis).ticktext = ["three", "thirty"];
  assert.deepEqual((fig.layout.xaxis as Axis).ticktext, ["1", "10", "100"]);
  assert.deepEqual(xTickLabels(figureToSvg(own)), ["three", "thirty"]);
});
