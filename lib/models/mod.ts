/**
 * models: the interface the trainer sees ({@link CausalLM}), GPT-2 and Llama-family causal
 * LMs in tfjs, toy softmax models for theory, and Hugging Face checkpoint load/save.
 *
 * @example Build a tiny GPT-2, save it as a Hugging Face checkpoint, load it back
 * ```ts ignore
 * import { createGPT2, loadCausalLM, saveCausalLM } from "./mod.ts";
 * const model = createGPT2({ vocab_size: 64, n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4 }, { seed: 0 });
 * await saveCausalLM(model, "/tmp/tiny-gpt2");
 * const again = await loadCausalLM("/tmp/tiny-gpt2");
 * console.log(again.kind, again.vocabSize);
 * ```
 *
 * @module
 */
export * from "./types.ts";
export { Rng } from "../core/rng.ts";
export { seededSource } from "./common.ts";
export type { TensorInit, TensorSource, TensorSpec } from "./common.ts";
export * from "./safetensors.ts";
export * from "./gpt2.ts";
export * from "./llama.ts";
export * from "./checkpoint.ts";
export * from "./toy.ts";
export * from "./toy_sequence.ts";
export * from "./toy_presets.ts";
export * from "./params.ts";
