/**
 * The interface every trainable model in `lib/models/` offers to the trainer and analysis code.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** What a forward pass returns. Shapes: logits [N, T, V] (or [1, M, V], see `logitsAt`), hidden [N, T, d]. */
export interface ForwardOutput {
  logits: tf.Tensor3D;
  /** Final hidden states (input to the unembedding, after the final norm), when asked for. */
  hidden?: tf.Tensor3D;
}

/** Options of {@link CausalLM.forward}. */
export interface ForwardOptions {
  /** [N, T], 1 = real token, 0 = padding (masked as an attention key). */
  attentionMask?: tf.Tensor2D;
  /** Also return the final hidden states. */
  hidden?: boolean;
  /**
   * Compute logits only at these flat positions (`row * T + t`, int32 [M]); `logits` is then
   * [1, M, V]. The unembedding is the largest product of a small model, and a preference loss
   * reads it only at completion tokens: prompts and padding need no logits.
   */
  logitsAt?: tf.Tensor1D;
}

/** A causal language model over token ids, with trainable tfjs variables. */
export interface CausalLM {
  /** Architecture name, e.g. "gpt2" or "llama". */
  readonly kind: string;
  /** The plain config the model was built from (Hugging Face `config.json` field names). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly vocabSize: number;
  /** Width d of the final hidden states (the unembedding's input). */
  readonly hiddenSize: number;
  /**
   * Forward pass. `ids` is [N, T] int32; `attentionMask` [N, T] (1 = real token) lets
   * right-padded rows be ignored by later real tokens' attention (causal masking already
   * keeps padding at the end harmless).
   */
  forward(ids: tf.Tensor2D, opts?: ForwardOptions): ForwardOutput;
  /** Trainable variables in a fixed order, named by their Hugging Face tensor names. */
  variables(): tf.Variable[];
  /**
   * The same variables keyed by their Hugging Face tensor names. (tfjs needs globally unique
   * variable names, so `variable.name` itself carries a per-model prefix: `m<id>/<hf name>`.)
   */
  namedVariables(): ReadonlyMap<string, tf.Variable>;
  /** Free all tensors the model owns. */
  dispose(): void;
}
