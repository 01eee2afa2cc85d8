/**
 * Lay tokenized rows out as right-padded flat batches (see {@link PreferenceBatch}).
 *
 * @module
 */
import type { PreferenceBatch, TokenizedPair } from "./types.ts";
import type { TokenizedExample, TokenizedProbe } from "./tokenize.ts";

/**
 * Rows of `prompt ++ completion`, right-padded to `length`. Same fields and meaning as in
 * {@link PreferenceBatch}; `rows` is the number of rows.
 */
export interface SequenceBatch {
  rows: number;
  length: number;
  inputIds: Int32Array;
  attentionMask: Float32Array;
  completionMask: Float32Array;
  promptLength: number[];
  completionLength: number[];
}

/** A batch of unpaired (KTO) examples, one row each. */
export interface UnpairedBatch extends SequenceBatch {
  /** Number of examples (= rows). */
  size: number;
  /** Source row of each example. */
  index: number[];
  /** Desirable (true) or not, per example. */
  label: boolean[];
}

/** Probe responses, one row each, in the pair batch's layout. */
export interface ProbeBatch extends SequenceBatch {
  /** Pair each probe belongs to. */
  index: number[];
  /** Probe name per row (e.g. `chosen_paraphrase`). */
  name: string[];
}

/** Options for the collate functions. */
export interface CollateOptions {
  /**
   * Pad every row to exactly this length (a fixed shape spares backends from recompiling);
   * a longer row is a RangeError. Default: the longest row.
   */
  length?: number;
}

function checkPad(padId: number): void {
  if (!Number.isInteger(padId) || padId < 0) {
    throw new RangeError(`padId: expected a non-negative integer, got ${padId}`);
  }
}

/**
 * Write `prompt ++ completion` rows into flat right-padded arrays.
 *
 * @example
 * ```ts
 * import { layoutRows } from "./collate.ts";
 * const s = layoutRows([{ prompt: [1], completion: [2] }, { prompt: [3], completion: [4, 5] }], 0);
 * console.log(Array.from(s.inputIds).join()); // 1,2,0,3,4,5
 * ```
 */
export function layoutRows(
  rows: readonly { prompt: readonly number[]; completion: readonly number[] }[],
  padId: number,
  opts: CollateOptions = {},
): SequenceBatch {
  checkPad(padId);
  const longest = rows.reduce((m, r) => Math.max(m, r.prompt.length + r.completion.length), 0);
  const T = opts.length ?? longest;
  if (!Number.isInteger(T) || T < longest) {
    throw new RangeError(`length: ${opts.length} is shorter than the longest row (${longest})`);
  }
  const n = rows.length;
  const inputIds = new Int32Array(n * T).fill(padId);
  const attentionMask = new Float32Array(n * T);
  const completionMask = new Float32Array(n * T);
  rows.forEach((r, i) => {
    const p = r.prompt.length, c = r.completion.length;
    inputIds.set(r.prompt, i * T);
    inputIds.set(r.completion, i * T + p);
    attentionMask.fill(1, i * T, i * T + p + c);
    completionMask.fill(1, i * T + p, i * T + p + c);
  });
  return {
    rows: n,
    length: T,
    inputIds,
    attentionMask,
    completionMask,
    promptLength: rows.map((r) => r.prompt.length),
    completionLength: rows.map((r) => r.completion.length),
  };
}

/**
 * Collate pairs into a {@link PreferenceBatch}: rows `[chosen_0..chosen_{B-1},
 * rejected_0..rejected_{B-1}]`, each `prompt ++ completion`, right-padded with `padId`.
 *
 * @example
 * ```ts
 * import { collate } from "./collate.ts";
 * const b = collate([{ index: 7, promptIds: [1, 2], chosenIds: [3, 0], rejectedIds: [4, 5, 0] }], 0);
 * console.log(b.length, Array.from(b.inputIds).join(), Array.from(b.completionMask).join());
 * // 5 1,2,3,0,0,1,2,4,5,0 0,0,1,1,0,0,0,1,1,1
 * ```
 */
export function collate(
  pairs: readonly TokenizedPair[],
  padId: number,
  opts: CollateOptions = {},
): PreferenceBatch {
  if (pairs.length === 0) throw new RangeError("pairs: expected at least one pair");
  const rows = [
    ...pairs.map((p) => ({ prompt: p.promptIds, completion: p.chosenIds })),
    ...pairs.map((p) => ({ prompt: p.promptIds, completion: p.rejectedIds })),
  ];
  const s = layoutRows(rows, padId, opts);
  return {
    size: pairs.length,
    length: s.length,
    inputIds: s.inputIds,
    attentionMask: s.attentionMask,
    completionMask: s.completionMask,
    pairIndex: pairs.map((p) => p.index),
    promptLength: s.promptLength,
    completionLength: s.completionLength,
  };
}

/**
 * Collate unpaired examples into an {@link UnpairedBatch}, one row per example.
 *
 * @example
 * ```ts
 * import { collateUnpaired } from "./collate.ts";
 * const b = collateUnpaired([{ index: 0, promptIds: [1], completionIds: [2, 0], label: true }], 0);
 * console.log(b.size, b.label[0], Array.from(b.completionMask).join()); // 1 true 0,1,1
 * ```
 */
export function collateUnpaired(
  examples: readonly TokenizedExample[],
  padId: number,
  opts: CollateOptions = {},
): UnpairedBatch {
  if (examples.length === 0) throw new RangeError("examples: expected at least one example");
  const s = layoutRows(
    examples.map((e) => ({ prompt: e.promptIds, completion: e.completionIds })),
    padId,
    opts,
  );
  return {
    ...s,
    size: examples.length,
    index: examples.map((e) => e.index),
    label: examples.map((e) => e.label),
  };
}

/**
 * Collate probe responses into a {@link ProbeBatch}, one row per response, laid out like the
 * rows of a {@link PreferenceBatch} so the same log-prob code scores them.
 *
 * @example
 * ```ts
 * import { collateProbes } from "./collate.ts";
 * const b = collateProbes([{ index: 3, name: "para", promptIds: [1, 2], completionIds: [5, 0] }], 0);
 * console.log(b.rows, b.name[0], Array.from(b.inputIds).join()); // 1 para 1,2,5,0
 * ```
 */
export function collateProbes(
  probes: readonly TokenizedProbe[],
  padId: number,
  opts: CollateOptions = {},
): ProbeBatch {
  if (probes.length === 0) throw new RangeError("probes: expected at least one probe");
  const s = layoutRows(
    probes.map((p) => ({ prompt: p.promptIds, completion: p.completionIds })),
    padId,
    opts,
  );
  return { ...s, index: probes.map((p) => p.index), name: probes.map((p) => p.name) };
}

/**
 * KTO's KL examples: each prompt paired with the next example's completion (offset +1,
 * wrapping), as TRL's KTO trainer builds its mismatched batch. Labels are kept from the prompt's
 * example.
 *
 * @example
 * ```ts
 * import { mismatchedExamples } from "./collate.ts";
 * const m = mismatchedExamples([
 *   { index: 0, promptIds: [1], completionIds: [2], label: true },
 *   { index: 1, promptIds: [3], completionIds: [4], label: false },
 * ]);
 * console.log(m.map((e) => `${e.promptIds}|${e.completionIds}`).join(" ")); // 1|4 3|2
 * ```
 */
export function mismatchedExamples(examples: readonly TokenizedExample[]): TokenizedExample[] {
  const n = examples.length;
  return examples.map((e, i) => ({ ...e, completionIds: examples[(i + 1) % n].completionIds }));
}

/**
 * A batch of unpaired (KTO) examples for the trainer: the examples themselves and, row for row,
 * each example's prompt with its mismatched completion (for KTO's reference point z0).
 */
export interface KtoBatch {
  examples: UnpairedBatch;
  mismatched: UnpairedBatch;
  /** Source row of each example. */
  pairIndex: number[];
}
