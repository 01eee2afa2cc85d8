import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../lib/kernels/gradients.ts";
import { assertClose, useCpu } from "../helpers.ts";
import { objectiveMath as m } from "../../lib/objectives/mod.ts";
import { log1mexp as log1mexp64, logsig, sig, sp } from "./_reference.ts";

await useCpu();

const XS = [-1000, -100, -88, -30, -1, 0, 0.5, 30, 88, 100, 1000];

function valueAndGrad(f: (x: tf.Tensor) => tf.Tensor, xs: number[]) {
  const x = tf.tensor1d(xs);
  const { value, grad } = tf.valueAndGrad((t: tf.Tensor) => tf.sum(f(t)))(x);
  const fx = f(x);
  const out = { y: Array.from(fx.dataSync()), g: Array.from(grad.dataSync()) };
  tf.dispose([x, fx, value, grad]);
  return out;
}

Deno.test("softplus, logSigmoid, sigmoid: float32 values and gradients finite and exact at |x| up to 1000", () => {
  const cases: [
    string,
    (x: tf.Tensor) => tf.Tensor,
    (x: number) => number,
    (x: number) => number,
  ][] = [
    ["softplus", m.softplus, sp, sig],
    ["logSigmoid", m.logSigmoid, logsig, (x) => sig(-x)],
    ["sigmoid", m.sigmoid, sig, (x) => sig(x) * sig(-x)],
  ];
  for (const [name, f, val, der] of cases) {
    const { y, g } = valueAndGrad(f, XS);
    XS.forEach((x, i) => {
      assert.ok(
        Number.isFinite(y[i]) && Number.isFinite(g[i]),
        `${name}(${x}) = ${y[i]}, grad ${g[i]}`,
      );
      // atol 1e-30: float32 denormals (|v| < 1.2e-38) carry few significant bits.
      assertClose(y[i], val(x), { rtol: 1e-6, atol: 1e-30, msg: `${name}(${x})` });
      assertClose(g[i], der(x), { rtol: 1e-6, atol: 1e-30, msg: `${name}'(${x})` });
    });
  }
});

Deno.test("tfjs's own softplus/sigmoid gradients are also finite at |x| = 100 (measured, not relied on)", () => {
  for (const f of [tf.softplus, tf.sigmoid, tf.logSigmoid]) {
    const { y, g } = valueAndGrad(f, [-100, 100]);
    for (const v of [...y, ...g]) assert.ok(Number.isFinite(v), `${f.name}: ${v}`);
  }
});

Deno.test("log1mexp: value and gradient against float64 on both branches", () => {
  const xs = [-50, -5, -1, -0.7, -0.69, -0.1, -1e-3];
  const { y, g } = valueAndGrad(m.log1mexp, xs);
  xs.forEach((x, i) => {
    assertClose(y[i], log1mexp64(Math.fround(x)), {
      rtol: 2e-6,
      atol: 1e-30,
      msg: `log1mexp(${x})`,
    });
    const d = -Math.exp(x) / -Math.expm1(x); // d/dx log(1 − e^x) = −e^x/(1 − e^x)
    assertClose(g[i], d, { rtol: 2e-6, atol: 1e-30, msg: `log1mexp'(${x})` });
  });
});

Deno.test("stopGradient passes values and blocks gradients", () => {
  const x = tf.tensor1d([2, -3]);
  const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(t, m.stopGradient(t))))(x);
  // d/dx [x · sg(x)] = sg(x) = x
  assert.deepEqual(Array.from(g.dataSync()), [2, -3]);
  tf.dispose([x, g]);
});

Deno.test("permute: forward gathers, gradient scatters back through the inverse", () => {
  const x = tf.tensor1d([10, 20, 30]);
  const w = tf.tensor1d([1, 2, 3]);
  const f = (t: tf.Tensor) => tf.sum(tf.mul(m.permute(t as tf.Tensor1D, [2, 0, 1]), w));
  assert.deepEqual(Array.from(m.permute(x, [2, 0, 1]).dataSync()), [30, 10, 20]);
  // Σ_i w_i x_{perm(i)}: ∂/∂x_2 = w_0 = 1, ∂/∂x_0 = w_1 = 2, ∂/∂x_1 = w_2 = 3.
  assert.deepEqual(Array.from(tf.grad(f)(x).dataSync()), [2, 3, 1]);
  assert.deepEqual(m.argsortAscending([3, 1, 2, 1]), [1, 3, 2, 0]);
});
