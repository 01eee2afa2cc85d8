import assert from "node:assert/strict";
import { encodeStream, evalWindows, sampleBatch, sliceRows } from "../../tools/pretrain/data.ts";

Deno.test("encodeStream: each document followed by the end-of-text id", () => {
  const enc = (t: string) => Array.from(t, (c) => c.charCodeAt(0) - 96); // a=1, b=2, ...
  assert.deepEqual(Array.from(encodeStream(["ab", "", "c"], { encode: enc, eosId: 0 })), [
    1,
    2,
    0,
    0,
    3,
    0,
  ]);
});

Deno.test("sampleBatch: windows of the stream, targets shifted by one, fixed by (seed, step)", () => {
  const stream = Int32Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1009);
  const b = sampleBatch(stream, { batchSize: 3, seqLen: 5, seed: 4, step: 11 });
  assert.equal(b.inputs.length, 15);
  for (let r = 0; r < 3; r++) {
    // Find the window's start in the stream and check both rows against it.
    const first = b.inputs[r * 5];
    const start = Array.from(stream).findIndex((v, i) =>
      v === first && [1, 2, 3, 4].every((k) => stream[i + k] === b.inputs[r * 5 + k])
    );
    assert.ok(start >= 0 && start + 5 < stream.length, `row ${r} is a window of the stream`);
    for (let t = 0; t < 5; t++) assert.equal(b.targets[r * 5 + t], stream[start + t + 1]);
  }
  const again = sampleBatch(stream, { batchSize: 3, seqLen: 5, seed: 4, step: 11 });
  assert.deepEqual(again.inputs, b.inputs);
  const next = sampleBatch(stream, { batchSize: 3, seqLen: 5, seed: 4, step: 12 });
  assert.notDeepEqual(next.inputs, b.inputs);
  const other = sampleBatch(stream, { batchSize: 3, seqLen: 5, seed: 5, step: 11 });
  assert.notDeepEqual(other.inputs, b.inputs);
  assert.throws(
    () => sampleBatch(stream.subarray(0, 5), { batchSize: 1, seqLen: 5, seed: 0, step: 0 }),
    RangeError,
  );
});

Deno.test("evalWindows: every token after the first is a target exactly once", () => {
  const w = evalWindows(Int32Array.from([10, 11, 12, 13, 14, 15, 16, 17]), 3);
  assert.equal(w.rows, 2); // 8 tokens: windows [10..13], [13..16]; 17 is left over
  assert.deepEqual(Array.from(w.inputs), [10, 11, 12, 13, 14, 15]);
  assert.deepEqual(Array.from(w.targets), [11, 12, 13, 14, 15, 16]);
  const s = sliceRows(w, 1, 5);
  assert.equal(s.rows, 1);
  assert.deepEqual(Array.from(s.targets), [14, 15, 16]);
});
