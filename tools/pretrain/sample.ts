/**
 * Sample continuations from a causal LM, for model cards and quick looks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { Rng } from "../../lib/core/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import type { TextTokenizer } from "./hf_tokenizer.ts";

/** Options of {@link generate}. */
export interface GenerateOptions {
  /** Tokens to add at most (default 40); generation also stops after an end-of-text token. */
  maxNewTokens?: number;
  /** Softmax temperature (default 1; 0 means greedy). */
  temperature?: number;
  /** Keep only the k most likely tokens before sampling (default 0 = all). */
  topK?: number;
  /** Seed of the sampler (default 0). */
  seed?: number;
}

/**
 * Continue a prompt token by token. The context is cut to the model's `n_positions` last
 * tokens when it grows longer.
 *
 * @example
 * ```ts ignore
 * import { generate } from "./sample.ts";
 * const { text } = await generate(model, tokenizer, "The jury said", { maxNewTokens: 20, topK: 40 });
 * console.log(text);
 * ```
 */
export async function generate(
  model: CausalLM,
  tokenizer: Pick<TextTokenizer, "encode" | "decode" | "eosId">,
  prompt: string,
  opts: GenerateOptions = {},
): Promise<{ text: string; ids: number[] }> {
  const maxNew = opts.maxNewTokens ?? 40;
  const temperature = opts.temperature ?? 1;
  const topK = opts.topK ?? 0;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be >= 0, got ${temperature}`);
  if (!(Number.isInteger(topK) && topK >= 0)) {
    throw new RangeError(`topK must be a non-negative integer, got ${topK}`);
  }
  const window = Number(model.config.n_positions ?? model.config.max_position_embeddings ?? 128);
  const rng = new Rng(opts.seed ?? 0);
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) ids.push(tokenizer.eosId);
  const added: number[] = [];
  for (let i = 0; i < maxNew; i++) {
    const ctx = ids.slice(-window);
    const last = tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d([ctx], [1, ctx.length], "int32"));
      return tf.reshape(tf.slice(logits, [0, ctx.length - 1, 0], [1, 1, -1]), [-1]);
    });
    const row = Array.from(await last.data());
    last.dispose();
    const next = pickToken(row, temperature, topK, rng);
    ids.push(next);
    added.push(next);
    if (next === tokenizer.eosId) break;
  }
  return { text: tokenizer.decode(added), ids: added };
}

/** Draw one id from logits after temperature and top-k (plain JS, float64). */
function pickToken(logits: number[], temperature: number, topK: number, rng: Rng): number {
  if (temperature === 0) return logits.indexOf(Math.max(...logits));
  let order = logits.map((_, i) => i);
  if (topK > 0 && topK < logits.length) {
    order.sort((a, b) => logits[b] - logits[a]);
    order = order.slice(0, topK);
  }
  const top = Math.max(...order.map((i) => logits[i]));
  const weights = order.map((i) => Math.exp((logits[i] - top) / temperature));
  let u = rng.uniform() * weights.reduce((a, b) => a + b, 0);
  for (let j = 0; j < order.length; j++) {
    u -= weights[j];
    if (u <= 0) return order[j];
  }
  return order[order.length - 1];
}
