import assert from "node:assert/strict";
import {
  batches,
  batchOrder,
  collate,
  collateProbes,
  collateUnpaired,
  type TokenizedPair,
  unpairedBatches,
} from "../../lib/data/mod.ts";
import { mismatchedExamples } from "../../lib/data/collate.ts";

const PAD = 0;
const pairs: TokenizedPair[] = [
  { index: 10, promptIds: [1, 2], chosenIds: [3, 9], rejectedIds: [4, 5, 9] },
  { index: 11, promptIds: [6], chosenIds: [7, 8, 8, 9], rejectedIds: [9] },
];

Deno.test("collate: 2B rows chosen then rejected, right-padded, masks by hand", () => {
  const b = collate(pairs, PAD);
  assert.equal(b.size, 2);
  assert.equal(b.length, 5); // longest row: [6, 7, 8, 8, 9]
  // deno-fmt-ignore
  const ids = [
    1, 2, 3, 9, 0,
    6, 7, 8, 8, 9,
    1, 2, 4, 5, 9,
    6, 9, 0, 0, 0,
  ];
  // deno-fmt-ignore
  const attention = [
    1, 1, 1, 1, 0,
    1, 1, 1, 1, 1,
    1, 1, 1, 1, 1,
    1, 1, 0, 0, 0,
  ];
  // deno-fmt-ignore
  const completion = [
    0, 0, 1, 1, 0,
    0, 1, 1, 1, 1,
    0, 0, 1, 1, 1,
    0, 1, 0, 0, 0,
  ];
  assert.deepEqual(Array.from(b.inputIds), ids);
  assert.deepEqual(Array.from(b.attentionMask), attention);
  assert.deepEqual(Array.from(b.completionMask), completion);
  assert.deepEqual(b.pairIndex, [10, 11]);
  assert.deepEqual(b.promptLength, [2, 1, 2, 1]);
  assert.deepEqual(b.completionLength, [2, 4, 3, 1]);
});

Deno.test("collate: fixed length pads further; too short a length and bad padId are RangeErrors", () => {
  const b = collate(pairs.slice(0, 1), 7, { length: 6 });
  assert.deepEqual(Array.from(b.inputIds), [1, 2, 3, 9, 7, 7, 1, 2, 4, 5, 9, 7]);
  assert.throws(() => collate(pairs, PAD, { length: 4 }), RangeError);
  assert.throws(() => collate(pairs, -1), /padId/);
  assert.throws(() => collate([], PAD), RangeError);
});

Deno.test("batchOrder: a seeded permutation, same for the same seed and epoch, split in order", () => {
  const opts = { batchSize: 4, padId: 0, seed: 3 };
  const a = batchOrder(10, opts);
  assert.deepEqual(a.map((c) => c.length), [4, 4, 2]);
  assert.deepEqual(a.flat().slice().sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(batchOrder(10, opts), a);
  assert.notDeepEqual(batchOrder(10, { ...opts, epoch: 1 }).flat(), a.flat());
  assert.notDeepEqual(batchOrder(10, { ...opts, seed: 4 }).flat(), a.flat());
  assert.deepEqual(batchOrder(10, { ...opts, dropLast: true }).length, 2);
  assert.deepEqual(batchOrder(3, { batchSize: 2, padId: 0, shuffle: false }), [[0, 1], [2]]);
  assert.throws(() => batchOrder(3, { batchSize: 0, padId: 0 }), /batchSize/);
});

Deno.test("batches: every pair exactly once per epoch, each batch holds the pairs its order names", () => {
  const many: TokenizedPair[] = Array.from({ length: 7 }, (_, i) => ({
    index: 100 + i,
    promptIds: [1],
    chosenIds: [2 + i, 9],
    rejectedIds: [3, 9],
  }));
  const opts = { batchSize: 3, padId: PAD, seed: 11 };
  const order = batchOrder(7, opts);
  const seen = [...batches(many, opts)];
  assert.deepEqual(seen.map((b) => b.pairIndex), order.map((c) => c.map((i) => 100 + i)));
  for (const b of seen) {
    // Row r (chosen) holds the pair's own first chosen token.
    b.pairIndex.forEach((idx, r) => assert.equal(b.inputIds[r * b.length + 1], 2 + idx - 100));
  }
});

Deno.test("unpaired batches, probes and KTO mismatched examples", () => {
  const ex = [
    { index: 0, promptIds: [1], completionIds: [2, 9], label: true },
    { index: 1, promptIds: [3, 4], completionIds: [5, 9], label: false },
  ];
  const u = collateUnpaired(ex, PAD);
  assert.deepEqual(Array.from(u.inputIds), [1, 2, 9, 0, 3, 4, 5, 9]);
  assert.deepEqual(Array.from(u.completionMask), [0, 1, 1, 0, 0, 0, 1, 1]);
  assert.deepEqual(u.label, [true, false]);
  const [b] = [...unpairedBatches(ex, { batchSize: 2, padId: PAD, shuffle: false })];
  assert.deepEqual(b.index, [0, 1]);
  const m = mismatchedExamples(ex);
  assert.deepEqual(m.map((e) => [e.promptIds, e.completionIds]), [[[1], [5, 9]], [[3, 4], [2, 9]]]);
  const p = collateProbes([{ index: 4, name: "para", promptIds: [1], completionIds: [2, 9] }], PAD);
  assert.equal(p.rows, 1);
  assert.deepEqual(Array.from(p.completionMask), [0, 1, 1]);
});
