/**
 * One optimizer step of {@link train}: the micro-batches of one accumulation window, their summed
 * gradients, the clipped update, and the step's record.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { isDeferred, mergeMetrics, type StepContext } from "./callbacks.ts";
import { flushRecords, type LateMetrics, queueRecord } from "./deferred_records.ts";
import { concatPairs, pairMetrics } from "./metrics.ts";
import { clipByGlobalNormAsync } from "./optimizers.ts";
import { isParallelScorer } from "../scoring/parallel.ts";
import type { RunStepRecord } from "./records.ts";
import { learningRate } from "./schedule.ts";
import { permutation } from "./train_data.ts";
import {
  disposeRef,
  type ExtraSums,
  type Kept,
  pairIds,
  pairLosses,
  readPairs,
  refScores,
} from "./train_pairs.ts";
import {
  elapsed,
  epochAt,
  runContext,
  type RunState,
  TrainingDivergedError,
} from "./train_state.ts";
import type { Metrics, PairValues } from "./types.ts";
import type { PairScores } from "../core/scores.ts";
import { epochSeed } from "../core/rng.ts";

function orderOf<B>(s: RunState<B>, epoch: number): number[] {
  if (s.epochOrder?.epoch !== epoch) {
    s.epochOrder = {
      epoch,
      order: s.shuffle
        ? permutation(s.plan.n, epochSeed(s.seed, epoch))
        : Array.from({ length: s.plan.n }, (_, i) => i),
    };
  }
  return s.epochOrder.order;
}

/** Data positions of each micro-batch of the window of optimizer step `step` (0-based). */
function windowPositions<B>(s: RunState<B>, step: number): number[][] {
  const { plan } = s;
  const window = step % plan.stepsPerEpoch;
  const order = orderOf(s, Math.floor(step / plan.stepsPerEpoch));
  const micro: number[][] = [];
  const end = Math.min((window + 1) * plan.accum, plan.microPerEpoch);
  for (let m = window * plan.accum; m < end; m++) {
    micro.push(order.slice(m * plan.bs, Math.min((m + 1) * plan.bs, plan.n)));
  }
  return micro;
}

/** One micro-batch: gradients of `Σ losses / windowPairs` and the per-pair values. */
async function microBatch<B>(
  s: RunState<B>,
  batch: B,
  positions: number[],
  windowPairs: number,
  step: number,
  extras: ExtraSums,
): Promise<{ part: PairValues; grads: tf.Tensor[] }> {
  const { policy, objective, data } = s.opts;
  const ref = await refScores(s, batch, positions, s.refs.train);
  const kept: Kept = {};
  let grads: tf.NamedTensorMap;
  try {
    const lossOf = (sc: PairScores) =>
      tf.div(tf.sum(pairLosses(objective, sc, ref?.tensors, kept, true)), windowPairs) as tf.Scalar;
    // A data-parallel scorer (lib/scoring/parallel.ts) splits the batch across threads.
    const out = isParallelScorer(policy)
      ? await policy.valueAndGrads(batch, lossOf)
      : tf.variableGrads(() => lossOf(policy.scores(batch)), s.vars);
    out.value.dispose();
    grads = out.grads;
  } finally {
    if (ref) disposeRef(ref.tensors);
  }
  const ids = pairIds(data, positions);
  const part = await readPairs(kept, ids, ref?.values, extras);
  const losses = part.losses;
  const bad = losses.flatMap((l, i) => Number.isFinite(l) ? [] : [i]);
  if (bad.length > 0) {
    Object.values(grads).forEach((g) => g.dispose());
    throw new TrainingDivergedError(
      step + 1,
      bad.map((i) => ids[i]),
      `non-finite loss for pair${bad.length > 1 ? "s" : ""} ${
        bad.map((i) => `${ids[i]} (${losses[i]})`).join(", ")
      }`,
    );
  }
  return { part, grads: s.vars.map((v) => grads[v.name] ?? tf.zerosLike(v)) };
}

/** `accum + g`, disposing both; `g` itself when there is nothing yet. */
function addGrads(accum: tf.Tensor[] | undefined, g: tf.Tensor[]): tf.Tensor[] {
  if (!accum) return g;
  const next = accum.map((a, i) => tf.add(a, g[i]));
  accum.forEach((t) => t.dispose());
  g.forEach((t) => t.dispose());
  return next;
}

/** Clip and apply the window's gradients; a non-finite norm stops the run before the update. */
async function applyGrads<B>(
  s: RunState<B>,
  accum: tf.Tensor[],
  parts: PairValues[],
  step: number,
  lr: number,
): Promise<number> {
  // The norm is read here (asynchronously) because a non-finite one must stop the run before
  // the update is applied.
  const clipped = await clipByGlobalNormAsync(accum, s.opts.maxGradNorm);
  try {
    if (!Number.isFinite(clipped.norm)) {
      const ids = parts.flatMap((p) => p.pairIndex);
      throw new TrainingDivergedError(
        step + 1,
        ids,
        `non-finite gradient norm (${clipped.norm}) over pairs ${ids.join(", ")}`,
      );
    }
    s.optimizer.apply(s.vars, clipped.grads, lr);
  } finally {
    clipped.grads.forEach((t) => t.dispose());
  }
  return clipped.norm;
}

/** What one window produced, for its record. */
interface WindowResult<B> {
  step: number;
  lr: number;
  norm: number;
  windowPairs: number;
  parts: PairValues[];
  extras: ExtraSums;
  batches: B[];
  tStep: number;
}

/**
 * The step's record: metrics over the window's pairs, then the callbacks' metrics, and the
 * callbacks whose metrics come later ({@link deferMetrics}).
 */
async function stepRecord<B>(
  s: RunState<B>,
  w: WindowResult<B>,
): Promise<{ rec: RunStepRecord; deferred: LateMetrics[] }> {
  const values = concatPairs(w.parts);
  const stepSeconds = (performance.now() - w.tStep) / 1000;
  const done = w.step + 1;
  const rec: RunStepRecord = {
    step: done,
    epoch: epochAt(s.plan, done),
    lr: w.lr,
    ...pairMetrics(values, s.beta),
    grad_norm: w.norm,
    pairs: w.windowPairs,
    ...(s.mover ? { "reference/syncs": s.mover.syncs } : {}),
  };
  for (const [k, e] of Object.entries(w.extras)) {
    const key = k in rec ? `objective/${k}` : k;
    rec[key] = e.count ? e.sum / e.count : NaN;
  }
  const ctx: StepContext<B> = {
    ...runContext(s, done),
    lr: w.lr,
    metrics: { ...rec } as Metrics,
    pairs: values,
    batches: w.batches,
    stepSeconds,
  };
  const deferred: LateMetrics[] = [];
  for (const cb of s.callbacks) {
    if (!cb.onStepEnd) continue;
    const out = await cb.onStepEnd(ctx);
    if (isDeferred(out)) deferred.push({ name: cb.name, deferred: out });
    else mergeMetrics(rec, out, cb.name);
  }
  rec.step_time_s = stepSeconds;
  rec.time_s = elapsed(s);
  return { rec, deferred };
}

/**
 * Run optimizer step `step` (0-based): every micro-batch of its window, the update, a moving
 * reference's sync, and the step's record (written and kept in `s.records`, or queued while
 * deferred callback metrics are computed).
 *
 * @example
 * ```ts ignore
 * for (let step = state.startStep; step < state.plan.totalSteps; step++) await runWindow(state, step);
 * ```
 */
export async function runWindow<B>(s: RunState<B>, step: number): Promise<void> {
  const tStep = performance.now();
  const micro = windowPositions(s, step);
  const windowPairs = micro.reduce((a, m) => a + m.length, 0);
  const lr = learningRate(step, s.plan.totalSteps, {
    lr: s.opts.lr,
    schedule: s.opts.schedule,
  });
  const w: WindowResult<B> = {
    step,
    lr,
    norm: NaN,
    windowPairs,
    parts: [],
    extras: {},
    batches: [],
    tStep,
  };
  let accum: tf.Tensor[] | undefined;
  try {
    for (const positions of micro) {
      const batch = s.opts.data.batch(positions);
      w.batches.push(batch);
      const { part, grads } = await microBatch(s, batch, positions, windowPairs, step, w.extras);
      w.parts.push(part);
      accum = addGrads(accum, grads);
    }
    w.norm = await applyGrads(s, accum!, w.parts, step, lr);
    await s.mover?.afterStep(step + 1);
    const { rec, deferred } = await stepRecord(s, w);
    queueRecord(s, rec, deferred);
    await flushRecords(s, false);
  } finally {
    accum?.forEach((t) => t.dispose());
  }
}
