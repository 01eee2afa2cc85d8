import assert from "node:assert/strict";
import { lineFigure, reportHtml } from "../../lib/plot/mod.ts";
import { markdownToHtml } from "../../lib/plot/report.ts";

Deno.test("markdownToHtml handles headings, lists, inline code and escaping", () => {
  const html = markdownToHtml(
    "## Results\n\nMargins *grow*; `beta` is **0.1** & x < y.\n\n- one\n- two",
  );
  assert.equal(
    html,
    "<h2>Results</h2>\n" +
      "<p>Margins <em>grow</em>; <code>beta</code> is <strong>0.1</strong> &amp; x &lt; y.</p>\n" +
      "<ul><li>one</li><li>two</li></ul>",
  );
});

Deno.test("reportHtml builds one offline page: text, figures, plotly.js once", () => {
  const a = lineFigure({ x: [0, 1], y: [1, 0] }, { title: "A" });
  const b = lineFigure({ x: [0, 1], y: [0, 1] }, { title: "B" });
  const page = reportHtml(["Some <text>.", a, { html: "<hr>" }, b], { title: "Run 7 & co" });
  assert.ok(page.startsWith("<!DOCTYPE html>"));
  assert.ok(
    page.includes("<title>Run 7 &amp; co</title>") && page.includes("<h1>Run 7 &amp; co</h1>"),
  );
  assert.ok(page.includes("<p>Some &lt;text&gt;.</p>") && page.includes("<hr>"));
  assert.equal(page.split("plotly.js v4.1.2").length - 1, 1);
  assert.equal(page.split('class="dpo-lab-figure"').length - 1, 2);
  const at = (s: string) => page.indexOf(s, page.indexOf("<body>"));
  assert.ok(at('{"text":"A"}') > 0, "figure A present");
  assert.ok(at('{"text":"A"}') < at("<hr>") && at("<hr>") < at('{"text":"B"}'), "blocks in order");
  assert.throws(() => reportHtml([42 as unknown as string]), /block 0/);
});
