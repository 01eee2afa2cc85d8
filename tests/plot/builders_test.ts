import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import {
  displacementVsChes,
  type Figure,
  gradientFieldFigure,
  heatmapFigure,
  lineFigure,
  massEvolution,
  metricSeries,
  objectiveFields,
  pairTrajectories,
  PALETTE,
  quiverSegments,
  rewardCurves,
  runComparison,
  type ScatterTrace,
  subplots,
} from "../../lib/plot/mod.ts";
import { figureToSvg } from "../../lib/plot/svg.ts";
import { checkWellFormedXml } from "./xml_check.ts";

const scatter = (f: Figure, name: string) =>
  f.data.find((t) => t.name === name) as ScatterTrace | undefined;

function wellFormed(f: Figure): void {
  checkWellFormedXml(figureToSvg(f));
}

Deno.test("metricSeries keeps records with both fields, sorted by step", () => {
  const s = metricSeries([
    { step: 3, loss: 0.5 },
    { step: 1, loss: 0.7 },
    { step: 2, eval_loss: 0.6 },
    { step: 2, loss: NaN },
    { loss: 0.1 },
  ], "loss");
  assert.deepEqual(s, { x: [1, 3], y: [0.7, 0.5] });
});

Deno.test("rewardCurves plots TRL's reward metrics, accuracy in its own panel", () => {
  const records = [
    {
      step: 20,
      "rewards/chosen": 0.2,
      "rewards/rejected": -0.4,
      "rewards/margins": 0.6,
      "rewards/accuracies": 0.75,
    },
    {
      step: 10,
      "rewards/chosen": 0.1,
      "rewards/rejected": -0.1,
      "rewards/margins": 0.2,
      "rewards/accuracies": 0.5,
    },
    { step: 15, eval_loss: 0.6 }, // TRL interleaves eval records; they carry no train rewards
  ];
  const f = rewardCurves(records);
  assert.deepEqual(f.data.map((t) => t.name), ["chosen", "rejected", "margin", "accuracy"]);
  assert.deepEqual(scatter(f, "rejected")!.x, [10, 20]);
  assert.deepEqual(scatter(f, "rejected")!.y, [-0.1, -0.4]);
  assert.deepEqual(scatter(f, "margin")!.y, [0.2, 0.6]);
  const acc = scatter(f, "accuracy")!;
  assert.deepEqual([acc.xaxis, acc.yaxis, acc.y], ["x2", "y2", [0.5, 0.75]]);
  assert.match(String((f.layout.yaxis as { title: { text: string } }).title.text), /nats/);
  assert.match(String((f.layout.yaxis2 as { title: { text: string } }).title.text), /fraction/);
  wellFormed(f);
});

Deno.test("rewardCurves smoothing adds a faint raw trace under each smoothed one", () => {
  const f = rewardCurves(
    [{ step: 1, "rewards/margins": 1 }, { step: 2, "rewards/margins": 3 }],
    { smoothing: 0.5 },
  );
  assert.deepEqual(f.data.map((t) => t.name), ["margin (raw)", "margin"]);
  assert.deepEqual(scatter(f, "margin (raw)")!.y, [1, 3]);
  assertClose(scatter(f, "margin")!.y as number[], [1, 7 / 3], { rtol: 1e-12 });
});

Deno.test("rewardCurves reads eval_ metrics with a prefix and explains missing metrics", () => {
  const f = rewardCurves([{ step: 5, "eval_rewards/margins": 0.3 }], { prefix: "eval_" });
  assert.deepEqual(scatter(f, "margin")!.y, [0.3]);
  assert.throws(() => rewardCurves([{ step: 1, loss: 0.7 }]), /numeric keys found: loss/);
});

Deno.test("massEvolution stacks top-k tokens plus the rest to exactly 1 per step", () => {
  const probs = [
    [0.4, 0.3, 0.2, 0.1],
    [0.1, 0.6, 0.1, 0.2],
    [0.05, 0.05, 0.1, 0.8],
  ];
  const f = massEvolution({ steps: [0, 5, 10], probs }, { topK: 2, labels: ["a", "b", "c", "d"] });
  // Peak probabilities: a 0.4, b 0.6, c 0.2, d 0.8  ->  top-2 = d, b.
  assert.deepEqual(f.data.map((t) => t.name), ['"d"', '"b"', "everything else"]);
  const other = scatter(f, "everything else")!.y as number[];
  assertClose(other, [1 - 0.1 - 0.3, 1 - 0.2 - 0.6, 1 - 0.8 - 0.05], { rtol: 1e-12 });
  for (let t = 0; t < 3; t++) {
    const total = f.data.reduce((s, tr) => s + ((tr as ScatterTrace).y[t] as number), 0);
    assertClose(total, 1, { rtol: 1e-12, msg: `step ${t}` });
  }
  assert.ok(f.data.every((t) => (t as ScatterTrace).stackgroup === "mass"));
  wellFormed(f);
});

Deno.test("massEvolution puts included tokens first and accepts tracker snapshots", () => {
  const snaps = [
    { step: 1, prompt: 0, probs: [0.7, 0.2, 0.1] },
    { step: 0, prompt: 0, probs: [0.5, 0.3, 0.2] },
    { step: 0, prompt: 1, probs: [0, 0, 1] },
  ];
  const f = massEvolution(snaps, { topK: 2, include: [2] });
  // Prompt 0 only, sorted by step; token 2 forced in, then the best other (0, peak 0.7).
  assert.deepEqual(f.data.map((t) => t.name), ['"#2"', '"#0"', "everything else"]);
  assert.deepEqual(scatter(f, '"#2"')!.x, [0, 1]);
  assert.deepEqual(scatter(f, '"#2"')!.y, [0.2, 0.1]);
  assertClose(scatter(f, "everything else")!.y as number[], [0.3, 0.2], { rtol: 1e-12 });
  assert.throws(() => massEvolution({ steps: [0], probs: [[0.5, 1.5]] }), /probs\[0\]\[1\]/);
  assert.throws(() => massEvolution({ steps: [0, 1], probs: [[1]] }), RangeError);
  assert.throws(
    () => massEvolution({ steps: [0], probs: [[1, 0]] }, { include: [2] }),
    /include id 2/,
  );
});

Deno.test("pairTrajectories greys the crowd, colours the extremes, and draws the median", () => {
  // Five pairs, value = k * step for pair k = -2..2 at steps 0..2.
  const records = [0, 1, 2].flatMap((step) =>
    [-2, -1, 0, 1, 2].map((k) => ({ step, pair: `p${k}`, margin: k * step }))
  );
  const f = pairTrajectories(records);
  assert.deepEqual(f.data.map((t) => t.name), [
    "other pairs (1)",
    "pair p-2",
    "pair p-1",
    "pair p1",
    "pair p2",
    "median",
  ]);
  assert.deepEqual(scatter(f, "other pairs (1)")!.y, [0, 0, 0, null]);
  assert.deepEqual(scatter(f, "pair p2")!.y, [0, 2, 4]);
  assert.deepEqual(scatter(f, "median")!.y, [0, 0, 0]);
  const chosen = pairTrajectories(records, { highlight: ["p1"], valueKey: "margin" });
  // Four grey pairs, three points each, a null after each.
  assert.equal(scatter(chosen, "other pairs (4)")!.y.length, 16);
  assert.throws(() => pairTrajectories(records, { highlight: ["nope"] }), /nope/);
  wellFormed(f);
});

Deno.test("pairTrajectories median uses the middle two of an even count", () => {
  const records = [1, 2, 3, 10].map((v, i) => ({ step: 0, pair: i, margin: v }));
  const f = pairTrajectories(records, { highlight: [] });
  assert.deepEqual(scatter(f, "median")!.y, [2.5]);
});

Deno.test("displacementVsChes reports Spearman's rho of the finite points", () => {
  const xs = [1, 2, 2, 3, 4], ys = [2, 1, 4, 3, 3];
  const records: Array<Record<string, unknown>> = xs.map((x, i) => ({
    pair: i,
    ches: x,
    displacement: ys[i],
  }));
  records.push({ pair: 9, ches: NaN, displacement: 1 }, { pair: 10, ches: 2 });
  const f = displacementVsChes(records, { highlight: [0] });
  const meta = f.layout.meta as { spearman: number; n: number };
  assertClose(meta.spearman, 7 / 19, { rtol: 1e-12 }); // hand value, see stats_test
  assert.equal(meta.n, 5);
  assert.equal(f.layout.annotations![0].text, "Spearman ρ = 0.37 (n = 5)");
  // Above the axes (paper y >= 1), so no point can sit under it.
  assert.ok(
    (f.layout.annotations![0].y as number) >= 1 && f.layout.annotations![0].yanchor === "bottom",
  );
  assert.deepEqual(scatter(f, "highlighted")!.x, [1]);
  assert.equal(scatter(f, "pairs")!.x.length, 4);
  assert.throws(() => displacementVsChes([{ ches: 1 }]), RangeError);
  wellFormed(f);
});

Deno.test("quiverSegments: shafts and heads by hand, descent direction, max normalisation", () => {
  // Grid spacing 1 in both directions, so one arrow cell = 1. Gradient (-2, 0) at (0, 0) and
  // (-1, 0) elsewhere: descent points +x; the longest arrow is one cell, the others half.
  const f = {
    uW: [0, 1, 2],
    uL: [0, 1],
    gW: [[-2, -1, -1], [-1, -1, -1]],
    gL: [[0, 0, 0], [0, 0, 0]],
  };
  const s = quiverSegments(f, { arrowScale: 1 });
  assert.equal(s.x.length, 6 * 3 * 3); // 6 arrows x (shaft + 2 head strokes) x (2 points + gap)
  assert.deepEqual([s.x.slice(0, 3), s.y.slice(0, 3)], [[0, 1, null], [0, 0, null]]);
  // Head strokes from the tip (1, 0), 0.3 long, at 180° ± 25°.
  const c = Math.cos(25 * Math.PI / 180) * 0.3, sn = Math.sin(25 * Math.PI / 180) * 0.3;
  assertClose(s.x.slice(3, 5) as number[], [1, 1 - c], { rtol: 1e-12 });
  assertClose(s.y.slice(3, 5) as number[], [0, -sn], { atol: 1e-12 });
  assertClose(s.x.slice(6, 8) as number[], [1, 1 - c], { rtol: 1e-12 });
  assertClose(s.y.slice(6, 8) as number[], [0, sn], { atol: 1e-12 });
  // Second arrow at (1, 0): half length.
  assert.deepEqual([s.x.slice(9, 11), s.y.slice(9, 11)], [[1, 1.5], [0, 0]]);
});

Deno.test("quiverSegments: gradient direction, unit length, diagonals, zero vectors skipped", () => {
  const f = { uW: [0, 2], uL: [0, 2], gW: [[-1, 0], [3, 0]], gL: [[-1, 0], [4, 0]] };
  const s = quiverSegments(f, { direction: "gradient", normalize: "unit", arrowScale: 0.5 });
  assert.equal(s.x.length, 2 * 9); // the two zero vectors draw nothing
  // cell = 2, unit length 0.5 * 2 = 1 along (+grad): (-1,-1)/√2 from (0,0); (3,4)/5 from (0,2).
  assertClose(s.x.slice(0, 2) as number[], [0, -Math.SQRT1_2], { rtol: 1e-12 });
  assertClose(s.y.slice(0, 2) as number[], [0, -Math.SQRT1_2], { rtol: 1e-12 });
  assertClose(s.x.slice(9, 11) as number[], [0, 0.6], { rtol: 1e-12 });
  assertClose(s.y.slice(9, 11) as number[], [2, 2.8], { rtol: 1e-12 });
  assert.throws(() => quiverSegments({ ...f, gL: [[0, 0]] }), /gL must have 2 rows/);
});

Deno.test("gradientFieldFigure: norm or loss heatmap, arrows, diagonal, equal axis scale", () => {
  const field = {
    uW: [0, 1],
    uL: [0, 1],
    gW: [[3, 0], [0, 1]],
    gL: [[4, 0], [1, 0]],
    loss: [[1, 2], [3, 4]],
  };
  const f = gradientFieldFigure(field);
  const heat = f.data[0] as { type: string; z: number[][] };
  assert.equal(heat.type, "heatmap");
  assert.deepEqual(heat.z, [[5, 0], [1, 1]]);
  assert.deepEqual(f.data.slice(1).map((t) => t.type), ["scatter", "scatter"]);
  assert.equal((f.layout.yaxis as { scaleanchor: string }).scaleanchor, "x");
  assert.deepEqual(f.layout.shapes!.map((s) => [s.x0, s.y0, s.x1, s.y1]), [[0, 0, 1, 1]]);
  const byLoss = gradientFieldFigure(field, { background: "loss" });
  assert.deepEqual((byLoss.data[0] as { z: number[][] }).z, [[1, 2], [3, 4]]);
  assert.throws(
    () => gradientFieldFigure({ ...field, loss: undefined }, { background: "loss" }),
    /field.loss/,
  );
  wellFormed(f);
});

Deno.test("objectiveFields shares one colour range and one colorbar across panels", () => {
  const g = [0, 1];
  const field = (k: number) => ({ uW: g, uL: g, gW: [[k, k], [k, k]], gL: [[0, 0], [0, 0]] });
  const f = objectiveFields([{ name: "A", field: field(1) }, { name: "B", field: field(3) }], {
    columns: 2,
  });
  const heats = f.data.filter((t) => t.type === "heatmap") as Array<
    { zmin: number; zmax: number; showscale?: boolean; xaxis: string }
  >;
  assert.deepEqual(heats.map((h) => [h.zmin, h.zmax, h.xaxis]), [[1, 3, "x"], [1, 3, "x2"]]);
  assert.deepEqual(heats.map((h) => h.showscale !== false), [true, false]);
  assert.equal((f.layout.yaxis2 as { scaleanchor: string }).scaleanchor, "x2");
  assert.deepEqual(f.layout.annotations!.map((a) => a.text), ["<b>A</b>", "<b>B</b>"]);
  wellFormed(f);
});

Deno.test("subplots lays panels on a grid and merges repeated legend entries", () => {
  const a = lineFigure({ x: [0, 1], y: [0, 1], name: "run" }, {
    title: "A",
    xTitle: "step",
    yTitle: "loss (nats)",
  });
  const b = lineFigure({ x: [0, 1], y: [1, 0], name: "run" }, {
    title: "B",
    xTitle: "step",
    yTitle: "loss (nats)",
  });
  const f = subplots([a, b], { columns: 2, xgap: 0.1 });
  assert.deepEqual((f.layout.xaxis as { domain: number[] }).domain, [0, 0.45]);
  assert.deepEqual((f.layout.xaxis2 as { domain: number[] }).domain, [0.55, 1]);
  assert.deepEqual((f.layout.yaxis2 as { anchor: string }).anchor, "x2");
  assert.deepEqual(f.data.map((t) => [t.xaxis, t.yaxis, t.showlegend !== false]), [
    ["x", "y", true],
    ["x2", "y2", false],
  ]);
  // Same y title on both panels: kept only in the first column.
  assert.equal((f.layout.yaxis2 as { title: { text: string } }).title.text, "");
  assert.throws(() => subplots([]), RangeError);
  wellFormed(f);
});

Deno.test("runComparison overlays runs in one colour each, TRL log_history included", () => {
  const ours = [{ step: 1, loss: 0.69, "rewards/margins": 0 }, {
    step: 2,
    loss: 0.6,
    "rewards/margins": 0.2,
  }];
  const trl = [
    { step: 1, loss: 0.7, epoch: 0.5 },
    { step: 2, eval_loss: 0.65, epoch: 1 },
    { step: 2, loss: 0.62, "rewards/margins": 0.1, epoch: 1 },
    { train_runtime: 12.5, step: 2 },
  ];
  const f = runComparison([{ name: "ours", records: ours }, { name: "trl", records: trl }]);
  const names = f.data.map((t) => `${t.name}@${t.xaxis}`);
  assert.deepEqual(names, ["ours@x", "trl@x", "ours@x2", "trl@x2"]);
  const lines = f.data as ScatterTrace[];
  assert.equal(lines[0].line!.color, lines[2].line!.color);
  assert.notEqual(lines[0].line!.color, lines[1].line!.color);
  assert.deepEqual(lines[1].y, [0.7, 0.62]);
  assert.deepEqual(lines[3].y, [0.1]);
  assert.deepEqual(lines.map((t) => t.showlegend !== false), [true, true, false, false]);
  assert.throws(
    () => runComparison([{ name: "x", records: [{ step: 1, foo: 2 }] }]),
    /available: foo/,
  );
  wellFormed(f);
});

Deno.test("generic figures validate their input and keep gaps", () => {
  assert.throws(() => lineFigure({ x: [1, 2], y: [1] }), /2 x values but 1 y values/);
  const f = lineFigure({ x: [0, 1, 2], y: [1, NaN, 3] });
  assert.deepEqual((f.data[0] as ScatterTrace).y, [1, null, 3]);
  const h = heatmapFigure({ z: [[-1, 4], [2, 0]] }, { colorscale: "diverging" });
  assert.deepEqual([h.data[0].zmin, h.data[0].zmax], [-4, 4]);
  assert.throws(() => heatmapFigure({ z: [[1, 2], [3]] }), /row 1/);
  wellFormed(h);
});

Deno.test("subplots: one colour per series, distinct across panels; panels >= ~300 px", () => {
  const panel = (names: string[]) =>
    lineFigure(names.map((name, i) => ({ x: [0, 1], y: [i, 1 - i], name })), { title: "p" });
  // Each panel colours its own series from the palette's start (05: the same blue twice).
  const f = subplots([panel(["DPO", "SGDPO"]), panel(["r1 = 0.25", "DPO"])], { columns: 2 });
  const color = (t: unknown) => (t as { line: { color: string } }).line.color;
  const byName = new Map<string, Set<string>>();
  for (const t of f.data) {
    const n = (t as { name: string }).name;
    byName.set(n, (byName.get(n) ?? new Set()).add(color(t)));
  }
  assert.deepEqual([...byName.values()].map((s) => s.size), [1, 1, 1], "one colour per series");
  const colours = [...byName.values()].map((s) => [...s][0]);
  assert.equal(new Set(colours).size, 3, `distinct colours: ${colours}`);
  assert.equal(color(f.data[0]), PALETTE[0], "the first series keeps its colour");
  // Three panels asked side by side in 720 px would be ~150 px each: they wrap to two columns.
  const g = subplots([panel(["a"]), panel(["b"]), panel(["c"])], { columns: 3 });
  assert.equal((g.layout.xaxis3 as { domain: number[] }).domain[0], 0, "third panel wraps");
});
