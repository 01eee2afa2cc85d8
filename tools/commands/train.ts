/**
 * `lab train --config FILE`: run a configured training to a run directory, and
 * `lab import-trl FILE --out DIR`: convert a Hugging Face `trainer_state.json` into one.
 *
 * @example
 * ```sh
 * deno task lab train --config runs/toy.json --steps 50
 * deno task lab import-trl data/runs/trl_sample/trainer_state.json --out out/runs/trl_sample
 * ```
 *
 * @module
 */
import { initBackend } from "../../lib/backend.ts";
import { collateProbes } from "../../lib/data/mod.ts";
import { loadPreferenceFile, loadUnpairedFile } from "../../lib/data/mod.ts";
import { probeRowsFromPairs } from "../../lib/data/mod.ts";
import { tokenizePairs, tokenizeProbes, tokenizeUnpaired } from "../../lib/data/mod.ts";
import { loadTokenizer } from "../../lib/data/mod.ts";
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import { createLinearSoftmax, createUnconstrainedFeatures } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { createObjective } from "../../lib/objectives/mod.ts";
import type { TrainCallback } from "../../lib/train/mod.ts";
import { parseTrainConfig, type ToyModelConfig, type TrainConfig } from "../../lib/train/mod.ts";
import { TRAIN_HELP } from "./train_help.ts";
import { lmScorer, lmUnpairedScorer, probeSet } from "../../lib/scoring/mod.ts";
import { isParallelScorer, parallelLMScorer } from "../../lib/scoring/mod.ts";
import {
  eventLoopTurn,
  markSignalled,
  modelContext,
  refuseInvalidRows,
  refuseOverLong,
  reportTokenizeSkips,
  sha256,
  sha256Dir,
  stopOnSignals,
} from "./train_guard.ts";
import { readRun, RunWriter, writeRun } from "../../lib/train/mod.ts";
import { registerRunFile } from "../../lib/train/run_dir.ts";
import { rowLengths } from "../../lib/data/context.ts";
import { faultCallbacks } from "../../lib/train/fault.ts";
import { probabilityMassTracker } from "../../lib/analysis/mod.ts";
import {
  type ReferenceOption,
  train,
  type TrainOptions,
  type TrainResult,
} from "../../lib/train/mod.ts";
import { preferenceData, splitData, toyData, unpairedData } from "../../lib/train/mod.ts";
import type { KtoBatch } from "../../lib/data/mod.ts";
import type { TrainObjective } from "../../lib/train/mod.ts";
import type { PreferenceScorer, ToyBatch, ToyProbes, TrainData } from "../../lib/core/mod.ts";

const TRAIN_USAGE = "usage: lab train --config FILE [--out DIR] [--steps N] [--resume] " +
  "[--overwrite] [--skip-invalid] [--backend NAME] [--quiet]";

function flagValue(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new TypeError(`${flag} needs a value`);
  return v;
}

function checkFlags(args: string[], known: Record<string, boolean>): void {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) continue;
    if (!(a in known)) throw new TypeError(`unknown option ${a}`);
    if (known[a]) i++;
  }
}

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

function resolvePath(p: string, base?: string): string {
  return !base || p.startsWith("/") ? p : `${base.replace(/\/$/, "")}/${p}`;
}

function buildToy(spec: ToyModelConfig, seed: number) {
  const common = {
    tokens: spec.tokens,
    prompts: spec.prompts,
    dim: spec.dim,
    seed: spec.seed ?? seed,
  };
  return spec.kind === "unconstrained"
    ? createUnconstrainedFeatures(common)
    : createLinearSoftmax(common);
}

/**
 * Run a validated configuration (see `config.ts`): builds the model, data, objective and
 * trackers, trains to `config.out`, and (causal LMs) saves the final model to `<out>/model`.
 *
 * @example
 * ```ts ignore
 * const result = await runConfig(parseTrainConfig(json, "run.json"), { steps: 10 });
 * console.log(result.summary.train_loss);
 * ```
 */
export async function runConfig(
  config: TrainConfig,
  opts: RunConfigOptions = {},
): Promise<TrainResult> {
  const cfg: TrainConfig = { ...config };
  if (opts.out !== undefined) cfg.out = opts.out;
  if (opts.steps !== undefined) {
    cfg.steps = opts.steps;
    delete cfg.epochs;
  }
  if (opts.resume !== undefined) cfg.resume = opts.resume;
  const seed = cfg.seed ?? 0;
  let objective: TrainObjective;
  try {
    objective = createObjective(cfg.objective.name, cfg.objective.params ?? {});
  } catch (e) {
    const at = opts.configPath ? `${opts.configPath}: ` : "";
    const msg = `${at}field 'objective': ${(e as Error).message}`;
    throw e instanceof RangeError ? new RangeError(msg) : new TypeError(msg);
  }
  const needsTokens = (objective as { needsTokens?: boolean }).needsTokens === true;
  const common = {
    objective,
    optimizer: cfg.optimizer,
    lr: cfg.lr,
    schedule: cfg.schedule,
    batchSize: cfg.batchSize,
    gradAccum: cfg.gradAccum,
    epochs: cfg.epochs,
    maxSteps: cfg.steps,
    maxGradNorm: cfg.maxGradNorm,
    seed,
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
  const log = opts.log ?? ((m: string) => console.error(m));
  // Test fault points, and (when signals can stop the run) one event-loop turn per step.
  const extraCallbacks = <B>(): TrainCallback<B>[] => [
    ...faultCallbacks<B>(),
    ...(opts.signal ? [eventLoopTurn() as TrainCallback<B>] : []),
  ];
  const split = <B>(data: TrainData<B>) =>
    cfg.eval
      ? splitData(data, { evalFraction: cfg.eval.fraction, seed })
      : { train: data, evaluation: undefined };

  if ("toy" in cfg.model) {
    if (needsTokens) {
      throw new TypeError(
        `field 'objective': ${objective.name} needs per-token scores; toy models have none`,
      );
    }
    const policy = buildToy(cfg.model.toy, seed);
    const reference = cfg.reference?.kind === "model" ? buildToy(cfg.model.toy, seed) : undefined;
    try {
      const rows = "pairs" in cfg.data
        ? cfg.data.pairs
        : await readToyPairs(resolvePath(cfg.data.file, opts.baseDir));
      const where = (i: number, k: string) => `data pair ${i} field '${k}'`;
      const at = <T>(i: number, k: string, f: () => T) => {
        try {
          return f();
        } catch (e) {
          throw new RangeError(`${where(i, k)}: ${(e as Error).message}`);
        }
      };
      const data = toyData({
        prompt: rows.map((r, i) => at(i, "prompt", () => policy.promptId(r.prompt))),
        chosen: rows.map((r, i) => at(i, "chosen", () => policy.tokenId(r.chosen))),
        rejected: rows.map((r, i) => at(i, "rejected", () => policy.tokenId(r.rejected))),
      });
      const { train: trainData, evaluation } = split(data);
      const callbacks: TrainCallback<ToyBatch>[] = extraCallbacks();
      for (const t of cfg.trackers ?? []) {
        if (t.name !== "mass") continue;
        const probes = t.probes?.length
          ? {
            batch: {
              prompt: Int32Array.from(t.probes, (p) => policy.promptId(p.prompt)),
              token: Int32Array.from(t.probes, (p) => policy.tokenId(p.token)),
            },
            prompts: t.probes.map((p) => policy.promptId(p.prompt)),
            labels: t.probes.map((p) => p.label),
          }
          : undefined;
        callbacks.push(
          probabilityMassTracker<ToyBatch, ToyProbes>({
            every: t.every,
            positions: range(Math.min(t.pairs ?? 64, trainData.size)),
            probes,
          }),
        );
      }
      const ref: ReferenceOption<ToyBatch> | undefined = reference
        ? { kind: "model", scorer: reference }
        : cfg.reference?.kind === "precompute"
        ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
        : undefined;
      const trainOpts: TrainOptions<ToyBatch> = {
        ...common,
        policy: policy as PreferenceScorer<ToyBatch, unknown>,
        data: trainData,
        evalData: evaluation,
        reference: ref,
        callbacks,
      };
      return await train(trainOpts);
    } finally {
      policy.dispose();
      reference?.dispose();
    }
  }

  // Causal LM.
  const dir = resolvePath(cfg.model.dir, opts.baseDir);
  const tokenizer = await loadTokenizer(dir);
  const policyModel = await loadCausalLM(dir);
  let refModel: CausalLM | undefined;
  let disposePolicy: (() => void) | undefined;
  try {
    const file = resolvePath((cfg.data as { file: string }).file, opts.baseDir);
    if ((cfg.data as { unpaired?: boolean }).unpaired) {
      if (cfg.trackers?.some((t) => t.name === "mass")) {
        throw new TypeError(`field 'trackers': the mass tracker needs paired data`);
      }
      const loadedRows = await loadUnpairedFile(file);
      refuseInvalidRows(file, loadedRows.errors, opts.skipInvalid ?? false, log);
      const tokU = tokenizeUnpaired(loadedRows.rows, tokenizer, cfg.tokenize ?? {});
      const { examples } = tokU;
      reportTokenizeSkips(file, tokU.skippedRows, log, opts.skipInvalid);
      const ctxU = await modelContext(dir);
      if (ctxU !== undefined) {
        refuseOverLong(
          file,
          rowLengths(examples),
          ctxU,
        );
      }
      if (examples.length === 0) {
        throw new RangeError(`${file}: no example left after tokenization`);
      }
      const { train: trainData, evaluation } = split(
        unpairedData(examples, { padId: tokenizer.padId }),
      );
      if (cfg.reference?.kind === "model") refModel = await loadCausalLM(dir);
      const result = await train({
        ...common,
        policy: lmUnpairedScorer(policyModel) as PreferenceScorer<KtoBatch, unknown>,
        callbacks: extraCallbacks(),
        data: trainData,
        evalData: evaluation,
        reference: refModel
          ? {
            kind: "model",
            scorer: lmUnpairedScorer(refModel) as PreferenceScorer<KtoBatch, unknown>,
          }
          : cfg.reference?.kind === "precompute"
          ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
          : undefined,
      });
      if (cfg.saveModel !== false && !result.stopped) {
        registerRunFile(common.outDir, "model");
        await saveCausalLM(policyModel, `${common.outDir}/model`, { tokenizerFrom: dir });
      }
      return result;
    }
    const loaded = await loadPreferenceFile(file);
    refuseInvalidRows(file, loaded.errors, opts.skipInvalid ?? false, log);
    const tok = tokenizePairs(loaded.rows, tokenizer, cfg.tokenize ?? {});
    reportTokenizeSkips(file, tok.skippedRows, log, opts.skipInvalid);
    const context = await modelContext(dir);
    if (context !== undefined) {
      refuseOverLong(
        file,
        rowLengths(tok.pairs),
        context,
      );
    }
    if (tok.pairs.length === 0) throw new RangeError(`${file}: no pair left after tokenization`);
    const data = preferenceData(tok.pairs, { padId: tokenizer.padId });
    const { train: trainData, evaluation } = split(data);
    const policy = cfg.threads === 2
      ? await parallelLMScorer(policyModel, { tokens: needsTokens })
      : lmScorer(policyModel, { tokens: needsTokens });
    disposePolicy = isParallelScorer(policy) ? () => policy.dispose() : undefined;
    const callbacks: TrainCallback<PreferenceBatch>[] = extraCallbacks();
    for (const t of cfg.trackers ?? []) {
      if (t.name !== "mass") continue;
      const positions = range(Math.min(t.pairs ?? 64, trainData.size));
      let probes;
      if (t.probeFields?.length || t.otherAnswers) {
        // Other answers are drawn from the whole file; probes are kept for the tracked pairs.
        const wanted = new Set(positions.map((p) => trainData.pairIndex!(p)));
        const probeRows = probeRowsFromPairs(loaded.rows, {
          ownPair: false,
          fields: t.probeFields ?? [],
          otherAnswers: t.otherAnswers ?? 0,
          seed,
        }).filter((r) => wanted.has(r.index) && r.responses.length > 0);
        if (probeRows.length === 0) {
          throw new TypeError(
            `${file}: no tracked pair has a probe response (fields ${t.probeFields?.join(", ")})`,
          );
        }
        const { probes: tp } = tokenizeProbes(probeRows, tokenizer, cfg.tokenize ?? {});
        probes = probeSet(collateProbes(tp, tokenizer.padId));
      }
      callbacks.push(probabilityMassTracker({ every: t.every, positions, probes }));
    }
    // Per-token reference log-probs (SGDPO, LD-DPO with a reference) come from a frozen model:
    // the precomputed cache holds sequence sums only.
    const tokenRef = needsTokens && objective.needsReference;
    if (cfg.reference?.kind === "model" || tokenRef) refModel = await loadCausalLM(dir);
    const result = await train({
      ...common,
      policy: policy as PreferenceScorer<PreferenceBatch, unknown>,
      data: trainData,
      evalData: evaluation,
      reference: refModel
        ? { kind: "model", scorer: lmScorer(refModel, { tokens: tokenRef, stats: false }) }
        : cfg.reference?.kind === "precompute"
        ? { kind: "precompute", cacheDir: cfg.reference.cacheDir }
        : undefined,
      callbacks,
    });
    if (cfg.saveModel !== false && !result.stopped) {
      registerRunFile(common.outDir, "model");
      await saveCausalLM(policyModel, `${common.outDir}/model`, { tokenizerFrom: dir });
    }
    return result;
  } finally {
    disposePolicy?.();
    policyModel.dispose();
    refModel?.dispose();
  }
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

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

async function readToyPairs(path: string) {
  const text = await Deno.readTextFile(path);
  const rows: { prompt: string | number; chosen: string | number; rejected: string | number }[] =
    [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line);
    } catch (e) {
      throw new SyntaxError(`${path}:${i + 1}: ${(e as Error).message}`);
    }
    for (const k of ["prompt", "chosen", "rejected"]) {
      if (typeof r[k] !== "string" && typeof r[k] !== "number") {
        throw new TypeError(`${path}:${i + 1}: field '${k}' must be a token/prompt name or index`);
      }
    }
    rows.push(r as (typeof rows)[number]);
  });
  if (rows.length === 0) throw new RangeError(`${path}: no pairs`);
  return rows;
}

/**
 * `lab train`: read and validate the config, start the backend, train, print the summary.
 *
 * @example
 * ```ts ignore
 * const code = await trainCommand(["--config", "run.json", "--steps", "5"]);
 * ```
 */
export async function trainCommand(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(TRAIN_HELP);
    return 0;
  }
  checkFlags(args, {
    "--config": true,
    "--out": true,
    "--steps": true,
    "--backend": true,
    "--resume": false,
    "--quiet": false,
    "--overwrite": false,
    "--skip-invalid": false,
  });
  const path = flagValue(args, "--config");
  if (!path) throw new TypeError(`--config FILE is required\n${TRAIN_USAGE}`);
  let raw: unknown;
  try {
    raw = JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TypeError(`${path}: file not found`);
    throw new SyntaxError(`${path}: not valid JSON (${(e as Error).message})`);
  }
  const config = parseTrainConfig(raw, path);
  const resume = args.includes("--resume") ? true : config.resume;
  if (resume && args.includes("--overwrite")) {
    throw new TypeError(`--resume and --overwrite cannot be used together`);
  }
  const stepsFlag = flagValue(args, "--steps");
  let steps: number | undefined;
  if (stepsFlag !== undefined) {
    steps = Number(stepsFlag);
    if (!Number.isInteger(steps) || steps < 1) {
      throw new RangeError(`--steps must be a positive integer, got '${stepsFlag}'`);
    }
  }
  const backend = flagValue(args, "--backend") ?? config.backend;
  const report = await initBackend(backend ? { backend: backend as "auto" } : {});
  console.error(`lab train: backend ${report.name} (${report.adapter})`);
  const outDir = flagValue(args, "--out") ?? config.out;
  const stop = stopOnSignals(
    (m) => console.error(m),
    (sig) => markSignalled(outDir, sig, "mid-step (a second signal)"),
  );
  let result: TrainResult;
  try {
    result = await runConfig(config, {
      out: flagValue(args, "--out"),
      steps,
      resume: args.includes("--resume") ? true : undefined,
      quiet: args.includes("--quiet"),
      overwrite: args.includes("--overwrite"),
      skipInvalid: args.includes("--skip-invalid"),
      signal: stop.signal,
      configPath: path,
    });
  } catch (e) {
    const sig = stop.received();
    // Aborted before the first step (the reference precompute stops between batches).
    if (!(sig && e instanceof DOMException && e.name === "AbortError")) throw e;
    markSignalled(outDir, sig, "during the reference precompute");
    console.error(`lab train: interrupted by ${sig} before the first step`);
    return sig === "SIGINT" ? 130 : 143;
  } finally {
    stop.dispose();
  }
  const sig = stop.received();
  if (sig && result.stopped && result.runDir) {
    const how = markInterrupted(result.runDir, result.steps, sig);
    console.error(`lab train: interrupted at step ${result.steps} by ${sig}; ${how}`);
    return sig === "SIGINT" ? 130 : 143;
  }
  const last = result.records.at(-1);
  console.log(JSON.stringify({
    out: result.runDir,
    steps: result.steps,
    stopped: result.stopped,
    loss: last?.loss,
    "rewards/margins": last?.["rewards/margins"],
    ...result.summary,
  }));
  return 0;
}

/** Rewrite `status.json` of a run stopped by a signal; returns how to go on. */
function markInterrupted(dir: string, step: number, sig: string): string {
  const names = (() => {
    try {
      return [...Deno.readDirSync(`${dir}/checkpoints`)].map((e) => e.name);
    } catch {
      return [];
    }
  })();
  // No checkpoint at `step` when the signal came during an evaluation (see afterStep).
  const how = names.includes(`step-${String(step).padStart(6, "0")}`)
    ? "checkpoint written, continue with --resume"
    : names.some((n) => /^step-\d+$/.test(n))
    ? "evaluation cut short, no checkpoint at this step: --resume repeats the steps since " +
      "the last complete checkpoint"
    : "evaluation cut short and no checkpoint yet: rerun with --overwrite";
  RunWriter.status(dir, {
    state: "interrupted",
    step,
    message: `interrupted at step ${step} by ${sig}; ${how}`,
  });
  return how;
}

/**
 * `lab import-trl FILE --out DIR`: read a Hugging Face `trainer_state.json` (or an output
 * directory holding one) and write it as a run directory.
 *
 * @example
 * ```ts ignore
 * await importTrlCommand(["data/runs/trl_sample/trainer_state.json", "--out", "/tmp/trl"]);
 * ```
 */
export async function importTrlCommand(args: string[]): Promise<number> {
  const usage = `usage: lab import-trl FILE --out DIR [--force]

Converts a Hugging Face trainer's log (trainer_state.json, or an output folder holding one) into a
run directory that the analysis and plot functions read like one of lab train's.

options:
  FILE          trainer_state.json or the folder that holds it (required)
  --out DIR     run directory to write (required)
  --force       replace what is in --out (default: refuse a non-empty folder)
  -h, --help    this text`;
  if (args.includes("-h") || args.includes("--help")) {
    console.log(usage);
    return 0;
  }
  checkFlags(args, { "--out": true, "--force": false });
  const out = flagValue(args, "--out");
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--out");
  if (!file || !out) throw new TypeError(usage);
  const run = await readRun(file);
  if (run.source !== "trl") throw new TypeError(`${file}: is already a run directory`);
  // A previous run there is replaced only with --force (only the files it wrote), and a folder of
  // other files never: a TRL import must not end up mixed with an earlier run's checkpoints.
  await writeRun(run, out, { overwrite: args.includes("--force"), flag: "--force" });
  console.log(
    `${out}: ${run.steps.length} train records, ${run.evals.length} eval records` +
      (Object.keys(run.summary).length ? ", summary" : ""),
  );
  return 0;
}
