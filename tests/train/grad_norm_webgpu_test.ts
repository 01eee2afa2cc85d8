/**
 * The global gradient norm over many tensors on webgpu. tfjs-backend-webgpu 4.22 sums only the
 * first four inputs of `tf.addN`, which once made clipping wrong for any real model.
 */
import * as tf from "@tensorflow/tfjs-core";
import { initBackend } from "../../lib/backend.ts";
import { gradSquaredNorm } from "../../lib/train/optimizers.ts";
import { assertClose } from "../helpers.ts";

let webgpu = true;
try {
  await initBackend({ backend: "webgpu" });
} catch (e) {
  webgpu = false;
  console.log(`grad_norm_webgpu_test: skipping: webgpu does not start here (${e})`);
}

Deno.test({
  name: "gradSquaredNorm of 12 tensors on webgpu equals the hand sum of squares",
  ignore: !webgpu,
  async fn() {
    await initBackend({ backend: "webgpu" });
    const values = Array.from({ length: 12 }, (_, i) => [i + 1, -(i + 1) / 2]);
    const expected = values.reduce((s, [a, b]) => s + a! * a! + b! * b!, 0);
    const grads = values.map((v) => tf.tensor1d(v));
    const sq = gradSquaredNorm(grads);
    assertClose((await sq.data())[0]!, expected, { rtol: 1e-6 });
    tf.dispose([sq, ...grads]);
  },
});
