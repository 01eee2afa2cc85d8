/**
 * What {@link train} takes and returns: its options, where reference scores come from, and its
 * result. A module of its own so that the trainer's step files can share the types without
 * importing the trainer.
 *
 * @module
 */
import type { TrainCallback } from "./callbacks.ts";
import type { OptimizerSpec } from "./optimizers.ts";
import type { ProgressOptions } from "./progress.ts";
import type { RunStepRecord } from "./records.ts";
import type { RefSyncSpec } from "./ref_sync.ts";
import type { ScheduleSpec } from "./schedule.ts";
import type { TrainObjective } from "./types.ts";
import type { PreferenceScorer, TrainData } from "../core/scores.ts";

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

/** Options of `train()` (lib/train/trainer.ts). */
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

/** What `train()` returns. */
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
