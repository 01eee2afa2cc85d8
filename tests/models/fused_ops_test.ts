/**
 * lib/models/fused_ops.ts: layer norm and the tanh GELU with closed-form gradients equal the
 * stock tfjs composites (tf.moments, tf.tanh) differentiated by tfjs's autodiff, and a float64
 * computation of the values, on `cpu` and `wasm`.
 */
import * as tf from "@tensorflow/tfjs-core";
import { startBackend } from "../../lib/backend.ts";
import { geluTanh, layerNorm } from "../../lib/models/fused_ops.ts";
import { assertClose, useCpu } from "../helpers.ts";

const R = 6, D = 10;
const X = Float32Array.from({ length: R * D }, (_, i) => 3 * Math.sin(1.3 * i + 0.2) + (i % 3));
const W = Float32Array.from({ length: D }, (_, i) => 0.5 + Math.cos(i));
const B = Float32Array.from({ length: D }, (_, i) => 0.1 * i - 0.3);
// A fixed upstream gradient, so every output element's weight differs.
const DY = Float32Array.from({ length: R * D }, (_, i) => Math.cos(0.7 * i));

/** Float64 layer norm of row-major [R, D] values. */
function layerNorm64(eps: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < R; r++) {
    const row = Array.from(X.subarray(r * D, r * D + D));
    const mean = row.reduce((a, b) => a + b, 0) / D;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / D;
    row.forEach((x, j) => out.push(((x - mean) / Math.sqrt(v + eps)) * W[j] + B[j]));
  }
  return out;
}

function stockLayerNorm(x: tf.Tensor, w: tf.Tensor, b: tf.Tensor, eps: number) {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), w), b);
}

function stockGelu(u: tf.Tensor) {
  const z = tf.mul(tf.add(u, tf.mul(tf.pow(u, 3), 0.044715)), Math.sqrt(2 / Math.PI));
  return tf.mul(tf.mul(u, 0.5), tf.add(1, tf.tanh(z)));
}

/** Value and gradients (w.r.t. every input) of sum(f(inputs) * DY). */
function valueAndGrads(
  f: (...xs: tf.Tensor[]) => tf.Tensor,
  inputs: Float32Array[],
  shapes: number[][],
) {
  return tf.tidy(() => {
    const xs = inputs.map((v, i) => tf.tensor(v, shapes[i]));
    const dy = tf.tensor(DY, [R, D]);
    const y = f(...xs);
    const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), dy)))(xs);
    return { y: Array.from(y.dataSync()), grads: grads.map((g) => Array.from(g.dataSync())) };
  });
}

for (const backend of ["cpu", "wasm"] as const) {
  Deno.test(`layerNorm on ${backend}: values (float64) and gradients (stock autodiff)`, async () => {
    await startBackend(backend);
    try {
      for (const eps of [1e-5, 0.5]) {
        const shapes = [[R, D], [D], [D]];
        const got = valueAndGrads(
          (x, w, b) => layerNorm(x, w as tf.Tensor1D, b as tf.Tensor1D, eps),
          [X, W, B],
          shapes,
        );
        await useCpu();
        const want = valueAndGrads((x, w, b) => stockLayerNorm(x, w, b, eps), [X, W, B], shapes);
        await startBackend(backend);
        assertClose(got.y, layerNorm64(eps), { rtol: 1e-5, atol: 1e-5, msg: `value eps ${eps}` });
        for (const [i, name] of ["x", "weight", "bias"].entries()) {
          assertClose(got.grads[i], want.grads[i], { rtol: 1e-4, atol: 1e-5, msg: `d${name}` });
        }
      }
    } finally {
      await useCpu();
    }
  });

  Deno.test(`geluTanh on ${backend}: values (float64) and gradient (stock tanh autodiff)`, async () => {
    await startBackend(backend);
    try {
      const got = valueAndGrads((u) => geluTanh(u), [X], [[R, D]]);
      await useCpu();
      const want = valueAndGrads(stockGelu, [X], [[R, D]]);
      const k = Math.sqrt(2 / Math.PI);
      const exact = Array.from(X, (u) => 0.5 * u * (1 + Math.tanh(k * (u + 0.044715 * u ** 3))));
      assertClose(got.y, exact, { rtol: 1e-5, atol: 1e-6, msg: "value" });
      assertClose(got.grads[0], want.grads[0], { rtol: 1e-4, atol: 1e-5, msg: "du" });
    } finally {
      await useCpu();
    }
  });
}
