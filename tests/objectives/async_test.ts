/**
 * The any-backend (`...Async`) analyses return exactly what the synchronous cpu/wasm ones do,
 * and the device-side building blocks that replaced host reads inside losses (the stable
 * differentiable sort, the pilot sampling, the running statistics) keep their documented
 * behaviour. (The same computations on webgpu: tests/train/webgpu_test.ts.)
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  createObjective,
  dpo,
  gradientField,
  gradientFieldAsync,
  gradientWeights,
  gradientWeightsAsync,
  objectiveMath,
  preferenceMetrics,
  preferenceMetricsAsync,
  samplePilotMasks,
  sgdpoMultiplier,
  tokenGradientField,
  tokenGradientFieldAsync,
} from "../../lib/objectives/mod.ts";
import { mulberry32 } from "../../lib/objectives/sgdpo_multiplier.ts";
import { DeviceScalar } from "../../lib/objectives/state.ts";
import { MODERATE, scoresOf } from "./_reference.ts";

await useCpu();

Deno.test("gradientWeightsAsync and gradientFieldAsync equal the synchronous versions exactly", async () => {
  const s = scoresOf(MODERATE);
  for (const name of ["dpo", "aot", "simpo", "kto", "alpha_dpo"]) {
    const params = name === "kto" ? { z0: 0 } : {};
    // Fresh objectives: stateful ones (alpha_dpo) advance on every call.
    assert.deepEqual(
      await gradientWeightsAsync(createObjective(name, params), s),
      gradientWeights(createObjective(name, params), s),
      name,
    );
  }
  const spec = { uW: { min: -3, max: 3, n: 4 }, uL: [-1, 2] };
  for (const name of ["dpo", "aot"]) {
    assert.deepEqual(
      await gradientFieldAsync(createObjective(name), spec),
      gradientField(createObjective(name), spec),
      name,
    );
  }
  await assert.rejects(
    () => gradientFieldAsync(createObjective("tdpo"), spec),
    (e) => e instanceof TypeError && /tdpo/.test(String(e)),
  );
  tf.dispose(Object.values(s) as tf.Tensor[]);
});

Deno.test("tokenGradientFieldAsync and preferenceMetricsAsync equal the synchronous versions", async () => {
  const spec = { uW: [-2, 0, 3], uL: [1, -1], spread: 0.5, samples: 2, seed: 4 };
  assert.deepEqual(
    await tokenGradientFieldAsync(sgdpoMultiplier({ r1: 0.5, r2: 0.25 }), spec),
    tokenGradientField(sgdpoMultiplier({ r1: 0.5, r2: 0.25 }), spec),
  );
  const s = scoresOf(MODERATE);
  const losses = dpo().loss(s).losses;
  for (const opts of [{ beta: 0.1, losses }, { beta: 2, lengthNormalize: true, losses: [1, 2] }]) {
    assert.deepEqual(await preferenceMetricsAsync(s, opts), preferenceMetrics(s, opts));
  }
  await assert.rejects(() => preferenceMetricsAsync(s, { beta: 0 }), /'beta'/);
  tf.dispose([losses, ...Object.values(s) as tf.Tensor[]]);
});

Deno.test("sortAscending: stable on ties; its gradient is permute's with the host argsort", () => {
  const { argsortAscending, permute, sortAscending } = objectiveMath;
  const values = [0.5, -1, 0.5, 3, -1, 0];
  const x = tf.tensor1d(values);
  const w = tf.tensor1d([1, 2, 3, 4, 5, 6]);
  assert.deepEqual(Array.from(sortAscending(x).dataSync()), [...values].sort((a, b) => a - b));
  const perm = argsortAscending(values);
  const viaSort = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(sortAscending(v as tf.Tensor1D), w)));
  const viaPerm = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(permute(v as tf.Tensor1D, perm), w)));
  // Ties decide which entry gets which weight, so equality here means the same (stable) order.
  assert.deepEqual(Array.from(viaSort(x).dataSync()), Array.from(viaPerm(x).dataSync()));
  assert.deepEqual(sortAscending(tf.tensor1d([])).shape, [0]);
  assert.throws(() => sortAscending(tf.zeros([2, 2]) as unknown as tf.Tensor1D), /1-D/);
});

Deno.test("samplePilotMasks: draws a fixed number of keys per row, whatever the masks hold", () => {
  const count = (m: tf.Tensor2D, mode: "same" | "different") => {
    let draws = 0;
    const base = mulberry32(9);
    samplePilotMasks(m, m, { r1: 0.5, r2: 0.5, mode, rng: () => (draws++, base()) });
    return draws;
  };
  const full = tf.ones([2, 5]) as tf.Tensor2D;
  const sparse = tf.tensor2d([[0, 0, 1, 0, 0], [0, 1, 1, 0, 0]]);
  for (const mode of ["same", "different"] as const) {
    assert.equal(count(full, mode), count(sparse, mode), mode);
  }
  // k = max(1, round(r·n)) per row, inside the completion; the scale n/k.
  const s = samplePilotMasks(sparse, sparse, {
    r1: 0.5,
    r2: 0.5,
    mode: "same",
    rng: mulberry32(1),
  });
  const sel = s.chosen.arraySync();
  assert.deepEqual(sel.map((r) => r.reduce((a, b) => a + b)), [1, 1]);
  assert.equal(sel[0][2], 1);
  assert.ok(sel[1][1] + sel[1][2] === 1 && sel[1][0] + sel[1][3] + sel[1][4] === 0);
  assertClose(s.scaleChosen.dataSync(), [1, 2]);
});

Deno.test("DeviceScalar: kept across tidy scopes, untouched by earlier copies, reset frees it", () => {
  const d = new DeviceScalar(1.5);
  const read = () => tf.tidy(() => d.value().dataSync()[0]);
  assert.equal(read(), 1.5);
  const before = tf.memory().numTensors;
  const copy = tf.tidy(() => {
    const v = d.value();
    d.set(tf.mul(v, 2));
    return v;
  });
  assert.equal(read(), 3);
  assert.equal(copy.dataSync()[0], 1.5, "an earlier value() is a copy");
  copy.dispose();
  assert.equal(tf.memory().numTensors, before + 1, "only the variable remains");
  d.reset();
  assert.equal(tf.memory().numTensors, before);
  assert.equal(read(), 1.5);
  assert.throws(() => d.set(tf.ones([2])), /shape \[2\]/);
});
