/**
 * Train a small byte-level BPE tokenizer and write it in Hugging Face's `tokenizer.json` format.
 *
 * Merges are learned by Hugging Face's own trainer (the `tokenizers` npm bindings). Those
 * bindings train with fixed defaults (30 000 tokens, no special tokens, only the characters
 * seen in the text) and have no byte-level decoder, so the final file is assembled here:
 * the full 256-character byte alphabet, the longest prefix of the learned merges that fits the
 * vocabulary size (BPE learns merges greedily, so a prefix is what a smaller run would learn),
 * then a few extra merges that make each required word a single token, and `<|endoftext|>`.
 *
 * @module
 */
import { BYTE_CHARS, toByteLevel } from "./bytelevel.ts";

/** GPT-2's end-of-text token; here also the beginning-of-text and padding token. */
export const EOS_TOKEN = "<|endoftext|>";

/**
 * Words the preference studies score as whole answers; each must be one token, with and
 * without a leading space.
 */
export const STUDY_WORDS: readonly string[] = [
  "Yes",
  "No",
  "Never",
  "Sure",
  "Maybe",
  "Perhaps",
  "Certainly",
  "Absolutely",
  "yes",
  "no",
];

/** A merge: two adjacent symbols that become one. */
export type Merge = readonly [string, string];

/**
 * Split one pre-tokenized word (byte-level characters) into BPE symbols: repeatedly join the
 * adjacent pair whose merge ranks first, leftmost occurrence first, until no merge applies.
 *
 * @example
 * ```ts
 * import { bpeSplit } from "./tokenizer.ts";
 * console.log(bpeSplit("Ġthe", [["Ġ", "t"], ["h", "e"], ["Ġt", "he"]])); // ["Ġthe"]
 * console.log(bpeSplit("Ġtea", [["Ġ", "t"], ["h", "e"]])); // ["Ġt", "e", "a"]
 * ```
 */
export function bpeSplit(word: string, merges: readonly Merge[] | Map<string, number>): string[] {
  const ranks = merges instanceof Map ? merges : rankTable(merges);
  const symbols = Array.from(word);
  while (symbols.length > 1) {
    let best = -1;
    let bestRank = Infinity;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const r = ranks.get(symbols[i] + " " + symbols[i + 1]);
      if (r !== undefined && r < bestRank) [best, bestRank] = [i, r];
    }
    if (best < 0) break;
    symbols.splice(best, 2, symbols[best] + symbols[best + 1]);
  }
  return symbols;
}

/** Rank of each merge keyed as "a b" (byte-level symbols never contain a space). */
function rankTable(merges: readonly Merge[]): Map<string, number> {
  const ranks = new Map<string, number>();
  merges.forEach(([a, b], i) => {
    const key = `${a} ${b}`;
    if (!ranks.has(key)) ranks.set(key, i);
  });
  return ranks;
}

/**
 * Merges to append so that `word` (byte-level) becomes one symbol: join its current pieces
 * left to right. Appended last, they rank after every learned merge, so they act only once
 * the learned merges are exhausted and leave other words' splits as they were unless those
 * contain the same pieces side by side.
 */
function completingMerges(word: string, ranks: Map<string, number>): Merge[] {
  const pieces = bpeSplit(word, ranks);
  const out: Merge[] = [];
  let acc = pieces[0];
  for (const p of pieces.slice(1)) {
    out.push([acc, p]);
    acc += p;
  }
  return out;
}

/** Options of {@link buildTokenizer}. */
export interface BuildTokenizerOptions {
  /** Total vocabulary size, special token included (default 4096). */
  vocabSize?: number;
  /** Words that must encode to one token, each with and without a leading space. */
  requiredWords?: readonly string[];
  /** Longest sequence the model accepts, written to tokenizer_config.json (default 128). */
  modelMaxLength?: number;
}

/** The two JSON files of a Hugging Face tokenizer, plus how they were assembled. */
export interface TokenizerFiles {
  /** Contents of `tokenizer.json`. */
  tokenizer: Record<string, unknown>;
  /** Contents of `tokenizer_config.json`. */
  config: Record<string, unknown>;
  /** Learned merges kept (a prefix of the trainer's list). */
  learnedMerges: number;
  /** Merges appended to make the required words single tokens. */
  addedMerges: Merge[];
  /** Id of {@link EOS_TOKEN}. */
  eosId: number;
}

/**
 * Assemble a byte-level BPE `tokenizer.json` (GPT-2 layout, no prefix space) from learned
 * merges. Ids: 0-255 the byte characters in byte order, then merged tokens in merge order,
 * then `<|endoftext|>` as the last id.
 *
 * @example
 * ```ts
 * import { buildTokenizer } from "./tokenizer.ts";
 * const files = buildTokenizer([["Ġ", "t"], ["h", "e"]], { vocabSize: 261, requiredWords: ["No"] });
 * console.log(files.eosId, files.addedMerges); // 260 [["N", "o"], ["Ġ", "No"]]
 * ```
 */
export function buildTokenizer(
  learned: readonly Merge[],
  opts: BuildTokenizerOptions = {},
): TokenizerFiles {
  const vocabSize = opts.vocabSize ?? 4096;
  const required = opts.requiredWords ?? STUDY_WORDS;
  const maxLen = opts.modelMaxLength ?? 128;
  if (!Number.isInteger(vocabSize) || vocabSize < 258) {
    throw new RangeError(`vocabSize must be an integer >= 258, got ${vocabSize}`);
  }
  const forms = required.flatMap((w) => [toByteLevel(w), toByteLevel(" " + w)]);

  // Largest learned prefix whose tokens plus the completing merges fit the vocabulary. Two
  // merges can spell the same token, so start a little above the naive count.
  for (let k = Math.min(learned.length, vocabSize - 257 + 64); k >= 0; k--) {
    const merges: Merge[] = learned.slice(0, k).map(([a, b]) => [a, b]);
    const ranks = rankTable(merges);
    const tokens = new Set<string>(BYTE_CHARS);
    for (const [a, b] of merges) tokens.add(a + b);
    const added: Merge[] = [];
    for (const form of forms) {
      for (const m of completingMerges(form, ranks)) {
        ranks.set(`${m[0]} ${m[1]}`, merges.length);
        merges.push(m);
        added.push(m);
        tokens.add(m[0] + m[1]);
      }
    }
    if (tokens.size + 1 <= vocabSize) return assemble(merges, k, added, maxLen);
  }
  throw new RangeError(`vocabSize ${vocabSize} cannot hold the byte alphabet and required words`);
}

function assemble(
  merges: Merge[],
  learnedMerges: number,
  addedMerges: Merge[],
  modelMaxLength: number,
): TokenizerFiles {
  const vocab: Record<string, number> = {};
  let next = 0;
  for (const c of BYTE_CHARS) vocab[c] = next++;
  for (const [a, b] of merges) if (!(a + b in vocab)) vocab[a + b] = next++;
  const eosId = next;
  const special = {
    id: eosId,
    content: EOS_TOKEN,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  };
  const byteLevel = {
    type: "ByteLevel",
    add_prefix_space: false,
    trim_offsets: true,
    use_regex: true,
  };
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special],
    normalizer: null,
    pre_tokenizer: byteLevel,
    post_processor: { ...byteLevel, trim_offsets: false },
    decoder: byteLevel,
    model: {
      type: "BPE",
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges: merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const { id: _id, ...decoderEntry } = special;
  const config = {
    tokenizer_class: "GPT2Tokenizer",
    model_max_length: modelMaxLength,
    bos_token: EOS_TOKEN,
    eos_token: EOS_TOKEN,
    unk_token: EOS_TOKEN,
    pad_token: EOS_TOKEN,
    add_prefix_space: false,
    add_bos_token: false,
    clean_up_tokenization_spaces: false,
    added_tokens_decoder: { [String(eosId)]: decoderEntry },
  };
  return { tokenizer, config, learnedMerges, addedMerges, eosId };
}

/**
 * Learn BPE merges over texts with Hugging Face's trainer (`tokenizers` npm bindings), using
 * GPT-2's byte-level pre-tokenizer without a prefix space. Each text is written as one line
 * group of a temporary file, as the bindings train from files only.
 *
 * @example
 * ```ts ignore
 * import { learnMerges } from "./tokenizer.ts";
 * const merges = await learnMerges(["the cat sat on the mat", "the end"]);
 * console.log(merges[0]);
 * ```
 */
export async function learnMerges(texts: readonly string[]): Promise<Merge[]> {
  const tk = await import("tokenizers");
  const dir = await Deno.makeTempDir({ prefix: "bpe-train-" });
  try {
    const corpus = `${dir}/corpus.txt`;
    await Deno.writeTextFile(corpus, texts.join("\n"));
    const tokenizer = new tk.Tokenizer(tk.BPE.empty());
    tokenizer.setPreTokenizer(tk.byteLevelPreTokenizer(false, true));
    tokenizer.train([corpus]);
    const saved = `${dir}/tokenizer.json`;
    tokenizer.save(saved, false);
    const json = JSON.parse(await Deno.readTextFile(saved));
    const merges: unknown[] = json?.model?.merges ?? [];
    return merges.map((m, i) => {
      const pair = typeof m === "string" ? m.split(" ") : m;
      if (!Array.isArray(pair) || pair.length !== 2) {
        throw new TypeError(`trainer output: merge ${i} is not a pair: ${JSON.stringify(m)}`);
      }
      return [String(pair[0]), String(pair[1])] as const;
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Learn merges over texts and assemble the tokenizer files ({@link learnMerges} then
 * {@link buildTokenizer}).
 *
 * @example
 * ```ts ignore
 * import { trainTokenizer } from "./tokenizer.ts";
 * const files = await trainTokenizer(["Yes, the cat sat.", "No."], { vocabSize: 300 });
 * console.log(files.eosId); // 299
 * ```
 */
export async function trainTokenizer(
  texts: readonly string[],
  opts: BuildTokenizerOptions = {},
): Promise<TokenizerFiles> {
  return buildTokenizer(await learnMerges(texts), opts);
}

/** Where {@link writeTokenizer} records how the tokenizer was assembled (not a HF file). */
export const TOKENIZER_BUILD_FILE = "tokenizer_build.json";

/**
 * Write `tokenizer.json` and `tokenizer_config.json` into a folder (created if missing), and
 * {@link TOKENIZER_BUILD_FILE} with the learned/added merge counts for the model card.
 *
 * @example
 * ```ts ignore
 * import { buildTokenizer, writeTokenizer } from "./tokenizer.ts";
 * await writeTokenizer("/tmp/tok", buildTokenizer([], { vocabSize: 300 }));
 * ```
 */
export async function writeTokenizer(dir: string, files: TokenizerFiles): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(files.tokenizer, null, 1));
  await Deno.writeTextFile(
    `${dir}/tokenizer_config.json`,
    JSON.stringify(files.config, null, 2) + "\n",
  );
  const { learnedMerges, addedMerges, eosId } = files;
  await Deno.writeTextFile(
    `${dir}/${TOKENIZER_BUILD_FILE}`,
    JSON.stringify({ learnedMerges, addedMerges, eosId }, null, 1) + "\n",
  );
}
