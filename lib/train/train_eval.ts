/**
 * Evaluation of {@link train}: the held-out pairs scored without gradients, one eval record.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { type EvalContext, mergeMetrics } from "./callbacks.ts";
import { concatPairs, pairMetrics } from "./metrics.ts";
import type { RunStepRecord } from "./records.ts";
import { disposeRef, type Kept, pairIds, pairLosses, readPairs, refScores } from "./train_pairs.ts";
import { epochAt, runContext, type RunState } from "./train_state.ts";
import type { PairValues } from "./types.ts";

/**
 * Evaluate the policy on `evalData` after `done` steps: per-pair values of every eval pair, their
 * metrics and the callbacks' eval metrics, written as one eval record (and returned).
 *
 * @example
 * ```ts ignore
 * state.evals.push(await evaluate(state, 10));
 * ```
 */
export async function evaluate<B>(s: RunState<B>, done: number): Promise<RunStepRecord> {
  const { policy, objective } = s.opts;
  const ed = s.opts.evalData!;
  const bs = s.opts.evalBatchSize ?? s.plan.bs;
  const parts: PairValues[] = [];
  const signal = s.opts.signal;
  for (let i = 0; i < ed.size; i += bs) {
    if (signal) {
      // Let a signal handler run (the loop may not turn inside a batch), then stop on it: a cut
      // evaluation is not recorded (see afterStep).
      await new Promise((r) => setTimeout(r, 0));
      signal.throwIfAborted();
    }
    const positions = Array.from({ length: Math.min(bs, ed.size - i) }, (_, k) => i + k);
    const batch = ed.batch(positions);
    const ref = await refScores(s, batch, positions, s.refs.eval);
    const kept: Kept = {};
    tf.tidy(() => {
      pairLosses(objective, policy.scores(batch), ref?.tensors, kept, false);
    });
    if (ref) disposeRef(ref.tensors);
    parts.push(await readPairs(kept, pairIds(ed, positions), ref?.values));
  }
  const values = concatPairs(parts);
  const metrics = pairMetrics(values, s.beta);
  const rec: RunStepRecord = {
    step: done,
    epoch: epochAt(s.plan, done),
    ...metrics,
    pairs: ed.size,
  };
  const ctx: EvalContext<B> = { ...runContext(s, done), metrics, pairs: values, evalData: ed };
  for (const cb of s.callbacks) {
    if (cb.onEvalEnd) mergeMetrics(rec, await cb.onEvalEnd(ctx), cb.name);
  }
  s.writer?.appendEval(rec);
  return rec;
}
