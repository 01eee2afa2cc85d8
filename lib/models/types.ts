/**
 * The interface every trainable model in `lib/models/` offers to the trainer and analysis code.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";

/** What a forward pass returns. Shapes: logits [N, T, V], hidden [N, T, d]. */
export interface ForwardOutput {
  logits: tf.Tensor3D;
  /** Final hidden states (input to the unembedding, after the final norm), when asked for. */
  hidden?: tf.Tensor3D;
}

/** A causal language model over token ids, with trainable tfjs variables. */
export interface CausalLM {
  /** Architecture name, e.g. "gpt2" or "llama". */
  readonly kind: string;
  /** The plain config the model was built from (Hugging Face `config.json` field names). */
  readonly config: Readonly<Record<string, unknown>>;
  readonly vocabSize: number;
  /**
   * Forward pass. `ids` is [N, T] int32; `attentionMask` [N, T] (1 = real token) lets
   * right-padded rows be ignored by later real tokens' attention (causal masking already
   * keeps padding at the end harmless).
   */
  forward(
    ids: tf.Tensor2D,
    opts?: { attentionMask?: tf.Tensor2D; hidden?: boolean },
  ): ForwardOutput;
  /** Trainable variables in a fixed order, named by their Hugging Face tensor names. */
  variables(): tf.Variable[];
  /** Free all tensors the model owns. */
  dispose(): void;
}
