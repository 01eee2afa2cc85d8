/**
 * CHES on two threads (lib/analysis/ches_parallel.ts): the scores equal a float64 computation
 * from each pair's own hidden states, in input order, one per pair, and equal one thread's.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { chesScores } from "../../lib/analysis/ches.ts";
import { chesThreads, releaseChesThreads, workerShare } from "../../lib/analysis/ches_parallel.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import type { TokenizedPair } from "../../lib/data/types.ts";
import { assertClose, useCpu } from "../helpers.ts";
import { handChes } from "./fixtures.ts";

const VOCAB = 40, D = 16;

/** 13 pairs of varied lengths, indices out of order, no two alike. */
function makePairs(): TokenizedPair[] {
  const out: TokenizedPair[] = [];
  for (let i = 0; i < 13; i++) {
    const ids = (n: number, k: number) =>
      Array.from({ length: n }, (_, j) => 1 + (i * 7 + j * k) % (VOCAB - 2));
    out.push({
      index: 100 + ((i * 5) % 13),
      promptIds: ids(1 + (i % 4), 3),
      chosenIds: [...ids(1 + (i * 3) % 6, 5), 0],
      rejectedIds: [...ids(1 + (i * 2) % 5, 11), 0],
    });
  }
  return out;
}

Deno.test({
  name: "CHES on two threads equals per-pair float64 CHES and one thread, in input order",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const model = createGPT2(
      { vocab_size: VOCAB, n_positions: 32, n_embd: D, n_layer: 2, n_head: 2 },
      { seed: 5 },
    );
    try {
      await startBackend("wasm");
      const pairs = makePairs();
      assert.equal(chesThreads(model, { threads: 2 }).threads, 2);
      if (navigator.hardwareConcurrency >= 2) {
        assert.equal(chesThreads(model).threads, 2, "the default on wasm with two cores");
      }
      const two = await chesScores(model, pairs, { batchSize: 3, threads: 2 });
      const one = await chesScores(model, pairs, { batchSize: 3, threads: 1 });
      assert.deepEqual(two.map((s) => s.index), pairs.map((p) => p.index));
      pairs.forEach((p, i) => {
        const hand = handChes(model, p);
        assertClose(two[i].ches, hand, { rtol: 1e-4, atol: 1e-4, msg: `pair ${p.index} vs hand` });
        assertClose(two[i].ches, one[i].ches, { rtol: 1e-5, msg: `pair ${p.index} vs 1 thread` });
        assert.equal(two[i].chosenLength, p.chosenIds.length);
        assert.equal(two[i].rejectedLength, p.rejectedIds.length);
      });
      // New weights must reach the worker: CHES changes, and still equals one thread's.
      const v = model.variables()[0];
      v.assign(tf.mul(v, 1.5));
      const after = await chesScores(model, pairs, { batchSize: 3, threads: 2 });
      const afterOne = await chesScores(model, pairs, { batchSize: 3, threads: 1 });
      assert.ok(
        after.some((s, i) => Math.abs(s.ches - two[i].ches) > 1e-3 * Math.abs(two[i].ches)),
      );
      after.forEach((s, i) => assertClose(s.ches, afterOne[i].ches, { rtol: 1e-5, msg: `${i}` }));
      // Two pairs in one batch of 8: cut into two batches, one per thread.
      const small = await chesScores(model, pairs.slice(0, 2), { threads: 2 });
      assertClose(small.map((s) => s.ches), afterOne.slice(0, 2).map((s) => s.ches), {
        rtol: 1e-5,
      });
      // A second model of the same configuration reuses the worker: its own weights must reach it.
      const other = createGPT2(
        { vocab_size: VOCAB, n_positions: 32, n_embd: D, n_layer: 2, n_head: 2 },
        { seed: 6 },
      );
      try {
        const o2 = await chesScores(other, pairs, { batchSize: 3, threads: 2 });
        o2.forEach((s, i) =>
          assertClose(s.ches, handChes(other, pairs[i]), {
            rtol: 1e-4,
            atol: 1e-4,
            msg: `other ${i}`,
          })
        );
      } finally {
        other.dispose();
      }
    } finally {
      releaseChesThreads();
      model.dispose();
      await useCpu();
    }
  },
});

Deno.test("workerShare balances rows x length and leaves this thread the largest batch", () => {
  const b = (size: number, length: number) => ({ size, length }) as never;
  // Costs 2*size*length: 32, 64, 64, 32; this thread takes 64 (#1), the worker 64 (#2), then
  // this thread 32 (#0), the worker 32 (#3).
  assert.deepEqual([...workerShare([b(2, 8), b(2, 16), b(4, 8), b(1, 16)])], [2, 3]);
  assert.deepEqual([...workerShare([b(1, 8)])], []);
});
