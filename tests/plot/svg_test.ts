import assert from "node:assert/strict";
import { figureToSvg } from "../../lib/plot/svg.ts";
import type { Figure, Layout, Trace } from "../../lib/plot/types.ts";
import { checkWellFormedXml, elementsOf } from "./xml_check.ts";
import { decodePng } from "./png_decode.ts";

// 400 x 300 canvas with 50 px margins: the plot area is x 50..350, y 50..250.
function fig(data: Trace[], layout: Layout = {}): Figure {
  return {
    data,
    layout: {
      width: 400,
      height: 300,
      margin: { l: 50, r: 50, t: 50, b: 50 },
      showlegend: false,
      ...layout,
    },
    config: {},
  };
}

Deno.test("xml_check itself rejects malformed documents", () => {
  assert.throws(() => checkWellFormedXml("<a><b></a></b>"), /closes/);
  assert.throws(() => checkWellFormedXml('<a x="1" x="2"/>'), /duplicate/);
  assert.throws(() => checkWellFormedXml("<a>x & y</a>"), /bare '&'/);
  assert.throws(() => checkWellFormedXml("<a x=1/>"), /unquoted/);
  assert.throws(() => checkWellFormedXml("<a/><b/>"), /second root/);
  assert.deepEqual(checkWellFormedXml('<a><b c="&amp;"/>t&lt;</a>'), ["a", "b"]);
});

Deno.test("markers and lines land on hand-computed pixels", () => {
  const svg = figureToSvg(fig([
    { type: "scatter", mode: "markers", x: [5, 10], y: [50, 100] },
    { type: "scatter", mode: "lines", x: [0, 10], y: [0, 100] },
  ], { xaxis: { range: [0, 10] }, yaxis: { range: [0, 100] } }));
  checkWellFormedXml(svg);
  // x: 50 + 300 * x/10; y: 250 - 200 * y/100.
  const circles = elementsOf(svg, "circle").map((c) => [+c.cx, +c.cy]);
  assert.deepEqual(circles, [[200, 150], [350, 50]]);
  assert.ok(elementsOf(svg, "path").some((p) => p.d === "M50,250L350,50"));
});

Deno.test("a null in y breaks the line into two paths", () => {
  const svg = figureToSvg(fig([
    { type: "scatter", mode: "lines", x: [0, 1, 2, 3, 4], y: [0, 1, null, 3, 4] },
  ], { xaxis: { range: [0, 4] }, yaxis: { range: [0, 4] } }));
  const paths = elementsOf(svg, "path").map((p) => p.d);
  // x: 50 + 75 x; y: 250 - 50 y.
  assert.deepEqual(paths, ["M50,250L125,200", "M275,100L350,50"]);
});

Deno.test("log axes place a value by its log10", () => {
  const svg = figureToSvg(fig(
    [{ type: "scatter", mode: "markers", x: [0.5], y: [10] }],
    { xaxis: { range: [0, 1] }, yaxis: { type: "log", range: [0, 2] } },
  ));
  const [c] = elementsOf(svg, "circle");
  assert.equal(+c.cx, 200);
  assert.equal(+c.cy, 150); // log10(10) = 1, halfway up 0..2
});

Deno.test("scaleanchor gives both axes the same px per unit, centred", () => {
  // x 0..10 over 300 px (30/unit), y 0..10 over 200 px (20/unit): x shrinks to 200 px, 100..300.
  const svg = figureToSvg(fig(
    [{ type: "scatter", mode: "markers", x: [0, 5], y: [0, 5] }],
    { xaxis: { range: [0, 10] }, yaxis: { range: [0, 10], scaleanchor: "x" } },
  ));
  assert.deepEqual(elementsOf(svg, "circle").map((c) => [+c.cx, +c.cy]), [[100, 250], [200, 150]]);
});

Deno.test("stacked areas fill between the running totals", () => {
  const area = (y: number[], fillcolor: string): Trace => ({
    type: "scatter",
    mode: "lines",
    x: [0, 1],
    y,
    stackgroup: "s",
    fillcolor,
  });
  const svg = figureToSvg(
    fig([area([0.25, 0.5], "#111111"), area([0.75, 0.5], "#222222")], {
      xaxis: { range: [0, 1] },
      yaxis: { range: [0, 1] },
    }),
  );
  const fills = elementsOf(svg, "path").filter((p) => p.stroke === "none");
  // First band: 0 -> 0.25/0.5, i.e. y px 250 -> 200/150. Second: totals 1 (px 50) down to the
  // first band's top (200 at x=0, 150 at x=1), traversed right to left.
  assert.equal(fills.find((p) => p.fill === "#111111")!.d, "M50,200L350,150L350,250L50,250Z");
  assert.equal(fills.find((p) => p.fill === "#222222")!.d, "M50,50L350,50L350,150L50,200Z");
});

Deno.test("category bars are centred on their slot with 80% width", () => {
  const svg = figureToSvg(fig(
    [{ type: "bar", x: ["a", "b"], y: [1, 2], marker: { color: "#123456" } }],
    { yaxis: { range: [0, 2] } },
  ));
  // categories at 0 and 1, axis -0.5..1.5 over 300 px (150/unit): "a" spans -0.4..0.4 = 65..185.
  const bars = elementsOf(svg, "rect").filter((r) => r.fill === "#123456");
  assert.deepEqual(bars.map((r) => [+r.x, +r.y, +r.width, +r.height]), [
    [65, 150, 120, 100],
    [215, 50, 120, 200],
  ]);
  assert.ok(svg.includes(">a</tspan>") && svg.includes(">b</tspan>"));
});

Deno.test("barmode stack stacks bars in the fallback too (full slot, each on the one below)", () => {
  const svg = figureToSvg(fig([
    { type: "bar", x: ["a", "b"], y: [1, 0.5], marker: { color: "#111111" } },
    { type: "bar", x: ["a", "b"], y: [0.5, 1], marker: { color: "#222222" } },
  ], { barmode: "stack", yaxis: { range: [0, 2] } } as never));
  // 100 px per unit from y px 250; "a" spans 65..185 and "b" 215..335 (as above), for both.
  const rects = (fill: string) =>
    elementsOf(svg, "rect").filter((r) => r.fill === fill).map((
      r,
    ) => [+r.x, +r.y, +r.width, +r.height]);
  assert.deepEqual(rects("#111111"), [[65, 150, 120, 100], [215, 200, 120, 50]]);
  assert.deepEqual(rects("#222222"), [[65, 100, 120, 50], [215, 100, 120, 100]]);
});

Deno.test("evenly spaced heatmaps become one image whose pixels follow the colorscale", async () => {
  const svg = figureToSvg(fig([{
    type: "heatmap",
    z: [[0, 1], [2, 3]],
    x: [0, 1],
    y: [0, 1],
    zmin: 0,
    zmax: 3,
    colorscale: [[0, "#000000"], [1, "#FF0000"]],
    showscale: false,
  }]));
  checkWellFormedXml(svg);
  const [img] = elementsOf(svg, "image");
  // Cell edges -0.5..1.5 on both axes fill the plot area.
  assert.deepEqual([+img.x, +img.y, +img.width, +img.height], [50, 50, 300, 200]);
  const b64 = img["xlink:href"].replace("data:image/png;base64,", "");
  const png = await decodePng(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  assert.equal(png.width, 2);
  assert.equal(png.height, 2);
  // Top image row is the y = 1 row of z ([2, 3] -> red 170, 255); bottom is [0, 1] -> 0, 85.
  const red = [0, 1, 2, 3].map((i) => png.rgba[i * 4]);
  assert.deepEqual(red, [170, 255, 0, 85]);
  assert.ok([0, 1, 2, 3].every((i) => png.rgba[i * 4 + 3] === 255));
});

Deno.test("unevenly spaced heatmaps fall back to one rect per cell", () => {
  const svg = figureToSvg(fig([{
    type: "heatmap",
    z: [[0, 1, 2]],
    x: [0, 1, 3],
    y: [0],
    colorscale: [[0, "#000000"], [1, "#FFFFFF"]],
    showscale: false,
  }]));
  // edges: -0.5, 0.5, 2, 4 over -0.5..4 (300 px / 4.5 units).
  const cells = elementsOf(svg, "rect").filter((r) => r.fill?.startsWith("rgb("));
  assert.deepEqual(cells.map((r) => r.fill), [
    "rgb(0,0,0)",
    "rgb(128,128,128)",
    "rgb(255,255,255)",
  ]);
  assert.deepEqual(cells.map((r) => +r.width), [66.67, 100, 133.33]);
});

Deno.test("titles, legends and rich text come out escaped and well-formed", () => {
  const svg = figureToSvg({
    data: [
      { type: "scatter", mode: "lines", x: [0, 1], y: [0, 1], name: 'a < b & "c"' },
      { type: "scatter", mode: "lines+markers", x: [0, 1], y: [1, 0], name: "u<sub>w</sub>" },
    ],
    layout: {
      title: { text: "<b>bold</b> & plain<br>second line" },
      xaxis: { title: { text: "step" } },
      yaxis: { title: { text: "log π(y<sub>w</sub>) (nats)" } },
      annotations: [{
        text: "ρ = 0.5",
        x: 0.1,
        y: 0.9,
        xref: "paper",
        yref: "paper",
        bgcolor: "white",
      }],
    },
    config: {},
  });
  checkWellFormedXml(svg);
  assert.ok(svg.includes("a &lt; b &amp; &quot;c&quot;"), "legend entry escaped");
  assert.ok(svg.includes('<tspan font-weight="bold">bold</tspan>'));
  assert.ok(svg.includes('baseline-shift="sub"'));
  assert.ok(svg.includes("second line") && svg.includes("ρ = 0.5"));
});

Deno.test("the legend appears for two named traces and not for one", () => {
  const two = figureToSvg({
    data: [
      { type: "scatter", x: [0, 1], y: [0, 1], name: "first" },
      { type: "scatter", x: [0, 1], y: [1, 0], name: "second" },
    ],
    layout: {},
    config: {},
  });
  assert.ok(two.includes('class="legend"') && two.includes(">first</tspan>"));
  const one = figureToSvg({
    data: [{ type: "scatter", x: [0, 1], y: [0, 1], name: "only" }],
    layout: {},
    config: {},
  });
  assert.ok(!one.includes('class="legend"'));
});

Deno.test("subplot axes map into their own domains", () => {
  const svg = figureToSvg(fig([
    { type: "scatter", mode: "markers", x: [1], y: [1] },
    { type: "scatter", mode: "markers", x: [1], y: [1], xaxis: "x2", yaxis: "y2" },
  ], {
    xaxis: { domain: [0, 0.5], range: [0, 2] },
    yaxis: { range: [0, 2] },
    xaxis2: { domain: [0.5, 1], range: [0, 2], anchor: "y2" },
    yaxis2: { range: [0, 2], anchor: "x2" },
  }));
  // Panel 1: x 50..200, panel 2: x 200..350; both y 50..250. Centres: 125 and 275, y 150.
  assert.deepEqual(elementsOf(svg, "circle").map((c) => [+c.cx, +c.cy]), [[125, 150], [275, 150]]);
});

Deno.test("figureToSvg rejects a nonsensical size", () => {
  assert.throws(() => figureToSvg({ data: [], layout: {}, config: {} }, { width: 0 }), RangeError);
});
