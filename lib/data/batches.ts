/**
 * Deterministic shuffling and batching: the same seed and epoch give the same batches on
 * every machine.
 *
 * @module
 */
import type { PreferenceBatch, TokenizedPair } from "./types.ts";
import type { TokenizedExample } from "./tokenize.ts";
import { collate, type CollateOptions, collateUnpaired, type UnpairedBatch } from "./collate.ts";
import { epochSeed, permutation } from "../core/rng.ts";

/** Options for {@link batches} and {@link unpairedBatches}. */
export interface BatchOptions extends CollateOptions {
  /** Items per batch (pairs, or examples). */
  batchSize: number;
  /** Padding id, usually `tokenizer.padId`. */
  padId: number;
  /** Shuffle before batching. Default true. */
  shuffle?: boolean;
  /** Seed of the shuffle. Default 0. */
  seed?: number;
  /** Epoch number: each epoch of one seed gets its own order. Default 0. */
  epoch?: number;
  /** Drop a last batch smaller than `batchSize`. Default false. */
  dropLast?: boolean;
}

function checkBatchOptions(opts: BatchOptions): void {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
    throw new RangeError(`batchSize: expected a positive integer, got ${opts.batchSize}`);
  }
  const seed = opts.seed ?? 0;
  if (!Number.isInteger(seed)) throw new RangeError(`seed: expected an integer, got ${seed}`);
  const epoch = opts.epoch ?? 0;
  if (!Number.isInteger(epoch) || epoch < 0) {
    throw new RangeError(`epoch: expected a non-negative integer, got ${epoch}`);
  }
}

/**
 * The order in which items are visited in one epoch, split into batches of positions.
 *
 * @example
 * ```ts
 * import { batchOrder } from "./batches.ts";
 * console.log(JSON.stringify(batchOrder(5, { batchSize: 2, padId: 0, shuffle: false })));
 * // [[0,1],[2,3],[4]]
 * ```
 */
export function batchOrder(n: number, opts: BatchOptions): number[][] {
  checkBatchOptions(opts);
  const order = (opts.shuffle ?? true)
    ? permutation(n, epochSeed(opts.seed ?? 0, opts.epoch ?? 0))
    : Array.from({ length: n }, (_, i) => i);
  const out: number[][] = [];
  for (let i = 0; i < n; i += opts.batchSize) {
    const chunk = order.slice(i, i + opts.batchSize);
    if (chunk.length < opts.batchSize && opts.dropLast) break;
    out.push(chunk);
  }
  return out;
}

/**
 * Yield {@link PreferenceBatch}es of one epoch.
 *
 * @example
 * ```ts
 * import { batches } from "./batches.ts";
 * const pairs = [0, 1, 2].map((i) => ({ index: i, promptIds: [1], chosenIds: [2], rejectedIds: [3] }));
 * const sizes = [...batches(pairs, { batchSize: 2, padId: 0, seed: 1 })].map((b) => b.size);
 * console.log(sizes); // [2, 1]
 * ```
 */
export function* batches(
  pairs: readonly TokenizedPair[],
  opts: BatchOptions,
): Generator<PreferenceBatch> {
  for (const chunk of batchOrder(pairs.length, opts)) {
    yield collate(chunk.map((i) => pairs[i]), opts.padId, { length: opts.length });
  }
}

/**
 * Yield {@link UnpairedBatch}es of one epoch.
 *
 * @example
 * ```ts
 * import { unpairedBatches } from "./batches.ts";
 * const ex = [0, 1].map((i) => ({ index: i, promptIds: [1], completionIds: [2], label: i === 0 }));
 * console.log([...unpairedBatches(ex, { batchSize: 2, padId: 0, shuffle: false })][0].label); // [true, false]
 * ```
 */
export function* unpairedBatches(
  examples: readonly TokenizedExample[],
  opts: BatchOptions,
): Generator<UnpairedBatch> {
  for (const chunk of batchOrder(examples.length, opts)) {
    yield collateUnpaired(chunk.map((i) => examples[i]), opts.padId, { length: opts.length });
  }
}
