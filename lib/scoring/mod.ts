/**
 * Scorers: summed completion log-probs of causal LMs ({@link causalLMScorer}), the LM and
 * unpaired scorers the trainer takes, the data-parallel scorer and its worker, and the
 * reference-log-prob cache. Used by training, analysis and benchmarks alike.
 *
 * @module
 */
export * from "./ref_cache.ts";
export * from "./logps.ts";
export * from "./lm.ts";
export * from "./parallel.ts";
