/**
 * The project's own GPT-2 and Llama (lib/models) on every backend that starts here: loss and
 * every variable's gradient must match the `cpu` backend within the conformance tolerance
 * (relative to each gradient's largest magnitude). Complements conformance_test.ts, whose model
 * is independent of lib/models; this one checks the ops the real models happen to use (RMSNorm,
 * RoPE, SwiGLU, grouped-query attention, padding masks).
 */
import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { type BackendName, startBackend } from "../../lib/backend.ts";
import { CONFORMANCE_TOLERANCE, scaledError } from "../../tools/backend_measure.ts";
import { createGPT2, createLlama } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/types.ts";

const V = 50;
const BUILD: Record<string, () => CausalLM> = {
  gpt2: () =>
    createGPT2({ vocab_size: V, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4 }, {
      seed: 3,
    }),
  llama: () =>
    createLlama({
      vocab_size: V,
      hidden_size: 32,
      intermediate_size: 64,
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: 2,
      max_position_embeddings: 16,
    }, { seed: 3 }),
};

async function pass(backend: BackendName, kind: string) {
  await startBackend(backend);
  const model = BUILD[kind]!();
  try {
    const ids = [[1, 2, 3, 4, 5, 6, 7, 8], [9, 8, 7, 6, 5, 4, 3, 2]];
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor2d(ids, [2, 8], "int32");
      // The second row is right-padded after 5 tokens.
      const mask = tf.tensor2d([[1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 1, 0, 0, 0]]);
      const targets = tf.tensor2d(ids.map((r) => [...r.slice(1), 0]), [2, 8], "int32");
      return tf.variableGrads(() => {
        const { logits } = model.forward(x, { attentionMask: mask });
        const picked = tf.sum(tf.mul(tf.logSoftmax(logits), tf.oneHot(targets, V)), -1);
        return tf.neg(tf.sum(tf.mul(picked, mask))) as tf.Scalar;
      }, model.variables());
    });
    const named = new Map<string, Float32Array>();
    for (const [name, v] of model.namedVariables()) {
      named.set(name, (await grads[v.name]!.data()) as Float32Array);
    }
    const loss = (await value.data())[0]!;
    tf.dispose([value, ...Object.values(grads)]);
    return { loss, grads: named };
  } finally {
    model.dispose();
  }
}

const available: BackendName[] = [];
for (const name of ["wasm", "webgpu"] as const) {
  if (await startBackend(name).then(() => true, () => false)) available.push(name);
}
await startBackend("cpu");

for (const kind of Object.keys(BUILD)) {
  for (const backend of ["wasm", "webgpu"] as const) {
    Deno.test({
      name: `lib/models ${kind} on ${backend} matches cpu (rel. tol ${CONFORMANCE_TOLERANCE})`,
      ignore: !available.includes(backend),
      fn: async () => {
        try {
          const ref = await pass("cpu", kind);
          const got = await pass(backend, kind);
          let worst = Math.abs(got.loss - ref.loss) / Math.abs(ref.loss), where = "loss";
          for (const [name, g] of ref.grads) {
            const e = scaledError(got.grads.get(name)!, g);
            if (e > worst) [worst, where] = [e, name];
          }
          console.log(
            `  ${kind} on ${backend}: max rel. error ${worst.toExponential(2)} at ${where}`,
          );
          assert.ok(ref.grads.size > 10, `${ref.grads.size} gradients`);
          assert.ok(worst <= CONFORMANCE_TOLERANCE, `${where}: ${worst}`);
        } finally {
          await startBackend("cpu");
        }
      },
    });
  }
}
