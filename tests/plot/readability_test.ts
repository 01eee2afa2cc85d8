// Readability of rendered figures (issue 16): which tick labels the static SVG and the plotly
// spec carry, which colours series get, row labels on every heatmap panel, panel spacing.
import assert from "node:assert/strict";
import { lineFigure } from "../../lib/plot/generic.ts";
import { objectiveFields } from "../../lib/plot/field.ts";
import { pairTrajectories } from "../../lib/plot/pair_trajectories.ts";
import { influenceFigure } from "../../lib/plot/influence.ts";
import { OKABE_ITO, PALETTE, seriesColors } from "../../lib/plot/style.ts";
import { subplots } from "../../lib/plot/subplots.ts";
import { elementsOf } from "./xml_check.ts";
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

Deno.test("log axis of small values: 1-2-5 labels as 2e−6, not 2.0e−6 beside 1e−6", () => {
  // 1e-6 .. 3e-5 (1.5 decades): 1e-6, 2e-6, 5e-6, 1e-5, 2e-5 as an exponent with no padding zero.
  const fig = lineFigure({ x: [1e-6, 3e-6, 1e-5, 3e-5], y: [1, 2, 3, 4] }, { logX: true });
  const want = ["1e−6", "2e−6", "5e−6", "1e−5", "2e−5"];
  assert.deepEqual((fig.layout.xaxis as Axis).ticktext, want);
  assert.deepEqual(xTickLabels(figureToSvg(fig)), want);
});

Deno.test("an axis that sets its own ticks keeps them (plotly spec and SVG)", () => {
  const fig: Figure = lineFigure({ x: [1, 100], y: [1, 2] }, { logX: true });
  const own = lineFigure({ x: [1, 100], y: [1, 2] }, { logX: true });
  (own.layout.xaxis as Axis).tickvals = [3, 30];
  (own.layout.xaxis as Axis).ticktext = ["three", "thirty"];
  assert.deepEqual((fig.layout.xaxis as Axis).ticktext, ["1", "10", "100"]);
  assert.deepEqual(xTickLabels(figureToSvg(own)), ["three", "thirty"]);
});

Deno.test("gradient-field small multiples: rows about 64 px apart, not ~250 px", () => {
  const g = [-1, 0, 1];
  const field = { uW: g, uL: g, gW: g.map(() => g.map(() => -1)), gL: g.map(() => g.map(() => 1)) };
  const fig = objectiveFields(
    ["a", "b", "c", "d", "e", "f"].map((name) => ({ name, field })),
    { columns: 3 },
  );
  const { height, margin } = fig.layout as { height: number; margin: { t: number; b: number } };
  const plotPx = height - margin.t - margin.b;
  // 980 px wide: two columns, so panels 1, 3, 5 (axes y, y3, y5) start the three rows.
  const dom = (k: string) => (fig.layout[k] as Axis).domain!;
  for (const [upper, lower] of [["yaxis", "yaxis3"], ["yaxis3", "yaxis5"]]) {
    const gapPx = (dom(upper)[0] - dom(lower)[1]) * plotPx;
    assert.ok(gapPx > 40 && gapPx < 90, `gap between rows ${gapPx.toFixed(0)} px`);
  }
  // Each row's cell is as tall as the square panel is wide (width 980 minus margins and colorbar
  // 190 px, two columns with a 10% gap): no slack for plotly to leave blank.
  const rowPx = (dom("yaxis")[1] - dom("yaxis")[0]) * plotPx;
  assert.ok(Math.abs(rowPx - (790 * 0.9) / 2) < 2, `row ${rowPx.toFixed(1)} px`);
});

/** CIELAB (D65) of `#RRGGBB`, written out from the sRGB and CIE 1976 definitions. */
function cielab(hex: string): [number, number, number] {
  const lin = [1, 3, 5].map((i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255;
    return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const [r, g, b] = lin;
  const xyz = [
    (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047,
    0.2126 * r + 0.7152 * g + 0.0722 * b,
    (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883,
  ];
  const f = (t: number) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const [fx, fy, fz] = xyz.map(f);
  return [116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)];
}

/** Stroke colours of the SVG's data lines (paths), in drawing order. */
function lineStrokes(svg: string): string[] {
  return elementsOf(svg, "path").map((p) => (p.stroke ?? "").toUpperCase()).filter((c) =>
    c.startsWith("#")
  );
}

Deno.test("16 series in one figure get 16 distinct colours, in the spec and the SVG", () => {
  const series = Array.from({ length: 16 }, (_, k) => ({
    name: `token ${k}`,
    x: [0, 1],
    y: [k, k + 1],
  }));
  const fig = lineFigure(series, { title: "16 tokens" });
  const spec = fig.data.map((t) => String((t as { line: { color: string } }).line.color));
  assert.equal(new Set(spec).size, 16);
  const drawn = lineStrokes(figureToSvg(fig, { width: 720, height: 440 }));
  assert.equal(new Set(drawn).size, 16, `SVG strokes: ${drawn.join(" ")}`);
  // Distinct to the eye, not only as strings: every two at least ΔE*ab 20 apart.
  for (let i = 0; i < 16; i++) {
    for (let j = i + 1; j < 16; j++) {
      const [a, b] = [cielab(spec[i]), cielab(spec[j])];
      const dE = Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
      assert.ok(dE >= 20, `${spec[i]} vs ${spec[j]}: ΔE ${dE.toFixed(1)}`);
    }
  }
});

Deno.test("a pinned colour follows its series (pair) across two figures with other orders", () => {
  const colors = seriesColors(["7", "3", "1"]);
  const records = [0, 1, 2].flatMap((step) =>
    [0, 1, 2, 3, 4, 5, 6, 7].map((pair) => ({ step, pair, a: pair * step, b: -pair * step }))
  );
  const figA = pairTrajectories(records, { valueKey: "a", highlight: [7, 3], colors });
  const figB = pairTrajectories(records, { valueKey: "b", highlight: [1, 3, 7], colors });
  const colorOf = (fig: Figure, name: string) =>
    String((fig.data.find((t) => t.name === name) as { line: { color: string } }).line.color);
  for (const pair of ["3", "7"]) {
    assert.equal(colorOf(figA, `pair ${pair}`), colors[pair]);
    assert.equal(colorOf(figB, `pair ${pair}`), colors[pair]);
  }
  // The rendered SVGs draw pair 7 in the same stroke in both figures.
  assert.ok(lineStrokes(figureToSvg(figA)).includes(colors["7"].toUpperCase()));
  assert.ok(lineStrokes(figureToSvg(figB)).includes(colors["7"].toUpperCase()));
  assert.notEqual(colors["7"], colors["3"]);
});

Deno.test("influence heatmaps: every panel has its row labels, none over a heatmap", () => {
  const m = [[1, 2, 3], [0, 1, -1], [2, 0, 1]];
  const probes = ["token r12 (y−)", "argmax", "p2"];
  const svg = figureToSvg(
    influenceFigure({ chosen: m, rejected: m, predicted: m, observed: m }, {
      probeLabels: probes,
      pairLabels: ["a", "b", "c"],
    }),
  );
  const heat = elementsOf(svg, "image").map((i) => [+i.x, +i.x + +i.width]);
  assert.equal(heat.length, 4);
  const rowLabels = svgTexts(svg).filter((t) => t.anchor === "end" && probes.includes(t.s));
  for (const p of probes) assert.equal(rowLabels.filter((t) => t.s === p).length, 4, p);
  // A 10 px label is at most ~6.5 px per character wide: it must fit left of its panel, clear
  // of the panel before it.
  for (const t of rowLabels) {
    const [left, right] = [t.x - 6.5 * t.s.length, t.x];
    for (const [x0, x1] of heat) {
      assert.ok(right <= x0 + 1 || left >= x1, `"${t.s}" at ${left}..${right} over ${x0}..${x1}`);
    }
  }
});

Deno.test("subplots keeps colours the author pinned (01's summed log-probs), fixes palette ones", () => {
  const [blue, red, green] = [OKABE_ITO.blue, OKABE_ITO.vermillion, OKABE_ITO.bluishGreen];
  const x = [0, 1];
  const trl = lineFigure([
    { name: "logps/chosen", x, y: [0, 1], color: blue },
    { name: "logps/rejected", x, y: [0, -1], color: red },
  ]);
  const tracked = lineFigure([
    { name: "chosen (tracked)", x, y: [0, 1], color: blue, dash: "dash" },
    { name: "rejected (tracked)", x, y: [0, -1], color: red, dash: "dash" },
    { name: "paraphrase (tracked)", x, y: [0, 0.5], color: green, dash: "dash" },
  ]);
  const fig = subplots([trl, tracked], { columns: 2 });
  const strokes = lineStrokes(figureToSvg(fig));
  assert.deepEqual(strokes.slice(0, 5), [blue, red, blue, red, green]);
  // Palette (unpinned) colours still part: panel 2's first series is not panel 1's blue.
  const auto = subplots([
    lineFigure([{ name: "a", x, y: [0, 1] }]),
    lineFigure([{ name: "b", x, y: [0, 1] }]),
  ], { columns: 2 });
  const c = auto.data.map((t) => String((t as { line: { color: string } }).line.color));
  assert.deepEqual(c, [PALETTE[0], PALETTE[1]]);
});
