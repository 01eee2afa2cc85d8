/**
 * lib/kernels/wasm_copies.ts: the row gather and the no-op transpose on `wasm` give what plain
 * JS indexing gives, fall back where they do not apply, and reject out-of-range ids.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { useCpu } from "../helpers.ts";

async function onWasm(f: () => Promise<void>): Promise<void> {
  await startBackend("wasm");
  try {
    await f();
  } finally {
    await useCpu();
  }
}

/** Row-major [rows, cols] values 0.5, 1.5, ... */
const table = (rows: number, cols: number) =>
  Float32Array.from({ length: rows * cols }, (_, i) => i + 0.5);

Deno.test("wasm GatherV2 rows: float and int rows, repeated ids, 2-D ids, 1-D tables", async () => {
  await onWasm(async () => {
    const t = table(5, 3);
    const ids = [4, 0, 4, 2];
    const g = tf.gather(tf.tensor2d(t, [5, 3]), tf.tensor1d(ids, "int32"));
    assert.deepEqual(g.shape, [4, 3]);
    assert.deepEqual(
      Array.from(await g.data()),
      ids.flatMap((r) => [...t.subarray(3 * r, 3 * r + 3)]),
    );
    const i2 = tf.gather(
      tf.tensor2d([1, 2, 3, 4], [2, 2], "int32"),
      tf.tensor2d([1, 1, 0], [3, 1], "int32"),
    );
    assert.deepEqual(i2.shape, [3, 1, 2]);
    assert.equal(i2.dtype, "int32");
    assert.deepEqual(Array.from(await i2.data()), [3, 4, 3, 4, 1, 2]);
    const flat = tf.gather(tf.tensor1d(t), tf.tensor1d([14, 0, 7], "int32"));
    assert.deepEqual(Array.from(await flat.data()), [14.5, 0.5, 7.5]);
    tf.dispose([g, i2, flat]);
  });
});

Deno.test("wasm GatherV2 rows: other axes fall back; bad ids are errors", async () => {
  await onWasm(async () => {
    const t = table(2, 3);
    const g = tf.gather(tf.tensor2d(t, [2, 3]), tf.tensor1d([2, 0], "int32"), 1);
    assert.deepEqual(Array.from(await g.data()), [2.5, 0.5, 5.5, 3.5]);
    g.dispose();
    assert.throws(
      () => tf.gather(tf.tensor2d(t, [2, 3]), tf.tensor1d([2], "int32")),
      /index value 2/,
    );
  });
});

Deno.test("wasm gather gradient (no-op transposes shared) equals a JS segment sum", async () => {
  await onWasm(async () => {
    const ids = [1, 3, 1, 0];
    const dy = table(4, 2);
    const grad = tf.grad((x: tf.Tensor) =>
      tf.sum(tf.mul(tf.gather(x, tf.tensor1d(ids, "int32")), tf.tensor2d(dy, [4, 2])))
    )(
      tf.zeros([5, 2]),
    );
    const want = new Array(10).fill(0);
    ids.forEach((r, i) => {
      want[2 * r] += dy[2 * i];
      want[2 * r + 1] += dy[2 * i + 1];
    });
    assert.deepEqual(Array.from(await grad.data()), want);
    // A real permutation still moves data; a size-1 axis moving is a no-op.
    const x = tf.tensor3d(table(2, 3), [1, 2, 3]);
    assert.deepEqual(Array.from(await tf.transpose(x, [0, 2, 1]).data()), [
      0.5,
      3.5,
      1.5,
      4.5,
      2.5,
      5.5,
    ]);
    const moved = tf.transpose(x, [1, 0, 2]);
    assert.deepEqual(moved.shape, [2, 1, 3]);
    assert.deepEqual(Array.from(await moved.data()), Array.from(table(2, 3)));
  });
});
