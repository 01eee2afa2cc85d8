/**
 * Sequence scores of chosen pairs of the training data under the policy as it is now, shared by
 * the trackers of one run. The probability-mass, displacement and gradient-alignment trackers
 * measure at the same steps and mostly follow the same pairs; each scoring them with its own
 * forward passes doubled or tripled their cost. Scores are kept per pair for the current step of
 * the current run, so a second tracker asking at the same step pays only for pairs the first did
 * not score.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { RunContext } from "../train/callbacks.ts";
import { scoresWithoutTape } from "../scoring/parallel.ts";
import type { PairScores, PreferenceScorer, TrainData } from "../core/scores.ts";

/** One pair's summed log-probs and completion lengths under the policy. */
export interface PairScore {
  chosen: number;
  rejected: number;
  chosenLength: number;
  rejectedLength: number;
}

interface StepScores {
  step: number;
  data: unknown;
  byPosition: Map<number, PairScore>;
}

// Keyed by the run's row writer: one per `train()` call, so two runs never share scores.
const memo = new WeakMap<object, StepScores>();

/**
 * Scores of the pairs at `positions` of `data` under `ctx.policy` at step `ctx.step`, in
 * `positions` order, batched `batchSize` pairs per forward pass, without a tape. Pairs another
 * tracker already scored at this step of this run are not scored again, so callers must not
 * change the policy's weights between steps' hooks (no built-in callback does).
 *
 * @example
 * ```ts ignore
 * const s = await scoresAt(ctx, ctx.data, [0, 1, 2], 32);
 * console.log(s[0].chosen, s[0].rejected);
 * ```
 */
export async function scoresAt<B>(
  ctx: RunContext<B>,
  data: TrainData<B>,
  positions: readonly number[],
  batchSize: number,
): Promise<PairScore[]> {
  const known = stepScores(ctx, data);
  const missing = [...new Set(positions.filter((p) => !known.has(p)))];
  const policy = ctx.policy as PreferenceScorer<B, unknown>;
  for (let i = 0; i < missing.length; i += batchSize) {
    const part = missing.slice(i, i + batchSize);
    const batch = data.batch(part);
    // The scorer's measurement path skips token statistics that the trackers would drop.
    const s = policy.measureScores
      ? tf.tidy(() =>
        policy.measureScores!(batch) as unknown as tf.TensorContainerObject
      ) as unknown as PairScores
      : await scoresWithoutTape(policy, batch);
    const packed = tf.tidy(() =>
      tf.stack([s.policyChosen, s.policyRejected, s.chosenLength, s.rejectedLength])
    );
    tf.dispose(s as unknown as tf.TensorContainer);
    let v: Float32Array;
    try {
      v = (await packed.data()) as Float32Array;
    } finally {
      packed.dispose();
    }
    const n = part.length;
    part.forEach((p, j) =>
      known.set(p, {
        chosen: v[j],
        rejected: v[n + j],
        chosenLength: v[2 * n + j],
        rejectedLength: v[3 * n + j],
      })
    );
  }
  return positions.map((p) => known.get(p)!);
}

/** This step's scores of `data` in this run, by position (emptied when the step changes). */
function stepScores<B>(ctx: RunContext<B>, data: TrainData<B>): Map<number, PairScore> {
  let entry = memo.get(ctx.rows);
  if (!entry || entry.step !== ctx.step || entry.data !== data) {
    entry = { step: ctx.step, data, byPosition: new Map() };
    memo.set(ctx.rows, entry);
  }
  return entry.byPosition;
}

/**
 * The score of the pair at `position` of `data` if a tracker already has it at this step of this
 * run, else undefined.
 *
 * @example
 * ```ts ignore
 * const s = knownScore(ctx, ctx.data, 0); // undefined until some tracker scored position 0
 * ```
 */
export function knownScore<B>(
  ctx: RunContext<B>,
  data: TrainData<B>,
  position: number,
): PairScore | undefined {
  return stepScores(ctx, data).get(position);
}

/**
 * Record a pair's score measured by other passes at this step (e.g. the gradient-alignment
 * tracker's one-row passes), so {@link scoresAt} does not score that pair again. The values must
 * be the pair's scores under the current weights.
 *
 * @example
 * ```ts ignore
 * recordScore(ctx, ctx.data, 0, { chosen: -3.2, rejected: -4.1, chosenLength: 4, rejectedLength: 2 });
 * ```
 */
export function recordScore<B>(
  ctx: RunContext<B>,
  data: TrainData<B>,
  position: number,
  score: PairScore,
): void {
  stepScores(ctx, data).set(position, score);
}
