/**
 * The one seeded random number generator of the library (mulberry32), its normal draws, the
 * one seeded shuffle, and the per-epoch seed of the data order. Shuffles, initialisations and
 * generated data sets come out the same on every machine, backend and run.
 *
 * Ground floor: imports nothing, so models, data, objectives, scoring, train and analysis can
 * all use it.
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
 * A seeded generator with uniform and standard normal (Box-Muller) draws: mulberry32 started
 * from the seed scrambled by the golden-ratio constant, so small seeds do not start alike.
 *
 * @example
 * ```ts
 * import { mulberry32, Rng } from "./rng.ts";
 * const rng = new Rng(0);
 * console.log(rng.uniform() === mulberry32(0x9e3779b9)()); // true
 * console.log(Number.isFinite(rng.normal())); // true
 * ```
 */
export class Rng {
  #uniform: () => number;
  #spare: number | null = null;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
    this.#uniform = mulberry32((seed ^ 0x9e3779b9) >>> 0);
  }

  /** A uniform draw in [0, 1). */
  uniform(): number {
    return this.#uniform();
  }

  /** A standard normal draw. */
  normal(): number {
    if (this.#spare !== null) {
      const s = this.#spare;
      this.#spare = null;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.#spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/**
 * Fisher-Yates shuffle of `0..n-1` driven by a uniform generator: the one shuffle.
 *
 * @example
 * ```ts
 * import { fisherYates, mulberry32 } from "./rng.ts";
 * console.log(fisherYates(5, mulberry32(7)).slice().sort().join()); // 0,1,2,3,4
 * ```
 */
export function fisherYates(n: number, uniform: () => number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(uniform() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/**
 * The seeded permutation of `0..n-1` that orders training data (the trainer, `batches()` and
 * the train/eval split all use it).
 *
 * @example
 * ```ts
 * import { permutation } from "./rng.ts";
 * console.log(permutation(4, 0).sort().join()); // 0,1,2,3
 * ```
 */
export function permutation(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return fisherYates(n, () => rng.uniform());
}

/**
 * Seed of one epoch's data order: epochs of one run get different, reproducible orders.
 *
 * @example
 * ```ts
 * import { epochSeed } from "./rng.ts";
 * console.log(epochSeed(1, 0) !== epochSeed(1, 1)); // true
 * ```
 */
export function epochSeed(seed: number, epoch: number): number {
  return (seed ^ Math.imul(epoch + 1, 0x9e3779b1)) | 0;
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
