import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { scoresAt } from "../../lib/analysis/tracked_scores.ts";
import type { RunContext } from "../../lib/train/callbacks.ts";
import type { PairScores, PreferenceScorer, TrainData } from "../../lib/core/scores.ts";

await useCpu();

// Pair at position p scores chosen = -p - shift, rejected = -10p, lengths p+1 and p+2; `shift`
// stands in for a weight update between steps.
function fixture() {
  const calls: number[][] = [];
  let shift = 0;
  const data: TrainData<number[]> = {
    size: 20,
    batch: (positions) => [...positions],
    fingerprint: () => new Uint8Array(),
  };
  const policy: PreferenceScorer<number[]> = {
    variables: () => [],
    scores(batch: number[]): PairScores {
      calls.push(batch);
      return {
        policyChosen: tf.tensor1d(batch.map((p) => -p - shift)),
        policyRejected: tf.tensor1d(batch.map((p) => -10 * p)),
        chosenLength: tf.tensor1d(batch.map((p) => p + 1)),
        rejectedLength: tf.tensor1d(batch.map((p) => p + 2)),
      };
    },
  };
  const ctx = (step: number, rows = { append() {} }) =>
    ({ step, policy, data, rows }) as unknown as RunContext<number[]>;
  return { calls, data, ctx, update: () => shift++ };
}

Deno.test("scoresAt: values in the order asked, batched, each pair scored once per step", async () => {
  const f = fixture();
  const rows = { append() {} };
  const a = await scoresAt(f.ctx(3, rows), f.data, [5, 0, 7, 2, 9], 2);
  assert.deepEqual(a.map((s) => s.chosen), [-5, -0, -7, -2, -9]);
  assert.deepEqual(a.map((s) => s.rejected), [-50, -0, -70, -20, -90]);
  assert.deepEqual(a.map((s) => s.chosenLength), [6, 1, 8, 3, 10]);
  assert.deepEqual(a.map((s) => s.rejectedLength), [7, 2, 9, 4, 11]);
  assert.deepEqual(f.calls, [[5, 0], [7, 2], [9]]);
  // A second tracker at the same step: only the new pairs are scored.
  const b = await scoresAt(f.ctx(3, rows), f.data, [2, 11, 5], 8);
  assert.deepEqual(b.map((s) => s.rejected), [-20, -110, -50]);
  assert.deepEqual(f.calls.slice(3), [[11]]);
  // Next step (weights moved): scored again, with the new values.
  f.update();
  const c = await scoresAt(f.ctx(4, rows), f.data, [5], 8);
  assert.deepEqual(c.map((s) => s.chosen), [-6]);
  assert.deepEqual(f.calls.slice(4), [[5]]);
  // Another run (another row writer) at the same step number shares nothing.
  await scoresAt(f.ctx(4, { append() {} }), f.data, [5], 8);
  assert.equal(f.calls.length, 6);
  assert.equal(tf.memory().numTensors, 0);
});

Deno.test("scoresAt: a data-parallel policy scores through scoresAsync (both threads)", async () => {
  const f = fixture();
  const asyncCalls: number[][] = [];
  const base = f.ctx(1).policy as PreferenceScorer<number[]>;
  const parallel = {
    ...base,
    threads: 2,
    valueAndGrads: () => Promise.reject(new Error("not used")),
    scoresAsync: (batch: number[]) => {
      asyncCalls.push(batch);
      return Promise.resolve(
        tf.tidy(() =>
          base.scores(batch) as unknown as tf.TensorContainerObject
        ) as unknown as PairScores,
      );
    },
    dispose() {},
  };
  const ctx = { ...f.ctx(1), policy: parallel } as unknown as RunContext<number[]>;
  const s = await scoresAt(ctx, f.data, [4, 1], 8);
  assert.deepEqual(s.map((x) => x.rejected), [-40, -10]);
  assert.deepEqual(asyncCalls, [[4, 1]]);
  assert.equal(tf.memory().numTensors, 0);
});
