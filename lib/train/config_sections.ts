/**
 * The sections of a `lab train` configuration validated one by one (model, data, tokenization,
 * objective, reference, evaluation split, trackers); `parseTrainConfig` (config.ts) puts them
 * together in its fixed order, so the first error reported does not change.
 *
 * @module
 */
import type { Checker } from "./config_check.ts";
import type {
  MassTrackerConfig,
  ToyModelConfig,
  TrackerConfig,
  TrainConfig,
} from "./config_types.ts";

/**
 * The `model` section: a checkpoint folder or a toy model spec.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseModel } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseModel(c, { dir: "m" }), { dir: "m" });
 * assert.throws(() => parseModel(c, { toy: { kind: "linear", tokens: ["a"], dim: 2 } }),
 *   /field 'model.toy.tokens' must be a list of at least 2 token names/);
 * ```
 */
export function parseModel(c: Checker, raw: unknown): TrainConfig["model"] {
  const m = c.obj(raw, "model");
  if ("dir" in m) {
    c.keys(m, "model", ["dir"]);
    return { dir: c.str(m.dir, "model.dir") };
  }
  if ("toy" in m) {
    c.keys(m, "model", ["toy"]);
    return { toy: parseToyModel(c, m.toy) };
  }
  return c.fail("model", "must have 'dir' (a checkpoint directory) or 'toy' (a toy model spec)");
}

function parseToyModel(c: Checker, raw: unknown): ToyModelConfig {
  const t = c.obj(raw, "model.toy");
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
  return {
    kind: t.kind as ToyModelConfig["kind"],
    tokens: t.tokens as string[],
    ...(prompts !== undefined ? { prompts } : {}),
    dim: c.int(t.dim, "model.toy.dim", 1),
    ...(t.seed !== undefined ? { seed: c.int(t.seed, "model.toy.seed", -(2 ** 31)) } : {}),
  };
}

/**
 * The `data` section: a file (causal LMs, optionally unpaired) or inline pairs (toy models).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseData } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseData(c, { file: "d.jsonl" }, { dir: "m" }), { file: "d.jsonl" });
 * assert.throws(() => parseData(c, { pairs: [] }, { dir: "m" }), /'data.pairs' is for toy models/);
 * ```
 */
export function parseData(
  c: Checker,
  raw: unknown,
  model: TrainConfig["model"],
): TrainConfig["data"] {
  const d = c.obj(raw, "data");
  if ("file" in d) {
    c.keys(d, "data", ["file", "unpaired"]);
    const data: TrainConfig["data"] = { file: c.str(d.file, "data.file") };
    if (d.unpaired !== undefined && c.bool(d.unpaired, "data.unpaired")) {
      if ("toy" in model) c.fail("data.unpaired", "is for causal LMs");
      data.unpaired = true;
    }
    return data;
  }
  if ("pairs" in d) {
    c.keys(d, "data", ["pairs"]);
    if (!("toy" in model)) c.fail("data.pairs", "is for toy models; a causal LM needs data.file");
    if (!Array.isArray(d.pairs) || d.pairs.length === 0) {
      c.fail("data.pairs", "must be a non-empty list");
    }
    return {
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
  }
  return c.fail("data", "must have 'file' or (toy models) 'pairs'");
}

/**
 * The `tokenize` section (TRL's limits in camelCase), returned as given once checked.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseTokenize } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseTokenize(c, { maxLength: 64 }), { maxLength: 64 });
 * assert.throws(() => parseTokenize(c, { truncationMode: "middle" }), /truncationMode/);
 * ```
 */
export function parseTokenize(c: Checker, raw: unknown): TrainConfig["tokenize"] {
  const t = c.obj(raw, "tokenize");
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
  return t as TrainConfig["tokenize"];
}

/**
 * The `objective` section: a name and an optional parameter object (checked by the registry
 * when the run starts).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseObjective } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseObjective(c, { name: "dpo" }), { name: "dpo" });
 * assert.throws(() => parseObjective(c, { name: "" }), /'objective.name' must be a non-empty/);
 * ```
 */
export function parseObjective(c: Checker, raw: unknown): TrainConfig["objective"] {
  const ob = c.obj(raw, "objective");
  c.keys(ob, "objective", ["name", "params"]);
  return {
    name: c.str(ob.name, "objective.name"),
    ...(ob.params !== undefined ? { params: c.obj(ob.params, "objective.params") } : {}),
  };
}

/**
 * The `reference` section: precomputed (optionally cached on disk) or a frozen model.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseReference } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseReference(c, { kind: "model" }), { kind: "model" });
 * assert.throws(() => parseReference(c, { kind: "x" }), /'reference.kind' must be "precompute"/);
 * ```
 */
export function parseReference(c: Checker, raw: unknown): TrainConfig["reference"] {
  const r = c.obj(raw, "reference");
  if (r.kind === "precompute") {
    c.keys(r, "reference", ["kind", "cacheDir"]);
    return {
      kind: "precompute",
      ...(r.cacheDir !== undefined ? { cacheDir: c.str(r.cacheDir, "reference.cacheDir") } : {}),
    };
  }
  if (r.kind === "model") {
    c.keys(r, "reference", ["kind"]);
    return { kind: "model" };
  }
  return c.fail(
    "reference.kind",
    `must be "precompute" or "model", got ${JSON.stringify(r.kind)}`,
  );
}

/**
 * The `eval` section: the held-out fraction, how often and in what batches to evaluate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseEval } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseEval(c, { fraction: 0.2, every: 5 }), { fraction: 0.2, every: 5 });
 * assert.throws(() => parseEval(c, { fraction: 1 }), /must be in \(0, 1\), got 1/);
 * ```
 */
export function parseEval(c: Checker, raw: unknown): TrainConfig["eval"] {
  const e = c.obj(raw, "eval");
  c.keys(e, "eval", ["fraction", "every", "batchSize"]);
  return {
    fraction: c.num(e.fraction, "eval.fraction", (x) => x > 0 && x < 1, "in (0, 1)"),
    ...(e.every !== undefined ? { every: c.int(e.every, "eval.every", 1) } : {}),
    ...(e.batchSize !== undefined ? { batchSize: c.int(e.batchSize, "eval.batchSize", 1) } : {}),
  };
}

/**
 * One `trackers[i]` entry: `implicit_rewards`, or `mass` with its probes (probe fields and other
 * answers for causal LMs, probe tokens for toy models).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * import { parseTracker } from "./config_sections.ts";
 * const c = new Checker("run.json");
 * assert.deepEqual(parseTracker(c, { name: "mass", pairs: 8 }, "trackers[0]", false),
 *   { name: "mass", pairs: 8 });
 * assert.throws(() => parseTracker(c, { name: "mass", probes: [] }, "trackers[0]", false),
 *   /'trackers\[0\].probes' is for toy models/);
 * ```
 */
export function parseTracker(c: Checker, raw: unknown, field: string, toy: boolean): TrackerConfig {
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
