/**
 * Pretraining the project's tiny model: the Brown corpus as prose, a byte-level BPE tokenizer
 * in Hugging Face format, a resumable GPT-2 pretraining task, the unigram baseline it must
 * beat, sampling, and the export with its model card (`deno task lab pretrain`).
 *
 * @example
 * ```ts ignore
 * import { loadTokenizer, generate } from "./mod.ts";
 * import { loadCausalLM } from "../../lib/models/mod.ts";
 * const model = await loadCausalLM("data/models/tiny");
 * const tok = await loadTokenizer("data/models/tiny");
 * console.log((await generate(model, tok, "The jury said", { topK: 40 })).text);
 * ```
 *
 * @module
 */
export * from "./corpus.ts";
export * from "./bytelevel.ts";
export * from "./tokenizer.ts";
export * from "./hf_tokenizer.ts";
export * from "./data.ts";
export * from "./unigram.ts";
export * from "./loss.ts";
export * from "./adam.ts";
export * from "./train.ts";
export * from "./sample.ts";
export * from "./export.ts";
export * from "./card.ts";
export * from "./report.ts";
