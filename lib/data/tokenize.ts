/**
 * Tokenize preference pairs, unpaired examples and probe responses.
 *
 * The prompt/completion boundary is fixed in token ids: the prompt and each completion are
 * tokenized separately and their ids concatenated, so a merge across the boundary (prompt
 * `"...? "` + completion `"Yes"` would jointly become `"? " + " Yes"`-style tokens) can never
 * move it (trl#2054). EOS is appended to every completion unless it already ends with EOS.
 *
 * Truncation follows TRL (objectives.md 1.2): `maxPromptLength` keeps the prompt's last tokens;
 * `maxCompletionLength` keeps each completion's first tokens; then `maxLength` bounds
 * prompt + completion: `keep_start` (TRL's current default) cuts the completions' ends,
 * `keep_end` cuts the prompt's start. Chosen and rejected keep one shared prompt, so under
 * `keep_end` the prompt is cut to fit the longer completion (TRL cuts the whole padded batch
 * by one amount, which depends on the batch; ours depends only on the pair). A pair that would
 * lose its whole completion (`keep_start`) or whole prompt (`keep_end`) is skipped and counted:
 * the first completion token can only be scored after at least one prompt token.
 *
 * @module
 */
import type { TokenizedPair } from "./types.ts";
import type { HfTokenizer } from "./tokenizer.ts";
import type { Message, PreferenceRow, Text, UnpairedRow } from "./rows.ts";

/** Which end of an over-long sequence survives `maxLength`. */
export type TruncationMode = "keep_start" | "keep_end";

/** Length limits and tokenization choices, TRL names in camelCase. */
export interface TokenizeOptions {
  /** Bound on prompt + completion tokens; `null` for none. Default 1024 (TRL). */
  maxLength?: number | null;
  /** Bound on prompt tokens (keeps the end); default none. */
  maxPromptLength?: number | null;
  /** Bound on each completion's tokens, EOS included (keeps the start); default none. */
  maxCompletionLength?: number | null;
  /** Default `"keep_start"` (TRL's current default; TRL v0.26 used `"keep_end"`). */
  truncationMode?: TruncationMode;
  /** Append EOS to completions that do not already end with it. Default true. */
  appendEos?: boolean;
  /**
   * Run the tokenizer's post-processor on plain-text prompts (adds BOS for Llama-style
   * tokenizers). Default true. Chat-templated prompts never get it: the template writes them.
   */
  addSpecialTokens?: boolean;
}

/** A row dropped during tokenization, and why. */
export interface SkippedRow {
  index: number;
  reason: string;
}

/** Counts every tokenizer returns. */
export interface TokenizeReport {
  /** Rows that lost tokens to truncation (skipped rows excluded). */
  truncated: number;
  /** Rows dropped. */
  skipped: number;
  skippedRows: SkippedRow[];
}

/** One unpaired (KTO) example after tokenization; completion ids end with EOS. */
export interface TokenizedExample {
  index: number;
  promptIds: number[];
  completionIds: number[];
  label: boolean;
}

/** Validated tokenization options (see {@link tokenizeLimits}). */
export interface TokenizeLimits {
  maxLength: number | null;
  maxPromptLength: number | null;
  maxCompletionLength: number | null;
  mode: TruncationMode;
  appendEos: boolean;
  addSpecialTokens: boolean;
}

function limit(name: string, v: number | null | undefined, dflt: number | null, min: number) {
  const x = v === undefined ? dflt : v;
  if (x !== null && !(Number.isInteger(x) && x >= min)) {
    throw new RangeError(`${name}: expected an integer >= ${min} or null, got ${v}`);
  }
  return x;
}

/**
 * Validate tokenization options up front and fill defaults; errors name the parameter.
 *
 * @example
 * ```ts
 * import { tokenizeLimits } from "./tokenize.ts";
 * console.log(tokenizeLimits({}).maxLength, tokenizeLimits({}).mode); // 1024 keep_start
 * ```
 */
export function tokenizeLimits(opts: TokenizeOptions = {}): TokenizeLimits {
  const mode = opts.truncationMode ?? "keep_start";
  if (mode !== "keep_start" && mode !== "keep_end") {
    throw new RangeError(`truncationMode: expected "keep_start" or "keep_end", got "${mode}"`);
  }
  return {
    maxLength: limit("maxLength", opts.maxLength, 1024, 2),
    maxPromptLength: limit("maxPromptLength", opts.maxPromptLength, null, 1),
    maxCompletionLength: limit("maxCompletionLength", opts.maxCompletionLength, null, 1),
    mode,
    appendEos: opts.appendEos ?? true,
    addSpecialTokens: opts.addSpecialTokens ?? true,
  };
}

/** Prompt and completions as text, rendered with the chat template when they are messages. */
export interface RenderedText {
  prompt: string;
  completions: string[];
  /** True when a chat template produced the text. */
  templated: boolean;
}

/**
 * Render a prompt and its completions as strings. Message lists go through the chat template:
 * the prompt with a generation prompt, each completion as the text the full conversation adds
 * after the prompt's rendering (TRL's way).
 *
 * @example
 * ```ts ignore
 * import { renderText } from "./tokenize.ts";
 * const t = renderText([{ role: "user", content: "Hi?" }], [[{ role: "assistant", content: "Hello." }]], tok);
 * // with the default template: t.prompt === "\n\nHuman: Hi?\n\nAssistant:", t.completions[0] === " Hello."
 * ```
 */
export function renderText(
  prompt: Text,
  completions: readonly Text[],
  tokenizer: HfTokenizer,
): RenderedText {
  if (typeof prompt === "string") {
    const bad = completions.findIndex((c) => typeof c !== "string");
    if (bad >= 0) throw new TypeError(`completion ${bad}: a message list after a string prompt`);
    return { prompt, completions: completions as string[], templated: false };
  }
  const p = tokenizer.applyChatTemplate(prompt, { addGenerationPrompt: true });
  const out = completions.map((c, i) => {
    if (typeof c === "string") {
      throw new TypeError(`completion ${i}: a string after a message-list prompt`);
    }
    const full = tokenizer.applyChatTemplate([...prompt, ...(c as Message[])]);
    if (!full.startsWith(p)) {
      throw new TypeError(
        `${tokenizer.source}: the chat template renders prompt + completion so that it does not ` +
          `start with the prompt's own rendering; the boundary cannot be found`,
      );
    }
    return full.slice(p.length);
  });
  return { prompt: p, completions: out, templated: true };
}

/** What {@link truncateShared} kept, and why a row is dropped when `skip` is set. */
export interface SharedCut {
  prompt: number[];
  completions: number[][];
  truncated: boolean;
  skip?: string;
}

/**
 * Apply the limits to one prompt shared by several completions (see the module notes).
 *
 * @example
 * ```ts
 * import { tokenizeLimits, truncateShared } from "./tokenize.ts";
 * const cut = truncateShared([1, 2, 3], [[7, 8, 0]], tokenizeLimits({ maxLength: 4, truncationMode: "keep_end" }));
 * console.log(cut.prompt, cut.completions); // [3] [[7, 8, 0]]
 * ```
 */
export function truncateShared(
  promptIds: readonly number[],
  completionIds: readonly (readonly number[])[],
  limits: TokenizeLimits,
): SharedCut {
  let prompt = [...promptIds];
  let completions = completionIds.map((c) => [...c]);
  let truncated = false;
  if (limits.maxPromptLength !== null && prompt.length > limits.maxPromptLength) {
    prompt = prompt.slice(prompt.length - limits.maxPromptLength);
    truncated = true;
  }
  const mcl = limits.maxCompletionLength;
  if (mcl !== null && completions.some((c) => c.length > mcl)) {
    completions = completions.map((c) => c.slice(0, mcl));
    truncated = true;
  }
  const max = limits.maxLength;
  const longest = Math.max(...completions.map((c) => c.length));
  if (max !== null && prompt.length + longest > max) {
    truncated = true;
    if (limits.mode === "keep_start") {
      const room = max - prompt.length;
      if (room < 1) {
        const skip = `prompt of ${prompt.length} tokens leaves no room for a completion ` +
          `within maxLength ${max} (keep_start)`;
        return { prompt, completions, truncated, skip };
      }
      completions = completions.map((c) => c.slice(0, room));
    } else {
      const keep = max - longest;
      if (keep < 1) {
        const skip = `completion of ${longest} tokens leaves no room for a prompt token ` +
          `within maxLength ${max} (keep_end)`;
        return { prompt, completions, truncated, skip };
      }
      prompt = prompt.slice(prompt.length - keep);
    }
  }
  return { prompt, completions, truncated };
}

/** Tokenize a prompt and completions separately (ids concatenate later, boundary fixed). */
function encodeShared(
  prompt: Text,
  completions: readonly Text[],
  tokenizer: HfTokenizer,
  limits: TokenizeLimits,
): { promptIds: number[]; completionIds: number[][] } {
  const text = renderText(prompt, completions, tokenizer);
  const promptIds = tokenizer.encode(text.prompt, {
    addSpecialTokens: !text.templated && limits.addSpecialTokens,
  });
  const completionIds = text.completions.map((c) => {
    const ids = tokenizer.encode(c, { addSpecialTokens: false });
    if (limits.appendEos && ids[ids.length - 1] !== tokenizer.eosId) ids.push(tokenizer.eosId);
    return ids;
  });
  return { promptIds, completionIds };
}

function emptyReason(promptIds: number[], completionIds: number[][]): string | undefined {
  if (promptIds.length === 0) return "prompt has no tokens";
  const i = completionIds.findIndex((c) => c.length === 0);
  return i >= 0 ? `completion ${i} has no tokens` : undefined;
}

/** A row for {@link tokenizeShared}: a prompt and several completions. */
interface SharedRow {
  index: number;
  prompt: Text;
  completions: readonly Text[];
}

/** Tokenize rows whose completions share one prompt; the core of every tokenizer here. */
function tokenizeShared(
  rows: readonly SharedRow[],
  tokenizer: HfTokenizer,
  opts: TokenizeOptions,
): { kept: { row: number; prompt: number[]; completions: number[][] }[] } & TokenizeReport {
  const limits = tokenizeLimits(opts);
  const kept: { row: number; prompt: number[]; completions: number[][] }[] = [];
  const skippedRows: SkippedRow[] = [];
  let truncated = 0;
  rows.forEach((r, k) => {
    const enc = encodeShared(r.prompt, r.completions, tokenizer, limits);
    const empty = emptyReason(enc.promptIds, enc.completionIds);
    if (empty) {
      skippedRows.push({ index: r.index, reason: empty });
      return;
    }
    const cut = truncateShared(enc.promptIds, enc.completionIds, limits);
    if (cut.skip) {
      skippedRows.push({ index: r.index, reason: cut.skip });
      return;
    }
    if (cut.truncated) truncated++;
    kept.push({ row: k, prompt: cut.prompt, completions: cut.completions });
  });
  return { kept, truncated, skipped: skippedRows.length, skippedRows };
}

/**
 * Tokenize preference rows into {@link TokenizedPair}s (completion ids end with EOS).
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer, preferenceRows, tokenizePairs } from "./mod.ts";
 * const tok = await loadTokenizer("data/models/tiny");
 * const { rows } = preferenceRows([{ prompt: "Is it cold?", chosen: " Yes.", rejected: " No." }]);
 * const { pairs, truncated, skipped } = tokenizePairs(rows, tok, { maxLength: 64 });
 * console.log(pairs[0].chosenIds.at(-1) === tok.eosId, truncated, skipped); // true 0 0
 * ```
 */
export function tokenizePairs(
  rows: readonly PreferenceRow[],
  tokenizer: HfTokenizer,
  opts: TokenizeOptions = {},
): { pairs: TokenizedPair[] } & TokenizeReport {
  const shared = rows.map((r) => ({
    index: r.index,
    prompt: r.prompt,
    completions: [r.chosen, r.rejected],
  }));
  const { kept, ...report } = tokenizeShared(shared, tokenizer, opts);
  const pairs = kept.map((k) => ({
    index: rows[k.row].index,
    promptIds: k.prompt,
    chosenIds: k.completions[0],
    rejectedIds: k.completions[1],
  }));
  return { pairs, ...report };
}

/**
 * Tokenize unpaired (KTO) rows into {@link TokenizedExample}s.
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer, tokenizeUnpaired, unpairedRows } from "./mod.ts";
 * const tok = await loadTokenizer("data/models/tiny");
 * const { rows } = unpairedRows([{ prompt: "Is it cold?", completion: " Yes.", label: true }]);
 * console.log(tokenizeUnpaired(rows, tok).examples[0].label); // true
 * ```
 */
export function tokenizeUnpaired(
  rows: readonly UnpairedRow[],
  tokenizer: HfTokenizer,
  opts: TokenizeOptions = {},
): { examples: TokenizedExample[] } & TokenizeReport {
  const shared = rows.map((r) => ({
    index: r.index,
    prompt: r.prompt,
    completions: [r.completion],
  }));
  const { kept, ...report } = tokenizeShared(shared, tokenizer, opts);
  const examples = kept.map((k) => ({
    index: rows[k.row].index,
    promptIds: k.prompt,
    completionIds: k.completions[0],
    label: rows[k.row].label,
  }));
  return { examples, ...report };
}

/** Extra responses to score for one prompt (paraphrases, other prompts' answers, ...). */
export interface ProbeRow {
  /** Pair (or prompt) the probes belong to. */
  index: number;
  prompt: Text;
  /** Named responses, e.g. `{ name: "chosen_paraphrase", text: " It was cold." }`. */
  responses: readonly { name: string; text: Text }[];
}

/** One probe response after tokenization; completion ids end with EOS. */
export interface TokenizedProbe {
  index: number;
  name: string;
  promptIds: number[];
  completionIds: number[];
}

/**
 * Tokenize probe responses exactly as pairs are tokenized (same prompt ids, same boundary
 * rule, EOS appended; all responses of a row share one truncated prompt).
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer, tokenizeProbes } from "./mod.ts";
 * const tok = await loadTokenizer("data/models/tiny");
 * const { probes } = tokenizeProbes([{ index: 0, prompt: "Is it cold?",
 *   responses: [{ name: "paraphrase", text: " It is cold." }, { name: "other", text: " Blue." }] }], tok);
 * console.log(probes.map((p) => p.name)); // ["paraphrase", "other"]
 * ```
 */
export function tokenizeProbes(
  rows: readonly ProbeRow[],
  tokenizer: HfTokenizer,
  opts: TokenizeOptions = {},
): { probes: TokenizedProbe[] } & TokenizeReport {
  const shared = rows.map((r) => ({
    index: r.index,
    prompt: r.prompt,
    completions: r.responses.map((x) => x.text),
  }));
  const { kept, ...report } = tokenizeShared(shared, tokenizer, opts);
  const probes = kept.flatMap((k) =>
    rows[k.row].responses.map((resp, j) => ({
      index: rows[k.row].index,
      name: resp.name,
      promptIds: k.prompt,
      completionIds: k.completions[j],
    }))
  );
  return { probes, ...report };
}
