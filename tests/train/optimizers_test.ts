import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import {
  clipByGlobalNorm,
  createOptimizer,
  type OptimizerSpec,
  resolveOptimizerSpec,
} from "../../lib/train/optimizers.ts";

await useCpu();

const P0 = [1, -2, 0.5];
const GRADS = [[0.5, 0.1, -1], [-0.3, 0.2, -0.8], [0.05, -0.4, 0.6]];

/** Run an optimizer over GRADS from P0, returning the parameters after each step. */
function run(spec: OptimizerSpec, lr: number): number[][] {
  const p = tf.variable(tf.tensor1d(P0));
  const opt = createOptimizer(spec);
  const out: number[][] = [];
  for (const g of GRADS) {
    const gt = tf.tensor1d(g);
    opt.apply([p], [gt], lr);
    gt.dispose();
    out.push(Array.from(p.dataSync()));
  }
  opt.dispose();
  p.dispose();
  return out;
}

Deno.test("optimizers: AdamW matches the decoupled-weight-decay update written out by hand", () => {
  const lr = 0.1, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = 0.05;
  const got = run({ name: "adamw", weightDecay: wd }, lr);
  // Hand: p <- p(1 - lr wd); m, v moments; p <- p - lr m_hat / (sqrt(v_hat) + eps).
  const p = [...P0], m = [0, 0, 0], v = [0, 0, 0];
  GRADS.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < 3; i++) {
      p[i] *= 1 - lr * wd;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mh = m[i] / (1 - b1 ** t), vh = v[i] / (1 - b2 ** t);
      p[i] -= lr * mh / (Math.sqrt(vh) + eps);
    }
    assertClose(got[k], p, { rtol: 1e-5, atol: 1e-6, msg: `adamw step ${t}` });
  });
  // First step of Adam moves each weight by about lr (m_hat/sqrt(v_hat) = sign(g)), plus decay.
  assertClose(got[0][0], 1 * (1 - lr * wd) - lr, { rtol: 1e-5, msg: "adamw first step" });
});

Deno.test("optimizers: Adam with weight decay adds the L2 term to the gradient (not decoupled)", () => {
  const lr = 0.01, wd = 0.1;
  const got = run({ name: "adam", weightDecay: wd }, lr);
  const p = [...P0], m = [0, 0, 0], v = [0, 0, 0];
  GRADS.forEach((g0, k) => {
    const t = k + 1;
    for (let i = 0; i < 3; i++) {
      const g = g0[i] + wd * p[i];
      m[i] = 0.9 * m[i] + 0.1 * g;
      v[i] = 0.999 * v[i] + 0.001 * g * g;
      p[i] -= lr * (m[i] / (1 - 0.9 ** t)) / (Math.sqrt(v[i] / (1 - 0.999 ** t)) + 1e-8);
    }
    assertClose(got[k], p, { rtol: 1e-5, atol: 1e-6, msg: `adam step ${t}` });
  });
});

Deno.test("optimizers: RMSProp matches PyTorch's rule (eps outside the root), plain/momentum/centered", () => {
  const lr = 0.01, a = 0.99, eps = 1e-8;
  for (const variant of ["plain", "momentum", "centered"] as const) {
    const mu = variant === "momentum" ? 0.9 : 0;
    const got = run(
      { name: "rmsprop", momentum: mu, centered: variant === "centered" },
      lr,
    );
    const p = [...P0], v = [0, 0, 0], b = [0, 0, 0], ga = [0, 0, 0];
    GRADS.forEach((g, k) => {
      for (let i = 0; i < 3; i++) {
        v[i] = a * v[i] + (1 - a) * g[i] * g[i];
        let denom = Math.sqrt(v[i]) + eps;
        if (variant === "centered") {
          ga[i] = a * ga[i] + (1 - a) * g[i];
          denom = Math.sqrt(v[i] - ga[i] * ga[i]) + eps;
        }
        if (mu > 0) {
          b[i] = mu * b[i] + g[i] / denom;
          p[i] -= lr * b[i];
        } else {
          p[i] -= lr * g[i] / denom;
        }
      }
      assertClose(got[k], p, { rtol: 1e-5, atol: 1e-6, msg: `rmsprop ${variant} step ${k + 1}` });
    });
  }
  // First plain step: v = 0.01 g^2, so the move is lr * g / (0.1 |g|) = 10 lr in the sign of g.
  const first = run({ name: "rmsprop" }, lr)[0];
  assertClose(first, [1 - 0.1, -2 - 0.1, 0.5 + 0.1], { rtol: 1e-5 });
});

Deno.test("optimizers: SGD with momentum and Nesterov by hand", () => {
  const lr = 0.1;
  const plain = run({ name: "sgd" }, lr);
  assertClose(plain[0], P0.map((p, i) => p - lr * GRADS[0][i]));
  for (const nesterov of [false, true]) {
    const got = run({ name: "sgd", momentum: 0.9, nesterov }, lr);
    const p = [...P0], b = [0, 0, 0];
    GRADS.forEach((g, k) => {
      for (let i = 0; i < 3; i++) {
        b[i] = 0.9 * b[i] + g[i];
        p[i] -= lr * (nesterov ? g[i] + 0.9 * b[i] : b[i]);
      }
      assertClose(got[k], p, { rtol: 1e-5, atol: 1e-7, msg: `sgd nesterov=${nesterov} ${k}` });
    });
  }
});

Deno.test("optimizers: a restored state continues bit-exactly", async () => {
  for (
    const spec of [
      { name: "adamw" },
      { name: "rmsprop", momentum: 0.5, centered: true },
      { name: "sgd", momentum: 0.9 },
      { name: "adam" },
    ] as OptimizerSpec[]
  ) {
    const a = tf.variable(tf.tensor1d(P0));
    const optA = createOptimizer(spec);
    for (const g of GRADS.slice(0, 2)) tf.tidy(() => optA.apply([a], [tf.tensor1d(g)], 0.05));
    const saved = await optA.state();
    assert.equal(saved.steps, 2);
    const b = tf.variable(tf.tensor1d(a.dataSync()));
    const optB = createOptimizer(spec);
    optB.load(saved, [b]);
    tf.tidy(() => optA.apply([a], [tf.tensor1d(GRADS[2])], 0.05));
    tf.tidy(() => optB.apply([b], [tf.tensor1d(GRADS[2])], 0.05));
    assert.deepEqual(Array.from(b.dataSync()), Array.from(a.dataSync()), spec.name);
    // The restored copy must not share tensors with the original.
    optA.dispose();
    tf.tidy(() => optB.apply([b], [tf.tensor1d(GRADS[0])], 0.05));
    optB.dispose();
    a.dispose();
    b.dispose();
  }
});

Deno.test("optimizers: specs are validated with the field named", () => {
  assert.equal(resolveOptimizerSpec({ name: "adamw" }).weightDecay, 0.01);
  assert.equal(resolveOptimizerSpec({ name: "rmsprop" }).alpha, 0.99);
  assert.throws(
    () => resolveOptimizerSpec({ name: "adam", beta1: 1.5 }),
    (e) => e instanceof RangeError && /optimizer\.beta1/.test(e.message),
  );
  assert.throws(
    () => resolveOptimizerSpec({ name: "lion" } as unknown as OptimizerSpec),
    (e) => e instanceof TypeError && /optimizer\.name must be one of/.test(e.message),
  );
  assert.throws(
    () => resolveOptimizerSpec({ name: "sgd", beta1: 0.9 } as unknown as OptimizerSpec),
    /optimizer\.beta1 is not a field of the sgd optimizer/,
  );
  assert.throws(() => resolveOptimizerSpec({ name: "sgd", nesterov: true }), /nesterov needs/);
});

Deno.test("optimizers: clipByGlobalNorm scales to the max norm and reports the pre-clip norm", () => {
  const g = [tf.tensor1d([3, 0]), tf.tensor2d([[0, 4]])];
  const { norm, grads } = clipByGlobalNorm(g, 2);
  assertClose(norm, 5);
  const s = 2 / (5 + 1e-6);
  assertClose(grads[0].dataSync(), [3 * s, 0]);
  assertClose(grads[1].dataSync(), [0, 4 * s]);
  const loose = clipByGlobalNorm(g, 10);
  assertClose(loose.grads[1].dataSync(), [0, 4]);
  [...g, ...grads, ...loose.grads].forEach((t) => t.dispose());
});
