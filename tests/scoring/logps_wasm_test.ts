/**
 * The gradient of completion log-probs on `wasm` equals the one on `cpu`. Regression test:
 * tfjs-backend-wasm 4.22's OneHot kernel ignores the float32 dtype (it writes int32 bits), which
 * once made the fused label-log-prob gradient `onehot - softmax` lose its one-hot on wasm, so DPO
 * on a causal LM barely moved there (single-token responses: gradient ~1e-8 instead of ~1).
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { tokenLogps } from "../../lib/scoring/logps.ts";
import { assertClose, useCpu } from "../helpers.ts";
import { randomSource } from "../models/util.ts";

const ROWS = {
  length: 5,
  // Row 0: one scored token (a single-token response); row 1: three scored tokens.
  inputIds: Int32Array.from([1, 2, 3, 4, 0, 5, 6, 7, 8, 9]),
  attentionMask: Float32Array.from([1, 1, 1, 1, 0, 1, 1, 1, 1, 1]),
  completionMask: Float32Array.from([0, 0, 0, 1, 0, 0, 0, 1, 1, 1]),
};

/** Gradients of sum(summed log-probs) w.r.t. every variable, as plain arrays by name. */
function grads(stats = false): Map<string, Float32Array> {
  const model = createGPT2(
    { vocab_size: 12, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 },
    { source: randomSource(3) },
  );
  const names = [...model.namedVariables().keys()];
  const vars = model.variables();
  const { grads } = tf.variableGrads(
    () => tf.sum(tokenLogps(model, ROWS, { stats }).summed) as tf.Scalar,
    vars,
  );
  const out = new Map(
    names.map((n, i) => [n, grads[vars[i].name].dataSync() as Float32Array]),
  );
  tf.dispose(Object.values(grads));
  model.dispose();
  return out;
}

Deno.test({
  name: "tokenLogps gradient on wasm matches cpu (one-hot dtype on wasm)",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    try {
      // With token stats the fused op also returns them; the gradient must not change.
      for (const stats of [false, true]) {
        await useCpu();
        const ref = grads(stats);
        await startBackend("wasm");
        const got = grads(stats);
        const wte = ref.get("transformer.wte.weight")!;
        assert.ok(wte.some((v) => Math.abs(v) > 0.1), "reference embedding gradient is ~0");
        for (const [name, g] of ref) {
          assertClose(got.get(name)!, g, {
            rtol: 1e-3,
            atol: 1e-5,
            msg: `${name}, stats ${stats}`,
          });
        }
      }
    } finally {
      await useCpu();
    }
  },
});
