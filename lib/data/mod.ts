/**
 * data: preference-data loading and validation, tokenization, batching.
 *
 * Load a JSONL file (TRL standard or conversational, HH-RLHF, UltraFeedback-binarized, or
 * unpaired KTO rows), tokenize it with any Hugging Face tokenizer folder, and iterate over
 * seeded, right-padded batches in TRL's `[chosen; rejected]` layout.
 *
 * @example
 * ```ts ignore
 * import { batches, loadPreferenceFile, loadTokenizer, tokenizePairs } from "./mod.ts";
 * const tok = await loadTokenizer("data/models/tiny");
 * const { rows } = await loadPreferenceFile("data/datasets/simple_pairs/pairs.jsonl");
 * const { pairs, truncated, skipped } = tokenizePairs(rows, tok, { maxLength: 64 });
 * for (const b of batches(pairs, { batchSize: 8, padId: tok.padId, seed: 0 })) {
 *   console.log(b.size, b.length, truncated, skipped);
 *   break;
 * }
 * ```
 *
 * @module
 */
export type { PreferenceBatch, TokenizedPair } from "./types.ts";
export { type DataIssue, formatIssue, PreferenceDataError } from "./issues.ts";
export {
  type Message,
  type PreferenceFormat,
  type PreferenceRow,
  type Text,
  type UnpairedFormat,
  type UnpairedRow,
} from "./rows.ts";
export {
  type LoadOptions,
  loadPreferenceFile,
  type LoadResult,
  loadUnpairedFile,
  parsePreferenceJsonl,
  parseUnpairedJsonl,
  type PreferenceLoad,
  preferenceRows,
  type UnpairedLoad,
  unpairedRows,
  unpairPreferences,
} from "./load.ts";
export {
  DEFAULT_CHAT_TEMPLATE,
  type HfTokenizer,
  loadTokenizer,
  type LoadTokenizerOptions,
} from "./tokenizer.ts";
export {
  type ProbeRow,
  type SharedCut,
  type SkippedRow,
  type TokenizedExample,
  type TokenizedProbe,
  type TokenizeLimits,
  type TokenizeOptions,
  tokenizePairs,
  tokenizeProbes,
  type TokenizeReport,
  tokenizeUnpaired,
  type TruncationMode,
} from "./tokenize.ts";
export {
  collate,
  type CollateOptions,
  collateProbes,
  collateUnpaired,
  type KtoBatch,
  type ProbeBatch,
  type SequenceBatch,
  type UnpairedBatch,
} from "./collate.ts";
export { batches, type BatchOptions, batchOrder, unpairedBatches } from "./batches.ts";
export {
  loadYesNoQuestions,
  parseYesNoJsonl,
  type ResponseChoice,
  type SingleTokenPairOptions,
  singleTokenPairs,
  type YesNoQuestion,
} from "./persona.ts";
export { type ProbeRowOptions, probeRowsFromPairs } from "./probes.ts";
export { modelContext, rowLengths } from "./context.ts";
