/**
 * The causal-LM scorer's measurement path (`measureScores`: the four sums without per-token data
 * or TRL token statistics) against sums written out here in float64 from the model's full
 * logits, and the trackers' shared scores using it with values equal to the stats path.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/mod.ts";
import { lmScorer } from "../../lib/scoring/mod.ts";
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import type { PreferenceScorer } from "../../lib/core/mod.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { displacementTracker } from "../../lib/analysis/trackers.ts";
import { assertSteps, handLogp, oldVsNew, TINY_GPT2, TINY_PAIRS, trainTiny } from "./fixtures.ts";

await useCpu();

Deno.test("measureScores gives the pair sums of a float64 log-softmax and equals scores()", () => {
  const model = createGPT2(TINY_GPT2, { seed: 3 });
  try {
    const scorer = lmScorer(model);
    const batch = preferenceData(TINY_PAIRS, { padId: 0 }).batch([0, 1, 2]);
    const lean = scorer.measureScores!(batch);
    const full = scorer.scores(batch);
    assert.equal(lean.tokenStats, undefined);
    assert.ok(full.tokenStats, "scores() keeps TRL's token statistics");
    for (const [i, p] of TINY_PAIRS.entries()) {
      const want = {
        policyChosen: handLogp(model, p.promptIds, p.chosenIds),
        policyRejected: handLogp(model, p.promptIds, p.rejectedIds),
        chosenLength: p.chosenIds.length,
        rejectedLength: p.rejectedIds.length,
      };
      for (const k of Object.keys(want) as (keyof typeof want)[]) {
        const got = lean[k].dataSync()[i];
        assertClose(got, want[k], { rtol: 1e-5, atol: 0, msg: `pair ${i} ${k}` });
        assertClose(got, full[k].dataSync()[i], { rtol: 1e-6, atol: 0, msg: `pair ${i} ${k}` });
      }
    }
    tf.dispose([lean, full] as unknown as tf.TensorContainer);
  } finally {
    model.dispose();
  }
});

/** Displacement rows of a 3-step run, and how often the scorer's measurement path ran. */
async function run(lean: boolean): Promise<{ rows: number[][]; calls: number }> {
  const model = createGPT2(TINY_GPT2, { seed: 5 });
  const base = lmScorer(model);
  let calls = 0;
  const policy: PreferenceScorer<PreferenceBatch, unknown> = {
    variables: () => base.variables(),
    variableNames: () => base.variableNames!(),
    scores: (b) => base.scores(b),
    ...(lean ? { measureScores: (b: PreferenceBatch) => (calls++, base.measureScores!(b)) } : {}),
  };
  const tracker = displacementTracker<PreferenceBatch>({
    every: 1,
    positions: [0, 1, 2],
    file: false,
  });
  const rows: number[][] = [];
  const spy = { name: "spy", onStepEnd: () => void rows.push([...tracker.last!.current]) };
  try {
    await trainTiny(policy, { maxSteps: 3, seed: 1, callbacks: [tracker, spy] });
  } finally {
    model.dispose();
  }
  return { rows, calls };
}

oldVsNew(
  "trackers score through measureScores with the values of scores()",
  run,
  (old, now) => {
    assert.equal(old.calls, 0);
    assert.equal(now.calls, 4, "step 0 and steps 1-3 each score once");
    assert.equal(now.rows.length, 3);
    assertSteps(now.rows, old.rows, { rtol: 1e-6, atol: 0 }, "pair");
  },
);
