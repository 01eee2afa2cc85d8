/**
 * The pretraining task: Brown corpus -> BPE tokenizer -> GPT-2 trained with Adam, with
 * periodic checkpoints, exact resume, a flushed JSONL log and a held-out evaluation.
 *
 * Everything random (held-out split, initialisation, batches) derives from one seed; batches
 * depend on (seed, step) only, so a resumed run sees the same data as an uninterrupted one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { createGPT2 } from "../../lib/models/mod.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import { encodeSafetensors, readSafetensors } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { readBrown, splitDocuments } from "./corpus.ts";
import { trainTokenizer, writeTokenizer } from "./tokenizer.ts";
import { loadTokenizer, type TextTokenizer } from "./hf_tokenizer.ts";
import { encodeStream, evalWindows, type LmBatch, sampleBatch, sliceRows } from "./data.ts";
import { lmLoss, rowLossSums } from "./loss.ts";
import { Adam } from "./adam.ts";
import { type LossReport, unigramCounts, unigramLoss } from "./unigram.ts";
import { syncDir, writeOutput } from "../../lib/output.ts";
import { checkRunFolder } from "./guard.ts";

/** Settings of a pretraining run (all have defaults, see {@link DEFAULT_PRETRAIN}). */
export interface PretrainConfig {
  seed: number;
  /** Tokenizer vocabulary size, `<|endoftext|>` included. */
  vocabSize: number;
  /** Fraction of Brown documents held out. */
  heldOutFraction: number;
  /** GPT-2 shape (Hugging Face field names). */
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nPositions: number;
  /** Rows per batch and tokens per row. */
  batchSize: number;
  seqLen: number;
  /** Optimizer steps in total. */
  steps: number;
  /** Peak learning rate, reached after `warmupSteps`, then cosine decay to `minLrRatio * lr`. */
  lr: number;
  warmupSteps: number;
  minLrRatio: number;
  /** Global gradient-norm clip. */
  clipNorm: number;
  /** Evaluate on `evalRows` held-out windows every `evalEvery` steps. */
  evalEvery: number;
  evalRows: number;
  /** Save a resumable checkpoint every this many steps. */
  checkpointEvery: number;
}

/** Defaults: a 1.3M-parameter GPT-2 sized for about 45 minutes on a 2-core CPU (WebGPU on llvmpipe). */
export const DEFAULT_PRETRAIN: Readonly<PretrainConfig> = {
  seed: 0,
  vocabSize: 4096,
  heldOutFraction: 0.05,
  nEmbd: 128,
  nLayer: 4,
  nHead: 4,
  nPositions: 128,
  batchSize: 8,
  seqLen: 128,
  steps: 2000,
  lr: 3e-3,
  warmupSteps: 100,
  minLrRatio: 0.1,
  clipNorm: 1.0,
  evalEvery: 250,
  evalRows: 32,
  checkpointEvery: 100,
};

/**
 * Learning rate at a step (0-based): linear warmup to `lr` over `warmupSteps`, then cosine
 * decay to `minLrRatio * lr` at the last step.
 *
 * @example
 * ```ts
 * import { DEFAULT_PRETRAIN, lrAt } from "./train.ts";
 * const c = { ...DEFAULT_PRETRAIN, lr: 1, warmupSteps: 10, steps: 110, minLrRatio: 0 };
 * console.log(lrAt(4, c), lrAt(9, c), lrAt(109, c)); // 0.5 1 0
 * ```
 */
export function lrAt(
  step: number,
  c: Pick<PretrainConfig, "lr" | "warmupSteps" | "steps" | "minLrRatio">,
): number {
  if (step < c.warmupSteps) return c.lr * (step + 1) / c.warmupSteps;
  const span = Math.max(1, c.steps - 1 - c.warmupSteps);
  const progress = Math.min(1, (step - c.warmupSteps) / span);
  const floor = c.minLrRatio * c.lr;
  return floor + (c.lr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/** Validate a (partial) config against {@link DEFAULT_PRETRAIN}; errors name the field. */
export function pretrainConfig(raw: Partial<PretrainConfig> = {}): PretrainConfig {
  const c = { ...DEFAULT_PRETRAIN, ...raw };
  for (const [k, v] of Object.entries(c)) {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      throw new TypeError(`pretrain config field '${k}' must be a finite number, got ${v}`);
    }
  }
  const ints: (keyof PretrainConfig)[] = [
    "seed",
    "vocabSize",
    "nEmbd",
    "nLayer",
    "nHead",
    "nPositions",
    "batchSize",
    "seqLen",
    "steps",
    "warmupSteps",
    "evalEvery",
    "evalRows",
    "checkpointEvery",
  ];
  for (const k of ints) {
    if (!Number.isInteger(c[k]) || (k !== "seed" && k !== "warmupSteps" && c[k] <= 0)) {
      throw new RangeError(`pretrain config field '${k}' must be a positive integer, got ${c[k]}`);
    }
  }
  if (c.nEmbd % c.nHead !== 0) {
    throw new RangeError(`nEmbd ${c.nEmbd} must be divisible by nHead ${c.nHead}`);
  }
  if (c.seqLen > c.nPositions) {
    throw new RangeError(`seqLen ${c.seqLen} exceeds nPositions ${c.nPositions}`);
  }
  if (!(c.lr > 0) || !(c.clipNorm > 0) || !(c.minLrRatio >= 0 && c.minLrRatio <= 1)) {
    throw new RangeError("lr and clipNorm must be > 0 and minLrRatio in [0, 1]");
  }
  return c;
}

/** The corpus as token streams, with the tokenizer that made them. */
export interface PretrainData {
  tokenizer: TextTokenizer;
  train: Int32Array;
  heldOut: Int32Array;
  trainDocs: string[];
  heldOutDocs: string[];
}

/**
 * Read Brown, split it, train the tokenizer on the training documents only (written to
 * `tokenizerDir` unless one is already there) and encode both splits.
 *
 * @example
 * ```ts ignore
 * import { DEFAULT_PRETRAIN, prepareData } from "./train.ts";
 * const data = await prepareData(DEFAULT_PRETRAIN, "out/pretrain/tok");
 * console.log(data.train.length, data.heldOut.length);
 * ```
 */
export async function prepareData(
  c: PretrainConfig,
  tokenizerDir: string,
): Promise<PretrainData> {
  const docs = await readBrown();
  const split = splitDocuments(docs, { seed: c.seed, heldOutFraction: c.heldOutFraction });
  const trainDocs = split.train.map((d) => d.id);
  const heldOutDocs = split.heldOut.map((d) => d.id);
  if (!(await exists(`${tokenizerDir}/tokenizer.json`))) {
    const files = await trainTokenizer(split.train.map((d) => d.text), {
      vocabSize: c.vocabSize,
      modelMaxLength: c.nPositions,
    });
    await writeTokenizer(tokenizerDir, files);
  }
  const tokenizer = await loadTokenizer(tokenizerDir);
  if (tokenizer.vocabSize !== c.vocabSize) {
    throw new RangeError(
      `${tokenizerDir}/tokenizer.json has ${tokenizer.vocabSize} ids, config asks for ${c.vocabSize}`,
    );
  }
  const enc = { encode: (t: string) => tokenizer.encode(t), eosId: tokenizer.eosId };
  return {
    tokenizer,
    train: encodeStream(split.train.map((d) => d.text), enc),
    heldOut: encodeStream(split.heldOut.map((d) => d.text), enc),
    trainDocs,
    heldOutDocs,
  };
}

/**
 * Whether `path` can be stat'ed; any failure (missing, unreadable) counts as absent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exists } from "./train.ts";
 * assert.equal(await exists(Deno.cwd()), true);
 * assert.equal(await exists(`${Deno.cwd()}/no/such/file`), false);
 * ```
 */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * One training step: loss, global-norm clipping, Adam update. Returns the loss before the
 * update and the gradient norm before clipping.
 */
export async function trainStep(
  model: CausalLM,
  batch: LmBatch,
  opts: { optimizer: Adam; lr: number; clipNorm: number },
): Promise<{ loss: number; gradNorm: number }> {
  const named = model.namedVariables();
  const vars = [...named.values()];
  const x = tf.tensor2d(batch.inputs, [batch.rows, batch.length], "int32");
  const y = tf.tensor2d(batch.targets, [batch.rows, batch.length], "int32");
  const { value, grads } = tf.variableGrads(() => lmLoss(model.forward(x).logits, y), vars);
  // A chain of adds, not tf.addN: on WebGPU (llvmpipe, tfjs 4.22) addN of more than four
  // tensors silently sums only the first four.
  const norm = tf.tidy(() =>
    tf.sqrt(Object.values(grads).map((g) => tf.sum(tf.square(g))).reduce((a, b) => tf.add(a, b)))
  );
  const clipped: tf.NamedTensorMap = tf.tidy(() => {
    const scale = tf.minimum(1, tf.div(opts.clipNorm, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [name, v] of named) out[name] = tf.mul(grads[v.name], scale);
    return out;
  });
  opts.optimizer.apply(new Map(Object.entries(clipped)), opts.lr);
  const [loss, gradNorm] = await Promise.all([value.data(), norm.data()]);
  tf.dispose([x, y, value, norm, ...Object.values(grads), ...Object.values(clipped)]);
  return { loss: loss[0], gradNorm: gradNorm[0] };
}

/**
 * Mean next-token cross-entropy (nats) of a model over all rows of a batch of windows,
 * scored `rowsPerCall` rows at a time.
 *
 * @example
 * ```ts ignore
 * const report = await evaluate(model, evalWindows(heldOut, 128));
 * console.log(report.loss, report.perplexity);
 * ```
 */
export async function evaluate(
  model: CausalLM,
  windows: LmBatch,
  opts: { rowsPerCall?: number } = {},
): Promise<LossReport> {
  const per = opts.rowsPerCall ?? 16;
  let sum = 0;
  for (let r = 0; r < windows.rows; r += per) {
    const b = sliceRows(windows, r, r + per);
    const sums = tf.tidy(() => {
      const x = tf.tensor2d(b.inputs, [b.rows, b.length], "int32");
      const y = tf.tensor2d(b.targets, [b.rows, b.length], "int32");
      return tf.sum(rowLossSums(model.forward(x).logits, y));
    });
    sum += (await sums.data())[0];
    sums.dispose();
  }
  const tokens = windows.rows * windows.length;
  if (tokens === 0) throw new RangeError("evaluate needs at least one window");
  return { loss: sum / tokens, perplexity: Math.exp(sum / tokens), tokens };
}

/** The unigram baseline on the same targets as {@link evaluate} (see unigram.ts). */
export function unigramBaseline(data: PretrainData, windows: LmBatch): LossReport {
  return unigramLoss(unigramCounts(data.train, data.tokenizer.vocabSize), windows.targets);
}

/** Options of {@link pretrain}. */
export interface PretrainOptions {
  /** Continue from `<runDir>/checkpoint` (an error when there is none). */
  resume?: boolean;
  /** Replace a previous pretraining in `runDir` (a folder holding other files is refused). */
  force?: boolean;
  /** Called with the entries of a previous pretraining that `force` removed. */
  onReplaced?: (entries: string[]) => void;
  /** Stop (after checkpointing) once this many minutes have passed; resume later. */
  maxMinutes?: number;
  /** Stop (after checkpointing) once this call has run this many steps. */
  stopAfter?: number;
  /** Called with each progress record (also appended to `<runDir>/log.jsonl`). */
  onLog?: (record: Record<string, unknown>) => void;
  /** Use these token streams instead of preparing Brown (for tests and other corpora). */
  data?: PretrainData;
}

/** What a finished (or paused) {@link pretrain} call leaves. */
export interface PretrainResult {
  model: CausalLM;
  data: PretrainData;
  config: PretrainConfig;
  /** Steps completed. */
  step: number;
  /** True when all `config.steps` are done. */
  done: boolean;
  /** Training wall time in seconds, summed over resumed segments. */
  trainSeconds: number;
}

/**
 * Run (or resume) pretraining in `runDir`: `tokenizer/`, `checkpoint/` (model, optimizer
 * state, `state.json`), `log.jsonl` (one flushed JSON line per step and per evaluation).
 * The caller owns the returned model.
 *
 * @example
 * ```ts ignore
 * import { pretrain } from "./train.ts";
 * const r = await pretrain({ steps: 10 }, "out/pretrain/smoke");
 * console.log(r.step, r.done);
 * ```
 */
export async function pretrain(
  raw: Partial<PretrainConfig>,
  runDir: string,
  opts: PretrainOptions = {},
): Promise<PretrainResult> {
  // Before anything is written: never start over files this run does not own.
  const replaced = await checkRunFolder(runDir, { resume: opts.resume, force: opts.force });
  if (replaced.length) opts.onReplaced?.(replaced);
  await Deno.mkdir(runDir, { recursive: true });
  const ckptDir = `${runDir}/checkpoint`;
  const resumeFrom = opts.resume ? await findCheckpoint(ckptDir) : undefined;
  let config = pretrainConfig(raw);
  let state = { step: 0, trainSeconds: 0 };
  if (resumeFrom) {
    const saved = JSON.parse(await Deno.readTextFile(`${resumeFrom}/state.json`));
    // The saved config wins, except for the total step count (a run may be extended).
    config = pretrainConfig({ ...saved.config, steps: raw.steps ?? saved.config.steps });
    state = { step: saved.step, trainSeconds: saved.trainSeconds };
  } else {
    await Deno.writeTextFile(`${runDir}/log.jsonl`, "");
  }
  await writeOutput(`${runDir}/run.json`, JSON.stringify(config, null, 2) + "\n", { force: true });
  const data = opts.data ?? await prepareData(config, `${runDir}/tokenizer`);
  const model = resumeFrom ? await loadCausalLM(resumeFrom) : createGPT2({
    vocab_size: config.vocabSize,
    n_positions: config.nPositions,
    n_embd: config.nEmbd,
    n_layer: config.nLayer,
    n_head: config.nHead,
    bos_token_id: data.tokenizer.eosId,
    eos_token_id: data.tokenizer.eosId,
  }, { seed: config.seed });
  const optimizer = new Adam(model.namedVariables(), { beta1: 0.9, beta2: 0.95 });
  if (resumeFrom) {
    optimizer.load(await readSafetensors(`${resumeFrom}/optimizer.safetensors`), state.step);
  }
  if (resumeFrom) await truncateLog(`${runDir}/log.jsonl`, state.step);
  const log = await Deno.open(`${runDir}/log.jsonl`, { append: true, create: true });
  const write = async (rec: Record<string, unknown>) => {
    await log.write(new TextEncoder().encode(JSON.stringify(rec) + "\n"));
    opts.onLog?.(rec);
  };
  const evalSet = sliceRows(evalWindows(data.heldOut, config.seqLen), 0, config.evalRows);
  const deadline = opts.maxMinutes ? performance.now() + opts.maxMinutes * 60_000 : Infinity;
  let segmentStart = performance.now();
  const stopAt = opts.stopAfter === undefined ? Infinity : state.step + opts.stopAfter;
  const tokensPerStep = config.batchSize * config.seqLen;
  try {
    while (state.step < config.steps) {
      const t0 = performance.now();
      const lr = lrAt(state.step, config);
      const batch = sampleBatch(data.train, {
        batchSize: config.batchSize,
        seqLen: config.seqLen,
        seed: config.seed,
        step: state.step,
      });
      const { loss, gradNorm } = await trainStep(model, batch, {
        optimizer,
        lr,
        clipNorm: config.clipNorm,
      });
      if (!Number.isFinite(loss)) throw new RangeError(`loss is ${loss} at step ${state.step}`);
      const dt = (performance.now() - t0) / 1000;
      state.step++;
      await write({
        step: state.step,
        loss: round(loss, 5),
        lr: round(lr, 7),
        grad_norm: round(gradNorm, 4),
        tokens_per_s: round(tokensPerStep / dt, 1),
        step_s: round(dt, 3),
        elapsed_s: round(state.trainSeconds + (performance.now() - segmentStart) / 1000, 1),
      });
      if (state.step % config.evalEvery === 0 || state.step === config.steps) {
        const ev = await evaluate(model, evalSet);
        await write({ step: state.step, eval_loss: round(ev.loss, 5), eval_tokens: ev.tokens });
      }
      const stopping = performance.now() > deadline || state.step >= stopAt;
      if (state.step % config.checkpointEvery === 0 || state.step === config.steps || stopping) {
        const now = performance.now();
        state.trainSeconds += (now - segmentStart) / 1000;
        segmentStart = now;
        await saveCheckpoint(model, optimizer, ckptDir, { ...state, config });
      }
      if (stopping) break;
    }
  } finally {
    log.close();
    optimizer.dispose();
  }
  state.trainSeconds += (performance.now() - segmentStart) / 1000;
  return {
    model,
    data,
    config,
    step: state.step,
    done: state.step >= config.steps,
    trainSeconds: state.trainSeconds,
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The checkpoint folder to resume from: the current one, else the previous one. */
async function findCheckpoint(dir: string): Promise<string | undefined> {
  for (const d of [dir, `${dir}.old`]) {
    if (await exists(`${d}/state.json`)) return d;
  }
  return undefined;
}

/**
 * Write into a fresh folder, then swap it in, so an interruption mid-write leaves the previous
 * checkpoint intact (as `<dir>` or `<dir>.old`).
 */
async function saveCheckpoint(
  model: CausalLM,
  optimizer: Adam,
  dir: string,
  state: { step: number; trainSeconds: number; config: PretrainConfig },
): Promise<void> {
  const tmp = `${dir}.tmp`;
  await Deno.remove(tmp, { recursive: true }).catch(() => {});
  await saveCausalLM(model, tmp);
  const moments = new Map<string, { shape: number[]; values: Float32Array }>();
  for (const [name, t] of optimizer.state()) {
    moments.set(name, { shape: t.shape, values: (await t.data()) as Float32Array });
  }
  await Deno.writeFile(`${tmp}/optimizer.safetensors`, encodeSafetensors(moments));
  await Deno.writeTextFile(`${tmp}/state.json`, JSON.stringify(state, null, 2) + "\n");
  await Deno.remove(`${dir}.old`, { recursive: true }).catch(() => {});
  if (await exists(dir)) await Deno.rename(dir, `${dir}.old`);
  await syncDir(tmp);
  await Deno.rename(tmp, dir);
  await syncDir(dir.slice(0, dir.lastIndexOf("/")) || ".");
  await Deno.remove(`${dir}.old`, { recursive: true }).catch(() => {});
}

/** Drop log lines past the resumed step (written after the last checkpoint). */
async function truncateLog(path: string, step: number): Promise<void> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
  const kept = lines.filter((l) => {
    try {
      return (JSON.parse(l).step ?? 0) <= step;
    } catch {
      return false;
    }
  });
  await Deno.writeTextFile(path, kept.map((l) => l + "\n").join(""));
}
