/**
 * `lab train --config FILE`: run a configured training to a run directory. The run itself is
 * `train_run.ts` (toy models in `train_toy.ts`, causal LMs in `train_lm.ts`); `lab import-trl` is
 * `import_trl.ts`, re-exported here with `runConfig` for existing importers.
 *
 * @example
 * ```sh
 * deno task lab train --config runs/toy.json --steps 50
 * ```
 *
 * @module
 */
import { initBackend } from "../../lib/backend.ts";
import { parseTrainConfig, RunWriter, type TrainResult } from "../../lib/train/mod.ts";
import { checkpointName } from "../../lib/train/internal.ts";
import { TRAIN_HELP } from "./train_help.ts";
import { markSignalled, stopOnSignals } from "./train_guard.ts";
import { checkFlags, flagValue } from "./flags.ts";
import { runConfig } from "./train_run.ts";

export { runConfig, type RunConfigOptions } from "./train_run.ts";
export { importTrlCommand } from "./import_trl.ts";

const TRAIN_USAGE = "usage: lab train --config FILE [--out DIR] [--steps N] [--resume] " +
  "[--overwrite] [--skip-invalid] [--backend NAME] [--quiet]";

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
  const config = parseTrainConfig(await readConfigJson(path), path);
  const resume = args.includes("--resume") ? true : config.resume;
  if (resume && args.includes("--overwrite")) {
    throw new TypeError(`--resume and --overwrite cannot be used together`);
  }
  const steps = stepsOf(args);
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
  return reportRun(result, stop.received());
}

/** The config file's JSON; a missing file or bad JSON is refused naming the file. */
async function readConfigJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new TypeError(`${path}: file not found`);
    throw new SyntaxError(`${path}: not valid JSON (${(e as Error).message})`);
  }
}

/** `--steps N` as a positive integer, or undefined when absent. */
function stepsOf(args: string[]): number | undefined {
  const stepsFlag = flagValue(args, "--steps");
  if (stepsFlag === undefined) return undefined;
  const steps = Number(stepsFlag);
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`--steps must be a positive integer, got '${stepsFlag}'`);
  }
  return steps;
}

/** Print the run's summary (or mark it interrupted by `sig`); the command's exit code. */
function reportRun(result: TrainResult, sig: string | undefined): number {
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
  const how = resumeAdvice(checkpointNames(dir), step);
  RunWriter.status(dir, {
    state: "interrupted",
    step,
    message: `interrupted at step ${step} by ${sig}; ${how}`,
  });
  return how;
}

/** The entries of the run's `checkpoints/` folder (none when it does not exist yet). */
function checkpointNames(dir: string): string[] {
  try {
    return [...Deno.readDirSync(`${dir}/checkpoints`)].map((e) => e.name);
  } catch {
    return [];
  }
}

/** How to go on after a signal at `step`, given the checkpoints on disk. */
function resumeAdvice(names: string[], step: number): string {
  // No checkpoint at `step` when the signal came during an evaluation (see afterStep).
  if (names.includes(checkpointName(step))) {
    return "checkpoint written, continue with --resume";
  }
  return names.some((n) => /^step-\d+$/.test(n))
    ? "evaluation cut short, no checkpoint at this step: --resume repeats the steps since " +
      "the last complete checkpoint"
    : "evaluation cut short and no checkpoint yet: rerun with --overwrite";
}
