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
export * from "./rng.ts";
export * from "./scores.ts";
export * from "./stats.ts";
export * from "./token_stats.ts";
