/**
 * Per-pair bookkeeping shared by training windows and evaluation: reference scores of a batch,
 * the objective's per-pair losses, and the per-pair values kept for the records.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ReferenceLogps } from "../scoring/ref_cache.ts";
import type { RunState } from "./train_state.ts";
import { TOKEN_STAT_KEYS } from "../core/token_stats.ts";
import type { PairValues, TrainObjective } from "./types.ts";
import type { PairScores, PreferenceScorer, SequenceScores, TrainData } from "../core/scores.ts";

/** Reference scores of one batch as tensors. */
export interface RefTensors {
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
  /** Mismatched-completion scores (KTO). */
  kl?: tf.Tensor1D;
  /** Per-token reference log-probs, when a reference model scores with tokens (SGDPO, LD-DPO). */
  tokens?: { chosen: tf.Tensor2D; rejected: tf.Tensor2D };
}

/** Reference scores of one batch read back as numbers. */
export interface RefValues {
  chosen: number[];
  rejected: number[];
  kl?: number[];
}

/** Per-pair tensors kept past the enclosing tidy/tape; `extra:` keys hold objective extras. */
export type Kept = Record<string, tf.Tensor>;

/** Running sums of the objective's extras over a window. */
export type ExtraSums = Record<string, { sum: number; count: number }>;

/**
 * Source pair indices of data positions.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { pairIds } from "./train_pairs.ts";
 * const data = { pairIndex: (p: number) => p + 10 };
 * assert.deepEqual(pairIds(data, [0, 2]), [10, 12]);
 * assert.deepEqual(pairIds({}, [1]), [1]); // no pairIndex: positions
 * ```
 */
export function pairIds(
  data: Pick<TrainData<unknown>, "pairIndex">,
  positions: readonly number[],
): number[] {
  return positions.map((p) => data.pairIndex?.(p) ?? p);
}

/** Plain numbers of a tensor, read asynchronously (webgpu under Deno cannot read synchronously). */
async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data() as Float32Array);
}

async function readRef(r: RefTensors): Promise<RefValues> {
  const [chosen, rejected, kl] = await Promise.all([
    values(r.chosen),
    values(r.rejected),
    r.kl ? values(r.kl) : undefined,
  ]);
  return kl ? { chosen, rejected, kl } : { chosen, rejected };
}

/**
 * Dispose the tensors of a batch's reference scores.
 *
 * @example
 * ```ts ignore
 * const ref = refScores(state, batch, positions, state.refs.train);
 * try { ... } finally { if (ref) disposeRef(ref.tensors); }
 * ```
 */
export function disposeRef(r: RefTensors): void {
  r.chosen.dispose();
  r.rejected.dispose();
  r.kl?.dispose();
  r.tokens?.chosen.dispose();
  r.tokens?.rejected.dispose();
}

function modelRef<B>(scorer: PreferenceScorer<B, unknown>, batch: B): RefTensors {
  return tf.tidy(() => {
    const r = scorer.scores(batch);
    const t = r.tokens as
      | { policyChosen?: tf.Tensor2D; policyRejected?: tf.Tensor2D }
      | undefined;
    const tokens = t?.policyChosen && t.policyRejected
      ? { tokens: { chosen: t.policyChosen, rejected: t.policyRejected } }
      : {};
    return { chosen: r.policyChosen, rejected: r.policyRejected, kl: r.klPolicy, ...tokens };
  }) as RefTensors;
}

/**
 * Reference scores of a batch (looked up in `table`, scored by the frozen model, or none when the
 * objective needs no reference), as tensors and as numbers.
 *
 * @example
 * ```ts ignore
 * const ref = await refScores(state, batch, positions, state.refs.eval);
 * ```
 */
export async function refScores<B>(
  s: RunState<B>,
  batch: B,
  positions: readonly number[],
  table: ReferenceLogps | undefined,
): Promise<{ tensors: RefTensors; values: RefValues } | undefined> {
  if (!s.needsRef) return undefined;
  let tensors: RefTensors;
  if (s.refOpt.kind === "model") tensors = modelRef(s.refOpt.scorer, batch);
  else {
    const t = table!;
    tensors = {
      chosen: tf.tensor1d(positions.map((p) => t.chosen[p])),
      rejected: tf.tensor1d(positions.map((p) => t.rejected[p])),
      ...(t.kl ? { kl: tf.tensor1d(positions.map((p) => t.kl![p])) } : {}),
    };
  }
  return { tensors, values: await readRef(tensors) };
}

/** The objective's input from the policy's scores and the reference's. */
function objectiveScores(s: PairScores, ref: RefTensors | undefined): SequenceScores {
  const out: SequenceScores = {
    policyChosen: s.policyChosen,
    policyRejected: s.policyRejected,
    chosenLength: s.chosenLength,
    rejectedLength: s.rejectedLength,
  };
  if (s.tokens !== undefined) out.tokens = s.tokens;
  if (s.present) out.present = s.present;
  if (ref) {
    out.refChosen = ref.chosen;
    out.refRejected = ref.rejected;
    // A scorer that keeps its own reference tokens (the toy scorers) wins over the model's.
    const own = out.tokens;
    if (ref.tokens && own && !own.refChosen) {
      out.tokens = { ...own, refChosen: ref.tokens.chosen, refRejected: ref.tokens.rejected };
    }
    if (s.klPolicy && ref.kl) out.kl = { policy: s.klPolicy, ref: ref.kl };
  }
  return out;
}

/** Keep (past the enclosing tidy/tape) the per-pair tensors the records need. */
function keepScores(kept: Kept, s: PairScores, perPair: tf.Tensor): void {
  kept.policyChosen = tf.keep(s.policyChosen);
  kept.policyRejected = tf.keep(s.policyRejected);
  kept.chosenLength = tf.keep(s.chosenLength);
  kept.rejectedLength = tf.keep(s.rejectedLength);
  kept.losses = tf.keep(perPair);
  if (s.present) {
    kept.presentChosen = tf.keep(s.present.chosen);
    kept.presentRejected = tf.keep(s.present.rejected);
  }
  if (s.klPolicy) kept.klPolicy = tf.keep(s.klPolicy);
  if (s.tokenStats) {
    for (const k of TOKEN_STAT_KEYS) {
      kept[`stat:${k}`] = tf.keep(s.tokenStats[k]);
    }
  }
}

/**
 * The objective's per-pair losses of a scored batch (a scalar loss is spread over the pairs);
 * the scores, losses and (with `withExtras`) the objective's extras are kept in `kept`. Call it
 * inside a tidy or a gradient tape.
 *
 * @example
 * ```ts ignore
 * const kept: Kept = {};
 * tf.tidy(() => { pairLosses(objective, policy.scores(batch), ref?.tensors, kept, false); });
 * ```
 */
export function pairLosses(
  objective: TrainObjective,
  s: PairScores,
  ref: RefTensors | undefined,
  kept: Kept,
  withExtras: boolean,
): tf.Tensor {
  const { losses, extras } = objective.loss(objectiveScores(s, ref));
  const perPair = losses.rank === 0 ? tf.mul(losses, tf.onesLike(s.policyChosen)) : losses;
  keepScores(kept, s, perPair);
  if (withExtras) {
    for (const [k, v] of Object.entries(extras ?? {})) kept[`extra:${k}`] = tf.keep(v);
  }
  return perPair;
}

/**
 * Per-pair values from kept tensors (read back from the device); the objective's extras are
 * added to `extras` (per pair, or a batch mean weighted by its pairs). Every kept tensor is
 * disposed.
 *
 * @example
 * ```ts ignore
 * const part = await readPairs(kept, pairIds(data, positions), ref?.values, extras);
 * ```
 */
export async function readPairs(
  kept: Kept,
  ids: number[],
  ref: RefValues | undefined,
  extras?: ExtraSums,
): Promise<PairValues> {
  const part = await readScores(kept, ids, ref);
  if (extras) await addExtras(kept, ids.length, extras);
  Object.values(kept).forEach((t) => t.dispose());
  return part;
}

async function addExtras(kept: Kept, pairs: number, extras: ExtraSums): Promise<void> {
  for (const [k, t] of Object.entries(kept)) {
    if (!k.startsWith("extra:")) continue;
    const name = k.slice(6), vals = await t.data();
    const e = (extras[name] ??= { sum: 0, count: 0 });
    if (vals.length === pairs) {
      for (const v of vals) e.sum += v;
      e.count += vals.length;
    } else if (vals.length === 1) {
      e.sum += vals[0] * pairs;
      e.count += pairs;
    }
  }
}

async function readScores(
  kept: Kept,
  ids: number[],
  ref: RefValues | undefined,
): Promise<PairValues> {
  // The score tensors (not the objective's extras) are read in one batch of asynchronous reads.
  const keys = Object.keys(kept).filter((k) => !k.startsWith("extra:"));
  const all = await Promise.all(keys.map((k) => values(kept[k])));
  const byKey = Object.fromEntries(keys.map((k, i) => [k, all[i]]));
  const read = (k: string) => byKey[k];
  const part: PairValues = {
    pairIndex: ids,
    policyChosen: read("policyChosen"),
    policyRejected: read("policyRejected"),
    chosenLength: read("chosenLength"),
    rejectedLength: read("rejectedLength"),
    losses: read("losses"),
  };
  if (ref) [part.refChosen, part.refRejected] = [ref.chosen, ref.rejected];
  if (kept.presentChosen) {
    part.present = { chosen: read("presentChosen"), rejected: read("presentRejected") };
  }
  if (kept.klPolicy && ref?.kl) {
    const kl = ref.kl;
    part.kl = read("klPolicy").map((x, i) => x - kl[i]);
  }
  if (kept["stat:inputTokens"]) {
    part.tokenStats = Object.fromEntries(
      TOKEN_STAT_KEYS.map((k) => [k, read(`stat:${k}`)]),
    ) as PairValues["tokenStats"];
  }
  return part;
}
