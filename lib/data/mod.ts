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
export * from "./types.ts";
export * from "./issues.ts";
export * from "./rows.ts";
export * from "./load.ts";
export * from "./tokenizer.ts";
export * from "./tokenize.ts";
export * from "./collate.ts";
export * from "./batches.ts";
export * from "./persona.ts";
export * from "./probes.ts";
