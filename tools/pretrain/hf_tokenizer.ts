/**
 * Load a tokenizer folder (`tokenizer.json` + `tokenizer_config.json`) with
 * `@huggingface/transformers`' AutoTokenizer, remote loading off, behind a small interface.
 *
 * @module
 */

/** What pretraining, evaluation and sampling need from a tokenizer. */
export interface TextTokenizer {
  /** Token ids of text, no special tokens added. */
  encode(text: string): number[];
  /** Text of token ids (special tokens kept). */
  decode(ids: readonly number[]): string;
  /** Id of the end-of-text token. */
  readonly eosId: number;
  /** Number of ids, special tokens included. */
  readonly vocabSize: number;
}

/**
 * Load the tokenizer in `dir` through AutoTokenizer from the local file system only.
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer } from "./hf_tokenizer.ts";
 * const tok = await loadTokenizer("data/models/tiny");
 * console.log(tok.encode(" Yes")); // one id
 * ```
 */
export async function loadTokenizer(dir: string): Promise<TextTokenizer> {
  const { AutoTokenizer, env } = await import("@huggingface/transformers");
  const abs = await Deno.realPath(dir).catch(() => {
    throw new TypeError(`tokenizer folder '${dir}' does not exist`);
  });
  const cut = abs.lastIndexOf("/");
  const saved = {
    remote: env.allowRemoteModels,
    local: env.allowLocalModels,
    path: env.localModelPath,
  };
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = abs.slice(0, cut + 1) || "/";
  let tok;
  try {
    tok = await AutoTokenizer.from_pretrained(abs.slice(cut + 1));
  } finally {
    env.allowRemoteModels = saved.remote;
    env.allowLocalModels = saved.local;
    env.localModelPath = saved.path;
  }
  const eosId = tok.eos_token_id;
  if (typeof eosId !== "number") {
    throw new TypeError(`${dir}/tokenizer_config.json: no eos_token that maps to an id`);
  }
  const vocabSize = tok.get_vocab().size;
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }),
    decode: (ids) => tok.decode([...ids], { skip_special_tokens: false }),
    eosId,
    vocabSize,
  };
}
