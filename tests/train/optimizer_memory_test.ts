/**
 * lib/train/optimizers.ts frees everything it allocates: after updates and `dispose()` (and
 * after `load()`), tfjs holds no more bytes than before. Its slots once kept their initial
 * zeros alive beside the live moments: twice the model's size for Adam.
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import assert from "node:assert/strict";
import { createOptimizer } from "../../lib/train/optimizers.ts";

await tf.setBackend("cpu");

for (const name of ["adamw", "adam", "sgd", "rmsprop"] as const) {
  Deno.test(`${name}: updates, state/load and dispose leave no tensor memory behind`, async () => {
    const spec = name === "sgd"
      ? { name, momentum: 0.9 }
      : name === "rmsprop"
      ? { name, centered: true, momentum: 0.5 }
      : { name };
    const p = tf.variable(tf.tidy(() => tf.zeros([1000])));
    const g = tf.ones([1000]);
    const before = tf.memory().numBytes;
    const opt = createOptimizer(spec);
    opt.apply([p], [g], 0.1);
    opt.apply([p], [g], 0.1);
    const slots = name === "sgd" ? 1 : name === "rmsprop" ? 3 : 2;
    // p's new value replaces its old one: only the slots are added.
    assert.equal(tf.memory().numBytes - before, slots * 4000);
    const saved = await opt.state();
    opt.load(saved, [p]);
    assert.equal(tf.memory().numBytes - before, slots * 4000, "after load");
    opt.dispose();
    assert.equal(tf.memory().numBytes, before);
    tf.dispose([p, g]);
  });
}
