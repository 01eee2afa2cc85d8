/**
 * The ground floor of dpo-lab: the score contract (scores, scorer and data interfaces, probe
 * sets, toy batches), the one seeded RNG and permutation, and small statistics (ranks, Spearman,
 * Pearson, EMA). Imports nothing else of the library.
 *
 * @example
 * ```ts
 * import { permutation, spearmanCorrelation } from "./mod.ts";
 * console.log(permutation(3, 0).length, spearmanCorrelation([1, 2, 3], [2, 4, 9])); // 3 1
 * ```
 *
 * @module
 */
export { fisherYates, mulberry32, permutation, pick, Rng } from "./rng.ts";
export type {
  PairScores,
  PreferenceScorer,
  ProbeSet,
  SequenceScores,
  TokenScores,
  ToyBatch,
  ToyProbes,
  TrainData,
} from "./scores.ts";
export { averageRanks, pearsonCorrelation, smoothEma, spearmanCorrelation } from "./stats.ts";
export type { TokenStats } from "./token_stats.ts";
