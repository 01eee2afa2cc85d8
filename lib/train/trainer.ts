/**
 * The preference-training loop. One loop trains any model behind a {@link PreferenceScorer}
 * (causal LMs, toy models) on any {@link TrainData} with any objective: per optimizer step it
 * draws `gradAccum` micro-batches of `batchSize` pairs in a seeded order, sums the gradients of
 * `Σ_pairs loss / pairs-in-window` (so every pair of a window weighs the same, whatever the
 * micro-batch sizes), clips the global norm, applies the optimizer with the scheduled learning
 * rate, and appends one record with metrics averaged over every pair of the window.
 *
 * A run with the same seed, settings and backend repeats exactly, and one resumed from a
 * checkpoint continues exactly as if it had not stopped.
 *
 * `train` runs named steps over one shared `RunState` (`train_state.ts`): start and resume
 * (`train_resume.ts`), reference tables (`train_refs.ts`), one accumulation window per step
 * (`train_window.ts`), evaluation (`train_eval.ts`), checkpoints (`train_checkpoint.ts`) and the
 * summary; the per-pair bookkeeping of windows and evaluation is `train_pairs.ts`.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendReport } from "../backend.ts";
import { type BeginContext, type EndContext, mergeMetrics } from "./callbacks.ts";
import { createOptimizer, type Optimizer } from "./optimizers.ts";
import { readJsonl, type RunStepRecord, RunWriter } from "./records.ts";
import { resolveRefSync } from "./ref_sync.ts";
import { validateSchedule } from "./schedule.ts";
import { checkpoint } from "./train_checkpoint.ts";
import { evaluate } from "./train_eval.ts";
import { movingReference, referenceTables } from "./train_refs.ts";
import { openRunDir, restore, runCallbacks } from "./train_resume.ts";
import {
  elapsed,
  epochAt,
  type Plan,
  runContext,
  type RunState,
  TrainingDivergedError,
} from "./train_state.ts";
import { runWindow } from "./train_window.ts";
import { flushRecords } from "./deferred_records.ts";

export { TrainingDivergedError };

import type { TrainOptions, TrainResult } from "./train_options.ts";
export type { ReferenceOption, TrainOptions, TrainResult } from "./train_options.ts";

function checkInt(x: unknown, name: string, min: number): number {
  if (!(typeof x === "number" && Number.isInteger(x) && x >= min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(x)}`);
  }
  return x;
}

function makePlan<B>(opts: TrainOptions<B>): Plan {
  const n = opts.data.size;
  if (!(n > 0)) throw new RangeError(`data is empty`);
  const bs = checkInt(opts.batchSize, "batchSize", 1);
  const accum = checkInt(opts.gradAccum ?? 1, "gradAccum", 1);
  const microPerEpoch = Math.ceil(n / bs);
  const stepsPerEpoch = Math.ceil(microPerEpoch / accum);
  const totalSteps = opts.maxSteps !== undefined
    ? checkInt(opts.maxSteps, "maxSteps", 1)
    : checkInt(opts.epochs ?? 1, "epochs", 1) * stepsPerEpoch;
  return { n, bs, accum, microPerEpoch, stepsPerEpoch, totalSteps };
}

function validate<B>(opts: TrainOptions<B>): void {
  if (!(typeof opts.lr === "number" && Number.isFinite(opts.lr) && opts.lr >= 0)) {
    throw new RangeError(`lr must be a non-negative number, got ${JSON.stringify(opts.lr)}`);
  }
  if (opts.schedule) validateSchedule(opts.schedule);
  if (opts.maxGradNorm !== undefined && !(opts.maxGradNorm > 0)) {
    throw new RangeError(`maxGradNorm must be positive, got ${opts.maxGradNorm}`);
  }
  if (opts.evalEvery !== undefined) checkInt(opts.evalEvery, "evalEvery", 1);
  if (opts.evalBatchSize !== undefined) checkInt(opts.evalBatchSize, "evalBatchSize", 1);
  if (opts.checkpointEvery !== undefined) checkInt(opts.checkpointEvery, "checkpointEvery", 0);
  if (opts.seed !== undefined) checkInt(opts.seed, "seed", -(2 ** 31));
  if (opts.resume && !opts.outDir) throw new TypeError(`resume needs outDir`);
  if (opts.syncReference) {
    resolveRefSync(opts.syncReference);
    if (!opts.objective.needsReference) {
      throw new TypeError(`syncReference: objective '${opts.objective.name}' uses no reference`);
    }
  }
  const names = new Set<string>();
  for (const cb of opts.callbacks ?? []) {
    if (names.has(cb.name)) throw new TypeError(`two callbacks are named '${cb.name}'`);
    names.add(cb.name);
  }
}

/** The settings a resume must match (in `config.json` and in every checkpoint). */
function runSettings<B>(
  opts: TrainOptions<B>,
  plan: Plan,
  optimizer: Optimizer,
): Record<string, unknown> {
  const objective = opts.objective;
  return {
    seed: opts.seed ?? 0,
    shuffle: opts.shuffle ?? true,
    batchSize: plan.bs,
    gradAccum: plan.accum,
    totalSteps: plan.totalSteps,
    dataSize: plan.n,
    evalSize: opts.evalData?.size ?? 0,
    objective: { name: objective.name, params: objective.params },
    optimizer: optimizer.spec,
    lr: opts.lr,
    schedule: opts.schedule ?? {},
    maxGradNorm: opts.maxGradNorm ?? null,
    ...(opts.syncReference ? { syncReference: resolveRefSync(opts.syncReference) } : {}),
    ...(opts.inputs ? { inputs: opts.inputs } : {}),
  };
}

/** Validate, open the run folder, resume, and build the run's state (references included). */
async function startRun<B>(opts: TrainOptions<B>): Promise<RunState<B>> {
  validate(opts);
  const plan = makePlan(opts);
  const { policy, objective } = opts;
  const vars = policy.variables();
  const names = policy.variableNames?.() ?? vars.map((v) => v.name);
  if (names.length !== vars.length) {
    throw new RangeError(`variableNames() gave ${names.length} names for ${vars.length} variables`);
  }
  const optimizer = createOptimizer(opts.optimizer);
  const settings = runSettings(opts, plan, optimizer);
  const warn = opts.warn ?? ((m: string) => console.error(m));
  await openRunDir(opts, warn);
  const callbacks = runCallbacks(opts);
  const resumed = await restore({ opts, settings, vars, names, optimizer, callbacks, warn });
  const s: RunState<B> = {
    opts,
    plan,
    seed: opts.seed ?? 0,
    shuffle: opts.shuffle ?? true,
    beta: typeof objective.params.beta === "number" ? objective.params.beta : 1,
    vars,
    names,
    optimizer,
    settings,
    callbacks,
    warn,
    resumed,
    startStep: resumed?.state.step ?? 0,
    priorSeconds: resumed?.state.elapsedSeconds ?? 0,
    needsRef: objective.needsReference,
    refOpt: opts.reference ?? { kind: "precompute" },
    refs: {},
    memoryRows: {},
    t0: 0,
    records: [],
    pending: [],
    evals: [],
  };
  await referenceTables(s);
  s.mover = await movingReference(s);
  s.writer = await openWriter(s);
  s.writer?.writeStatus({ state: "running", step: s.startStep });
  return s;
}

/** The run's record writer (none without `outDir`); `config.json` holds the run's settings. */
async function openWriter<B>(s: RunState<B>): Promise<RunWriter | undefined> {
  const { opts } = s;
  if (!opts.outDir) return undefined;
  return await RunWriter.create(opts.outDir, {
    config: {
      created: new Date().toISOString(),
      backend: backendReport() ?? { name: tf.getBackend() },
      train: {
        ...s.settings,
        reference: s.needsRef ? s.refOpt.kind : "none",
        evalEvery: opts.evalEvery ?? null,
        checkpointEvery: opts.checkpointEvery ?? 0,
        stepsPerEpoch: s.plan.stepsPerEpoch,
        callbacks: s.callbacks.map((c) => c.name),
      },
      user: opts.config ?? {},
    },
    resumeStep: s.resumed?.state.step,
  });
}

/** Start the clock and run the callbacks' `onTrainBegin` (a fresh run records their metrics). */
async function beginRun<B>(s: RunState<B>): Promise<void> {
  s.t0 = performance.now();
  const ctx: BeginContext<B> = { ...runContext(s, s.startStep), resumed: !!s.resumed };
  const rec: RunStepRecord = { step: 0, epoch: 0 };
  for (const cb of s.callbacks) {
    if (cb.onTrainBegin) mergeMetrics(rec, await cb.onTrainBegin(ctx), cb.name);
  }
  if (!s.resumed && Object.keys(rec).length > 2) {
    s.writer?.appendStep(rec);
    s.records.push(rec);
  }
}

/** After step `done`: evaluate and checkpoint when due; true when the run stops on `signal`. */
async function afterStep<B>(s: RunState<B>, done: number): Promise<boolean> {
  const { opts, plan } = s;
  const last = done === plan.totalSteps;
  if (opts.evalData && ((opts.evalEvery && done % opts.evalEvery === 0) || last)) {
    try {
      s.evals.push(await evaluate(s, done));
    } catch (e) {
      if (!(opts.signal?.aborted && e === opts.signal.reason)) throw e;
      // Stopped mid-evaluation: no checkpoint at `done` (it would skip this evaluation for
      // good); a resume repeats the steps since the last checkpoint and evaluates here.
      s.warn(`evaluation at step ${done} cut short by the signal: not recorded, no checkpoint`);
      return true;
    }
  }
  const abort = opts.signal?.aborted === true;
  const every = opts.checkpointEvery ?? 0;
  if (opts.outDir && (last || abort || (every > 0 && done % every === 0))) {
    // A checkpoint holds the callbacks' state and follows steps.jsonl: both wait for late metrics.
    await flushRecords(s);
    await checkpoint(s, done);
  }
  return abort && !last;
}

/** Every remaining step; a divergence is written to `status.json` before it is thrown. */
async function runSteps<B>(s: RunState<B>): Promise<{ step: number; stopped: boolean }> {
  let step = s.startStep;
  try {
    for (; step < s.plan.totalSteps; step++) {
      await runWindow(s, step);
      if (await afterStep(s, step + 1)) return { step: step + 1, stopped: true };
    }
  } catch (e) {
    // Records of steps that completed stay written when their late metrics can still be had.
    await flushRecords(s).catch(() => {});
    if (e instanceof TrainingDivergedError) {
      s.writer?.writeStatus({
        state: "diverged",
        step: e.step - 1,
        message: e.message,
        pairs: e.pairs,
      });
    }
    throw e;
  }
  return { step, stopped: false };
}

/** The end-of-run summary (over every step record, earlier processes' included) and status. */
async function finishRun<B>(s: RunState<B>, step: number, stopped: boolean): Promise<TrainResult> {
  const { opts, plan, startStep, priorSeconds, writer } = s;
  await flushRecords(s);
  const runtime = elapsed(s);
  // After a resume the records of earlier processes are in steps.jsonl.
  const all = writer ? await readJsonl<RunStepRecord>(`${opts.outDir}/steps.jsonl`) : s.records;
  const losses = all.filter((r) => r.step > 0).map((r) => r.loss ?? NaN);
  const summary: Record<string, number> = {
    train_runtime: runtime,
    train_steps_per_second: (step - startStep) / Math.max(1e-9, runtime - priorSeconds),
    train_samples_per_second: ((step - startStep) * plan.bs * plan.accum) /
      Math.max(1e-9, runtime - priorSeconds),
    train_loss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
    step,
    epoch: epochAt(plan, step),
  };
  const endCtx: EndContext<B> = { ...runContext(s, step), summary };
  for (const cb of s.callbacks) {
    if (cb.onTrainEnd) mergeMetrics(summary, await cb.onTrainEnd(endCtx), cb.name);
  }
  s.optimizer.dispose();
  s.mover?.dispose();
  if (!stopped) writer?.writeSummary(summary);
  writer?.writeStatus({ state: stopped ? "stopped" : "completed", step });
  const { records, evals, memoryRows: rows } = s;
  return { steps: step, records, evals, summary, runDir: opts.outDir, stopped, rows };
}

/**
 * Train a policy on preference pairs. See {@link TrainOptions} for every setting and the module
 * docs for what a step does; records go to `outDir` (see `records.ts`) and are also returned.
 *
 * @example Ten DPO steps of a toy model (scorer, data and objective from their modules)
 * ```ts ignore
 * const result = await train({
 *   policy: toyScorer(model), data: toyData(pairs), objective: dpo({ beta: 0.1 }),
 *   optimizer: { name: "rmsprop" }, lr: 1e-3, batchSize: 4, maxSteps: 10, outDir: "out/runs/toy",
 * });
 * console.log(result.records.at(-1)?.["rewards/margins"]);
 * ```
 */
export async function train<B>(opts: TrainOptions<B>): Promise<TrainResult> {
  const s = await startRun(opts);
  await beginRun(s);
  const { step, stopped } = await runSteps(s);
  return await finishRun(s, step, stopped);
}
