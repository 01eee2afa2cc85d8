/**
 * A run's checkpoint series, re-scored after the fact: for each saved checkpoint and each pair,
 * the summed log-probs of chosen, rejected and probe responses, likelihood displacement against
 * the first model of the series (Definition 1 of arXiv 2410.08847, labelled benign or
 * catastrophic when probes marked `good` are given) and CHES (arXiv 2410.08847 §4), as the
 * same per-pair rows a live run's trackers write (`mass.jsonl`, `displacement.jsonl`), so the
 * notebooks' live-run plots read them unchanged.
 *
 * Two layouts are read ({@link findCheckpoints}):
 * - a Hugging Face / TRL output folder: `checkpoint-N/` subfolders, each a Hugging Face model
 *   directory (`config.json` + safetensors), with `trainer_state.json` inside them or beside;
 * - a run directory written here: `checkpoints/step-NNNNNN/weights.safetensors` applied to the
 *   model named in `config.json` (`user.model.dir`), which is also step 0, and `model/` (the
 *   final Hugging Face checkpoint) when no trainer checkpoint has the last step.
 *
 * @module
 */
import type { TokenizedPair } from "../data/types.ts";
import type { TokenizedProbe } from "../data/tokenize.ts";
import * as tf from "@tensorflow/tfjs-core";
import { collateProbes } from "../data/collate.ts";
import { loadCausalLM } from "../models/checkpoint.ts";
import { readSafetensors } from "../models/safetensors.ts";
import type { CausalLM } from "../models/types.ts";
import { lmScorer } from "../scoring/lm.ts";
import { tokenLogps } from "../scoring/logps.ts";
import { computeReferenceLogpsAsync } from "../scoring/ref_cache.ts";
import { preferenceData } from "../train/train_data.ts";
import { chesScores } from "./ches.ts";
import { displacement, labelDisplacement } from "./displacement.ts";
import { pathExists } from "../output.ts";
import { mean } from "./tracker_util.ts";

/** One model of a series. */
export interface SeriesCheckpoint {
  /** Optimizer step the weights are from (0: the model before training). */
  step: number;
  /** Where the weights are. */
  dir: string;
  /** Load the model (the caller disposes it). */
  load(): Promise<CausalLM>;
}

/** What {@link findCheckpoints} found. */
export interface CheckpointSeries {
  /** `trl`: Hugging Face `checkpoint-N/` folders; `dpo-lab`: a run directory written here. */
  source: "trl" | "dpo-lab";
  /** Models in step order. */
  checkpoints: SeriesCheckpoint[];
  /** A directory holding the tokenizer files, when one was found. */
  tokenizerDir?: string;
}

async function subdirs(dir: string, re: RegExp): Promise<{ n: number; dir: string }[]> {
  const out: { n: number; dir: string }[] = [];
  for await (const e of Deno.readDir(dir)) {
    const m = e.isDirectory ? re.exec(e.name) : null;
    if (m) out.push({ n: Number(m[1]), dir: `${dir}/${e.name}` });
  }
  return out.sort((a, b) => a.n - b.n);
}

/** Weights of one trainer checkpoint applied to a freshly loaded base model. */
async function loadWithWeights(base: string, weights: string): Promise<CausalLM> {
  const model = await loadCausalLM(base);
  try {
    const saved = await readSafetensors(weights);
    for (const [name, v] of model.namedVariables()) {
      const t = saved.get(name);
      if (!t) throw new TypeError(`${weights}: no tensor '${name}' (model ${base})`);
      if (t.shape.join(",") !== v.shape.join(",")) {
        throw new RangeError(`${weights}: '${name}' has shape [${t.shape}], model [${v.shape}]`);
      }
      const value = tf.tensor(t.values, v.shape);
      v.assign(value);
      value.dispose();
    }
    return model;
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * The checkpoints of a run folder, in step order (see the module docs for the two layouts).
 * Errors name the folder and what is missing.
 *
 * @example
 * ```ts
 * import { findCheckpoints } from "./checkpoint_series.ts";
 * const dir = await Deno.makeTempDir();
 * await findCheckpoints(dir).catch((e) => console.log(e.message.endsWith("no checkpoints")));
 * ```
 */
export async function findCheckpoints(runDir: string): Promise<CheckpointSeries> {
  if (!await pathExists(runDir)) throw new TypeError(`${runDir}: no such folder`);
  const hf = await subdirs(runDir, /^checkpoint-(\d+)$/);
  if (hf.length > 0) {
    for (const c of hf) {
      if (!await pathExists(`${c.dir}/config.json`)) {
        throw new TypeError(`${c.dir}: no config.json (not a Hugging Face model folder)`);
      }
    }
    let tokenizerDir: string | undefined;
    for (const d of [...hf.map((c) => c.dir), runDir]) {
      if (await pathExists(`${d}/tokenizer.json`)) {
        tokenizerDir = d;
        break;
      }
    }
    return {
      source: "trl",
      checkpoints: hf.map((c) => ({ step: c.n, dir: c.dir, load: () => loadCausalLM(c.dir) })),
      tokenizerDir,
    };
  }
  const ours = await pathExists(`${runDir}/checkpoints`)
    ? await subdirs(`${runDir}/checkpoints`, /^step-(\d+)$/)
    : [];
  if (ours.length === 0 && !await pathExists(`${runDir}/model/config.json`)) {
    throw new TypeError(
      `${runDir}: no checkpoint-N/ folders (Hugging Face) and no checkpoints/step-N/ or model/ ` +
        `(dpo-lab run): no checkpoints`,
    );
  }
  const base = await baseModelDir(runDir);
  const checkpoints: SeriesCheckpoint[] = [{ step: 0, dir: base, load: () => loadCausalLM(base) }];
  for (const c of ours) {
    const w = `${c.dir}/weights.safetensors`;
    checkpoints.push({ step: c.n, dir: c.dir, load: () => loadWithWeights(base, w) });
  }
  const final = await finalStep(runDir);
  if (final !== undefined && !checkpoints.some((c) => c.step === final)) {
    const dir = `${runDir}/model`;
    checkpoints.push({ step: final, dir, load: () => loadCausalLM(dir) });
  }
  return { source: "dpo-lab", checkpoints, tokenizerDir: base };
}

/** The base model of a run written here: `config.json` → `user.model.dir`. */
async function baseModelDir(runDir: string): Promise<string> {
  const path = `${runDir}/config.json`;
  if (!await pathExists(path)) throw new TypeError(`${path}: missing (needed for the base model)`);
  const config = JSON.parse(await Deno.readTextFile(path));
  const dir = config?.user?.model?.dir;
  if (typeof dir !== "string") {
    throw new TypeError(`${path}: field 'user.model.dir' is missing (not a causal-LM run)`);
  }
  if (!await pathExists(`${dir}/config.json`)) {
    throw new TypeError(`${path}: base model '${dir}' not found (paths resolve from here)`);
  }
  return dir;
}

/** Step of a completed run's final `model/` folder, if it has one. */
async function finalStep(runDir: string): Promise<number | undefined> {
  if (!await pathExists(`${runDir}/model/config.json`)) return undefined;
  const status = `${runDir}/status.json`;
  if (!await pathExists(status)) return undefined;
  const s = JSON.parse(await Deno.readTextFile(status));
  return s?.state === "completed" && typeof s.step === "number" ? s.step : undefined;
}

/** A probe response to score at every checkpoint. */
export interface SeriesProbe extends TokenizedProbe {
  /** Counts as "as good as y+" when labelling displacement (benign vs catastrophic). */
  good?: boolean;
}

/** Options of {@link analyseCheckpoints}. */
export interface AnalyseOptions {
  /** Tokenized pairs; `index` is the pair id written to every row. */
  pairs: readonly TokenizedPair[];
  /** Probe responses (`index` = the pair they belong to; `name` = their label). */
  probes?: readonly SeriesProbe[];
  /** Padding id of the tokenizer. */
  padId: number;
  /** Pairs per forward pass (default 8). */
  batchSize?: number;
  /** Share of y+'s lost mass the good probes must gain for "benign" (default 0.5). */
  benignShare?: number;
  /** Called after each checkpoint (progress). */
  onCheckpoint?: (step: number, done: number, total: number) => void;
}

/** Rows by file name (`mass`, `displacement`, `ches`, `steps`), each with its `step`. */
export type SeriesRows = Record<"mass" | "displacement" | "ches" | "steps", Row[]>;
type Row = Record<string, unknown> & { step: number };

/** Log-probs and CHES of every pair and probe under one model. */
async function scoreModel(model: CausalLM, o: AnalyseOptions) {
  const bs = o.batchSize ?? 8;
  const data = preferenceData(o.pairs, { padId: o.padId });
  const lp = await computeReferenceLogpsAsync(lmScorer(model, { stats: false }), data, {
    batchSize: bs,
  });
  const probes: number[] = [];
  const all = o.probes ?? [];
  for (let i = 0; i < all.length; i += bs) {
    const batch = collateProbes(all.slice(i, i + bs), o.padId);
    const t = tokenLogps(model, batch).summed;
    try {
      probes.push(...await t.data());
    } finally {
      t.dispose();
    }
  }
  const ches = await chesScores(model, o.pairs, { batchSize: bs, padId: o.padId });
  return { chosen: Array.from(lp.chosen), rejected: Array.from(lp.rejected), probes, ches };
}

/**
 * Score every checkpoint of a series and build the per-pair rows (see the module docs). The
 * first checkpoint is the displacement baseline (`initial`). `steps` rows carry the aggregates
 * the live trackers log: `mass/chosen`, `mass/rejected`, `mass/<label>`, `displacement/*` and
 * `ches/mean`.
 *
 * @example One saved checkpoint in TRL's layout, one pair
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../models/gpt2.ts";
 * import { saveCausalLM } from "../models/checkpoint.ts";
 * import { analyseCheckpoints, findCheckpoints } from "./checkpoint_series.ts";
 * const dir = await Deno.makeTempDir();
 * const model = createGPT2({ vocab_size: 10, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * await saveCausalLM(model, `${dir}/checkpoint-5`);
 * model.dispose();
 * const series = await findCheckpoints(dir);
 * const pairs = [{ index: 0, promptIds: [1, 2], chosenIds: [3, 4], rejectedIds: [5] }];
 * const rows = await analyseCheckpoints(series.checkpoints, { pairs, padId: 0 });
 * console.log(rows.mass.map((r) => `${r.step}:${r.label}`)); // ["5:chosen", "5:rejected"]
 * console.log(rows.displacement[0].change); // 0 (the first checkpoint is the baseline)
 * ```
 */
export async function analyseCheckpoints(
  checkpoints: readonly SeriesCheckpoint[],
  o: AnalyseOptions,
): Promise<SeriesRows> {
  if (checkpoints.length === 0) throw new RangeError("analyseCheckpoints: no checkpoints");
  if (o.pairs.length === 0) throw new RangeError("analyseCheckpoints: no pairs");
  const rows: SeriesRows = { mass: [], displacement: [], ches: [], steps: [] };
  let first: Awaited<ReturnType<typeof scoreModel>> | undefined;
  for (const [k, c] of checkpoints.entries()) {
    const model = await c.load();
    let s;
    try {
      s = await scoreModel(model, o);
    } finally {
      model.dispose();
    }
    first ??= s;
    appendRows(rows, c.step, s, first, o);
    o.onCheckpoint?.(c.step, k + 1, checkpoints.length);
  }
  return rows;
}

type Scores = Awaited<ReturnType<typeof scoreModel>>;

function appendRows(rows: SeriesRows, step: number, s: Scores, init: Scores, o: AnalyseOptions) {
  const ids = o.pairs.map((p) => p.index);
  const probes = o.probes ?? [];
  ids.forEach((id, i) => {
    rows.mass.push({ step, prompt: id, label: "chosen", logp: s.chosen[i] });
    rows.mass.push({ step, prompt: id, label: "rejected", logp: s.rejected[i] });
  });
  probes.forEach((p, j) =>
    rows.mass.push({ step, prompt: p.index, label: p.name, logp: s.probes[j] })
  );
  const d = displacement(init.chosen, s.chosen);
  const labels = ids.map((id, i) => {
    const good = probes.flatMap((p, j) =>
      p.good && p.index === id ? [{ initial: init.probes[j], final: s.probes[j] }] : []
    );
    if (good.length === 0) return undefined;
    return labelDisplacement({ initial: init.chosen[i], final: s.chosen[i] }, {
      good,
      benignShare: o.benignShare,
    });
  });
  d.pairs.forEach((p, i) =>
    rows.displacement.push({
      step,
      pair: ids[i],
      initial: p.initial,
      current: p.final,
      change: p.change,
      displaced: p.displaced,
      ...(labels[i] ? { kind: labels[i]!.kind, good_share: labels[i]!.goodShare } : {}),
    })
  );
  s.ches.forEach((c) =>
    rows.ches.push({ step, pair: c.index, ches: c.ches, ches_normalized: c.chesNormalized })
  );
  rows.steps.push({ step, ...aggregates(s, d, labels, probes) });
}

function aggregates(
  s: Scores,
  d: ReturnType<typeof displacement>,
  labels: (ReturnType<typeof labelDisplacement> | undefined)[],
  probes: readonly SeriesProbe[],
): Record<string, number> {
  const out: Record<string, number> = {
    "mass/chosen": mean(s.chosen),
    "mass/rejected": mean(s.rejected),
    "displacement/fraction": d.fractionDisplaced,
    "displacement/mean_change": d.meanChange,
    "displacement/min_change": Math.min(...d.pairs.map((p) => p.change)),
    "ches/mean": mean(s.ches.map((c) => c.ches)),
  };
  for (const label of new Set(probes.map((p) => p.name))) {
    out[`mass/${label}`] = mean(probes.flatMap((p, j) => p.name === label ? [s.probes[j]] : []));
  }
  if (labels.some((l) => l)) {
    const n = labels.length;
    out["displacement/benign"] = labels.filter((l) => l?.kind === "benign").length / n;
    out["displacement/catastrophic"] = labels.filter((l) => l?.kind === "catastrophic").length / n;
  }
  return out;
}
