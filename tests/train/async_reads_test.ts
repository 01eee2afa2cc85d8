/**
 * The asynchronous reads that let training run on webgpu give the same numbers as the
 * synchronous cpu/wasm ones: global-norm clipping and reference scoring. (The whole trainer on
 * webgpu against cpu: webgpu_test.ts.)
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import {
  clipByGlobalNorm,
  clipByGlobalNormAsync,
  clipByGlobalNormTensor,
  gradSquaredNorm,
} from "../../lib/train/optimizers.ts";
import { computeReferenceLogps, computeReferenceLogpsAsync } from "../../lib/scoring/ref_cache.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { PAIRS, toyModel } from "./toy_setup.ts";

await useCpu();

Deno.test("clipByGlobalNormAsync is clipByGlobalNorm bit for bit; the tensor form agrees to f32", async () => {
  const g = [tf.tensor1d([0.3, -1.7]), tf.tensor2d([[2.9, 0.11], [-0.4, 5.3]])];
  for (const maxNorm of [undefined, 1, 2.5, 100]) {
    const sync = clipByGlobalNorm(g, maxNorm);
    const asy = await clipByGlobalNormAsync(g, maxNorm);
    const ten = clipByGlobalNormTensor(g, maxNorm);
    assert.equal(asy.norm, sync.norm);
    assertClose((await ten.norm.data())[0], sync.norm, { rtol: 1e-6 });
    for (let i = 0; i < g.length; i++) {
      assert.deepEqual(await asy.grads[i].data(), await sync.grads[i].data(), `grad ${i}`);
      assertClose(await ten.grads[i].data(), await sync.grads[i].data(), { rtol: 1e-6 });
    }
    tf.dispose([...sync.grads, ...asy.grads, ...ten.grads, ten.norm]);
  }
  assertClose((await gradSquaredNorm(g).data())[0], 0.09 + 2.89 + 8.41 + 0.0121 + 0.16 + 28.09, {
    rtol: 1e-6,
  });
  assert.equal((await gradSquaredNorm([]).data())[0], 0);
  await assert.rejects(() => clipByGlobalNormAsync(g, 0), /maxGradNorm must be positive, got 0/);
  assert.throws(() => clipByGlobalNormTensor(g, -1), /got -1/);
  // A non-finite norm leaves the gradients unscaled, as the synchronous version does.
  const bad = [tf.tensor1d([NaN, 1])];
  const t = clipByGlobalNormTensor(bad, 1);
  assert.ok(Number.isNaN((await t.norm.data())[0]));
  assert.equal((await t.grads[0].data())[1], 1);
  tf.dispose([...g, ...bad, t.norm, ...t.grads]);
});

Deno.test("computeReferenceLogpsAsync equals computeReferenceLogps", async () => {
  const model = toyModel(2);
  const data = toyData(PAIRS);
  for (const batchSize of [1, 3, 16]) {
    const sync = computeReferenceLogps(model, data, { batchSize });
    const asy = await computeReferenceLogpsAsync(model, data, { batchSize });
    assert.deepEqual(asy, sync, `batchSize ${batchSize}`);
  }
  await assert.rejects(
    () => computeReferenceLogpsAsync(model, data, { batchSize: 0 }),
    /batchSize must be a positive integer, got 0/,
  );
});
