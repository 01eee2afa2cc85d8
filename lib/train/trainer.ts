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
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { backendReport } from "../backend.ts";
import {
  type BeginContext,
  type EndContext,
  type EvalContext,
  mergeMetrics,
  type RunContext,
  type StepContext,
  type TrainCallback,
} from "./callbacks.ts";
import { assignWeights, type CheckpointState, readWeights, saveCheckpoint } from "./checkpoint.ts";
import { concatPairs, pairMetrics } from "./metrics.ts";
import { isParallelScorer } from "./parallel.ts";
import { clipByGlobalNormAsync, createOptimizer, type OptimizerSpec } from "./optimizers.ts";
import { progressCallback, type ProgressOptions } from "./progress.ts";
import { readJsonl, type RunStepRecord, RunWriter } from "./records.ts";
import { checkResumeSettings, latestUsableCheckpoint } from "./resume.ts";
import { checkResumeDir, prepareRunDir, registerRunFile } from "./run_dir.ts";
import {
  type ReferenceMover,
  referenceMover,
  type RefSyncSpec,
  resolveRefSync,
} from "./ref_sync.ts";
import {
  cachedReferenceLogps,
  computeReferenceLogpsAsync,
  readReferenceFile,
  type ReferenceLogps,
  writeReferenceFile,
} from "./ref_cache.ts";
import { learningRate, type ScheduleSpec, validateSchedule } from "./schedule.ts";
import { implicitRewardsTracker } from "./trackers.ts";
import { TOKEN_STAT_KEYS } from "./token_stats.ts";
import { trlMetricsCallback } from "./trl_metrics.ts";
import { permutation } from "./train_data.ts";
import type {
  Metrics,
  ObjectiveScores,
  PairScores,
  PairValues,
  PreferenceScorer,
  TrainData,
  TrainObjective,
} from "./types.ts";

/**
 * Where reference scores come from, when the objective needs them.
 * - `precompute` (default): score every pair once before training — with `scorer`, or with the
 *   policy itself before its first update (TRL's `precompute_ref_log_probs`, no second model in
 *   memory); cached on disk under `cacheDir` when given (keyed by weights and data, reused across
 *   runs), and always stored in the run directory so a resumed run uses the same values.
 * - `model`: a frozen copy of the policy scored on every batch (no gradient).
 */
export type ReferenceOption<B> =
  | { kind: "precompute"; scorer?: PreferenceScorer<B, unknown>; cacheDir?: string }
  | { kind: "model"; scorer: PreferenceScorer<B, unknown> };

/** Options of {@link train}. */
export interface TrainOptions<B> {
  /** The model being trained. */
  policy: PreferenceScorer<B, unknown>;
  /** Training pairs. */
  data: TrainData<B>;
  /** The objective (e.g. `dpo({ beta: 0.1 })`); `params.beta` scales the logged rewards. */
  objective: TrainObjective;
  /** Optimizer and its hyper-parameters (`{ name: "adamw", weightDecay: 0 }`). */
  optimizer: OptimizerSpec;
  /** Base learning rate. */
  lr: number;
  /** Learning-rate schedule (default constant, no warm-up). */
  schedule?: ScheduleSpec;
  /** Pairs per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer step (default 1). The last window of an epoch may be shorter. */
  gradAccum?: number;
  /** Passes over the data (default 1); ignored when `maxSteps` is set. */
  epochs?: number;
  /** Optimizer steps to run (overrides `epochs`). */
  maxSteps?: number;
  /** Clip the global gradient norm to this value (default: no clipping; the norm is logged). */
  maxGradNorm?: number;
  /** Seed of the data order (default 0): epoch `e` uses a permutation seeded by (seed, e). */
  seed?: number;
  /** Shuffle each epoch (default true); false keeps data order. */
  shuffle?: boolean;
  /** Reference scores (default `{ kind: "precompute" }` when the objective needs them). */
  reference?: ReferenceOption<B>;
  /** Held-out pairs, evaluated every `evalEvery` steps and at the end. */
  evalData?: TrainData<B>;
  /** Steps between evaluations (default: only at the end). */
  evalEvery?: number;
  /** Pairs per eval forward pass (default `batchSize`). */
  evalBatchSize?: number;
  /** Run directory for records and checkpoints (default: none, records kept in memory only). */
  outDir?: string;
  /** Steps between checkpoints (default 0: only at the end; needs `outDir`). */
  checkpointEvery?: number;
  /** Checkpoints kept (default 2). */
  keepCheckpoints?: number;
  /** Continue from the latest checkpoint in `outDir` when there is one (default false). */
  resume?: boolean;
  /** Trackers (see `callbacks.ts`). */
  callbacks?: TrainCallback<B>[];
  /**
   * Per-pair rows in `examples.jsonl` every this many steps (default 1); false for none. (The
   * built-in `implicitRewardsTracker`; one passed in `callbacks` replaces it.)
   */
  examplesEvery?: number | false;
  /** Progress display (default auto); false for none. */
  progress?: ProgressOptions | false;
  /** Extra fields stored in `config.json` under `user` (e.g. the CLI config). */
  config?: Record<string, unknown>;
  /** Stop cleanly after the current step (checkpoint written) when aborted. */
  signal?: AbortSignal;
  /**
   * A moving reference (TR-DPO; TRL's `sync_ref_model`): every `every` steps the reference
   * becomes `alpha·policy + (1 − alpha)·reference` (defaults 0.6 and 512; see `ref_sync.ts`).
   * Precomputed reference log-probs are recomputed after each sync. Checkpoints keep the moved
   * reference (`reference.safetensors`), so a resumed run continues it.
   */
  syncReference?: RefSyncSpec;
  /**
   * Replace a previous run of ours in `outDir` (default true; the CLI's default is false). Only
   * the files that run wrote are removed; a folder of other files is always refused.
   */
  overwrite?: boolean;
  /** Content hashes of the inputs (`data`, `model`, `config`); a resume must see the same. */
  inputs?: Record<string, string>;
  /** Where notes go (an incomplete checkpoint ignored, a run replaced); default stderr. */
  warn?: (msg: string) => void;
}

/** What {@link train} returns. */
export interface TrainResult {
  /** Optimizer steps completed. */
  steps: number;
  /** The steps records of this process (a resumed run: from the resume point on). */
  records: RunStepRecord[];
  /** Eval records of this process. */
  evals: RunStepRecord[];
  /** End-of-run summary (`train_runtime`, `train_loss`, ...). */
  summary: Record<string, number>;
  /** The run directory, when there is one. */
  runDir?: string;
  /** True when the run stopped early on `signal`. */
  stopped: boolean;
  /** Rows trackers appended, by file name, when the run has no directory. */
  rows: Record<string, Record<string, unknown>[]>;
}

/**
 * A loss (or gradient norm) that is not finite: the step is not applied, and the run stops with
 * the step number and the source indices of the pairs whose loss is not finite. Records written
 * before it stay intact; `status.json` says `diverged`.
 */
export class TrainingDivergedError extends RangeError {
  /** The step (1-based) whose loss was not finite. */
  readonly step: number;
  /** Source pair indices with a non-finite per-pair loss. */
  readonly pairs: number[];

  constructor(step: number, pairs: number[], detail: string) {
    super(`training diverged at step ${step}: ${detail}`);
    this.name = "TrainingDivergedError";
    this.step = step;
    this.pairs = pairs;
  }
}

function checkInt(x: unknown, name: string, min: number): number {
  if (!(typeof x === "number" && Number.isInteger(x) && x >= min)) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${JSON.stringify(x)}`);
  }
  return x;
}

function epochSeed(seed: number, epoch: number): number {
  return (seed ^ Math.imul(epoch + 1, 0x9e3779b1)) | 0;
}

/** The plan of a run: data order and step layout. */
interface Plan {
  n: number;
  bs: number;
  accum: number;
  microPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
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

/** Reference values by data position, for the train and eval data. */
interface RefTables {
  train?: ReferenceLogps;
  eval?: ReferenceLogps;
}

function pairIds<B>(data: TrainData<B>, positions: readonly number[]): number[] {
  return positions.map((p) => data.pairIndex?.(p) ?? p);
}

/** Reference scores of one batch as tensors. */
interface RefTensors {
  chosen: tf.Tensor1D;
  rejected: tf.Tensor1D;
  /** Mismatched-completion scores (KTO). */
  kl?: tf.Tensor1D;
  /** Per-token reference log-probs, when a reference model scores with tokens (SGDPO, LD-DPO). */
  tokens?: { chosen: tf.Tensor2D; rejected: tf.Tensor2D };
}

/** Plain numbers of a tensor, read asynchronously (webgpu under Deno cannot read synchronously). */
async function values(t: tf.Tensor): Promise<number[]> {
  return Array.from(await t.data() as Float32Array);
}

async function readRef(
  r: RefTensors,
): Promise<{ chosen: number[]; rejected: number[]; kl?: number[] }> {
  const [chosen, rejected, kl] = await Promise.all([
    values(r.chosen),
    values(r.rejected),
    r.kl ? values(r.kl) : undefined,
  ]);
  return kl ? { chosen, rejected, kl } : { chosen, rejected };
}

function disposeRef(r: RefTensors): void {
  r.chosen.dispose();
  r.rejected.dispose();
  r.kl?.dispose();
  r.tokens?.chosen.dispose();
  r.tokens?.rejected.dispose();
}

/** The objective's input from the policy's scores and the reference's. */
function objectiveScores(s: PairScores, ref: RefTensors | undefined): ObjectiveScores {
  const out: ObjectiveScores = {
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
    const own = out.tokens as Record<string, unknown> | undefined;
    if (ref.tokens && own && !own.refChosen) {
      out.tokens = { ...own, refChosen: ref.tokens.chosen, refRejected: ref.tokens.rejected };
    }
    if (s.klPolicy && ref.kl) out.kl = { policy: s.klPolicy, ref: ref.kl };
  }
  return out;
}

/** Keep (past the enclosing tidy/tape) the per-pair tensors the records need. */
function keepScores(kept: Record<string, tf.Tensor>, s: PairScores, perPair: tf.Tensor): void {
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

/** Per-pair values from kept tensors (read back from the device). */
async function readScores(
  kept: Record<string, tf.Tensor>,
  ids: number[],
  ref: { chosen: number[]; rejected: number[]; kl?: number[] } | undefined,
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
  validate(opts);
  const plan = makePlan(opts);
  const { policy, data, objective } = opts;
  const seed = opts.seed ?? 0;
  const shuffle = opts.shuffle ?? true;
  const beta = typeof objective.params.beta === "number" ? objective.params.beta : 1;
  const vars = policy.variables();
  const names = policy.variableNames?.() ?? vars.map((v) => v.name);
  if (names.length !== vars.length) {
    throw new RangeError(`variableNames() gave ${names.length} names for ${vars.length} variables`);
  }
  const optimizer = createOptimizer(opts.optimizer);
  const settings: Record<string, unknown> = {
    seed,
    shuffle,
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
  const warn = opts.warn ?? ((m: string) => console.error(m));
  if (opts.outDir && opts.resume) await checkResumeDir(opts.outDir);
  else if (opts.outDir) {
    const note = await prepareRunDir(opts.outDir, { overwrite: opts.overwrite ?? true });
    if (note) warn(`note: ${note}`);
  }

  // Resume: restore weights, optimizer, callback state, position.
  let startStep = 0, priorSeconds = 0;
  let resumedFrom: CheckpointState | undefined;
  let resumedDir: string | undefined;
  const callbacks: TrainCallback<B>[] = [...(opts.callbacks ?? [])];
  if (opts.examplesEvery !== false && !callbacks.some((c) => c.name === "implicit_rewards")) {
    callbacks.unshift(
      implicitRewardsTracker({ every: opts.examplesEvery ?? 1 }) as TrainCallback<B>,
    );
  }
  if (!callbacks.some((c) => c.name === "trl_metrics")) {
    callbacks.push(trlMetricsCallback() as TrainCallback<B>);
  }
  if (opts.progress !== false) callbacks.push(progressCallback(opts.progress) as TrainCallback<B>);
  if (opts.resume && opts.outDir) {
    const latest = await latestUsableCheckpoint(opts.outDir, warn);
    {
      const ckpt = latest.checkpoint;
      checkResumeSettings(ckpt.state.settings, settings, latest.dir);
      assignWeights(vars, names, ckpt.weights);
      optimizer.load(ckpt.optimizer, vars);
      for (const cb of callbacks) {
        if (cb.loadState && ckpt.state.callbacks[cb.name] !== undefined) {
          cb.loadState(ckpt.state.callbacks[cb.name]);
        }
      }
      // A stateful objective continues from its statistics at the checkpoint, not from zero.
      objective.reset?.();
      if (objective.loadState && ckpt.state.objective) objective.loadState(ckpt.state.objective);
      startStep = ckpt.state.step;
      priorSeconds = ckpt.state.elapsedSeconds;
      resumedFrom = ckpt.state;
      resumedDir = latest.dir;
    }
  }

  if (!resumedFrom) {
    // A fresh run: objectives with running statistics start from scratch. (Checkpoints of an
    // earlier run of ours were removed with it by prepareRunDir.)
    objective.reset?.();
  }

  // Reference scores.
  const needsRef = objective.needsReference;
  const refOpt: ReferenceOption<B> = opts.reference ?? { kind: "precompute" };
  const refs: RefTables = {};
  const trainPath = opts.outDir ? `${opts.outDir}/reference_logps.safetensors` : undefined;
  const evalPath = opts.outDir ? `${opts.outDir}/reference_logps_eval.safetensors` : undefined;
  if (needsRef && refOpt.kind === "precompute") {
    if (resumedFrom) {
      refs.train = await readReferenceFile(trainPath!);
      if (opts.evalData) refs.eval = await readReferenceFile(evalPath!);
    } else {
      const scorer = refOpt.scorer ?? policy;
      const bs = opts.evalBatchSize ?? plan.bs;
      const cacheDir = refOpt.cacheDir;
      refs.train = await cachedReferenceLogps(scorer, data, { cacheDir, batchSize: bs });
      if (trainPath) {
        registerRunFile(opts.outDir!, "reference_logps.safetensors");
        await writeReferenceFile(trainPath, refs.train);
      }
      if (opts.evalData) {
        refs.eval = await cachedReferenceLogps(scorer, opts.evalData, {
          cacheDir,
          batchSize: bs,
        });
        if (evalPath) {
          registerRunFile(opts.outDir!, "reference_logps_eval.safetensors");
          await writeReferenceFile(evalPath, refs.eval);
        }
      }
    }
  }

  const mover: ReferenceMover | undefined = opts.syncReference && needsRef
    ? referenceMover({
      spec: opts.syncReference,
      policy,
      kind: refOpt.kind,
      scorer: refOpt.scorer,
      rescore: async (scorer) => {
        const batchSize = opts.evalBatchSize ?? plan.bs;
        refs.train = await computeReferenceLogpsAsync(scorer, data, { batchSize });
        if (trainPath) await writeReferenceFile(trainPath, refs.train);
        if (opts.evalData) {
          refs.eval = await computeReferenceLogpsAsync(scorer, opts.evalData, { batchSize });
          if (evalPath) await writeReferenceFile(evalPath, refs.eval);
        }
      },
    })
    : undefined;
  if (mover && resumedFrom) {
    await mover.restore(`${resumedDir}/reference.safetensors`, resumedFrom.step);
  }

  const writer = opts.outDir
    ? await RunWriter.create(opts.outDir, {
      config: {
        created: new Date().toISOString(),
        backend: backendReport() ?? { name: tf.getBackend() },
        train: {
          ...settings,
          reference: needsRef ? refOpt.kind : "none",
          evalEvery: opts.evalEvery ?? null,
          checkpointEvery: opts.checkpointEvery ?? 0,
          stepsPerEpoch: plan.stepsPerEpoch,
          callbacks: callbacks.map((c) => c.name),
        },
        user: opts.config ?? {},
      },
      resumeStep: resumedFrom?.step,
    })
    : undefined;
  writer?.writeStatus({ state: "running", step: startStep });

  const memoryRows: Record<string, Record<string, unknown>[]> = {};
  const rowsAt = (step: number) => ({
    append(file: string, rows: Record<string, unknown>[]) {
      if (writer) writer.appendRows(file, step, rows);
      else (memoryRows[file] ??= []).push(...rows.map((r) => ({ step, ...r })));
    },
  });
  const base = (step: number, epoch: number): RunContext<B> => ({
    step,
    totalSteps: plan.totalSteps,
    epoch,
    policy,
    objective,
    beta,
    data,
    runDir: opts.outDir,
    rows: rowsAt(step),
  });
  const epochAt = (step: number) =>
    Math.floor(step / plan.stepsPerEpoch) + (step % plan.stepsPerEpoch) / plan.stepsPerEpoch;

  const t0 = performance.now();
  const elapsed = () => priorSeconds + (performance.now() - t0) / 1000;
  const records: RunStepRecord[] = [];
  const evals: RunStepRecord[] = [];

  // Begin.
  {
    const ctx: BeginContext<B> = { ...base(startStep, epochAt(startStep)), resumed: !!resumedFrom };
    const rec: RunStepRecord = { step: 0, epoch: 0 };
    for (const cb of callbacks) {
      if (cb.onTrainBegin) mergeMetrics(rec, await cb.onTrainBegin(ctx), cb.name);
    }
    if (!resumedFrom && Object.keys(rec).length > 2) {
      writer?.appendStep(rec);
      records.push(rec);
    }
  }

  // Reference scores of a batch: looked up, scored by the frozen model, or none.
  const refScores = (
    batch: B,
    positions: readonly number[],
    table: ReferenceLogps | undefined,
  ): RefTensors | undefined => {
    if (!needsRef) return undefined;
    if (refOpt.kind === "model") {
      return tf.tidy(() => {
        const s = refOpt.scorer.scores(batch);
        const t = s.tokens as
          | { policyChosen?: tf.Tensor2D; policyRejected?: tf.Tensor2D }
          | undefined;
        const tokens = t?.policyChosen && t.policyRejected
          ? { tokens: { chosen: t.policyChosen, rejected: t.policyRejected } }
          : {};
        return { chosen: s.policyChosen, rejected: s.policyRejected, kl: s.klPolicy, ...tokens };
      }) as RefTensors;
    }
    const t = table!;
    return {
      chosen: tf.tensor1d(positions.map((p) => t.chosen[p])),
      rejected: tf.tensor1d(positions.map((p) => t.rejected[p])),
      ...(t.kl ? { kl: tf.tensor1d(positions.map((p) => t.kl![p])) } : {}),
    };
  };

  let epochOrder: { epoch: number; order: number[] } | undefined;
  const orderOf = (epoch: number) => {
    if (epochOrder?.epoch !== epoch) {
      epochOrder = {
        epoch,
        order: shuffle
          ? permutation(plan.n, epochSeed(seed, epoch))
          : Array.from({ length: plan.n }, (_, i) => i),
      };
    }
    return epochOrder.order;
  };

  let stopped = false;
  let step = startStep;
  try {
    for (; step < plan.totalSteps; step++) {
      const tStep = performance.now();
      const epoch = Math.floor(step / plan.stepsPerEpoch);
      const window = step % plan.stepsPerEpoch;
      const order = orderOf(epoch);
      const micro: number[][] = [];
      for (
        let m = window * plan.accum;
        m < Math.min((window + 1) * plan.accum, plan.microPerEpoch);
        m++
      ) {
        micro.push(order.slice(m * plan.bs, Math.min((m + 1) * plan.bs, plan.n)));
      }
      const windowPairs = micro.reduce((a, m) => a + m.length, 0);
      const lr = learningRate(step, plan.totalSteps, { lr: opts.lr, schedule: opts.schedule });

      const batches: B[] = [];
      const parts: PairValues[] = [];
      const extras: Record<string, { sum: number; count: number }> = {};
      let accum: tf.Tensor[] | undefined;
      try {
        for (const positions of micro) {
          const batch = data.batch(positions);
          batches.push(batch);
          const ref = refScores(batch, positions, refs.train);
          const refValues = ref && await readRef(ref);
          const kept: Record<string, tf.Tensor> = {};
          let grads: tf.NamedTensorMap;
          try {
            const lossOf = (s: PairScores) => {
              const { losses, extras: ex } = objective.loss(objectiveScores(s, ref));
              const perPair = losses.rank === 0
                ? tf.mul(losses, tf.onesLike(s.policyChosen))
                : losses;
              keepScores(kept, s, perPair);
              for (const [k, v] of Object.entries(ex ?? {})) kept[`extra:${k}`] = tf.keep(v);
              return tf.div(tf.sum(perPair), windowPairs) as tf.Scalar;
            };
            // A data-parallel scorer (lib/train/parallel.ts) splits the batch across threads.
            const out = isParallelScorer(policy)
              ? await policy.valueAndGrads(batch, lossOf)
              : tf.variableGrads(() => lossOf(policy.scores(batch)), vars);
            out.value.dispose();
            grads = out.grads;
          } finally {
            if (ref) disposeRef(ref);
          }
          const ids = pairIds(data, positions);
          const part = await readScores(kept, ids, refValues);
          const losses = part.losses;
          for (const [k, t] of Object.entries(kept)) {
            if (!k.startsWith("extra:")) continue;
            const name = k.slice(6), vals = await t.data();
            const e = (extras[name] ??= { sum: 0, count: 0 });
            if (vals.length === positions.length) {
              for (const v of vals) e.sum += v;
              e.count += vals.length;
            } else if (vals.length === 1) {
              e.sum += vals[0] * positions.length;
              e.count += positions.length;
            }
          }
          Object.values(kept).forEach((t) => t.dispose());
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
          parts.push(part);
          const g = vars.map((v) => grads[v.name] ?? tf.zerosLike(v));
          if (!accum) accum = g;
          else {
            const next = accum.map((a, i) => tf.add(a, g[i]));
            accum.forEach((t) => t.dispose());
            g.forEach((t) => t.dispose());
            accum = next;
          }
        }
        // The norm is read here (asynchronously) because a non-finite one must stop the run
        // before the update is applied.
        const clipped = await clipByGlobalNormAsync(accum!, opts.maxGradNorm);
        try {
          if (!Number.isFinite(clipped.norm)) {
            const ids = parts.flatMap((p) => p.pairIndex);
            throw new TrainingDivergedError(
              step + 1,
              ids,
              `non-finite gradient norm (${clipped.norm}) over pairs ${ids.join(", ")}`,
            );
          }
          optimizer.apply(vars, clipped.grads, lr);
        } finally {
          clipped.grads.forEach((t) => t.dispose());
        }
        await mover?.afterStep(step + 1);
        const values = concatPairs(parts);
        const stepSeconds = (performance.now() - tStep) / 1000;
        const rec: RunStepRecord = {
          step: step + 1,
          epoch: epochAt(step + 1),
          lr,
          ...pairMetrics(values, beta),
          grad_norm: clipped.norm,
          pairs: windowPairs,
          ...(mover ? { "reference/syncs": mover.syncs } : {}),
        };
        for (const [k, e] of Object.entries(extras)) {
          const key = k in rec ? `objective/${k}` : k;
          rec[key] = e.count ? e.sum / e.count : NaN;
        }
        const ctx: StepContext<B> = {
          ...base(step + 1, epochAt(step + 1)),
          lr,
          metrics: { ...rec } as Metrics,
          pairs: values,
          batches,
          stepSeconds,
        };
        for (const cb of callbacks) {
          if (cb.onStepEnd) mergeMetrics(rec, await cb.onStepEnd(ctx), cb.name);
        }
        rec.step_time_s = stepSeconds;
        rec.time_s = elapsed();
        writer?.appendStep(rec);
        records.push(rec);
      } finally {
        accum?.forEach((t) => t.dispose());
      }

      const done = step + 1;
      if (
        opts.evalData &&
        ((opts.evalEvery && done % opts.evalEvery === 0) || done === plan.totalSteps)
      ) {
        evals.push(await evaluate(done));
      }
      const last = done === plan.totalSteps;
      const abort = opts.signal?.aborted === true;
      const every = opts.checkpointEvery ?? 0;
      if (opts.outDir && (last || abort || (every > 0 && done % every === 0))) {
        await checkpoint(done);
      }
      if (abort && !last) {
        stopped = true;
        step = done;
        break;
      }
    }
  } catch (e) {
    if (e instanceof TrainingDivergedError) {
      writer?.writeStatus({
        state: "diverged",
        step: e.step - 1,
        message: e.message,
        pairs: e.pairs,
      });
    }
    throw e;
  }

  async function evaluate(done: number): Promise<RunStepRecord> {
    const ed = opts.evalData!;
    const bs = opts.evalBatchSize ?? plan.bs;
    const parts: PairValues[] = [];
    for (let i = 0; i < ed.size; i += bs) {
      const positions = Array.from({ length: Math.min(bs, ed.size - i) }, (_, k) => i + k);
      const batch = ed.batch(positions);
      const ref = refScores(batch, positions, refs.eval);
      const refValues = ref && await readRef(ref);
      const kept: Record<string, tf.Tensor> = {};
      tf.tidy(() => {
        const s = policy.scores(batch);
        const { losses } = objective.loss(objectiveScores(s, ref));
        const perPair = losses.rank === 0 ? tf.mul(losses, tf.onesLike(s.policyChosen)) : losses;
        keepScores(kept, s, perPair);
      });
      if (ref) disposeRef(ref);
      parts.push(await readScores(kept, pairIds(ed, positions), refValues));
      Object.values(kept).forEach((t) => t.dispose());
    }
    const values = concatPairs(parts);
    const metrics = pairMetrics(values, beta);
    const rec: RunStepRecord = { step: done, epoch: epochAt(done), ...metrics, pairs: ed.size };
    const ctx: EvalContext<B> = {
      ...base(done, epochAt(done)),
      metrics,
      pairs: values,
      evalData: ed,
    };
    for (const cb of callbacks) {
      if (cb.onEvalEnd) mergeMetrics(rec, await cb.onEvalEnd(ctx), cb.name);
    }
    writer?.appendEval(rec);
    return rec;
  }

  async function checkpoint(done: number): Promise<void> {
    const cbState: Record<string, unknown> = {};
    for (const cb of callbacks) if (cb.saveState) cbState[cb.name] = cb.saveState();
    const opt = await optimizer.state();
    const state: CheckpointState = {
      format: "dpo-lab-trainer-checkpoint/1",
      step: done,
      position: {
        epoch: Math.floor(done / plan.stepsPerEpoch),
        window: done % plan.stepsPerEpoch,
      },
      seed,
      optimizer: { spec: opt.spec, steps: opt.steps },
      callbacks: cbState,
      ...(objective.saveState ? { objective: await objective.saveState() } : {}),
      elapsedSeconds: elapsed(),
      settings,
    };
    registerRunFile(opts.outDir!, "checkpoints");
    await saveCheckpoint(opts.outDir!, {
      state,
      weights: await readWeights(vars, names),
      optimizer: opt,
    }, {
      keep: opts.keepCheckpoints,
      ...(mover ? { extra: { "reference.safetensors": await mover.encode() } } : {}),
    });
  }

  // End. After a resume the records of earlier processes are in steps.jsonl.
  const runtime = elapsed();
  const all = writer ? await readJsonl<RunStepRecord>(`${opts.outDir}/steps.jsonl`) : records;
  const losses = all.filter((r) => r.step > 0).map((r) => r.loss ?? NaN);
  const summary: Record<string, number> = {
    train_runtime: runtime,
    train_steps_per_second: (step - startStep) / Math.max(1e-9, runtime - priorSeconds),
    train_samples_per_second: ((step - startStep) * plan.bs * plan.accum) /
      Math.max(1e-9, runtime - priorSeconds),
    train_loss: losses.reduce((a, b) => a + b, 0) / Math.max(1, losses.length),
    step,
    epoch: epochAt(step),
  };
  const endCtx: EndContext<B> = { ...base(step, epochAt(step)), summary };
  for (const cb of callbacks) {
    if (cb.onTrainEnd) mergeMetrics(summary, await cb.onTrainEnd(endCtx), cb.name);
  }
  optimizer.dispose();
  mover?.dispose();
  if (!stopped) writer?.writeSummary(summary);
  writer?.writeStatus({ state: stopped ? "stopped" : "completed", step });
  return { steps: step, records, evals, summary, runDir: opts.outDir, stopped, rows: memoryRows };
}
