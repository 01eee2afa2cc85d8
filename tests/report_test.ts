/**
 * A study report as a reader gets it: notebook 00 executed headless, exported to HTML the way the
 * main job does, opened in headless Chromium. Checks that plotly drew the figure (DOM) and that the
 * screenshot shows it (pixels of the figure's trace colour, not a blank page).
 */
import assert from "node:assert/strict";
import { findChromium, headlessChromiumArgs } from "../lib/plot/mod.ts";
import { describeFailure, executeNotebook, exportHtml } from "../scripts/nbexec.ts";
import { decodePng } from "./plot/png_decode.ts";

const root = new URL("..", import.meta.url).pathname;
const chromium = findChromium();
if (!chromium) console.log("report_test: skipping: no chromium (run ./lab.sh setup as root)");

function chromiumArgs(profile: string): string[] {
  return headlessChromiumArgs(profile, 8000, { hideScrollbars: true });
}

Deno.test({
  name: "an HTML study report renders its plotly figure in headless Chromium",
  ignore: !chromium,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "report-test-" });
    try {
      const run = await executeNotebook(`${root}notebooks/00_setup_check.ipynb`, {
        outDir: dir,
        env: { DPO_LAB_SMOKE: "1" },
        timeoutSeconds: 600,
      });
      if (!run.ok) throw new Error(describeFailure(run));
      const html = await exportHtml(run.executed);
      const page = await Deno.readTextFile(html);
      assert.ok(!/<script[^>]*src="[^"]*require/i.test(page), "no require.js left in the report");

      const dom = new TextDecoder().decode(
        (await new Deno.Command(chromium!, {
          args: [...chromiumArgs(`${dir}/p1`), "--dump-dom", `file://${html}`],
          stdout: "piped",
          stderr: "null",
        }).output()).stdout,
      );
      assert.ok(dom.includes('data-dpo-lab-drawn="1"'), "plotly drew the figure");
      assert.ok(/class="main-svg"/.test(dom), "plotly's SVG is in the page");

      const shot = `${dir}/shot.png`;
      await new Deno.Command(chromium!, {
        args: [
          ...chromiumArgs(`${dir}/p2`),
          "--window-size=1100,2400",
          `--screenshot=${shot}`,
          `file://${html}`,
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      const img = await decodePng(await Deno.readFile(shot));
      // The figure's single trace is drawn in the house palette's first colour, #0072B2.
      let trace = 0, nonWhite = 0;
      for (let i = 0; i < img.width * img.height; i++) {
        const r = img.rgba[4 * i]!, g = img.rgba[4 * i + 1]!, b = img.rgba[4 * i + 2]!;
        if (r < 245 || g < 245 || b < 245) nonWhite++;
        if (Math.abs(r - 0) < 40 && Math.abs(g - 114) < 40 && Math.abs(b - 178) < 40) trace++;
      }
      console.log(
        `screenshot ${img.width}x${img.height}: ${nonWhite} non-white px, ${trace} trace-colour px`,
      );
      assert.ok(nonWhite > 0.01 * img.width * img.height, "the page is not blank");
      assert.ok(trace > 200, `the trace is drawn (${trace} pixels of #0072B2)`);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
