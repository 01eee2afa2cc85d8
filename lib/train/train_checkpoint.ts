/**
 * Checkpoints of {@link train}: weights, optimizer, callback and objective state, position and
 * settings, and a moving reference's weights.
 *
 * @module
 */
import { type CheckpointState, readWeights, saveCheckpoint } from "./checkpoint.ts";
import { registerRunFile } from "./run_dir.ts";
import { elapsed, type RunState } from "./train_state.ts";

/**
 * Save a checkpoint after `done` steps in the run folder (the oldest beyond `keepCheckpoints`
 * are removed by `saveCheckpoint`).
 *
 * @example
 * ```ts ignore
 * if (state.opts.outDir) await checkpoint(state, 10);
 * ```
 */
export async function checkpoint<B>(s: RunState<B>, done: number): Promise<void> {
  const { opts, plan, mover } = s;
  const cbState: Record<string, unknown> = {};
  for (const cb of s.callbacks) if (cb.saveState) cbState[cb.name] = cb.saveState();
  const opt = await s.optimizer.state();
  const objective = opts.objective;
  const state: CheckpointState = {
    format: "dpo-lab-trainer-checkpoint/1",
    step: done,
    position: {
      epoch: Math.floor(done / plan.stepsPerEpoch),
      window: done % plan.stepsPerEpoch,
    },
    seed: s.seed,
    optimizer: { spec: opt.spec, steps: opt.steps },
    callbacks: cbState,
    ...(objective.saveState ? { objective: await objective.saveState() } : {}),
    elapsedSeconds: elapsed(s),
    settings: s.settings,
  };
  registerRunFile(opts.outDir!, "checkpoints");
  await saveCheckpoint(opts.outDir!, {
    state,
    weights: await readWeights(s.vars, s.names),
    optimizer: opt,
  }, {
    keep: opts.keepCheckpoints,
    ...(mover ? { extra: { "reference.safetensors": await mover.encode() } } : {}),
  });
}
