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

type Obj = Record<string, unknown>;

/** Validation helpers bound to a source name, so every error names file and field. */
class Checker {
  constructor(readonly source: string) {}

  fail(field: string, why: string, Kind: typeof TypeError = TypeError): never {
    throw new Kind(`${this.source}: field '${field}' ${why}`);
  }

  obj(v: unknown, field: string): Obj {
    if (!v || typeof v !== "object" || Array.isArray(v)) this.fail(field, "must be an object");
    return v as Obj;
  }

  keys(o: Obj, field: string, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) {
        this.fail(
          field ? `${field}.${k}` : k,
          `is not a known field (known: ${allowed.join(", ")})`,
        );
      }
    }
  }

  str(v: unknown, field: string): string {
    if (typeof v !== "string" || v === "") this.fail(field, "must be a non-empty string");
    return v;
  }

  num(v: unknown, field: string, ok: (x: number) => boolean, why: string): number {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    }
    if (!ok(v)) this.fail(field, `must be ${why}, got ${v}`, RangeError);
    return v;
  }

  int(v: unknown, field: string, min: number): number {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(field, `must be an integer, got ${JSON.stringify(v)}`);
    }
    if (v < min) this.fail(field, `must be >= ${min}, got ${v}`, RangeError);
    return v;
  }

  bool(v: unknown, field: string): boolean {
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  ref(v: unknown, field: string): string | number {
    if (typeof v === "string" && v !== "") return v;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    return this.fail(field, `must be a name or a non-negative index, got ${JSON.stringify(v)}`);
  }

  /** Run a validator that throws field-less errors, prefixing the field. */
  wrap<T>(field: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof RangeError) {
        throw new RangeError(`${this.source}: field '${field}': ${e.message}`);
      }
      if (e instanceof TypeError) {
        throw new TypeError(`${this.source}: field '${field}': ${e.message}`);
      }
      throw e;
    }
  }
}

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

  // model
  const m = c.obj(o.model, "model");
  let model: TrainConfig["model"];
  if ("dir" in m) {
    c.keys(m, "model", ["dir"]);
    model = { dir: c.str(m.dir, "model.dir") };
  } else if ("toy" in m) {
    c.keys(m, "model", ["toy"]);
    const t = c.obj(m.toy, "model.toy");
    c.keys(t, "model.toy", ["kind", "tokens", "prompts", "dim", "seed"]);
    if (t.kind !== "unconstrained" && t.kind !== "linear") {
      c.fail(
        "model.toy.kind",
        `must be "unconstrained" or "linear", got ${JSON.stringify(t.kind)}`,
      );
    }
    if (!Array.isArray(t.tokens) || t.tokens.length < 2) {
      c.fail("model.toy.tokens", "must be a list of at least 2 token names");
    }
    (t.tokens as unknown[]).forEach((x, i) => c.str(x, `model.toy.tokens[${i}]`));
    let prompts: string[] | number | undefined;
    if (t.prompts !== undefined) {
      if (Array.isArray(t.prompts)) {
        prompts = t.prompts.map((x, i) => c.str(x, `model.toy.prompts[${i}]`));
      } else prompts = c.int(t.prompts, "model.toy.prompts", 1);
    }
    model = {
      toy: {
        kind: t.kind as ToyModelConfig["kind"],
        tokens: t.tokens as string[],
        ...(prompts !== undefined ? { prompts } : {}),
        dim: c.int(t.dim, "model.toy.dim", 1),
        ...(t.seed !== undefined ? { seed: c.int(t.seed, "model.toy.seed", -(2 ** 31)) } : {}),
      },
    };
  } else {
    c.fail("model", "must have 'dir' (a checkpoint directory) or 'toy' (a toy model spec)");
  }

  // data
  const d = c.obj(o.data, "data");
  let data: TrainConfig["data"];
  if ("file" in d) {
    c.keys(d, "data", ["file", "unpaired"]);
    data = { file: c.str(d.file, "data.file") };
    if (d.unpaired !== undefined && c.bool(d.unpaired, "data.unpaired")) {
      if ("toy" in model) c.fail("data.unpaired", "is for causal LMs");
      data.unpaired = true;
    }
  } else if ("pairs" in d) {
    c.keys(d, "data", ["pairs"]);
    if (!("toy" in model)) c.fail("data.pairs", "is for toy models; a causal LM needs data.file");
    if (!Array.isArray(d.pairs) || d.pairs.length === 0) {
      c.fail("data.pairs", "must be a non-empty list");
    }
    data = {
      pairs: d.pairs.map((p, i) => {
        const q = c.obj(p, `data.pairs[${i}]`);
        c.keys(q, `data.pairs[${i}]`, ["prompt", "chosen", "rejected"]);
        return {
          prompt: c.ref(q.prompt, `data.pairs[${i}].prompt`),
          chosen: c.ref(q.chosen, `data.pairs[${i}].chosen`),
          rejected: c.ref(q.rejected, `data.pairs[${i}].rejected`),
        };
      }),
    };
  } else {
    c.fail("data", "must have 'file' or (toy models) 'pairs'");
  }

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

  if (o.tokenize !== undefined) {
    const t = c.obj(o.tokenize, "tokenize");
    c.keys(t, "tokenize", [
      "maxLength",
      "maxPromptLength",
      "maxCompletionLength",
      "truncationMode",
    ]);
    for (const k of ["maxLength", "maxPromptLength", "maxCompletionLength"]) {
      if (t[k] !== undefined && t[k] !== null) c.int(t[k], `tokenize.${k}`, 1);
    }
    if (
      t.truncationMode !== undefined && t.truncationMode !== "keep_start" &&
      t.truncationMode !== "keep_end"
    ) {
      c.fail("tokenize.truncationMode", `must be "keep_start" or "keep_end"`);
    }
    out.tokenize = t as TrainConfig["tokenize"];
  }

  const ob = c.obj(o.objective, "objective");
  c.keys(ob, "objective", ["name", "params"]);
  out.objective = {
    name: c.str(ob.name, "objective.name"),
    ...(ob.params !== undefined ? { params: c.obj(ob.params, "objective.params") } : {}),
  };

  if (o.reference !== undefined) {
    const r = c.obj(o.reference, "reference");
    if (r.kind === "precompute") {
      c.keys(r, "reference", ["kind", "cacheDir"]);
      out.reference = {
        kind: "precompute",
        ...(r.cacheDir !== undefined ? { cacheDir: c.str(r.cacheDir, "reference.cacheDir") } : {}),
      };
    } else if (r.kind === "model") {
      c.keys(r, "reference", ["kind"]);
      out.reference = { kind: "model" };
    } else {c.fail(
        "reference.kind",
        `must be "precompute" or "model", got ${JSON.stringify(r.kind)}`,
      );}
  }

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
  if (o.eval !== undefined) {
    const e = c.obj(o.eval, "eval");
    c.keys(e, "eval", ["fraction", "every", "batchSize"]);
    out.eval = {
      fraction: c.num(e.fraction, "eval.fraction", (x) => x > 0 && x < 1, "in (0, 1)"),
      ...(e.every !== undefined ? { every: c.int(e.every, "eval.every", 1) } : {}),
      ...(e.batchSize !== undefined ? { batchSize: c.int(e.batchSize, "eval.batchSize", 1) } : {}),
    };
  }
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
  if (o.trackers !== undefined) {
    if (!Array.isArray(o.trackers)) c.fail("trackers", "must be a list");
    out.trackers = o.trackers.map((t, i) => parseTracker(c, t, `trackers[${i}]`, "toy" in model));
  }
  return out;
}

function parseTracker(c: Checker, raw: unknown, field: string, toy: boolean): TrackerConfig {
  const t = c.obj(raw, field);
  if (t.name === "implicit_rewards") {
    c.keys(t, field, ["name", "every"]);
    return {
      name: "implicit_rewards",
      ...(t.every !== undefined ? { every: c.int(t.every, `${field}.every`, 1) } : {}),
    };
  }
  if (t.name !== "mass") {
    c.fail(`${field}.name`, `must be "mass" or "implicit_rewards", got ${JSON.stringify(t.name)}`);
  }
  c.keys(t, field, ["name", "every", "pairs", "probeFields", "otherAnswers", "probes"]);
  const out: MassTrackerConfig = { name: "mass" };
  if (t.every !== undefined) out.every = c.int(t.every, `${field}.every`, 1);
  if (t.pairs !== undefined) out.pairs = c.int(t.pairs, `${field}.pairs`, 1);
  if (t.probeFields !== undefined) {
    if (toy) c.fail(`${field}.probeFields`, "is for causal LMs; toy models take 'probes'");
    if (!Array.isArray(t.probeFields)) {
      c.fail(`${field}.probeFields`, "must be a list of field names");
    }
    out.probeFields = t.probeFields.map((x, i) => c.str(x, `${field}.probeFields[${i}]`));
  }
  if (t.otherAnswers !== undefined) {
    if (toy) c.fail(`${field}.otherAnswers`, "is for causal LMs; toy models take 'probes'");
    out.otherAnswers = c.int(t.otherAnswers, `${field}.otherAnswers`, 0);
  }
  if (t.probes !== undefined) {
    if (!toy) c.fail(`${field}.probes`, "is for toy models; causal LMs take 'probeFields'");
    if (!Array.isArray(t.probes)) c.fail(`${field}.probes`, "must be a list");
    out.probes = t.probes.map((p, i) => {
      const q = c.obj(p, `${field}.probes[${i}]`);
      c.keys(q, `${field}.probes[${i}]`, ["prompt", "token", "label"]);
      return {
        prompt: c.ref(q.prompt, `${field}.probes[${i}].prompt`),
        token: c.ref(q.token, `${field}.probes[${i}].token`),
        label: c.str(q.label, `${field}.probes[${i}].label`),
      };
    });
  }
  return out;
}
