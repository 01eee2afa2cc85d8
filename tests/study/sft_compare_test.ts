import assert from "node:assert/strict";
import "@tensorflow/tfjs-backend-cpu";
import * as tf from "@tensorflow/tfjs-core";
import { dpo, runFromSft, seedBand, sftStart, sftToyConfig, sftToyPairs } from "../../lib/mod.ts";

const cfg = sftToyConfig({ prompts: 3, sftSteps: 3, steps: 2 });

Deno.test("sftToyPairs: y_l differs from y_w at exactly `differ` positions, tokens in range", () => {
  const b = sftToyPairs(2, cfg).batch([0, 1, 2]);
  for (let x = 0; x < 3; x++) {
    const w = [...b.chosen[x]], l = [...b.rejected[x]];
    assert.equal(w.length, 6);
    assert.equal(w.filter((t, i) => t !== l[i]).length, 2);
    assert.ok([...w, ...l].every((t) => t >= 0 && t < 16));
  }
});

Deno.test("runFromSft: the first step starts at the reference (DPO loss ln 2, margin 0), then DPO moves", async () => {
  await tf.setBackend("cpu");
  const start = await sftStart(2, cfg);
  const records = await runFromSft(start, dpo({ beta: 0.1 }), cfg);
  // One record per step, measured before that step's update.
  assert.deepEqual(records.map((r) => r.step), [1, 2]);
  assert.ok(Math.abs(records[0].loss - Math.LN2) < 1e-5, `loss ${records[0].loss}`);
  assert.ok(Math.abs(records[0]["rewards/margins"]) < 1e-6);
  assert.ok(records[1]["rewards/margins"] > 0, "DPO widens the margin");
  // The start is copied, not consumed: a second run from it begins at the same place.
  const again = await runFromSft(start, dpo({ beta: 0.1 }), cfg, 0.1);
  assert.ok(Math.abs(again[0]["logps/chosen"] - records[0]["logps/chosen"]) < 1e-5);
});

Deno.test("seedBand: mean and 95% t-interval of two seeds by hand", () => {
  // Seeds 1 and 3 at one step: mean 2, sd √2, t(0.975, 1) = 12.706 → half-width 12.706.
  const [mean, lo, hi] = seedBand("m", [7], [[1], [3]]);
  assert.deepEqual([mean.x[0], mean.y[0]], [7, 2]);
  assert.ok(Math.abs(hi.y[0] - (2 + 12.7062)) < 1e-3 && Math.abs(lo.y[0] - (2 - 12.7062)) < 1e-3);
});
