/**
 * The once-per-page plotly.js design in a real browser: outputs concatenated into one page, as
 * in a notebook or its nbconvert HTML export, including a figure that renders before the output
 * carrying plotly.js (JupyterLab renders cells lazily). Needs headless Chromium.
 */
import assert from "node:assert/strict";
import {
  findChromium,
  headlessChromiumArgs,
  lineFigure,
  mimeBundle,
  resetPlotlySession,
} from "../../lib/plot/mod.ts";

const chromium = findChromium();
if (!chromium) {
  console.log("browser_test: skipping: no chromium on PATH (bash scripts/install_chromium.sh)");
}

Deno.test({
  name: "figures in one page share one plotly.js, whatever order they render in",
  ignore: !chromium,
  fn: async () => {
    resetPlotlySession();
    const f = (n: number) => lineFigure({ x: [0, 1], y: [n, 0] }, { title: `figure ${n}` });
    const first = mimeBundle(f(1), { plotly: "inline" })["text/html"]; // carries plotly.js
    const second = mimeBundle(f(2), { plotly: "omit" })["text/html"];
    const third = mimeBundle(f(3), { plotly: "omit" })["text/html"];
    assert.ok(!second.includes("plotly.js v4.1.2") && !third.includes("plotly.js v4.1.2"));
    const page = `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>` +
      `<div class="out">${second}</div><div class="out">${first}</div><div class="out">${third}</div>` +
      `</body></html>`;
    const dir = await Deno.makeTempDir({ prefix: "plot-browser-" });
    try {
      await Deno.writeTextFile(`${dir}/page.html`, page);
      const out = await new Deno.Command(chromium!, {
        args: [
          ...headlessChromiumArgs(`${dir}/profile`, 2000),
          "--dump-dom",
          `file://${dir}/page.html`,
        ],
        stdout: "piped",
        stderr: "null",
      }).output();
      const dom = new TextDecoder().decode(out.stdout);
      // Each drawn figure is marked and holds plotly's SVG in place of the static image.
      assert.equal(dom.split('data-dpo-lab-drawn="1"').length - 1, 3, "all three figures drawn");
      assert.ok(dom.includes("figure 2") && dom.includes("figure 3"));
      assert.ok((dom.match(/class="main-svg"/g) ?? []).length >= 3);
      assert.ok(!dom.includes('<img src="data:image/svg+xml'), "static fallbacks replaced");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
