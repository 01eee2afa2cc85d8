/**
 * {@link TrainData} sources: single-token toy pairs, tokenized preference pairs, unpaired (KTO)
 * examples, and a seeded train/eval split of any of them.
 *
 * @module
 */
import { collate, collateUnpaired, mismatchedExamples } from "../data/collate.ts";
import type { TokenizedExample } from "../data/tokenize.ts";
import type { PreferenceBatch, TokenizedPair } from "../data/types.ts";
import { permutation } from "../core/rng.ts";
import type { ToyBatch, TrainData } from "../core/scores.ts";
import type { KtoBatch } from "../data/collate.ts";

/** Columns of single-token pairs: prompt index, chosen token, rejected token. */
export interface ToyPairs {
  prompt: ArrayLike<number>;
  chosen: ArrayLike<number>;
  rejected: ArrayLike<number>;
}

/**
 * Single-token preference pairs as {@link TrainData} of {@link ToyBatch}.
 *
 * @example
 * ```ts
 * import { toyData } from "./train_data.ts";
 * const data = toyData({ prompt: [0, 0, 1], chosen: [1, 2, 0], rejected: [3, 3, 2] });
 * console.log(data.batch([2, 0]).prompt); // Int32Array [1, 0]
 * ```
 */
export function toyData(pairs: ToyPairs): TrainData<ToyBatch> {
  const n = pairs.prompt.length;
  for (const k of ["chosen", "rejected"] as const) {
    if (pairs[k].length !== n) {
      throw new RangeError(`toyData: ${k} has ${pairs[k].length} entries, prompt has ${n}`);
    }
  }
  const cols = {
    prompt: Int32Array.from(pairs.prompt),
    chosen: Int32Array.from(pairs.chosen),
    rejected: Int32Array.from(pairs.rejected),
  };
  for (const [k, col] of Object.entries(cols)) {
    const bad = col.findIndex((v, i) => v < 0 || v !== Number(pairs[k as keyof ToyPairs][i]));
    if (bad >= 0) {
      throw new TypeError(`toyData: ${k}[${bad}] is not a non-negative integer`);
    }
  }
  return {
    size: n,
    batch(positions) {
      const pick = (col: Int32Array) => Int32Array.from(positions, (p) => col[checkPos(p, n)]);
      return {
        prompt: pick(cols.prompt),
        chosen: pick(cols.chosen),
        rejected: pick(cols.rejected),
        pairIndex: [...positions],
      };
    },
    fingerprint() {
      const out = new Int32Array(1 + 3 * n);
      out[0] = n;
      out.set(cols.prompt, 1);
      out.set(cols.chosen, 1 + n);
      out.set(cols.rejected, 1 + 2 * n);
      return new Uint8Array(out.buffer);
    },
  };
}

function checkPos(p: number, n: number): number {
  if (!Number.isInteger(p) || p < 0 || p >= n) {
    throw new RangeError(`position ${p} is outside the dataset (size ${n})`);
  }
  return p;
}

/**
 * The subset of a dataset at the given positions, keeping source pair indices.
 *
 * @example
 * ```ts
 * import { subsetData, toyData } from "./train_data.ts";
 * const data = toyData({ prompt: [0, 1, 2], chosen: [1, 1, 1], rejected: [0, 0, 0] });
 * const sub = subsetData(data, [2, 0]);
 * console.log(sub.size, sub.pairIndex?.(0)); // 2 2
 * ```
 */
export function subsetData<B>(data: TrainData<B>, positions: readonly number[]): TrainData<B> {
  const pos = positions.map((p) => checkPos(p, data.size));
  const parent = data.fingerprint();
  return {
    size: pos.length,
    batch: (ps) => data.batch(ps.map((p) => pos[checkPos(p, pos.length)])),
    pairIndex: (p) => data.pairIndex?.(pos[p]) ?? pos[p],
    fingerprint() {
      const idx = new Uint8Array(Int32Array.from(pos).buffer);
      const out = new Uint8Array(parent.length + idx.length);
      out.set(parent);
      out.set(idx, parent.length);
      return out;
    },
  };
}

/** Options of {@link splitData}. */
export interface SplitOptions {
  /** Fraction of pairs held out for evaluation, in (0, 1). */
  evalFraction: number;
  /** Seed of the shuffle that picks the eval pairs (default 0). */
  seed?: number;
}

/**
 * Split a dataset into train and eval parts by a seeded shuffle; at least one pair goes to
 * each side. Positions keep their original order within each part.
 *
 * @example
 * ```ts
 * import { splitData, toyData } from "./train_data.ts";
 * const data = toyData({ prompt: [0, 1, 2, 3], chosen: [1, 1, 1, 1], rejected: [0, 0, 0, 0] });
 * const { train, evaluation } = splitData(data, { evalFraction: 0.25, seed: 1 });
 * console.log(train.size, evaluation.size); // 3 1
 * ```
 */
export function splitData<B>(
  data: TrainData<B>,
  opts: SplitOptions,
): { train: TrainData<B>; evaluation: TrainData<B> } {
  const f = opts.evalFraction;
  if (!(f > 0 && f < 1)) throw new RangeError(`evalFraction must be in (0, 1), got ${f}`);
  if (data.size < 2) throw new RangeError(`cannot split a dataset of ${data.size} pairs`);
  const nEval = Math.min(data.size - 1, Math.max(1, Math.round(f * data.size)));
  const order = permutation(data.size, opts.seed ?? 0);
  const evalSet = new Set(order.slice(0, nEval));
  const all = Array.from({ length: data.size }, (_, i) => i);
  return {
    train: subsetData(data, all.filter((i) => !evalSet.has(i))),
    evaluation: subsetData(data, all.filter((i) => evalSet.has(i))),
  };
}

/** The seeded data-order permutation (one for the whole library: lib/core/rng.ts). */
export { permutation } from "../core/rng.ts";

/** Options of {@link preferenceData}. */
export interface PreferenceDataOptions {
  /** Padding id (the tokenizer's `padId`). */
  padId: number;
  /** Pad every batch to this length (fixed shapes spare backends from recompiling). */
  length?: number;
}

/**
 * Tokenized preference pairs as {@link TrainData} of `PreferenceBatch` (via the data area's
 * `collate`); pair indices are the pairs' source rows, and the fingerprint covers every token id.
 *
 * @example
 * ```ts
 * import { preferenceData } from "./train_data.ts";
 * const data = preferenceData([{ index: 4, promptIds: [1], chosenIds: [2, 0], rejectedIds: [3, 0] }], { padId: 0 });
 * console.log(data.batch([0]).inputIds, data.pairIndex?.(0)); // Int32Array [1, 2, 0, 1, 3, 0] 4
 * ```
 */
export function preferenceData(
  pairs: readonly TokenizedPair[],
  opts: PreferenceDataOptions,
): TrainData<PreferenceBatch> {
  if (pairs.length === 0) throw new RangeError("preferenceData: no pairs");
  return {
    size: pairs.length,
    batch: (positions) =>
      collate(positions.map((p) => pairs[checkPos(p, pairs.length)]), opts.padId, {
        length: opts.length,
      }),
    pairIndex: (p) => pairs[p].index,
    fingerprint() {
      const ints: number[] = [pairs.length, opts.padId, opts.length ?? -1];
      for (const p of pairs) {
        ints.push(p.index, p.promptIds.length, ...p.promptIds);
        ints.push(p.chosenIds.length, ...p.chosenIds, p.rejectedIds.length, ...p.rejectedIds);
      }
      return new Uint8Array(Int32Array.from(ints).buffer);
    },
  };
}

/**
 * Tokenized unpaired (KTO) examples as {@link TrainData}. Each position's mismatched completion
 * is fixed once for the dataset (the next example's completion, as TRL's KTO trainer pairs
 * them before shuffling), so reference scores of mismatched rows can be precomputed too.
 *
 * @example
 * ```ts
 * import { unpairedData } from "./train_data.ts";
 * const data = unpairedData([
 *   { index: 0, promptIds: [1], completionIds: [2, 0], label: true },
 *   { index: 1, promptIds: [3], completionIds: [4, 0], label: false },
 * ], { padId: 0 });
 * const b = data.batch([0]);
 * console.log(b.examples.label, b.mismatched.inputIds); // [true] Int32Array [1, 4, 0]
 * ```
 */
export function unpairedData(
  examples: readonly TokenizedExample[],
  opts: PreferenceDataOptions,
): TrainData<KtoBatch> {
  if (examples.length === 0) throw new RangeError("unpairedData: no examples");
  const mismatched = mismatchedExamples(examples);
  const pick = <T>(xs: readonly T[], ps: readonly number[]) =>
    ps.map((p) => xs[checkPos(p, xs.length)]);
  return {
    size: examples.length,
    batch: (ps) => ({
      examples: collateUnpaired(pick(examples, ps), opts.padId, { length: opts.length }),
      mismatched: collateUnpaired(pick(mismatched, ps), opts.padId, { length: opts.length }),
      pairIndex: ps.map((p) => examples[p].index),
    }),
    pairIndex: (p) => examples[p].index,
    fingerprint() {
      const ints: number[] = [examples.length, opts.padId, opts.length ?? -1];
      for (const e of examples) {
        ints.push(e.index, e.label ? 1 : 0, e.promptIds.length, ...e.promptIds);
        ints.push(e.completionIds.length, ...e.completionIds);
      }
      return new Uint8Array(Int32Array.from(ints).buffer);
    },
  };
}
