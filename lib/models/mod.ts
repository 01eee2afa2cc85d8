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
export type { CausalLM, ForwardOptions, ForwardOutput } from "./types.ts";
export type { TensorInit, TensorSource, TensorSpec } from "./common.ts";
export {
  type DecodedTensor,
  encodeSafetensors,
  readSafetensors,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./safetensors.ts";
export { createGPT2, GPT2, type GPT2Config, gpt2Config } from "./gpt2.ts";
export { createLlama, Llama, LLAMA_MODEL_TYPES, type LlamaConfig, llamaConfig } from "./llama.ts";
export {
  type CheckpointFiles,
  loadCausalLM,
  saveCausalLM,
  type SaveCausalLMOptions,
  SUPPORTED_MODEL_TYPES,
} from "./checkpoint.ts";
export {
  createLinearSoftmax,
  createUnconstrainedFeatures,
  LinearSoftmax,
  type LinearSoftmaxOptions,
  type Ref,
  type TokenRef,
  UnconstrainedFeatures,
  type UnconstrainedFeaturesOptions,
} from "./toy.ts";
export {
  type ContextLogitsModel,
  createToySequenceScorer,
  type ToySequenceBatch,
  toySequenceData,
  type ToySequenceOptions,
  type ToySequencePairs,
  type ToySequenceProbes,
  ToySequenceScorer,
} from "./toy_sequence.ts";
export {
  DISPLACEMENT_TOKENS,
  type DisplacementToy,
  displacementToy,
  type DisplacementToyOptions,
} from "./toy_presets.ts";
export { parameterCount } from "./params.ts";
