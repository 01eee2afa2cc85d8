/**
 * The scoring trackers on a worker thread (`trackerThread`) against the same trackers run in
 * the training process, and their step-0/step-k values against float64 log-probs computed here
 * from the model's logits at that step's weights; plus the trainer's handling of deferred
 * metrics (record order, checkpoints, failures).
 */
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/mod.ts";
import { lmScorer } from "../../lib/scoring/mod.ts";
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import { readJsonl } from "../../lib/train/records.ts";
import { deferMetrics, type TrainCallback } from "../../lib/train/callbacks.ts";
import { checkpointName } from "../../lib/train/internal.ts";
import { dpo } from "../../lib/objectives/trl.ts";
import { displacementTracker, gradientAlignmentTracker } from "../../lib/analysis/trackers.ts";
import { probabilityMassTracker } from "../../lib/analysis/mass_tracker.ts";
import { pairSides } from "../../lib/analysis/pair_sides.ts";
import { trackerThread } from "../../lib/analysis/tracker_thread.ts";
import { handLogp, TINY_GPT2, TINY_PAIRS, trainTiny } from "./fixtures.ts";

await useCpu();

const KEYS = /^(mass|displacement|grad)\//;

Deno.test("trackerThread gives the in-process trackers' metrics and rows, at each step's weights", async () => {
  const inProcess = createGPT2(TINY_GPT2, { seed: 3 });
  const threaded = createGPT2(TINY_GPT2, { seed: 3 });
  // Float64 log-prob of pair 0's chosen response at the weights of steps 2 and 6, taken here.
  const hand: Record<number, number> = {};
  const probe: TrainCallback<PreferenceBatch> = {
    name: "hand",
    onStepEnd(ctx) {
      if (ctx.step === 2 || ctx.step === 6) {
        hand[ctx.step] = handLogp(threaded, TINY_PAIRS[0].promptIds, TINY_PAIRS[0].chosenIds);
      }
    },
  };
  try {
    const a = await trainTiny(lmScorer(inProcess), {
      maxSteps: 6,
      callbacks: [
        gradientAlignmentTracker({ every: 2, positions: [0, 1], sides: pairSides(TINY_PAIRS, 0) }),
        probabilityMassTracker({ every: 2, positions: [0, 1, 2] }),
        displacementTracker({ every: 2, positions: [0, 1, 2] }),
      ] as TrainCallback<PreferenceBatch>[],
    });
    const b = await trainTiny(lmScorer(threaded), {
      maxSteps: 6,
      callbacks: [
        trackerThread({
          model: threaded,
          pairs: TINY_PAIRS,
          padId: 0,
          every: 2,
          gradient: { positions: [0, 1] },
          mass: { positions: [0, 1, 2] },
          displacement: { positions: [0, 1, 2] },
        }),
        probe,
      ],
    });
    assert.deepEqual(b.records.map((r) => r.step), a.records.map((r) => r.step));
    assert.deepEqual(b.records.map((r) => r.step), [0, 1, 2, 3, 4, 5, 6]);
    for (const [i, ra] of a.records.entries()) {
      const rb = b.records[i];
      const keys = Object.keys(ra).filter((k) => KEYS.test(k)).sort();
      assert.deepEqual(Object.keys(rb).filter((k) => KEYS.test(k)).sort(), keys, `step ${ra.step}`);
      for (const k of keys) {
        assertClose(rb[k] as number, ra[k] as number, {
          rtol: 1e-4,
          atol: 1e-5,
          msg: `${ra.step} ${k}`,
        });
      }
    }
    for (const file of ["mass", "displacement", "gradients"]) {
      const ra = a.rows[file]!, rb = b.rows[file]!;
      const key = (r: Record<string, unknown>) =>
        JSON.stringify([r.step, r.pair ?? r.prompt, r.label]);
      const byKey = new Map(rb.map((r) => [key(r), r]));
      assert.equal(rb.length, ra.length, file);
      for (const r of ra) {
        const o = byKey.get(key(r));
        assert.ok(o, `${file} row ${key(r)} missing on the thread`);
        for (const [k, v] of Object.entries(r)) {
          if (typeof v === "number") {
            assertClose(o[k] as number, v, { rtol: 1e-4, atol: 1e-5, msg: `${file} ${k}` });
          } else assert.deepEqual(o[k], v);
        }
      }
    }
    const chosen0 = (step: number) =>
      b.rows.mass!.find((r) => r.step === step && r.prompt === 0 && r.label === "chosen")!
        .logp as number;
    assertClose(chosen0(2), hand[2], { rtol: 1e-4, msg: "step 2" });
    assertClose(chosen0(6), hand[6], { rtol: 1e-4, msg: "step 6" });
    assert.ok(Math.abs(hand[6] - hand[2]) > 1e-3, "the weights moved between the steps checked");
  } finally {
    inProcess.dispose();
    threaded.dispose();
  }
});

Deno.test("trackerThread refuses data whose positions are not the pairs given", async () => {
  const model = createGPT2(TINY_GPT2, { seed: 1 });
  try {
    const swapped = [TINY_PAIRS[1], TINY_PAIRS[0], TINY_PAIRS[2]];
    await assert.rejects(
      () =>
        trainTiny(lmScorer(model), {
          maxSteps: 1,
          callbacks: [trackerThread({ model, pairs: swapped, padId: 0, mass: { positions: [0] } })],
        }),
      /data position 0 is not pairs\[0\]/,
    );
  } finally {
    model.dispose();
  }
});

/** DPO (β 0.5) by plain SGD over {@link TINY_PAIRS}, one pair per step, at `lr`. */
function sgdRun(model: ReturnType<typeof createGPT2>, lr: number) {
  return {
    policy: lmScorer(model),
    data: preferenceData(TINY_PAIRS, { padId: 0 }),
    objective: dpo({ beta: 0.5 }),
    optimizer: { name: "sgd" as const },
    lr,
    batchSize: 1,
    progress: false as const,
  };
}

/** Metrics that arrive `ms` later, every step, naming the step they belong to. */
function late(ms: number, failAt?: number): TrainCallback<PreferenceBatch> {
  let saved = 0;
  return {
    name: "late",
    onStepEnd(ctx) {
      const step = ctx.step;
      return deferMetrics(
        new Promise((ok, no) =>
          setTimeout(() => {
            if (step === failAt) return no(new Error(`late metrics of step ${step} failed`));
            saved = step;
            ok({ "late/step": step });
          }, ms)
        ),
      );
    },
    saveState: () => ({ saved }),
  };
}

Deno.test("deferred metrics: records keep step order, checkpoints wait for them, failures surface", async () => {
  const dir = await Deno.makeTempDir({ prefix: "deferred_" });
  const model = createGPT2(TINY_GPT2, { seed: 2 });
  const opts = sgdRun(model, 0.1);
  try {
    // Step 1 waits longest, so steps 2.. finish training before its metrics come back.
    const r = await train({
      ...opts,
      maxSteps: 5,
      outDir: `${dir}/ok`,
      checkpointEvery: 2,
      keepCheckpoints: 5,
      callbacks: [late(40)],
    });
    assert.deepEqual(
      r.records.map((x) => [x.step, x["late/step"]]),
      [1, 2, 3, 4, 5].map((s) => [s, s]),
    );
    const lines = await readJsonl<Record<string, number>>(`${dir}/ok/steps.jsonl`);
    assert.deepEqual(
      lines.map((x) => [x.step, x["late/step"]]),
      [1, 2, 3, 4, 5].map((s) => [s, s]),
    );
    const ckpt = JSON.parse(
      await Deno.readTextFile(`${dir}/ok/checkpoints/${checkpointName(2)}/state.json`),
    );
    assert.deepEqual(ckpt.callbacks.late, { saved: 2 });
    await assert.rejects(
      () => train({ ...opts, maxSteps: 4, outDir: `${dir}/bad`, callbacks: [late(5, 3)] }),
      /late metrics of step 3 failed/,
    );
    const bad = await readJsonl<Record<string, number>>(`${dir}/bad/steps.jsonl`);
    assert.deepEqual(bad.map((x) => x.step).slice(0, 2), [1, 2]);
  } finally {
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("trackerThread: a run stopped at step 3 and resumed writes the rows of an uninterrupted run", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tracker_thread_resume_" });
  const settings = {
    pairs: TINY_PAIRS,
    padId: 0,
    every: 2,
    mass: { positions: [0, 1, 2] },
    displacement: { positions: [0, 1, 2] },
  };
  const run = async (out: string, extra: TrainCallback<PreferenceBatch>[], more = {}) => {
    const model = createGPT2(TINY_GPT2, { seed: 4 });
    try {
      return await train({
        ...sgdRun(model, 0.3),
        maxSteps: 6,
        outDir: out,
        callbacks: [trackerThread({ model, ...settings }), ...extra],
        ...more,
      });
    } finally {
      model.dispose();
    }
  };
  try {
    await run(`${dir}/whole`, []);
    const controller = new AbortController();
    const stop: TrainCallback<PreferenceBatch> = {
      name: "stop",
      onStepEnd(ctx) {
        if (ctx.step === 3) controller.abort();
      },
    };
    const first = await run(`${dir}/parts`, [stop], { signal: controller.signal });
    assert.equal(first.stopped, true);
    await run(`${dir}/parts`, [stop], { resume: true });
    for (const file of ["mass", "displacement"]) {
      const a = await readJsonl<Record<string, number>>(`${dir}/whole/${file}.jsonl`);
      const b = await readJsonl<Record<string, number>>(`${dir}/parts/${file}.jsonl`);
      const key = (r: Record<string, unknown>) =>
        JSON.stringify([r.step, r.pair ?? r.prompt, r.label]);
      assert.deepEqual(b.map(key).sort(), a.map(key).sort(), file);
      const byKey = new Map(b.map((r) => [key(r), r]));
      for (const r of a) {
        for (const k of ["logp", "initial", "current", "change"]) {
          if (k in r) {
            assertClose(byKey.get(key(r))![k], r[k], {
              rtol: 1e-4,
              atol: 1e-5,
              msg: `${file} ${k}`,
            });
          }
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
