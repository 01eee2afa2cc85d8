/**
 * The models of `lab bench --scale`: real configurations (GPT-2 small, medium, large; a
 * TinyLlama-1.1B-shaped Llama), randomly initialised and written as Hugging Face checkpoints
 * by the bench itself, since no weights of that size are on the machine and none may be
 * downloaded. Speed and memory depend on the shapes, not on the weights' values.
 *
 * @module
 */
import type { TensorSource } from "../../lib/models/mod.ts";
import { GPT2_SMALL_CONFIG } from "./workload.ts";

/** One model of the scale task. */
export interface ScaleModel {
  id: string;
  label: string;
  family: "gpt2" | "llama";
  /** Hugging Face config fields. */
  config: Record<string, unknown>;
  /** "dpo": the DPO step (ours and the peer's); "score": forward-only scoring and CHES. */
  task: "dpo" | "score";
}

const gpt2 = (id: string, label: string, d: number, layers: number, heads: number) => ({
  id,
  label,
  family: "gpt2" as const,
  config: { ...GPT2_SMALL_CONFIG, model_type: "gpt2", n_embd: d, n_layer: layers, n_head: heads },
  task: "dpo" as const,
});

/** Every model the scale task knows, by id. */
export const SCALE_MODELS: Readonly<Record<string, ScaleModel>> = {
  "gpt2-small": gpt2("gpt2-small", "gpt2-small 124M (random init)", 768, 12, 12),
  "gpt2-medium": gpt2("gpt2-medium", "gpt2-medium 355M (random init)", 1024, 24, 16),
  "gpt2-large": gpt2("gpt2-large", "gpt2-large 774M (random init)", 1280, 36, 20),
  "llama-1b": {
    id: "llama-1b",
    label: "llama 1.1B, TinyLlama's shape (random init)",
    family: "llama",
    config: {
      model_type: "llama",
      vocab_size: 32000,
      hidden_size: 2048,
      intermediate_size: 5632,
      num_hidden_layers: 22,
      num_attention_heads: 32,
      num_key_value_heads: 4,
      max_position_embeddings: 2048,
      rms_norm_eps: 1e-5,
      rope_theta: 10000,
      tie_word_embeddings: false,
    },
    task: "score",
  },
};

/** What `lab bench --scale` runs unless told otherwise (GPT-2 large last: one step, no peer). */
export const DEFAULT_SCALE_MODELS: readonly string[] = [
  "gpt2-small",
  "gpt2-medium",
  "llama-1b",
  "gpt2-large",
];

/**
 * A seeded {@link TensorSource} that is fast enough for a billion parameters: uniform draws
 * with each spec's standard deviation (an integer hash per element) instead of Box-Muller
 * normals, which took 34 s for GPT-2 small's 124M on a loaded 2-core machine. Zeros and ones
 * as the spec says.
 *
 * @example
 * ```ts
 * import { fastUniformSource } from "./scale_models.ts";
 * const v = fastUniformSource(0)({ name: "w", shape: [1000], init: { normal: 0.02 } });
 * const sd = Math.sqrt(v.reduce((a, x) => a + x * x, 0) / v.length);
 * console.log(Math.abs(sd - 0.02) < 0.002); // true
 * ```
 */
export function fastUniformSource(seed: number): TensorSource {
  let state = (seed * 0x9e3779b9) >>> 0;
  return (spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (spec.init === "ones") return out.fill(1);
    if (spec.init === "zeros") return out;
    // Uniform on [-a, a] has standard deviation a / sqrt(3).
    const scale = spec.init.normal * Math.sqrt(3) * 2 / 4294967296;
    const a = spec.init.normal * Math.sqrt(3);
    for (let i = 0; i < n; i++) {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = Math.imul(state ^ (state >>> 15), state | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[i] = ((t ^ (t >>> 14)) >>> 0) * scale - a;
    }
    return out;
  };
}
