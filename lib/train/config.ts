/**
 * The JSON configuration of a headless run (`lab train --config FILE`): a plain typed object,
 * validated up front so a typo or a bad value is reported with its field before anything loads.
 *
 * @example A toy run
 * ```json
 * {
 *   "model": { "toy": { "kind": "unconstrained", "tokens": ["Yes", "No", "Never"], "dim": 4 } },
 *   "data": { "pairs": [{ "prompt": "x0", "chosen": "No", "rejected": "Never" }] },
 *   "objective": { "name": "dpo", "params": { "beta": 0.1 } },
 *   "optimizer": { "name": "rmsprop" },
 *   "lr": 0.001, "batchSize": 1, "steps": 100, "seed": 0, "out": "out/runs/toy"
 * }
 * ```
 *
 * @module
 */
import { BACKEND_NAMES, type BackendName } from "../backend.ts";
import { type OptimizerSpec, resolveOptimizerSpec } from "./optimizers.ts";
import { type ScheduleSpec, validateSchedule } from "./schedule.ts";
import { type RefSyncSpec, resolveRefSync } from "./ref_sync.ts";
import { Checker, type Obj } from "./config_check.ts";
import type { TrainConfig } from "./config_types.ts";
import {
  parseData,
  parseEval,
  parseModel,
  parseObjective,
  parseReference,
  parseTokenize,
  parseTracker,
} from "./config_sections.ts";

export type {
  MassTrackerConfig,
  RewardsTrackerConfig,
  ToyModelConfig,
  ToyPairConfig,
  TrackerConfig,
  TrainConfig,
} from "./config_types.ts";

const TOP_KEYS = [
  "model",
  "data",
  "tokenize",
  "objective",
  "reference",
  "optimizer",
  "lr",
  "schedule",
  "steps",
  "epochs",
  "batchSize",
  "gradAccum",
  "maxGradNorm",
  "seed",
  "shuffle",
  "eval",
  "out",
  "checkpointEvery",
  "keepCheckpoints",
  "resume",
  "trackers",
  "examplesEvery",
  "backend",
  "saveModel",
  "threads",
  "syncReference",
];

/**
 * Validate a parsed JSON configuration (see {@link TrainConfig}); every error names `source`
 * and the offending field. Objective names and parameters are checked when the run starts
 * (by the objectives registry).
 *
 * @example
 * ```ts
 * import { parseTrainConfig } from "./config.ts";
 * try {
 *   parseTrainConfig({ model: { dir: "m" }, data: { file: "d.jsonl" }, objective: { name: "dpo" },
 *     optimizer: { name: "adamw" }, lr: 1e-6, batchSize: 0, steps: 10, out: "out/r" }, "run.json");
 * } catch (e) {
 *   console.log((e as Error).message); // run.json: field 'batchSize' must be >= 1, got 0
 * }
 * ```
 */
export function parseTrainConfig(raw: unknown, source: string): TrainConfig {
  const c: Checker = new Checker(source);
  const o = c.obj(raw, "(top level)");
  c.keys(o, "", TOP_KEYS);
  for (const k of ["model", "data", "objective", "optimizer", "lr", "batchSize", "out"]) {
    if (o[k] === undefined) c.fail(k, "is required");
  }
  const model = parseModel(c, o.model);
  const data = parseData(c, o.data, model);
  // Fields are checked, and set, in this order: it fixes which error a config with several
  // reports, and the key order of the stored config (hashed for resumes).
  const out: TrainConfig = {
    model,
    data,
    objective: { name: "" },
    optimizer: c.wrap(
      "optimizer",
      () => resolveOptimizerSpec(c.obj(o.optimizer, "optimizer") as unknown as OptimizerSpec),
    ),
    lr: c.num(o.lr, "lr", (x) => x >= 0, "non-negative"),
    batchSize: c.int(o.batchSize, "batchSize", 1),
    out: c.str(o.out, "out"),
  };
  if (o.tokenize !== undefined) out.tokenize = parseTokenize(c, o.tokenize);
  out.objective = parseObjective(c, o.objective);
  if (o.reference !== undefined) out.reference = parseReference(c, o.reference);
  if (o.syncReference !== undefined) {
    const spec = c.obj(o.syncReference, "syncReference") as RefSyncSpec;
    c.wrap("syncReference", () => resolveRefSync(spec, "syncReference"));
    out.syncReference = spec;
  }
  if (o.schedule !== undefined) {
    out.schedule = c.wrap("schedule", () => {
      const s = c.obj(o.schedule, "schedule") as ScheduleSpec;
      validateSchedule(s);
      return s;
    });
  }
  parseLength(c, o, out);
  if (o.eval !== undefined) out.eval = parseEval(c, o.eval);
  parseRunOptions(c, o, out);
  if (o.trackers !== undefined) {
    if (!Array.isArray(o.trackers)) c.fail("trackers", "must be a list");
    out.trackers = o.trackers.map((t, i) => parseTracker(c, t, `trackers[${i}]`, "toy" in model));
  }
  return out;
}

/** How long and how the run steps: steps or epochs, accumulation, clipping, seed, shuffling. */
function parseLength(c: Checker, o: Obj, out: TrainConfig): void {
  if (o.steps !== undefined && o.epochs !== undefined) {
    c.fail("steps", "and 'epochs' cannot both be set");
  }
  if (o.steps !== undefined) out.steps = c.int(o.steps, "steps", 1);
  if (o.epochs !== undefined) out.epochs = c.int(o.epochs, "epochs", 1);
  if (o.gradAccum !== undefined) out.gradAccum = c.int(o.gradAccum, "gradAccum", 1);
  if (o.maxGradNorm !== undefined) {
    out.maxGradNorm = c.num(o.maxGradNorm, "maxGradNorm", (x) => x > 0, "positive");
  }
  if (o.seed !== undefined) out.seed = c.int(o.seed, "seed", -(2 ** 31));
  if (o.shuffle !== undefined) out.shuffle = c.bool(o.shuffle, "shuffle");
}

/** Checkpoints, resume, saving, threads, example logging and backend. */
function parseRunOptions(c: Checker, o: Obj, out: TrainConfig): void {
  if (o.checkpointEvery !== undefined) {
    out.checkpointEvery = c.int(o.checkpointEvery, "checkpointEvery", 0);
  }
  if (o.keepCheckpoints !== undefined) {
    out.keepCheckpoints = c.int(o.keepCheckpoints, "keepCheckpoints", 0);
  }
  if (o.resume !== undefined) out.resume = c.bool(o.resume, "resume");
  if (o.saveModel !== undefined) out.saveModel = c.bool(o.saveModel, "saveModel");
  if (o.threads !== undefined) {
    const t = c.int(o.threads, "threads", 1);
    if (t > 2) c.fail("threads", `must be 1 or 2, got ${t}`, RangeError);
    out.threads = t as 1 | 2;
  }
  if (o.examplesEvery !== undefined) {
    out.examplesEvery = o.examplesEvery === false
      ? false
      : c.int(o.examplesEvery, "examplesEvery", 1);
  }
  if (o.backend !== undefined) {
    if (o.backend !== "auto" && !(BACKEND_NAMES as readonly unknown[]).includes(o.backend)) {
      c.fail(
        "backend",
        `must be auto or one of ${BACKEND_NAMES.join(", ")}, got ${JSON.stringify(o.backend)}`,
      );
    }
    out.backend = o.backend as BackendName | "auto";
  }
}
