/**
 * `lab backend --measure`: for each backend that starts here, conformance with `cpu` and the
 * median time of a training step, timed round by round across backends so that load from other
 * processes falls on all of them alike; the record `initBackend`'s auto mode reads.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import {
  BACKEND_NAMES,
  type BackendMeasurement,
  type BackendName,
  defaultMeasurementPath,
  machineKey,
  startBackend,
} from "../../lib/backend.ts";
import { conformance, type ConformanceResult } from "./conformance.ts";
import { checkCounts, median, type TrainingStepper, trainingStepper } from "./timing.ts";
import { checkConfig, STEP_CONFIG, type TinyGptConfig, tinyGptParams } from "./tiny_gpt.ts";

/** One backend's line in a measurement. */
export interface BackendResult {
  name: BackendName;
  /** False when the backend could not start here; `error` says why. */
  started: boolean;
  adapter?: string;
  error?: string;
  conformance?: ConformanceResult;
  /** Median training-step wall time, when the step ran. */
  stepMs?: number;
  timesMs?: number[];
  /** Median process CPU time per step (all threads). */
  stepCpuMs?: number;
  cpuTimesMs?: number[];
}

/** What {@link measureBackends} writes: the {@link BackendMeasurement} plus the details. */
export interface MeasurementRecord extends BackendMeasurement {
  config: TinyGptConfig;
  params: number;
  results: BackendResult[];
}

/** Options of {@link measureBackends}. */
export interface MeasureOptions {
  /** Backends to try (default: all of {@link BACKEND_NAMES}). */
  backends?: BackendName[];
  /** Timed steps per backend (default 5) after `warmup` (default 2) untimed ones. */
  steps?: number;
  warmup?: number;
  /** Timed steps on `cpu`, which is ~30x slower (default 1, no warm-up). */
  cpuSteps?: number;
  /** Where to write the record (default {@link defaultMeasurementPath}); `false`: do not write. */
  path?: string | false;
  tolerance?: number;
  /** Model and batch to time (default {@link STEP_CONFIG}). */
  config?: TinyGptConfig;
  /** Called with each backend's result once all are timed, in `backends` order. */
  onResult?: (r: BackendResult) => void;
}

/**
 * For each backend that starts here, runs {@link conformance} and times a training step of
 * {@link STEP_CONFIG}; writes the record (conformant backends fastest first) for
 * `initBackend`'s auto mode and returns it.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG } from "./tiny_gpt.ts";
 * import { measureBackends } from "./measure.ts";
 * // A small model here; the default is STEP_CONFIG, whose cpu step takes 30 s or more.
 * const m = await measureBackends({
 *   backends: ["cpu", "wasm"],
 *   config: CONFORMANCE_CONFIG,
 *   steps: 1,
 *   warmup: 0,
 *   path: false,
 * });
 * console.log(m.order, m.stepMs);
 * ```
 */
export async function measureBackends(opts: MeasureOptions = {}): Promise<MeasurementRecord> {
  const config = opts.config ?? STEP_CONFIG;
  checkConfig(config);
  const names = opts.backends ?? [...BACKEND_NAMES];
  for (const n of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(n)) {
      throw new RangeError(`measureBackends option 'backends': unknown backend '${n}'`);
    }
  }
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2, cpuSteps = opts.cpuSteps ?? 1;
  checkCounts("measureBackends", steps, warmup);
  checkCounts("measureBackends (cpuSteps)", cpuSteps, 0);
  const before = tf.getBackend();
  const run: Run = { results: [], steppers: new Map() };
  try {
    // Conformance, then the model and warm-up steps (webgpu compiles its shaders then).
    for (const name of names) await startOne(run, name, config, warmup, opts.tolerance);
    await timeRounds(run, steps, cpuSteps);
    for (const r of run.results) {
      if (run.steppers.has(r.name) && r.timesMs?.length) {
        r.stepMs = median(r.timesMs);
        r.stepCpuMs = median(r.cpuTimesMs!);
      }
      opts.onResult?.(r);
    }
  } finally {
    for (const s of run.steppers.values()) s.dispose();
    if (before && before !== tf.getBackend()) await tf.setBackend(before);
  }
  const record = await recordOf(run.results, config);
  if (opts.path !== false) await writeRecord(record, opts.path ?? defaultMeasurementPath());
  return record;
}

/** The backends' results so far, and the steppers of those still in the race. */
interface Run {
  results: BackendResult[];
  steppers: Map<BackendName, TrainingStepper>;
}

/** Note a backend's failure (first line of the error) and drop its stepper. */
function fail(run: Run, r: BackendResult, e: unknown): void {
  r.error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
  run.steppers.get(r.name)?.dispose();
  run.steppers.delete(r.name);
}

/** Start `name`, check its conformance, build its stepper and take the untimed warm-up steps. */
async function startOne(
  run: Run,
  name: BackendName,
  config: TinyGptConfig,
  warmup: number,
  tolerance: number | undefined,
): Promise<void> {
  const r: BackendResult = { name, started: false };
  run.results.push(r);
  try {
    r.adapter = (await startBackend(name)).adapter;
    r.started = true;
    r.conformance = await conformance(name, { tolerance });
    await startBackend(name);
    const s = trainingStepper(config);
    run.steppers.set(name, s);
    for (let i = 0; i < (name === "cpu" ? 0 : warmup); i++) await s.step();
  } catch (e) {
    fail(run, r, e);
  }
}

/**
 * Timed steps, one backend after the other in each round: the machine's load changes over
 * minutes (other jobs share it), and interleaving exposes every backend to the same load.
 */
async function timeRounds(run: Run, steps: number, cpuSteps: number): Promise<void> {
  for (let round = 0; round < Math.max(steps, cpuSteps); round++) {
    for (const r of run.results) {
      const s = run.steppers.get(r.name);
      if (!s || round >= (r.name === "cpu" ? cpuSteps : steps)) continue;
      try {
        await startBackend(r.name);
        const t = await s.step();
        (r.timesMs ??= []).push(t.ms);
        (r.cpuTimesMs ??= []).push(t.cpuMs);
      } catch (e) {
        fail(run, r, e);
      }
    }
  }
}

/** The record: conformant backends fastest first, every measured step time, and the details. */
async function recordOf(
  results: BackendResult[],
  config: TinyGptConfig,
): Promise<MeasurementRecord> {
  const usable = results.filter((r) => r.conformance?.ok && r.stepMs !== undefined);
  usable.sort((a, b) => a.stepMs! - b.stepMs!);
  const stepMs: BackendMeasurement["stepMs"] = {};
  for (const r of results) if (r.stepMs !== undefined) stepMs[r.name] = r.stepMs;
  return {
    machine: await machineKey(),
    order: usable.map((r) => r.name),
    stepMs,
    measuredAt: new Date().toISOString(),
    config,
    params: [...tinyGptParams(config).values()].reduce((a, v) => a + v.values.length, 0),
    results,
  };
}

async function writeRecord(record: MeasurementRecord, path: string): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  if (dir) await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, JSON.stringify(record, null, 2) + "\n");
}
