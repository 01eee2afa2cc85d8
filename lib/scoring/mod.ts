/**
 * Scorers: summed completion log-probs of causal LMs ({@link causalLMScorer}), the LM and
 * unpaired scorers the trainer takes, the data-parallel scorer and its worker, and the
 * reference-log-prob cache. Used by training, analysis and benchmarks alike.
 *
 * @module
 */
export {
  computeReferenceLogps,
  computeReferenceLogpsAsync,
  type ReferenceLogps,
} from "./ref_cache.ts";
export {
  causalLMScorer,
  type LogpsOptions,
  type RowStats,
  type SequenceLogps,
  sequenceLogps,
  type TokenLogps,
  tokenLogps,
  type TokenRows,
} from "./logps.ts";
export { lmScorer, lmUnpairedScorer, probeSet } from "./lm.ts";
export {
  isParallelScorer,
  parallelLMScorer,
  type ParallelOptions,
  type ParallelScorer,
} from "./parallel.ts";
