/**
 * lib/kernels/wasm_identity.ts: `Identity` on `wasm` shares its input's buffer; the values stay
 * right when either tensor is disposed first, and gradients recorded through the tape (which
 * clones every saved input) match the `cpu` backend's.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { assertClose } from "../helpers.ts";

async function onBackend<T>(name: "wasm" | "cpu", f: () => Promise<T>): Promise<T> {
  const before = tf.getBackend();
  await startBackend(name);
  try {
    return await f();
  } finally {
    if (before) await tf.setBackend(before);
  }
}

Deno.test("wasm Identity: a clone adds no data buffer and outlives its source", async () => {
  await onBackend("wasm", async () => {
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    // The stock kernel copies into a fresh buffer (one more data buffer).
    assert.equal(tf.memory().numDataBuffers, buffers);
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3, 4, 5, 6]);
    const z = tf.clone(y);
    y.dispose();
    assert.deepEqual(z.shape, [2, 3]);
    assert.deepEqual(Array.from(await z.data()), [1, 2, 3, 4, 5, 6]);
    z.dispose();
    assert.equal(tf.memory().numDataBuffers, buffers - 1);
  });
});

Deno.test("wasm Identity: string tensors still clone", async () => {
  await onBackend("wasm", async () => {
    const s = tf.tensor1d(["a", "bc"], "string");
    const c = tf.clone(s);
    s.dispose();
    assert.deepEqual(await c.data(), ["a", "bc"]);
    c.dispose();
  });
});

Deno.test("wasm Identity: layer-norm-and-softmax gradients equal cpu's", async () => {
  const grads = (name: "wasm" | "cpu") =>
    onBackend(name, async () => {
      const x = tf.tensor2d(Float32Array.from({ length: 24 }, (_, i) => Math.sin(i)), [4, 6]);
      const g = tf.grad((v: tf.Tensor) => {
        const { mean, variance } = tf.moments(v, -1, true);
        const n = tf.div(tf.sub(v, mean), tf.sqrt(tf.add(variance, 1e-5)));
        return tf.sum(tf.mul(tf.softmax(n), tf.tensor1d([1, -2, 3, 0.5, -1, 2])));
      })(x);
      const out = Array.from(await g.data());
      tf.dispose([x, g]);
      return out;
    });
  assertClose(await grads("wasm"), await grads("cpu"), { rtol: 1e-4, atol: 1e-6 });
});
