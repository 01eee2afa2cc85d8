/**
 * Where the data generators' seeded RNG used to live; it is now lib/core/rng.ts, the library's
 * one RNG (same values). Kept so that code written against this path still builds; the
 * relayout folds it away. The permutation and epoch seed of this file were retired: use core's
 * `permutation`/`epochSeed` (the trainer's order) or `fisherYates(n, mulberry32(seed))`.
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./rng.ts";
 * console.log(mulberry32(42)() === mulberry32(42)()); // true
 * ```
 *
 * @module
 */
export { mulberry32, pick } from "../core/rng.ts";
