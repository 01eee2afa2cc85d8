/**
 * Test utilities for the model tests: random weights that exercise every parameter (biases
 * and norm gains included), and copies of a model's weights as float64 for the references.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { RefWeights } from "./reference.ts";

/** A small LCG + Box-Muller, independent of the library's generator. */
export function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  const u = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(u())) * Math.cos(2 * Math.PI * u());
}

/**
 * A tensor source for `createGPT2` / `createLlama`: weights N(0, std), biases N(0, 0.1),
 * norm gains 1 + N(0, 0.1), so a wrong bias or gain would show in the outputs.
 */
export function randomSource(seed: number, std = 0.3) {
  const g = gaussian(seed);
  return (spec: { name: string; shape: number[]; init: unknown }) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      if (spec.init === "ones") out[i] = 1 + 0.1 * g();
      else if (spec.init === "zeros") out[i] = 0.1 * g();
      else out[i] = std * g();
    }
    return out;
  };
}

/** The model's current weights as float64, keyed by Hugging Face name. */
export function refWeights(
  model: { namedVariables(): ReadonlyMap<string, tf.Variable> },
): RefWeights {
  const out: RefWeights = new Map();
  for (const [name, v] of model.namedVariables()) {
    out.set(name, { shape: v.shape, data: Float64Array.from(v.dataSync()) });
  }
  return out;
}

/** Largest |a - b| over two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A tiny GPT-2 config (HF field names) small enough for float64 references and file round trips. */
export const TINY_GPT2 = { vocab_size: 23, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 4 };

/** A tiny Llama config with grouped-query attention (4 query heads, 2 key/value heads). */
export const TINY_LLAMA = {
  vocab_size: 29,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  max_position_embeddings: 32,
};
