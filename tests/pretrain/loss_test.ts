import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { lmLoss, rowLossSums } from "../../tools/pretrain/loss.ts";
import { Adam } from "../../tools/pretrain/adam.ts";
import { DEFAULT_PRETRAIN, lrAt, pretrainConfig } from "../../tools/pretrain/train.ts";

/** -ln softmax(row)[y] in float64. */
function nll(row: number[], y: number): number {
  const m = Math.max(...row);
  const z = row.reduce((s, v) => s + Math.exp(v - m), 0);
  return -(row[y] - m - Math.log(z));
}

Deno.test("lmLoss and rowLossSums match a float64 cross-entropy", async () => {
  await useCpu();
  const [n, t, v] = [2, 3, 5];
  const logits = Array.from({ length: n * t * v }, (_, i) => Math.sin(i * 1.7) * 3);
  const targets = [4, 0, 2, 1, 1, 3];
  let total = 0;
  const rows = [0, 0];
  for (let k = 0; k < n * t; k++) {
    const l = nll(logits.slice(k * v, k * v + v), targets[k]);
    total += l;
    rows[Math.floor(k / t)] += l;
  }
  const L = tf.tensor3d(logits, [n, t, v]);
  const Y = tf.tensor2d(targets, [n, t], "int32");
  assertClose(lmLoss(L, Y).dataSync()[0], total / (n * t), { rtol: 1e-5 });
  assertClose(rowLossSums(L, Y).dataSync(), rows, { rtol: 1e-5 });
  assert.throws(() => lmLoss(L, tf.zeros([2, 2], "int32") as tf.Tensor2D), RangeError);
  tf.dispose([L, Y]);
});

Deno.test("Adam: two steps follow Kingma & Ba's update, state round-trips", async () => {
  await useCpu();
  const w = tf.variable(tf.tensor1d([1, -2]));
  const opt = new Adam(new Map([["w", w]]), { beta1: 0.9, beta2: 0.99, epsilon: 1e-8 });
  const grads = [[0.5, -1], [0.1, 2]];
  // Plain JS reference.
  const p = [1, -2], m = [0, 0], s = [0, 0];
  const lr = [0.1, 0.05];
  for (let step = 0; step < 2; step++) {
    for (let i = 0; i < 2; i++) {
      const g = grads[step][i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      s[i] = 0.99 * s[i] + 0.01 * g * g;
      const mh = m[i] / (1 - 0.9 ** (step + 1)), sh = s[i] / (1 - 0.99 ** (step + 1));
      p[i] -= lr[step] * mh / (Math.sqrt(sh) + 1e-8);
    }
    const g = tf.tensor1d(grads[step]);
    opt.apply(new Map([["w", g]]), lr[step]);
    g.dispose();
  }
  assertClose(w.dataSync(), p, { rtol: 1e-6 });
  // A fresh optimizer loaded from the saved state takes the same third step.
  const saved = new Map(
    [...opt.state()].map(([k, t]) => [k, { shape: t.shape, values: t.dataSync() as Float32Array }]),
  );
  const w2 = tf.variable(tf.tensor1d(Array.from(w.dataSync())));
  const opt2 = new Adam(new Map([["w", w2]]), { beta1: 0.9, beta2: 0.99 });
  opt2.load(saved, opt.t);
  const g3 = tf.tensor1d([-0.3, 0.7]);
  opt.apply(new Map([["w", g3]]), 0.02);
  opt2.apply(new Map([["w", g3]]), 0.02);
  assertClose(w2.dataSync(), w.dataSync(), { rtol: 1e-7 });
  assert.throws(() => opt2.load(new Map(), 1), RangeError);
  opt.dispose();
  opt2.dispose();
  tf.dispose([w, w2, g3]);
});

Deno.test("lrAt: linear warmup, cosine decay to the floor", () => {
  const c = { lr: 2, warmupSteps: 4, steps: 14, minLrRatio: 0.1 };
  assertClose(lrAt(0, c), 0.5); // 2 * 1/4
  assertClose(lrAt(3, c), 2);
  // Halfway through the 9-step decay (step 4 -> 13): floor + (lr - floor) * (1 + cos(pi/2)) / 2.
  assertClose(lrAt(8.5, c), 0.2 + 1.8 * 0.5);
  assertClose(lrAt(13, c), 0.2);
  assert.throws(() => pretrainConfig({ nEmbd: 130, nHead: 4 }), RangeError);
  assert.throws(() => pretrainConfig({ seqLen: 256 }), RangeError);
  assert.equal(pretrainConfig({}).vocabSize, DEFAULT_PRETRAIN.vocabSize);
});
