import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { chesTokenFigure } from "../../lib/plot/ches_tokens.ts";
import { influenceFigure } from "../../lib/plot/influence.ts";
import { figureToSvg } from "../../lib/plot/svg.ts";
import { checkWellFormedXml } from "./xml_check.ts";

Deno.test("chesTokenFigure places each token's share in its cell, wrapped, chosen on top", () => {
  const fig = chesTokenFigure({
    chosenTokens: [" a", "b", "c"],
    rejectedTokens: ["<x>", "y"],
    chosen: [-1, -2, -3],
    rejected: [4, 0.5],
  }, { perLine: 2 });
  const z = (fig.data[0] as { z: (number | null)[][] }).z;
  // Rows bottom-up: rejected line, blank, chosen line 2, chosen line 1.
  assert.deepEqual(z, [[4, 0.5], [null, null], [-3, null], [-1, -2]]);
  const texts = (fig.layout.annotations ?? []).map((a) => [a.text, a.x, a.y]);
  assert.deepEqual(texts.slice(0, 5), [
    ["·a", 0, 3],
    ["b", 1, 3],
    ["c", 0, 2],
    ["&lt;x&gt;", 0, 0],
    [
      "y",
      1,
      0,
    ],
  ]);
  const meta = fig.layout.meta as { total: number; chosenTotal: number; rejectedTotal: number };
  assert.deepEqual([meta.chosenTotal, meta.rejectedTotal, meta.total], [-6, 4.5, -1.5]);
  // Colour range symmetric about 0 at the largest |share|.
  const t = fig.data[0] as { zmin: number; zmax: number };
  assert.deepEqual([t.zmin, t.zmax], [-4, 4]);
  const svg = figureToSvg(fig);
  checkWellFormedXml(svg);
  assert.ok(svg.includes("&lt;x&gt;"), "token text escaped in the SVG");
  assert.throws(
    () =>
      chesTokenFigure({
        chosenTokens: ["a"],
        rejectedTokens: ["b"],
        chosen: [1, 2],
        rejected: [1],
      }),
    /1 chosen tokens but 2 contributions/,
  );
});

Deno.test("influenceFigure draws four panels on one symmetric scale, probe 0 on top", () => {
  const d = {
    chosen: [[0.1, 0.2], [0.3, -0.4]],
    rejected: [[-0.5, 0], [0, 0.25]],
    predicted: [[-0.4, 0.2], [0.3, -0.15]],
    observed: [[-0.41, 0.2], [0.3, -0.16]],
  };
  const fig = influenceFigure(d, { probeLabels: ["p0", "p1"], pairLabels: ["A", "B"] });
  assert.equal(fig.data.length, 4);
  assert.equal((fig.layout.meta as { range: number }).range, 0.5);
  const z0 = (fig.data[0] as { z: number[][] }).z;
  assert.deepEqual(z0, [[0.3, -0.4], [0.1, 0.2]]);
  for (const t of fig.data as { zmin: number; zmax: number }[]) {
    assert.deepEqual([t.zmin, t.zmax], [-0.5, 0.5]);
  }
  assert.deepEqual((fig.data as { showscale?: boolean }[]).map((t) => t.showscale), [
    false,
    false,
    false,
    true,
  ]);
  // Labels in paper coordinates: probe 0 highest, each pair label inside its panel's columns.
  const ann = fig.layout.annotations ?? [];
  const rowY = ["p0", "p1"].map((t) => ann.find((a) => a.text === t)!.y);
  assert.ok(rowY[0] > rowY[1]);
  const xDomain = (fig.layout.xaxis as { domain: number[] }).domain;
  const colX = ann.filter((a) => a.text === "A" || a.text === "B").slice(0, 2).map((a) => a.x);
  assertClose(colX, [0.75 * xDomain[0] + 0.25 * xDomain[1], 0.25 * xDomain[0] + 0.75 * xDomain[1]]);
  checkWellFormedXml(figureToSvg(fig));
  assert.throws(() => influenceFigure(d, { pairLabels: ["A"] }), /pairLabels has 1 labels for 2/);
  assert.throws(
    () => influenceFigure({ ...d, rejected: [[0, 0]] }),
    /rejected part is not 2 x 2/,
  );
});
