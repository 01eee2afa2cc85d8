/**
 * The unconstrained-features view of a real causal LM: its unembedding `W` and the final hidden
 * state `h_x` that predicts the first response token, read off the model so the theory of
 * `ufm_theory.ts` (Theorems 4 and 5 of arXiv 2410.08847) can be evaluated on it as if `W` and
 * `h_x` were free parameters.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";

/** Unembedding tensor names, in the order they are looked for (a separate head first). */
const UNEMBEDDING_NAMES = ["lm_head.weight", "transformer.wte.weight", "model.embed_tokens.weight"];

/** Result of {@link lmUfmParameters}. */
export interface LmUfmParameters {
  /** Unembedding rows, one per token (`V` rows of width `d`): logits = `W h`. */
  W: Float32Array[];
  /** Final hidden state (after the final norm) at the last prompt token, length `d`. */
  h: Float32Array;
  /** Name of the tensor `W` was read from. */
  source: string;
}

/**
 * `W` and `h_x` of a causal LM for one prompt: the model's next-token logits after the prompt
 * are exactly `W h_x` (the GPT-2 and Llama families here have no output bias). Feed them to
 * `ufmPredictedLogProbChange` to get the unconstrained-features prediction of which tokens a
 * preference step on single-token responses lifts.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { lmUfmParameters } from "./ufm_lm.ts";
 * import { ufmPredictedLogProbChange } from "./ufm_theory.ts";
 * const model = createGPT2({ vocab_size: 16, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const { W, h } = await lmUfmParameters(model, [1, 2, 3]);
 * const p = ufmPredictedLogProbChange(W, h, { yPlus: 4, yMinus: 5, lossDerivative: -0.05 });
 * console.log(W.length, h.length, p.rate.length); // 16 8 16
 * model.dispose();
 * ```
 */
export async function lmUfmParameters(
  model: CausalLM,
  promptIds: readonly number[],
): Promise<LmUfmParameters> {
  if (promptIds.length === 0) throw new RangeError("promptIds: the prompt has no tokens");
  for (const id of promptIds) {
    if (!Number.isInteger(id) || id < 0 || id >= model.vocabSize) {
      throw new RangeError(
        `promptIds: ${id} is not a token id of a ${model.vocabSize}-token model`,
      );
    }
  }
  const named = model.namedVariables();
  const source = UNEMBEDDING_NAMES.find((n) => named.has(n));
  if (!source) {
    throw new TypeError(
      `lmUfmParameters: no unembedding among the ${model.kind} model's tensors ` +
        `(looked for ${UNEMBEDDING_NAMES.join(", ")})`,
    );
  }
  const w = named.get(source)!;
  const [V, d] = w.shape;
  if (V !== model.vocabSize || d !== model.hiddenSize) {
    throw new RangeError(
      `${source} has shape [${w.shape}], expected [${model.vocabSize}, ${model.hiddenSize}]`,
    );
  }
  const hidden = tf.tidy(() => {
    const ids = tf.tensor2d([Array.from(promptIds)], [1, promptIds.length], "int32");
    const out = model.forward(ids, { hidden: true });
    if (!out.hidden) throw new TypeError(`${model.kind}.forward returned no hidden states`);
    return tf.reshape(tf.slice(out.hidden, [0, promptIds.length - 1, 0], [1, 1, d]), [d]);
  });
  try {
    const [wData, hData] = await Promise.all([w.data(), hidden.data()]);
    const flat = Float32Array.from(wData as Float32Array);
    const W = Array.from({ length: V }, (_, k) => flat.subarray(k * d, (k + 1) * d));
    return { W, h: Float32Array.from(hData as Float32Array), source };
  } finally {
    hidden.dispose();
  }
}
