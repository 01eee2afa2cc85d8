/**
 * A small seeded random number generator, so shuffles and generated datasets are the same on
 * every machine and every run.
 *
 * @module
 */

/**
 * Mulberry32: a 32-bit generator with good statistical quality for shuffling. Returns a
 * function giving uniforms in [0, 1).
 *
 * @example
 * ```ts
 * import { mulberry32 } from "./rng.ts";
 * const u = mulberry32(42);
 * console.log(u() === mulberry32(42)()); // true
 * ```
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Seed for one epoch: epochs of one run get different, reproducible orders.
 *
 * @example
 * ```ts
 * import { epochSeed } from "./rng.ts";
 * console.log(epochSeed(1, 0) !== epochSeed(1, 1)); // true
 * ```
 */
export function epochSeed(seed: number, epoch: number): number {
  // Golden-ratio increment, then one mulberry step, so nearby (seed, epoch) pairs decorrelate.
  return Math.floor(mulberry32((seed + Math.imul(epoch, 0x9e3779b9)) >>> 0)() * 4294967296);
}

/**
 * A Fisher-Yates permutation of 0..n-1 from a seed.
 *
 * @example
 * ```ts
 * import { permutation } from "./rng.ts";
 * console.log(permutation(5, 7).slice().sort().join()); // 0,1,2,3,4
 * ```
 */
export function permutation(n: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const u = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(u() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * Pick one element with a generator.
 *
 * @example
 * ```ts
 * import { mulberry32, pick } from "./rng.ts";
 * console.log(["a", "b"].includes(pick(["a", "b"], mulberry32(1)))); // true
 * ```
 */
export function pick<T>(items: readonly T[], u: () => number): T {
  if (items.length === 0) throw new RangeError("pick: items is empty");
  return items[Math.floor(u() * items.length)];
}
