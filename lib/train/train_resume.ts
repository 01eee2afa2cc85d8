/**
 * The start of {@link train}: the run folder (prepared, or checked for a resume), the callback
 * list, and a resume from the latest usable checkpoint.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { TrainCallback } from "./callbacks.ts";
import { assignWeights } from "./checkpoint.ts";
import type { Optimizer } from "./optimizers.ts";
import { progressCallback } from "./progress.ts";
import { checkResumeSettings, latestUsableCheckpoint } from "./resume.ts";
import { checkResumeDir, prepareRunDir } from "./run_dir.ts";
import { implicitRewardsTracker } from "./implicit_rewards.ts";
import type { ResumePoint } from "./train_state.ts";
import type { TrainOptions } from "./train_options.ts";
import { trlMetricsCallback } from "./trl_metrics.ts";

/**
 * Prepare `outDir` for a fresh run (replacing an earlier run of ours), or check that a resumed
 * run's folder is ours. No folder: nothing to do.
 *
 * @example
 * ```ts ignore
 * await openRunDir(opts, warn);
 * ```
 */
export async function openRunDir<B>(
  opts: TrainOptions<B>,
  warn: (msg: string) => void,
): Promise<void> {
  if (opts.outDir && opts.resume) await checkResumeDir(opts.outDir);
  else if (opts.outDir) {
    const note = await prepareRunDir(opts.outDir, { overwrite: opts.overwrite ?? true });
    if (note) warn(`note: ${note}`);
  }
}

/**
 * The run's callbacks: the implicit-rewards tracker first (unless replaced or turned off), the
 * given ones, TRL's metrics (unless replaced), and the progress display last.
 *
 * @example
 * ```ts ignore
 * const names = runCallbacks({ ...opts, progress: false }).map((c) => c.name);
 * // ["implicit_rewards", "trl_metrics"]
 * ```
 */
export function runCallbacks<B>(opts: TrainOptions<B>): TrainCallback<B>[] {
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
  return callbacks;
}

/** What a resume restores into. */
export interface RestoreTarget<B> {
  opts: TrainOptions<B>;
  settings: Record<string, unknown>;
  vars: tf.Variable[];
  names: string[];
  optimizer: Optimizer;
  callbacks: TrainCallback<B>[];
  warn: (msg: string) => void;
}

/**
 * With `resume`, restore weights, optimizer, callback and objective state from the latest usable
 * checkpoint (its settings must match this run's) and return where it stopped; otherwise reset
 * the objective's running statistics and return undefined.
 *
 * @example
 * ```ts ignore
 * const resumed = await restore({ opts, settings, vars, names, optimizer, callbacks, warn });
 * const startStep = resumed?.state.step ?? 0;
 * ```
 */
export async function restore<B>(t: RestoreTarget<B>): Promise<ResumePoint | undefined> {
  const { opts } = t;
  const objective = opts.objective;
  if (!(opts.resume && opts.outDir)) {
    // A fresh run: objectives with running statistics start from scratch. (Checkpoints of an
    // earlier run of ours were removed with it by prepareRunDir.)
    objective.reset?.();
    return undefined;
  }
  const latest = await latestUsableCheckpoint(opts.outDir, t.warn);
  const ckpt = latest.checkpoint;
  checkResumeSettings(ckpt.state.settings, t.settings, latest.dir);
  assignWeights(t.vars, t.names, ckpt.weights);
  t.optimizer.load(ckpt.optimizer, t.vars);
  for (const cb of t.callbacks) {
    if (cb.loadState && ckpt.state.callbacks[cb.name] !== undefined) {
      cb.loadState(ckpt.state.callbacks[cb.name]);
    }
  }
  // A stateful objective continues from its statistics at the checkpoint, not from zero.
  objective.reset?.();
  if (objective.loadState && ckpt.state.objective) objective.loadState(ckpt.state.objective);
  return { state: ckpt.state, dir: latest.dir };
}
