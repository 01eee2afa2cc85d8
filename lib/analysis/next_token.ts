/**
 * Next-token distributions for the distribution tracker: what the single-token toy models
 * give directly (`model.logProbs(prompt)`), and an adapter that gives the same for a causal LM
 * and a list of prompts, with the greedy response's log-prob (the squeezing effect of
 * arXiv 2407.10490: its confidence grows while nearly everything else falls).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM } from "../models/types.ts";

/**
 * Anything that gives `ln pi(.|prompt)` for a prompt id. The toy models
 * (`createUnconstrainedFeatures`, `createLinearSoftmax`) satisfy it as they are.
 */
export interface NextTokenSource {
  /** Log-distribution over the vocabulary, a [V] tensor (the caller disposes it). */
  logProbs(prompt: number): tf.Tensor1D;
  /**
   * Log-prob of the greedy (argmax-decoded) response, when responses are longer than one
   * token; single-token sources omit it and the argmax log-prob is used.
   */
  greedyLogProb?(prompt: number): Promise<number>;
}

/** Options of {@link causalNextTokenSource}. */
export interface CausalSourceOptions {
  /** Greedy response length cap (default 0: greedy = the single argmax token). */
  greedyTokens?: number;
  /** Stop greedy decoding after this token (e.g. EOS), which is counted. */
  eosId?: number;
}

/**
 * A {@link NextTokenSource} over a causal LM: prompt `i` is `prompts[i]` (token ids), its
 * distribution is the model's next-token distribution after the last prompt token.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { causalNextTokenSource } from "./next_token.ts";
 * const model = createGPT2({ vocab_size: 16, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 });
 * const src = causalNextTokenSource(model, [[1, 2, 3]], { greedyTokens: 4 });
 * const lp = src.logProbs(0);
 * console.log(lp.shape, (await src.greedyLogProb!(0)) < 0); // [16] true
 * lp.dispose();
 * model.dispose();
 * ```
 */
export function causalNextTokenSource(
  model: CausalLM,
  prompts: readonly (readonly number[])[],
  opts: CausalSourceOptions = {},
): NextTokenSource {
  const maxNew = opts.greedyTokens ?? 0;
  if (!Number.isInteger(maxNew) || maxNew < 0) {
    throw new RangeError(`greedyTokens: ${opts.greedyTokens} is not a count`);
  }
  const ids = (i: number) => {
    const p = prompts[i];
    if (!p) throw new RangeError(`prompt ${i} is not one of the ${prompts.length} prompts`);
    if (p.length === 0) throw new RangeError(`prompt ${i} has no tokens`);
    return p;
  };
  const last = (seq: readonly number[]) =>
    tf.tidy(() => {
      const x = tf.tensor2d([Array.from(seq)], [1, seq.length], "int32");
      const { logits } = model.forward(x);
      const z = tf.slice(logits, [0, seq.length - 1, 0], [1, 1, model.vocabSize]);
      return tf.reshape(tf.logSoftmax(z), [model.vocabSize]) as tf.Tensor1D;
    });
  const source: NextTokenSource = { logProbs: (i) => last(ids(i)) };
  if (maxNew > 0) {
    source.greedyLogProb = async (i) => {
      const seq = [...ids(i)];
      let total = 0;
      for (let k = 0; k < maxNew; k++) {
        const lp = last(seq);
        let v: Float32Array;
        try {
          v = (await lp.data()) as Float32Array;
        } finally {
          lp.dispose();
        }
        let best = 0;
        for (let j = 1; j < v.length; j++) if (v[j] > v[best]) best = j;
        total += v[best];
        seq.push(best);
        if (best === opts.eosId) break;
      }
      return total;
    };
  }
  return source;
}
