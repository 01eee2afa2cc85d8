/**
 * lmUfmParameters: the W and h_x read off a causal LM reproduce the model's own next-token
 * logits (W h_x, computed here by hand in float64), for GPT-2 (tied embeddings) and Llama (a
 * separate head, and tied), and the chosen tensor is the one the forward pass uses.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { lmUfmParameters } from "../../lib/analysis/ufm_lm.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { createLlama } from "../../lib/models/llama.ts";
import type { CausalLM } from "../../lib/models/types.ts";
import { randomSource, TINY_GPT2, TINY_LLAMA } from "../models/util.ts";

await useCpu();

const GPT2 = TINY_GPT2, LLAMA = TINY_LLAMA;

/** The model's log-softmax of the next token after `ids`, from its own forward pass. */
function nextLogits(model: CausalLM, ids: number[]): number[] {
  return tf.tidy(() => {
    const { logits } = model.forward(tf.tensor2d([ids], [1, ids.length], "int32"));
    return Array.from(
      tf.slice(logits, [0, ids.length - 1, 0], [1, 1, model.vocabSize]).dataSync(),
    );
  });
}

function byHand(W: Float32Array[], h: Float32Array): number[] {
  return W.map((row) => row.reduce((s, v, j) => s + v * h[j], 0));
}

const cases: [string, () => CausalLM, string][] = [
  ["gpt2 (tied)", () => createGPT2(GPT2, { source: randomSource(1) }), "transformer.wte.weight"],
  ["llama (lm_head)", () => createLlama(LLAMA, { source: randomSource(2) }), "lm_head.weight"],
  [
    "llama (tied)",
    () => createLlama({ ...LLAMA, tie_word_embeddings: true }, { source: randomSource(3) }),
    "model.embed_tokens.weight",
  ],
];

for (const [name, make, expectSource] of cases) {
  Deno.test(`lmUfmParameters ${name}: W h_x equals the model's next-token logits`, async () => {
    const model = make();
    const ids = [3, 7, 1, 12, 5];
    const { W, h, source } = await lmUfmParameters(model, ids);
    assert.equal(source, expectSource);
    assert.equal(W.length, model.vocabSize);
    assert.equal(h.length, model.hiddenSize);
    assertClose(byHand(W, h), nextLogits(model, ids), { rtol: 1e-4, atol: 1e-4 });
    // A different prompt gives a different h_x but the same W.
    const other = await lmUfmParameters(model, [2]);
    assert.deepEqual(other.W[4], W[4]);
    assertClose(byHand(other.W, other.h), nextLogits(model, [2]), { rtol: 1e-4, atol: 1e-4 });
    model.dispose();
  });
}

Deno.test("lmUfmParameters rejects empty prompts and out-of-vocabulary ids", async () => {
  const model = createGPT2(GPT2, { source: randomSource(4) });
  await assert.rejects(() => lmUfmParameters(model, []), RangeError);
  await assert.rejects(() => lmUfmParameters(model, [1, 23]), /not a token id/);
  model.dispose();
});

Deno.test("lmUfmParameters leaves no tensors behind", async () => {
  const model = createGPT2(GPT2, { source: randomSource(5) });
  // The first forward pass may build model-owned caches (e.g. the causal mask); count after it.
  await lmUfmParameters(model, [1, 2, 3]);
  const before = tf.memory().numTensors;
  for (let i = 0; i < 3; i++) await lmUfmParameters(model, [1, 2, 3]);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});
