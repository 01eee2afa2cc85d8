import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { unigramCounts, unigramLoss } from "../../tools/pretrain/unigram.ts";

Deno.test("unigram baseline: add-one smoothing on a toy corpus, by hand", () => {
  // Train stream over V = 4 ids: counts (3, 1, 0, 2), N = 6, so with add-one smoothing
  // p = (4, 2, 1, 3) / 10.
  const counts = unigramCounts([0, 3, 0, 1, 3, 0], 4);
  assert.deepEqual(Array.from(counts), [3, 1, 0, 2]);
  // Held-out targets 0, 2, 2, 3: loss = -(ln .4 + 2 ln .1 + ln .3) / 4.
  const expected = -(Math.log(0.4) + 2 * Math.log(0.1) + Math.log(0.3)) / 4;
  const r = unigramLoss(counts, [0, 2, 2, 3]);
  assertClose(r.loss, expected, { rtol: 1e-12 });
  assertClose(r.loss, 1.6814, { atol: 1e-4 }); // (0.9163 + 4.6052 + 1.2040) / 4
  assertClose(r.perplexity, Math.exp(expected), { rtol: 1e-12 });
  assert.equal(r.tokens, 4);
});

Deno.test("unigram baseline: rejects ids outside the vocabulary", () => {
  assert.throws(() => unigramCounts([0, 5], 4), RangeError);
  assert.throws(() => unigramLoss(new Float64Array(4), [4]), RangeError);
  assert.throws(() => unigramLoss(new Float64Array(4), []), RangeError);
});
