/**
 * One process of `lab bench --scale` per model and setting, so that each measurement's peak
 * resident memory (VmHWM) is its own and an out-of-memory end loses only that measurement.
 *
 * - `prepare ID DIR`: writes a seeded random checkpoint of model ID (./scale_models.ts) to DIR.
 * - `measure ID DIR OUT`: loads DIR with `loadCausalLM` on the `cpu` backend with the fast
 *   kernels (lib/kernels/cpu_fast.ts) and measures the model's task, writing JSON to OUT.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { registerCpuKernels, startBackend } from "../../lib/backend.ts";
import { createGPT2, createLlama, loadCausalLM, saveCausalLM } from "../../lib/models/mod.ts";
import { residentMemory } from "./machine.ts";
import { fastUniformSource, SCALE_MODELS, type ScaleModel } from "./scale_models.ts";
import { chesPass, dpoStepper, scoreBatch, type Timing } from "./steps.ts";
import { type BatchShape, batchTokens, syntheticBatches, syntheticPairs } from "./workload.ts";

/** The batch of every scale measurement: 1 pair of 128 tokens (64 prompt, 64 completion). */
export const SCALE_BATCH: Readonly<BatchShape> = { pairs: 1, length: 128, promptLength: 64 };

/** Shards of at most 1 GiB, as Hugging Face writes large checkpoints. */
const SHARD_BYTES = 2 ** 30;

/** Repetitions of a measurement. */
export interface ScaleRepeats {
  /** Untimed DPO steps first (the first allocates AdamW's moments). */
  warmup: number;
  /** Timed DPO steps, or scoring passes. */
  steps: number;
  /** Pairs CHES scores (in one batch). */
  chesPairs: number;
}

/** What one `measure` process reports. */
export interface ScaleMeasurement {
  model: string;
  params: number;
  blas: string;
  /** Seconds `loadCausalLM` took. */
  loadS: number;
  /** DPO: timed steps; score: timed forward passes. */
  runs: Timing[];
  tokensPerRun: number;
  losses?: number[];
  /** The policy's summed completion log-probs of the first batch, before any step. */
  firstLogps?: number[];
  ches?: { run: Timing; pairs: number };
  /** Peak and final resident memory of the process, bytes. */
  peakRss: number;
  finalRss: number;
}

function model(id: string): ScaleModel {
  const m = SCALE_MODELS[id];
  if (!m) {
    throw new RangeError(`unknown scale model '${id}' (${Object.keys(SCALE_MODELS).join(", ")})`);
  }
  return m;
}

/** Writes model `id`'s seeded random checkpoint to `dir`. */
export async function prepareCheckpoint(id: string, dir: string, seed = 0): Promise<void> {
  const m = model(id);
  await startBackend("cpu");
  const source = fastUniformSource(seed);
  const lm = m.family === "gpt2" ? createGPT2(m.config, { source }) : createLlama(m.config, {
    source,
  });
  try {
    // GPT-2 stays one file: the PyTorch peer reads a single safetensors file.
    await saveCausalLM(lm, dir, m.family === "gpt2" ? {} : { maxShardBytes: SHARD_BYTES });
  } finally {
    lm.dispose();
  }
}

/** Loads `dir` on `cpu` with the fast kernels and measures model `id`'s task. */
export async function measureCheckpoint(
  id: string,
  dir: string,
  reps: ScaleRepeats,
  log: (s: string) => void = () => {},
): Promise<ScaleMeasurement> {
  const m = model(id);
  await startBackend("cpu");
  const blas = registerCpuKernels().blas.summary;
  const t0 = performance.now();
  const lm = await loadCausalLM(dir);
  const loadS = (performance.now() - t0) / 1000;
  const params = lm.variables().reduce((a, v) => a + v.size, 0);
  log(`${id}: loaded ${params} parameters in ${loadS.toFixed(1)} s (${blas})`);
  const batches = syntheticBatches(lm.vocabSize, SCALE_BATCH, 2, 1);
  const out: ScaleMeasurement = {
    model: id,
    params,
    blas,
    loadS,
    runs: [],
    tokensPerRun: batchTokens(SCALE_BATCH),
    peakRss: 0,
    finalRss: 0,
  };
  try {
    if (m.task === "dpo") {
      const stepper = dpoStepper(lm, "precomputed", batches);
      out.firstLogps = await stepper.logps(batches[0]!);
      out.losses = [];
      for (let i = 0; i < reps.warmup + reps.steps; i++) {
        const t = await stepper.step();
        out.losses.push(t.loss);
        if (i >= reps.warmup) out.runs.push({ ms: t.ms, cpuMs: t.cpuMs });
        log(`${id}: step ${i + 1}: ${(t.ms / 1000).toFixed(1)} s, loss ${t.loss.toFixed(5)}`);
      }
      stepper.dispose();
    } else {
      for (let i = 0; i < reps.steps; i++) {
        const t = await scoreBatch(lm, batches[i % 2]!);
        out.runs.push({ ms: t.ms, cpuMs: t.cpuMs });
        log(`${id}: scoring pass ${i + 1}: ${(t.ms / 1000).toFixed(1)} s`);
      }
      const pairs = syntheticPairs(lm.vocabSize, SCALE_BATCH, reps.chesPairs, 100);
      const c = await chesPass(lm, pairs, reps.chesPairs);
      out.ches = { run: { ms: c.ms, cpuMs: c.cpuMs }, pairs: pairs.length };
      log(`${id}: CHES of ${pairs.length} pairs: ${(c.ms / 1000).toFixed(1)} s`);
    }
  } finally {
    lm.dispose();
  }
  const rss = await residentMemory();
  out.peakRss = rss?.peak ?? NaN;
  out.finalRss = rss?.current ?? NaN;
  log(
    `${id}: peak RSS ${(out.peakRss / 2 ** 30).toFixed(2)} GiB; tensors ${tf.memory().numTensors}`,
  );
  return out;
}

if (import.meta.main) {
  const [cmd, id, dir, outPath, repsJson] = Deno.args;
  const log = (s: string) =>
    console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${s}`);
  if (cmd === "prepare" && id && dir) {
    await prepareCheckpoint(id, dir);
  } else if (cmd === "measure" && id && dir && outPath && repsJson) {
    const r = await measureCheckpoint(id, dir, JSON.parse(repsJson) as ScaleRepeats, log);
    await Deno.writeTextFile(outPath, JSON.stringify(r));
  } else {
    console.error("usage: scale_child.ts prepare ID DIR | measure ID DIR OUT.json REPEATS-JSON");
    Deno.exit(2);
  }
}
