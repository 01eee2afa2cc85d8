/**
 * The gradient-alignment tracker's one-row passes stand in for its pairs' scores of the step:
 * the displacement tracker after it scores only the pairs it does not measure, and still reports
 * each pair's chosen log-prob as written out here in float64 from the model's logits.
 */
import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/mod.ts";
import { lmScorer } from "../../lib/scoring/mod.ts";
import type { PreferenceBatch, ProbeBatch } from "../../lib/data/mod.ts";
import type { PreferenceScorer } from "../../lib/core/mod.ts";
import { displacementTracker, gradientAlignmentTracker } from "../../lib/analysis/trackers.ts";
import { pairSides } from "../../lib/analysis/pair_sides.ts";
import { assertSteps, handLogp, oldVsNew, TINY_GPT2, TINY_PAIRS, trainTiny } from "./fixtures.ts";

await useCpu();

interface Run {
  grad: Record<string, number>[][];
  current: number[][];
  hand: number[][];
  scoredPairs: number;
}

async function run(withSides: boolean): Promise<Run> {
  const model = createGPT2(TINY_GPT2, { seed: 5 });
  const base = lmScorer(model);
  let scoredPairs = 0;
  const policy: PreferenceScorer<PreferenceBatch, ProbeBatch> = {
    ...base,
    measureScores: (b) => (scoredPairs += b.size, base.measureScores!(b)),
  };
  const grad = gradientAlignmentTracker<PreferenceBatch, ProbeBatch>({
    every: 1,
    positions: [0, 1],
    file: false,
    ...(withSides ? { sides: pairSides(TINY_PAIRS, 0) } : {}),
  });
  const disp = displacementTracker<PreferenceBatch>({
    every: 1,
    positions: [0, 1, 2],
    file: false,
  });
  const out: Run = { grad: [], current: [], hand: [], scoredPairs: 0 };
  const spy = {
    name: "spy",
    onStepEnd: () => {
      out.grad.push(grad.last!);
      out.current.push([...disp.last!.current]);
      out.hand.push(TINY_PAIRS.map((p) => handLogp(model, p.promptIds, p.chosenIds)));
    },
  };
  try {
    await trainTiny(policy, { maxSteps: 3, seed: 1, callbacks: [grad, disp, spy] });
  } finally {
    model.dispose();
  }
  out.scoredPairs = scoredPairs;
  return out;
}

oldVsNew(
  "gradient alignment's side passes are shared with the displacement tracker, same values",
  run,
  (old, now) => {
    // Step 0 scores all 3 pairs (the sides are checked against them); steps 1-3 only pair 2.
    assert.equal(old.scoredPairs, 12);
    assert.equal(now.scoredPairs, 6);
    // Every step of the run (3) must be compared, each with all 3 tracked pairs.
    assert.equal(now.current.length, 3);
    assert.ok(now.current.every((row) => row.length === 3));
    assertSteps(now.current, now.hand, { rtol: 1e-5, atol: 0 }, "pair");
    assertSteps(now.current, old.current, { rtol: 1e-6, atol: 0 }, "pair");
    assertSteps(now.grad, old.grad, { rtol: 1e-6, atol: 1e-9 }, "row");
  },
);

Deno.test("gradientAlignmentTracker refuses sides whose lengths are not the pair's", async () => {
  const model = createGPT2(TINY_GPT2, { seed: 5 });
  const sides = pairSides(TINY_PAIRS, 0);
  const wrong = (p: number) => ({ ...sides(p), lengths: { chosen: 99, rejected: 2 } });
  try {
    await assert.rejects(
      () =>
        trainTiny(lmScorer(model), {
          maxSteps: 1,
          callbacks: [gradientAlignmentTracker({ positions: [0], file: false, sides: wrong })],
        }),
      /position 0's chosen side has 99 tokens, the pair 4/,
    );
  } finally {
    model.dispose();
  }
});
