/**
 * The shape of a `lab train` configuration ({@link TrainConfig} and its parts), as
 * `parseTrainConfig` (config.ts) returns it after validation.
 *
 * @module
 */
import type { BackendName } from "../backend.ts";
import type { OptimizerSpec } from "./optimizers.ts";
import type { ScheduleSpec } from "./schedule.ts";
import type { RefSyncSpec } from "./ref_sync.ts";

/** A single-token toy model. */
export interface ToyModelConfig {
  /** `unconstrained` (free hidden embeddings and unembedding) or `linear` (fixed inputs). */
  kind: "unconstrained" | "linear";
  /** Vocabulary (token names). */
  tokens: string[];
  /** Prompt names or a count (default 1 prompt, `x0`). */
  prompts?: string[] | number;
  /** Embedding / feature width. */
  dim: number;
  /** Initialisation seed (default: the run's seed). */
  seed?: number;
}

/** One single-token pair; prompt and tokens by name or index. */
export interface ToyPairConfig {
  prompt: string | number;
  chosen: string | number;
  rejected: string | number;
}

/** Probability-mass tracker settings. */
export interface MassTrackerConfig {
  name: "mass";
  /** Track every this many steps (default 1). */
  every?: number;
  /** Track the first this many training pairs (default 64). */
  pairs?: number;
  /** Causal LM: extra string fields of the data rows scored as probe responses (e.g. `chosen_paraphrase`). */
  probeFields?: string[];
  /** Causal LM: also score this many chosen answers of other prompts (`mass/other_0`, ...). */
  otherAnswers?: number;
  /** Toy model: probe tokens per prompt, labelled. */
  probes?: { prompt: string | number; token: string | number; label: string }[];
}

/** Implicit-rewards tracker settings (the tracker is always on unless `examplesEvery` is false). */
export interface RewardsTrackerConfig {
  name: "implicit_rewards";
  every?: number;
}

/** A tracker entry of the config. */
export type TrackerConfig = MassTrackerConfig | RewardsTrackerConfig;

/** The run configuration. Paths are relative to the working directory. */
export interface TrainConfig {
  /** A Hugging Face checkpoint directory (with tokenizer files) or a toy model. */
  model: { dir: string } | { toy: ToyModelConfig };
  /**
   * Causal LM: a preference JSONL file (TRL formats), or with `unpaired: true` a KTO file of
   * `{prompt, completion, label}` rows (train with the `kto` objective). Toy model: inline
   * `pairs`, or a JSONL `file` of `{prompt, chosen, rejected}` names.
   */
  data: { file: string; unpaired?: boolean } | { pairs: ToyPairConfig[] };
  /** Causal LM tokenization limits (TRL names in camelCase). */
  tokenize?: {
    maxLength?: number | null;
    maxPromptLength?: number | null;
    maxCompletionLength?: number | null;
    truncationMode?: "keep_start" | "keep_end";
  };
  /** Registered objective name and its parameters. */
  objective: { name: string; params?: Record<string, unknown> };
  /** Reference: precomputed (default, optional on-disk cache) or a frozen copy of the model. */
  reference?: { kind: "precompute"; cacheDir?: string } | { kind: "model" };
  /**
   * A moving reference (TR-DPO, TRL's `sync_ref_model`): every `every` steps (TRL's
   * `ref_model_sync_steps`, default 512) the reference becomes `alpha·policy + (1 − alpha)·
   * reference` (`ref_model_mixup_alpha`, default 0.6; 1 = hard sync). See `ref_sync.ts`.
   */
  syncReference?: RefSyncSpec;
  optimizer: OptimizerSpec;
  lr: number;
  schedule?: ScheduleSpec;
  /** Optimizer steps; exclusive with `epochs`. */
  steps?: number;
  epochs?: number;
  batchSize: number;
  gradAccum?: number;
  maxGradNorm?: number;
  seed?: number;
  shuffle?: boolean;
  /** Held-out split. */
  eval?: { fraction: number; every?: number; batchSize?: number };
  /** Run directory. */
  out: string;
  checkpointEvery?: number;
  keepCheckpoints?: number;
  resume?: boolean;
  trackers?: TrackerConfig[];
  examplesEvery?: number | false;
  backend?: BackendName | "auto";
  /** Causal LM: write the final model as a Hugging Face checkpoint to `<out>/model` (default true). */
  saveModel?: boolean;
  /**
   * Causal LM on `wasm`/`cpu`: 2 splits every batch across this thread and a worker
   * (lib/scoring/parallel.ts); default 1.
   */
  threads?: 1 | 2;
}
