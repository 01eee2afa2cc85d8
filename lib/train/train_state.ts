/**
 * The state one {@link train} run shares between its steps (resume, reference tables, windows,
 * evaluation, checkpoints, summary), and the small helpers over it.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { HookResult, RunContext, TrainCallback } from "./callbacks.ts";
import type { CheckpointState } from "./checkpoint.ts";
import type { Optimizer } from "./optimizers.ts";
import type { RunStepRecord, RunWriter } from "./records.ts";
import type { ReferenceLogps } from "../scoring/ref_cache.ts";
import type { ReferenceMover } from "./ref_sync.ts";
import type { ReferenceOption, TrainOptions } from "./train_options.ts";

/**
 * A loss (or gradient norm) that is not finite: the step is not applied, and the run stops with
 * the step number and the source indices of the pairs whose loss is not finite. Records written
 * before it stay intact; `status.json` says `diverged`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TrainingDivergedError } from "./train_state.ts";
 * const e = new TrainingDivergedError(3, [7], "non-finite loss");
 * assert.deepEqual([e.step, e.pairs], [3, [7]]);
 * assert.equal(e.message, "training diverged at step 3: non-finite loss");
 * ```
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

/** The plan of a run: data order and step layout. */
export interface Plan {
  n: number;
  bs: number;
  accum: number;
  microPerEpoch: number;
  stepsPerEpoch: number;
  totalSteps: number;
}

/** Reference values by data position, for the train and eval data. */
export interface RefTables {
  train?: ReferenceLogps;
  eval?: ReferenceLogps;
}

/** Where a resumed run continues from. */
export interface ResumePoint {
  state: CheckpointState;
  /** The checkpoint folder. */
  dir: string;
}

/** One callback's deferred metrics of a waiting record (lib/train/deferred_records.ts). */
export interface DeferredPart {
  name: string;
  settled: boolean;
  metrics: Promise<HookResult>;
}

/** A step record and the deferred metrics it waits for. */
export interface PendingRecord {
  rec: RunStepRecord;
  parts: DeferredPart[];
}

/** Everything the steps of one run share; built once by `train`, mutated only where noted. */
export interface RunState<B> {
  opts: TrainOptions<B>;
  plan: Plan;
  seed: number;
  shuffle: boolean;
  /** Scales the logged rewards (`objective.params.beta`, else 1). */
  beta: number;
  vars: tf.Variable[];
  names: string[];
  optimizer: Optimizer;
  /** The settings a resume must match (stored in every checkpoint). */
  settings: Record<string, unknown>;
  callbacks: TrainCallback<B>[];
  warn: (msg: string) => void;
  resumed?: ResumePoint;
  startStep: number;
  /** Seconds run by earlier processes of a resumed run. */
  priorSeconds: number;
  needsRef: boolean;
  refOpt: ReferenceOption<B>;
  /** Replaced by a moving reference after each sync. */
  refs: RefTables;
  mover?: ReferenceMover;
  writer?: RunWriter;
  /** Tracker rows of a run without a directory, by file name. */
  memoryRows: Record<string, Record<string, unknown>[]>;
  /** `performance.now()` at the start of this process's steps. */
  t0: number;
  records: RunStepRecord[];
  /** Step records waiting for deferred callback metrics, in step order (deferred_records.ts). */
  pending: PendingRecord[];
  evals: RunStepRecord[];
  /** The data order of the current epoch (computed when the epoch begins). */
  epochOrder?: { epoch: number; order: number[] };
}

/**
 * The fractional epoch after `step` optimizer steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { epochAt } from "./train_state.ts";
 * assert.equal(epochAt({ stepsPerEpoch: 4 }, 6), 1.5); // 6 = 1 epoch of 4 + 2 of 4 steps
 * ```
 */
export function epochAt(plan: Pick<Plan, "stepsPerEpoch">, step: number): number {
  return Math.floor(step / plan.stepsPerEpoch) + (step % plan.stepsPerEpoch) / plan.stepsPerEpoch;
}

/**
 * Seconds of training so far, earlier processes of a resumed run included.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { elapsed } from "./train_state.ts";
 * const t = elapsed({ priorSeconds: 5, t0: performance.now() - 2000 });
 * assert.ok(t >= 7 && t < 8, `${t}`);
 * ```
 */
export function elapsed(s: Pick<RunState<unknown>, "priorSeconds" | "t0">): number {
  return s.priorSeconds + (performance.now() - s.t0) / 1000;
}

/**
 * The context every callback hook gets at `step`; tracker rows go to the run folder, or to
 * `memoryRows` when there is none.
 *
 * @example
 * ```ts ignore
 * const ctx = runContext(state, 3);
 * ctx.rows.append("examples.jsonl", [{ pair: 0 }]);
 * ```
 */
export function runContext<B>(s: RunState<B>, step: number): RunContext<B> {
  const { opts, writer, memoryRows } = s;
  return {
    step,
    totalSteps: s.plan.totalSteps,
    epoch: epochAt(s.plan, step),
    policy: opts.policy,
    objective: opts.objective,
    beta: s.beta,
    data: opts.data,
    runDir: opts.outDir,
    rows: {
      append(file: string, rows: Record<string, unknown>[]) {
        if (writer) writer.appendRows(file, step, rows);
        else (memoryRows[file] ??= []).push(...rows.map((r) => ({ step, ...r })));
      },
    },
  };
}
