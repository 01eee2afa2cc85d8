/**
 * What every `lab train` run shares before its model kind is known: the command-line overrides,
 * the objective built from the config, the options handed to `train()` whatever the model, and the
 * input hashes a resume must match.
 *
 * @module
 */
import { createObjective } from "../../lib/objectives/mod.ts";
import type { MassTrackerConfig, TrainCallback, TrainConfig } from "../../lib/train/mod.ts";
import type { TrainObjective } from "../../lib/train/mod.ts";
import { splitData } from "../../lib/train/mod.ts";
import { faultCallbacks } from "../../lib/train/internal.ts";
import type { TrainData } from "../../lib/core/mod.ts";
import { eventLoopTurn, sha256, sha256Dir } from "./train_guard.ts";

/** Overrides of a config from the command line or a caller. */
export interface RunConfigOptions {
  /** Replace `out`. */
  out?: string;
  /** Replace `steps` (drops `epochs`). */
  steps?: number;
  /** Set `resume`. */
  resume?: boolean;
  /** Progress display off. */
  quiet?: boolean;
  /** Directory the config's relative paths are resolved against (default: the working directory). */
  baseDir?: string;
  /** Replace a previous run of ours in `out` (default false; see `run_dir.ts`). */
  overwrite?: boolean;
  /** Train without the data file's invalid rows (listed) instead of refusing the file. */
  skipInvalid?: boolean;
  /** Stop after the current step (checkpointed) when aborted (SIGINT/SIGTERM in `lab train`). */
  signal?: AbortSignal;
  /** The config file, named in errors about its fields. */
  configPath?: string;
  /** Where notes about skipped rows go (default stderr). */
  log?: (msg: string) => void;
}

/** The `train()` options that do not depend on the model kind, as {@link commonTrainOptions} builds them. */
export type CommonTrainOptions = Awaited<ReturnType<typeof commonTrainOptions>>;

/** One configured run: the effective config, its objective and the shared `train()` options. */
export interface RunContext {
  /** The config with the caller's overrides applied. */
  cfg: TrainConfig;
  /** The caller's options. */
  opts: RunConfigOptions;
  /** The objective named in the config. */
  objective: TrainObjective;
  /** Whether the objective reads per-token scores. */
  needsTokens: boolean;
  /** The run's seed (`cfg.seed`, default 0). */
  seed: number;
  /** Options for `train()` shared by every model kind. */
  common: CommonTrainOptions;
  /** Where notes about skipped rows go. */
  log: (msg: string) => void;
  /** A path of the config resolved against `opts.baseDir`. */
  resolve: (p: string) => string;
}

/**
 * `p` resolved against `base` unless it is absolute or there is no base.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolvePath } from "./train_context.ts";
 * assert.equal(resolvePath("data.jsonl", "/runs/"), "/runs/data.jsonl");
 * assert.equal(resolvePath("/abs.jsonl", "/runs"), "/abs.jsonl");
 * assert.equal(resolvePath("data.jsonl"), "data.jsonl");
 * ```
 */
export function resolvePath(p: string, base?: string): string {
  return !base || p.startsWith("/") ? p : `${base.replace(/\/$/, "")}/${p}`;
}

/**
 * The run context of `config` with the overrides in `opts`: an unknown objective or bad
 * parameter is refused naming the config file and its `objective` field.
 *
 * @example
 * ```ts ignore
 * const run = await runContext(parseTrainConfig(json, "run.json"), { steps: 10 });
 * console.log(run.common.maxSteps); // 10
 * ```
 */
export async function runContext(
  config: TrainConfig,
  opts: RunConfigOptions,
): Promise<RunContext> {
  const cfg = withOverrides(config, opts);
  const objective = configuredObjective(cfg, opts.configPath);
  return {
    cfg,
    opts,
    objective,
    needsTokens: (objective as { needsTokens?: boolean }).needsTokens === true,
    seed: cfg.seed ?? 0,
    common: await commonTrainOptions(config, cfg, opts, objective),
    log: opts.log ?? ((m: string) => console.error(m)),
    resolve: (p: string) => resolvePath(p, opts.baseDir),
  };
}

function withOverrides(config: TrainConfig, opts: RunConfigOptions): TrainConfig {
  const cfg: TrainConfig = { ...config };
  if (opts.out !== undefined) cfg.out = opts.out;
  if (opts.steps !== undefined) {
    cfg.steps = opts.steps;
    delete cfg.epochs;
  }
  if (opts.resume !== undefined) cfg.resume = opts.resume;
  return cfg;
}

function configuredObjective(cfg: TrainConfig, configPath?: string): TrainObjective {
  try {
    return createObjective(cfg.objective.name, cfg.objective.params ?? {});
  } catch (e) {
    const at = configPath ? `${configPath}: ` : "";
    const msg = `${at}field 'objective': ${(e as Error).message}`;
    throw e instanceof RangeError ? new RangeError(msg) : new TypeError(msg);
  }
}

/**
 * The `train()` options of `cfg` that every model kind shares; `config` (as given, before the
 * overrides) is stored in the run's `config.json`.
 *
 * @example
 * ```ts ignore
 * const common = await commonTrainOptions(config, config, {}, dpo());
 * await train({ ...common, policy, data });
 * ```
 */
export async function commonTrainOptions(
  config: TrainConfig,
  cfg: TrainConfig,
  opts: RunConfigOptions,
  objective: TrainObjective,
) {
  return {
    objective,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    schedule: cfg.schedule,
    batchSize: cfg.batchSize,
    gradAccum: cfg.gradAccum,
    epochs: cfg.epochs,
    maxSteps: cfg.steps,
    maxGradNorm: cfg.maxGradNorm,
    seed: cfg.seed ?? 0,
    shuffle: cfg.shuffle,
    evalEvery: cfg.eval?.every,
    evalBatchSize: cfg.eval?.batchSize,
    outDir: resolvePath(cfg.out, opts.baseDir),
    checkpointEvery: cfg.checkpointEvery,
    keepCheckpoints: cfg.keepCheckpoints,
    resume: cfg.resume,
    syncReference: cfg.syncReference,
    examplesEvery: cfg.examplesEvery ??
      cfg.trackers?.find((t) => t.name === "implicit_rewards")?.every,
    progress: opts.quiet ? false as const : undefined,
    config: config as unknown as Record<string, unknown>,
    overwrite: opts.overwrite ?? false,
    signal: opts.signal,
    inputs: await inputHashes(cfg, opts.baseDir),
  };
}

/**
 * Content hashes a resume must match: the data file (or inline pairs), the model folder (causal
 * LMs; toy models are described by the config), and the config apart from where and how it runs.
 */
async function inputHashes(cfg: TrainConfig, baseDir?: string): Promise<Record<string, string>> {
  const { out: _o, resume: _r, backend: _b, threads: _t, steps: _s, epochs: _e, ...rest } = cfg;
  const out: Record<string, string> = { config: await sha256(JSON.stringify(rest)) };
  if ("file" in cfg.data) {
    out.data = await sha256(await Deno.readFile(resolvePath(cfg.data.file, baseDir)));
  }
  if ("dir" in cfg.model) out.model = await sha256Dir(resolvePath(cfg.model.dir, baseDir));
  return out;
}

/**
 * The callbacks every run gets: the test fault points, and (when signals can stop the run) one
 * event-loop turn per step so a signal is seen between steps.
 *
 * @example
 * ```ts ignore
 * const callbacks: TrainCallback<ToyBatch>[] = extraCallbacks(run);
 * ```
 */
export function extraCallbacks<B>(run: RunContext): TrainCallback<B>[] {
  return [
    ...faultCallbacks<B>(),
    ...(run.opts.signal ? [eventLoopTurn() as TrainCallback<B>] : []),
  ];
}

/**
 * `data` split into training and evaluation parts when the config asks for evaluation.
 *
 * @example
 * ```ts ignore
 * const { train: trainData, evaluation } = splitForEval(run, toyData(ids));
 * ```
 */
export function splitForEval<B>(
  run: RunContext,
  data: TrainData<B>,
): { train: TrainData<B>; evaluation: TrainData<B> | undefined } {
  const { cfg, seed } = run;
  return cfg.eval
    ? splitData(data, { evalFraction: cfg.eval.fraction, seed })
    : { train: data, evaluation: undefined };
}

/**
 * The training positions a mass tracker follows: the first `t.pairs` (default 64) of `size`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { trackedPositions } from "./train_context.ts";
 * assert.deepEqual(trackedPositions({ name: "mass", pairs: 3 }, 10), [0, 1, 2]);
 * assert.equal(trackedPositions({ name: "mass" }, 100).length, 64);
 * assert.deepEqual(trackedPositions({ name: "mass" }, 2), [0, 1]);
 * ```
 */
export function trackedPositions(t: MassTrackerConfig, size: number): number[] {
  return Array.from({ length: Math.min(t.pairs ?? 64, size) }, (_, i) => i);
}
