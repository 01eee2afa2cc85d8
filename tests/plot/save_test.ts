import assert from "node:assert/strict";
import { findChromium, lineFigure, renderPng, save } from "../../lib/plot/mod.ts";
import { checkWellFormedXml } from "./xml_check.ts";
import { decodePng } from "./png_decode.ts";

const BLUE = [0x00, 0x72, 0xb2]; // Okabe-Ito blue, the first series colour

function fig() {
  return lineFigure(
    { x: [0, 1, 2, 3], y: [0.69, 0.5, 0.45, 0.3], name: "loss", width: 6 },
    { title: "Loss", xTitle: "optimizer step", yTitle: "loss (nats)" },
  );
}

Deno.test("save writes a standalone SVG and a self-contained HTML page", async () => {
  const dir = await Deno.makeTempDir({ prefix: "plot-save-" });
  try {
    await save(fig(), `${dir}/f.svg`);
    const svg = await Deno.readTextFile(`${dir}/f.svg`);
    assert.ok(svg.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<svg '));
    assert.deepEqual(checkWellFormedXml(svg).slice(0, 1), ["svg"]);
    await save(fig(), `${dir}/f.html`);
    const html = await Deno.readTextFile(`${dir}/f.html`);
    assert.ok(html.startsWith("<!DOCTYPE html>"));
    assert.equal(html.split("plotly.js v4.1.2").length - 1, 1, "plotly.js inlined once");
    assert.ok(!/<script[^>]+src=/i.test(html), "no external scripts: works offline");
    assert.ok(html.includes('"optimizer step"'));
    await save(fig(), `${dir}/other.txt`, { format: "svg", width: 300, height: 200 });
    assert.match(await Deno.readTextFile(`${dir}/other.txt`), /width="300" height="200"/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("save refuses an unknown format and names the path", async () => {
  await assert.rejects(() => save(fig(), "/tmp/figure.jpeg"), /figure\.jpeg/);
});

Deno.test("PNG export without Chromium names the install command", async () => {
  await assert.rejects(
    () => renderPng(fig(), { chromium: "/nonexistent/chromium" }),
    /install_chromium\.sh/,
  );
});

const chromium = findChromium();
if (!chromium) {
  console.log(
    "save_test: skipping the PNG test: no chromium on PATH (bash scripts/install_chromium.sh)",
  );
}

Deno.test({
  name: "save writes a PNG through headless Chromium, with the plot's colours in it",
  ignore: !chromium,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "plot-png-" });
    try {
      await save(fig(), `${dir}/f.png`, { width: 480, height: 320, scale: 1 });
      const png = await decodePng(await Deno.readFile(`${dir}/f.png`));
      assert.deepEqual([png.width, png.height], [480, 320]);
      let blue = 0, ink = 0;
      for (let i = 0; i < png.width * png.height; i++) {
        const [r, g, b] = png.rgba.subarray(i * 4, i * 4 + 3);
        if (Math.abs(r - BLUE[0]) + Math.abs(g - BLUE[1]) + Math.abs(b - BLUE[2]) < 40) blue++;
        if (r + g + b < 600) ink++;
      }
      // A 6 px line across most of a ~350 px wide plot: well over 1000 blue pixels.
      assert.ok(blue > 1000, `only ${blue} pixels of the line colour`);
      assert.ok(ink > blue, "axes and text drawn too");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
