/**
 * The displacement toy: its geometry and initial distribution computed by hand in float64, and
 * the behaviour it is built for (DPO lowers π(No) below its start and "Yes" gains most).
 */
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { createUnconstrainedFeatures, displacementToy } from "../../lib/models/mod.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import { toyData, train } from "../../lib/train/mod.ts";

await useCpu();

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

Deno.test("geometry: No and Never nearly parallel, Yes most aligned with W_No − W_Never", () => {
  const toy = displacementToy();
  const W = toy.options.unembedding!;
  const [wp, wm] = [W[toy.chosen], W[toy.rejected]];
  const cos = dot(wp, wm) / Math.sqrt(dot(wp, wp) * dot(wm, wm));
  assertClose(cos, (81 - 1.44) / (81 + 1.44), { atol: 1e-9 });
  const diff = wp.map((v, i) => v - wm[i]);
  const others = W.map((_, k) => k).filter((k) => k !== toy.chosen && k !== toy.rejected);
  const best = others.reduce((a, b) => (dot(W[b], diff) > dot(W[a], diff) ? b : a));
  assert.equal(best, toy.attractor);
  assert.equal(toy.options.tokens[toy.attractor], "Yes");
  // Initial distribution: softmax(W h) in float64.
  const h = toy.options.hidden![0];
  const z = W.map((w) => dot(w, h));
  const e = z.map((v) => Math.exp(v - Math.max(...z)));
  const p = e.map((v) => v / e.reduce((a, b) => a + b, 0));
  const m = createUnconstrainedFeatures(toy.options);
  const d = m.distribution(0);
  assertClose(toy.options.tokens.map((t) => d[t]), p, { atol: 1e-5 });
  assert.ok(p[0] > 0.25 && p[0] < 0.35 && p[2] < p[1], `initial π ${p.slice(0, 3)}`);
  m.dispose();
  assert.throws(() => displacementToy({ separation: NaN }), RangeError);
});

Deno.test("DPO on the toy displaces y+ and the mass goes to the attractor", async () => {
  const toy = displacementToy();
  const m = createUnconstrainedFeatures(toy.options);
  const before = m.distribution(0);
  await train({
    policy: m,
    data: toyData({ prompt: [0], chosen: [toy.chosen], rejected: [toy.rejected] }),
    objective: dpo({ beta: 0.1 }),
    optimizer: { name: "sgd" },
    lr: 0.03,
    batchSize: 1,
    maxSteps: 300,
    progress: false,
    examplesEvery: false,
  });
  const after = m.distribution(0);
  assert.ok(after.No < before.No, `π(No) ${before.No} -> ${after.No}`);
  const gains = Object.keys(after).filter((t) => t !== "No" && t !== "Never")
    .map((t) => [t, after[t] - before[t]] as const).sort((a, b) => b[1] - a[1]);
  assert.equal(gains[0][0], "Yes");
  m.dispose();
});
