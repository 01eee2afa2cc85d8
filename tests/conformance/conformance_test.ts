/**
 * Backend conformance: a small transformer's loss and every parameter gradient on each backend
 * that starts here must match the `cpu` backend within {@link CONFORMANCE_TOLERANCE} (1e-4,
 * relative to each gradient's largest magnitude, f32). Observed on a 2-core x86-64 VM: wasm
 * 8.6e-7, webgpu on llvmpipe 7.9e-7 — both near f32 rounding, so the bar is not loosened.
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { type BackendName, startBackend } from "../../lib/backend.ts";
import {
  conformance,
  CONFORMANCE_CONFIG,
  CONFORMANCE_TOLERANCE,
  forwardBackward,
  scaledError,
  tinyGptBatch,
  tinyGptLoss,
  tinyGptParams,
} from "../../tools/backend_measure.ts";
import { registerWasmGradients } from "../../lib/kernels/wasm_grads.ts";

const TOL = CONFORMANCE_TOLERANCE;

/** Backends other than the reference that start on this machine. */
const available: BackendName[] = [];
for (const name of ["wasm", "webgpu", "tensorflow"] as const) {
  try {
    await startBackend(name);
    available.push(name);
  } catch {
    // Not available here (no adapter, libtensorflow not installed): nothing to check.
  }
}
await startBackend("cpu");

Deno.test("scaledError: max |a-b| over max |b|, by hand", () => {
  assert.equal(scaledError([1, 2.5, -4], [1, 2, -4]), 0.5 / 4);
  assert.equal(scaledError([0, 0], [0, 0]), 0);
  assert.equal(scaledError([NaN], [1]), Infinity);
  assert.equal(scaledError([1], [NaN]), Infinity);
  assert.throws(() => scaledError([1], [1, 2]), RangeError);
});

Deno.test("reference: cpu gradients of the tiny GPT agree with central finite differences", async () => {
  await startBackend("cpu");
  const c = CONFORMANCE_CONFIG;
  const params = tinyGptParams(c);
  const { loss, grads } = await forwardBackward(c, { params });
  // forwardBackward draws its batch with seed (its seed, default 1) + 1.
  const batch = tinyGptBatch(c, { seed: 2 });
  // Near ln(vocab) = 4.57 but larger: the seeded embeddings give confident, random logits.
  assert.ok(loss > 3 && loss < 8, `loss ${loss}`);
  // For a few parameters, perturb the entry with the largest gradient by +-h. f32 loss
  // differences carry ~1e-6 absolute noise, so h = 1e-2 and a 3% bar relative to the
  // gradient's largest entry.
  for (const name of ["wte", "wpe", "h0.ln1.g", "h1.attn.w", "h0.fc.b", "lm_head"]) {
    const g = grads.get(name)!;
    let k = 0;
    for (let i = 1; i < g.length; i++) if (Math.abs(g[i]!) > Math.abs(g[k]!)) k = i;
    const h = 1e-2;
    // Forward passes only: a backward pass per evaluation would triple the cost.
    const at = (delta: number) =>
      tf.tidy(() => {
        const ts = new Map([...params].map(([n, v]) => [n, tf.tensor(v.values, v.shape)]));
        const v = Float32Array.from(params.get(name)!.values);
        v[k]! += delta;
        ts.set(name, tf.tensor(v, params.get(name)!.shape));
        return tinyGptLoss(c, ts, {
          ids: tf.tensor1d(batch.ids, "int32"),
          targets: tf.tensor1d(batch.targets, "int32"),
          causal: tf.cast(tf.linalg.bandPart(tf.ones([c.seqLen, c.seqLen]), -1, 0), "bool"),
        }).dataSync()[0]!;
      });
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(
      Math.abs(fd - g[k]!) <= 0.03 * Math.abs(g[k]!),
      `${name}[${k}]: autodiff ${g[k]}, finite difference ${fd}`,
    );
  }
});

for (const name of ["wasm", "webgpu", "tensorflow"] as const) {
  Deno.test({
    name: `conformance: ${name} matches cpu (loss and all gradients, rel. tol ${TOL})`,
    ignore: !available.includes(name),
    fn: async () => {
      const r = await conformance(name);
      console.log(
        `  ${name}: max rel. error ${r.maxError.toExponential(2)} at ${r.worst} ` +
          `(loss ${r.loss} vs cpu ${r.referenceLoss}; tolerance ${r.tolerance})`,
      );
      assert.equal(Object.keys(r.gradErrors).length, tinyGptParams(CONFORMANCE_CONFIG).size);
      assert.ok(r.ok, `${name} differs from cpu: ${r.maxError} at ${r.worst} > ${TOL}`);
      assert.equal(tf.getBackend(), "cpu", "conformance() restores the previous backend");
    },
  });
}

Deno.test({
  name: "conformance: a 1% error in wasm's gather gradient is caught and located",
  ignore: !available.includes("wasm"),
  fn: async () => {
    const good = tf.getKernel("UnsortedSegmentSum", "wasm")!;
    tf.unregisterKernel("UnsortedSegmentSum", "wasm");
    tf.registerKernel({
      ...good,
      kernelFunc: (args) => {
        const out = good.kernelFunc(args) as tf.TensorInfo;
        const b = args.backend as { typedArrayFromHeap(t: tf.TensorInfo): Float32Array };
        const v = b.typedArrayFromHeap(out);
        for (let i = 0; i < v.length; i++) v[i]! *= 1.01;
        return out;
      },
    });
    try {
      const r = await conformance("wasm");
      assert.equal(r.ok, false);
      assert.equal(r.worst, "wte", "only the embedding's gradient goes through the gather");
      assert.ok(r.gradErrors["wte"]! > 5e-3, `wte error ${r.gradErrors["wte"]}`);
      assert.ok(r.gradErrors["lm_head"]! < TOL);
    } finally {
      tf.unregisterKernel("UnsortedSegmentSum", "wasm");
      registerWasmGradients();
    }
  },
});
