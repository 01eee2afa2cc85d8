/**
 * One benchmark run: every backend that starts here, the shipped model and GPT-2 small, the
 * PyTorch peer when one is installed, tracker overhead, memory over a long run and a profile of
 * the default backend's step. `lab bench` (./cli.ts) calls {@link runBench} and writes its
 * result.
 *
 * Backends are measured one after the other, each on models built on it afresh (tfjs moves a
 * tensor to the active backend when an op on another backend reads it, which would put copies
 * into the timings). Every figure records the 1-minute load average at its start and end.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { BACKEND_NAMES, type BackendName, initBackend, startBackend } from "../../lib/backend.ts";
import { conformance } from "../backend_measure.ts";
import type { PreferenceBatch, TokenizedPair } from "../../lib/data/mod.ts";
import { collate } from "../../lib/data/mod.ts";
import type { GPT2Config } from "../../lib/models/mod.ts";
import { describeMachine, loadAverage } from "./machine.ts";
import { detectPeer, type PeerResult, peerSanity, peerSpec, runPeer } from "./peer.ts";
import { profileKernels, stepPhases } from "./profile.ts";
import { productTimes } from "../../lib/mod.ts";
import {
  type BackendEntry,
  type BenchResults,
  evaluateGoals,
  type Figure,
  type ModelEntry,
  RESULTS_FORMAT,
  type Task,
  TASK_UNITS,
} from "./report.ts";
import { rateSummary, summarize } from "./stats.ts";
import {
  chesPass,
  DEFAULT_DPO_SETTINGS,
  dpoStepper,
  precomputeReference,
  scoreBatch,
  type Timing,
} from "./steps.ts";
import { memoryCheck, trackerOverhead } from "./trainer_runs.ts";
import { parallelLMScorer } from "../../lib/scoring/mod.ts";
import {
  type BatchShape,
  batchTokens,
  type BenchModel,
  findShippedModel,
  GPT2_SMALL_CONFIG,
  openBenchModel,
  syntheticBatches,
  syntheticPairs,
  TINY_CONFIG,
  weightsFile,
} from "./workload.ts";

/** Repetitions of each measurement. */
export interface Repeats {
  dpoWarmup: number;
  dpoSteps: number;
  scoreRepeats: number;
  /** Runs of the reference precomputation and of CHES over their pairs. */
  passRepeats: number;
}

/** One model's workload. */
export interface ModelPlan {
  label: string;
  /** Checkpoint directory; undefined: random init of `config`. */
  dir?: string;
  config?: Partial<GPT2Config>;
  batch: BatchShape;
  scoringPairs: number;
  scoringBatch: number;
  /** Backends to run it on. */
  backends: BackendName[];
  /** Backends left out for this model, with the reason. */
  excluded?: Partial<Record<BackendName, string>>;
  /** What to measure. */
  tasks: Task[];
  /** Backends on which the DPO step cannot run, with the reason (recorded, not attempted). */
  noDpoStep?: Partial<Record<BackendName, string>>;
  repeats: Repeats;
  /** Fewer repetitions on the pure-JS `cpu` backend, which is 50-100x slower. */
  cpuRepeats: Repeats;
  peer: boolean;
}

/** Options of {@link runBench}. */
export interface BenchOptions {
  quick: boolean;
  /** Backends to try (default: all but `tensorflow` unless it is installed). */
  backends?: BackendName[];
  /** Directory of the shipped model (default: the first of SHIPPED_MODEL_DIRS found). */
  modelDir?: string;
  /** Skip GPT-2 small. */
  skipLarge?: boolean;
  /** Run the PyTorch peer when available (default true). */
  peer?: boolean;
  /** Pythons to probe for torch. */
  pythons?: string[];
  /** Intra-op threads of the peer (default: all cores). */
  peerThreads?: number;
  /** Steps of the memory check (default 1000; quick: 40). */
  memorySteps?: number;
  /** Skip tracker overhead / memory / profile. */
  skipTrackers?: boolean;
  skipMemory?: boolean;
  skipProfile?: boolean;
  /** Scratch directory (peer spec, random weights for the peer). */
  tmpDir: string;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Repetition settings of the full and the quick run. */
export const FULL_REPEATS: Readonly<Repeats> = {
  dpoWarmup: 2,
  dpoSteps: 7,
  scoreRepeats: 7,
  passRepeats: 7,
};
export const QUICK_REPEATS: Readonly<Repeats> = {
  dpoWarmup: 1,
  dpoSteps: 2,
  scoreRepeats: 2,
  passRepeats: 1,
};
const CPU_REPEATS: Readonly<Repeats> = {
  dpoWarmup: 0,
  dpoSteps: 1,
  scoreRepeats: 1,
  passRepeats: 1,
};
const LARGE_REPEATS: Readonly<Repeats> = {
  dpoWarmup: 1,
  dpoSteps: 3,
  scoreRepeats: 3,
  passRepeats: 1,
};

/**
 * The models and shapes a run measures: the shipped model (4 pairs of 128 tokens) on every
 * backend, and, unless skipped or quick, GPT-2 small (1 pair of 128 tokens): scored on wasm (its
 * DPO step does not fit tfjs-wasm's 4 GiB heap), and trained and scored on webgpu only where the
 * adapter can bind its 147 MiB token embedding (`webgpuMaxBinding`; llvmpipe's 128 MiB cannot,
 * and tfjs-webgpu then computes with zeros without an error). Never on the pure-JS `cpu`.
 *
 * @example
 * ```ts
 * import { planModels } from "./run.ts";
 * const plans = planModels({ quick: true, tmpDir: "/tmp" }, undefined, ["wasm", "cpu"]);
 * console.log(plans.map((p) => p.label)); // ["tiny (random init)"]
 * ```
 */
export function planModels(
  opts: BenchOptions,
  shippedDir: string | undefined,
  backends: BackendName[],
  limits: { webgpuMaxBinding?: number } = {},
): ModelPlan[] {
  const quick = opts.quick;
  const plans: ModelPlan[] = [{
    label: shippedDir ? "tiny (shipped)" : "tiny (random init)",
    dir: shippedDir,
    config: shippedDir ? undefined : TINY_CONFIG,
    batch: quick
      ? { pairs: 2, length: 64, promptLength: 32 }
      : { pairs: 4, length: 128, promptLength: 64 },
    scoringPairs: quick ? 8 : 32,
    scoringBatch: 8,
    backends,
    tasks: ["dpo_step", "score", "ref_precompute", "ches"],
    repeats: quick ? QUICK_REPEATS : FULL_REPEATS,
    cpuRepeats: quick ? { ...QUICK_REPEATS, dpoSteps: 1, scoreRepeats: 1 } : CPU_REPEATS,
    peer: opts.peer !== false,
  }];
  if (!quick && !opts.skipLarge) {
    const c = GPT2_SMALL_CONFIG;
    const largest = 4 * c.vocab_size! * c.n_embd!;
    const gpuFits = (limits.webgpuMaxBinding ?? 0) >= largest;
    const excluded: Partial<Record<BackendName, string>> = {
      cpu: "the pure-JS cpu backend would take many minutes per step",
    };
    if (!gpuFits) {
      excluded.webgpu = `its token embedding (${(largest / 2 ** 20).toFixed(0)} MiB) exceeds the ` +
        `adapter's maxStorageBufferBindingSize (${
          ((limits.webgpuMaxBinding ?? 0) / 2 ** 20).toFixed(0)
        } MiB); tfjs-webgpu then computes with zeros without an error (the loss is NaN)`;
    }
    plans.push({
      label: "gpt2-small 124M (random init)",
      config: c,
      batch: { pairs: 1, length: 128, promptLength: 64 },
      scoringPairs: 4,
      scoringBatch: 2,
      backends: backends.filter((b) => b === "wasm" || (b === "webgpu" && gpuFits)),
      excluded,
      tasks: ["dpo_step", "score"],
      noDpoStep: {
        wasm: "does not fit: forward+backward of one 128-token pair exhausted tfjs-wasm's " +
          "4 GiB heap (RuntimeError: memory access out of bounds); scoring is measured",
      },
      repeats: LARGE_REPEATS,
      cpuRepeats: LARGE_REPEATS,
      peer: opts.peer !== false,
    });
  }
  return plans;
}

/** Rate and timing summaries of timed runs; `units` per run. */
function figure(
  task: Task,
  model: string,
  backend: string,
  units: number,
  runs: readonly Timing[],
  load: [number, number] | undefined,
  note?: string,
): Figure {
  return {
    task,
    model,
    backend,
    unit: TASK_UNITS[task],
    unitsPerRun: units,
    rate: rateSummary(runs.map((r) => r.ms), units),
    wallMs: summarize(runs.map((r) => r.ms)),
    cpuMs: summarize(runs.map((r) => r.cpuMs)),
    ...(load ? { load } : {}),
    ...(note ? { note } : {}),
  };
}

function peerFigure(
  task: Task,
  model: string,
  backend: string,
  units: number,
  times: { times_ms: number[]; cpu_ms: number[] },
  load: [number, number] | undefined,
): Figure {
  const runs = times.times_ms.map((ms, i) => ({ ms, cpuMs: times.cpu_ms[i] ?? NaN }));
  const f = figure(task, model, backend, units, runs, load);
  if (runs.some((r) => !Number.isFinite(r.cpuMs))) delete f.cpuMs;
  return f;
}

async function load1(): Promise<number> {
  return (await loadAverage())?.[0] ?? NaN;
}

function errorLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

/**
 * CHES's batches for the peer, as `chesScores` forms them for the bench's pairs: `size` pairs at
 * a time, collated (every synthetic row has one length, so its sorting and padding change nothing).
 */
function chesBatches(pairs: readonly TokenizedPair[], size: number): PreferenceBatch[] {
  const out: PreferenceBatch[] = [];
  for (let i = 0; i < pairs.length; i += size) out.push(collate(pairs.slice(i, i + size), 0));
  return out;
}

/** What the default backend's DPO run of a model gave, for the peer's sanity check. */
interface OursFirst {
  backend: string;
  logps: number[];
  losses: number[];
}

/**
 * The products of a GPT-2 step on `plan`'s batch, `[m, k, n]`: the fused qkv projection, the
 * MLP's two, and the unembedding at completion positions (the only ones scored).
 *
 * @example
 * ```ts ignore
 * stepShapes(plan); // [[1024,128,384], [1024,128,512], [1024,512,128], [512,128,4096]]
 * ```
 */
function stepShapes(plan: ModelPlan, config: Record<string, unknown>): number[][] {
  const c = { n_embd: Number(config.n_embd), vocab_size: Number(config.vocab_size) };
  const rows = 2 * plan.batch.pairs * plan.batch.length;
  const scored = 2 * plan.batch.pairs * (plan.batch.length - plan.batch.promptLength);
  const d = c.n_embd, inner = 4 * d;
  return [[rows, d, 3 * d], [rows, d, inner], [rows, inner, d], [scored, d, c.vocab_size]];
}

/**
 * Timed DPO steps of a fresh policy against `reference`, on this thread or (`parallel`) split
 * across this thread and a worker (figure backend `<backend>+worker`).
 */
async function timeDpoSteps(
  plan: ModelPlan,
  backend: BackendName,
  batches: PreferenceBatch[],
  open: () => Promise<BenchModel>,
  reference: BenchModel,
  reps: Repeats,
  log: (s: string) => void,
  parallel: boolean,
): Promise<{ figure: Figure; firstLogps: number[]; losses: number[] }> {
  const label = parallel ? `${backend}+worker` : backend;
  const policy = await open();
  const scorers = parallel
    ? {
      policy: await parallelLMScorer(policy.model),
      reference: await parallelLMScorer(reference.model, { frozen: true, stats: false }),
    }
    : undefined;
  try {
    const l0 = await load1();
    const stepper = dpoStepper(policy.model, reference.model, batches, {
      ...DEFAULT_DPO_SETTINGS,
      parallel: scorers,
    });
    const firstLogps = await stepper.logps(batches[0]!);
    const losses: number[] = [];
    const runs: Timing[] = [];
    try {
      for (let i = 0; i < reps.dpoWarmup + reps.dpoSteps; i++) {
        const t = await stepper.step();
        losses.push(t.loss);
        if (i >= reps.dpoWarmup) runs.push(t);
        log(`  ${label} dpo step ${i + 1}: ${t.ms.toFixed(0)} ms (cpu ${t.cpuMs.toFixed(0)})`);
      }
    } finally {
      stepper.dispose();
    }
    const tokens = batchTokens(plan.batch);
    const fig = figure("dpo_step", plan.label, label, tokens, runs, [l0, await load1()]);
    return { figure: fig, firstLogps, losses };
  } finally {
    scorers?.policy.dispose();
    scorers?.reference.dispose();
    policy.model.dispose();
  }
}

/**
 * Measures one model on one backend: DPO step, scoring, reference precomputation and CHES.
 * Returns the figures and the first-batch numbers for the sanity check.
 */
async function measureModel(
  plan: ModelPlan,
  backend: BackendName,
  batches: PreferenceBatch[],
  pairs: TokenizedPair[],
  log: (s: string) => void,
): Promise<{ figures: Figure[]; first?: OursFirst; entry: ModelEntry; failures: string[] }> {
  const reps = backend === "cpu" ? plan.cpuRepeats : plan.repeats;
  const open = () =>
    openBenchModel({ label: plan.label, dir: plan.dir, config: plan.config, seed: 0 });
  const dpoHere = plan.tasks.includes("dpo_step") && !plan.noDpoStep?.[backend];
  const reference = await open();
  const figures: Figure[] = [];
  const failures: string[] = [];
  const tokens = batchTokens(plan.batch);
  const entry: ModelEntry = {
    label: plan.label,
    params: reference.params,
    source: plan.dir ?? "random init",
    config: reference.config,
    batch: plan.batch,
    scoringPairs: plan.scoringPairs,
    scoringBatch: plan.scoringBatch,
  };
  let first: OursFirst | undefined;
  try {
    if (plan.noDpoStep?.[backend]) {
      failures.push(`DPO step of ${plan.label} on ${backend}: ${plan.noDpoStep[backend]}`);
    }
    if (dpoHere) {
      const r = await timeDpoSteps(plan, backend, batches, open, reference, reps, log, false);
      figures.push(r.figure);
      first = { backend, logps: r.firstLogps, losses: r.losses };
      // The same step split across two threads (lib/scoring/parallel.ts), on single-threaded
      // CPU backends with a batch of at least two pairs.
      if ((backend === "wasm" || backend === "cpu") && plan.batch.pairs >= 2) {
        try {
          const p = await timeDpoSteps(plan, backend, batches, open, reference, reps, log, true);
          figures.push(p.figure);
        } catch (err) {
          failures.push(`DPO step of ${plan.label} on ${backend}+worker: ${errorLine(err)}`);
          log(`  ${backend}+worker dpo step failed: ${errorLine(err)}`);
        }
      }
    }
    // Forward-only scoring (the reference model is never updated).
    if (plan.tasks.includes("score")) {
      const l0 = await load1();
      const scores: Timing[] = [];
      const untimed = backend === "cpu" ? 0 : 1;
      for (let i = 0; i < untimed + reps.scoreRepeats; i++) {
        const t = await scoreBatch(reference.model, batches[i % batches.length]!);
        if (i >= untimed) scores.push(t);
      }
      figures.push(figure("score", plan.label, backend, tokens, scores, [l0, await load1()]));
      log(`  ${backend} scoring: ${scores.map((s) => s.ms.toFixed(0))} ms`);
      if (!first) {
        // The sanity check still compares forward log-probs when no step ran here.
        const x = await scoreBatch(reference.model, batches[0]!);
        first = { backend, logps: Array.from(x.value), losses: [] };
      }
    }
    // Reference precomputation and CHES over `scoringPairs` pairs.
    const pairTokens = pairs.length * 2 * plan.batch.length;
    for (const task of ["ref_precompute", "ches"] as const) {
      if (!plan.tasks.includes(task)) continue;
      try {
        const l0 = await load1();
        const passes: Timing[] = [];
        // One untimed pass first (not on cpu, which compiles nothing): shapes of the last,
        // smaller batch compile on webgpu.
        const untimed = backend === "cpu" ? 0 : 1;
        for (let i = 0; i < untimed + reps.passRepeats; i++) {
          const t = task === "ches"
            ? await chesPass(reference.model, pairs, plan.scoringBatch)
            : await precomputeReference(reference.model, pairs, plan.scoringBatch);
          if (i >= untimed) passes.push(t);
        }
        const units = task === "ches" ? pairs.length : pairTokens;
        figures.push(figure(task, plan.label, backend, units, passes, [l0, await load1()]));
        log(`  ${backend} ${task}: ${passes.map((s) => s.ms.toFixed(0))} ms`);
      } catch (err) {
        failures.push(`${task} of ${plan.label} on ${backend}: ${errorLine(err)}`);
        log(`  ${task} failed: ${errorLine(err)}`);
      }
    }
    return { figures, first, entry, failures };
  } finally {
    reference.model.dispose();
  }
}

/**
 * Runs the whole benchmark and returns its results (nothing is written here).
 *
 * @example
 * ```ts ignore
 * const r = await runBench({ quick: true, tmpDir: "/tmp/bench" });
 * console.log(r.figures.length);
 * ```
 */
export async function runBench(opts: BenchOptions): Promise<BenchResults> {
  const log = opts.log ?? (() => {});
  const startedAt = new Date().toISOString();
  const loadStart = await loadAverage();
  await Deno.mkdir(opts.tmpDir, { recursive: true });
  const machine = await describeMachine();
  const skipped: string[] = [];
  log(`machine: ${machine.cpu}, ${machine.cores} cores; load ${loadStart?.join(" ") ?? "n/a"}`);

  // The default backend (what `initBackend()` picks here), then every backend asked for.
  const chosen = await initBackend();
  const defaultBackend = chosen.name;
  log(`default backend: ${defaultBackend} (${chosen.reason})`);
  const wanted = opts.backends ??
    BACKEND_NAMES.filter((b) =>
      b !== "tensorflow" || chosen.tried.some((t) => t.name === b && t.ok)
    );
  const backends: BackendEntry[] = [];
  const usable: BackendName[] = [];
  for (const name of wanted) {
    const e: BackendEntry = { name, started: false };
    backends.push(e);
    try {
      e.adapter = (await startBackend(name)).adapter;
      e.started = true;
      const c = await conformance(name);
      e.conformance = { ok: c.ok, maxError: c.maxError, worst: c.worst, tolerance: c.tolerance };
      usable.push(name);
    } catch (err) {
      e.error = errorLine(err);
      skipped.push(`backend ${name}: ${e.error}`);
    }
  }
  log(`backends: ${backends.map((b) => `${b.name}${b.started ? "" : " (no)"}`).join(", ")}`);
  let webgpuMaxBinding: number | undefined;
  if (usable.includes("webgpu")) {
    await startBackend("webgpu");
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    webgpuMaxBinding = device?.limits.maxStorageBufferBindingSize;
  }

  const peerInfo = opts.peer === false
    ? { available: false, python: "", reason: "disabled with --no-peer" }
    : await detectPeer(opts.pythons ? { pythons: opts.pythons } : {});
  const results: BenchResults = {
    format: RESULTS_FORMAT,
    startedAt,
    finishedAt: "",
    quick: opts.quick,
    machine,
    load: { ...(loadStart ? { start: loadStart } : {}) },
    defaultBackend,
    backends,
    models: [],
    figures: [],
    peer: {
      available: peerInfo.available,
      ...(peerInfo.python ? { python: peerInfo.python } : {}),
      ...(peerInfo.torch ? { torch: peerInfo.torch } : {}),
      ...(peerInfo.reason ? { reason: peerInfo.reason } : {}),
    },
    goals: [],
    skipped,
  };
  if (!peerInfo.available) skipped.push(`PyTorch peer: ${peerInfo.reason}`);
  log(
    `peer: ${
      peerInfo.available ? `torch ${peerInfo.torch} (${peerInfo.python})` : peerInfo.reason
    }`,
  );

  const shippedDir = opts.modelDir ?? await findShippedModel();
  if (!shippedDir) {
    skipped.push("shipped model: no checkpoint found; a random GPT-2 of its shape was used");
  }
  for (const plan of planModels(opts, shippedDir, usable, { webgpuMaxBinding })) {
    const vocab = Number((plan.config ?? {}).vocab_size ?? TINY_CONFIG.vocab_size);
    let batches: PreferenceBatch[] | undefined;
    let pairs: TokenizedPair[] | undefined;
    let first: OursFirst | undefined;
    let peerWeights: string | undefined;
    for (const backend of plan.backends) {
      log(`${plan.label} on ${backend}`);
      try {
        await startBackend(backend);
        if (!batches) {
          // The vocabulary comes from the checkpoint when there is one.
          const probe = await openBenchModel({
            label: plan.label,
            dir: plan.dir,
            config: plan.config,
          });
          const v = plan.dir ? probe.model.vocabSize : vocab;
          batches = syntheticBatches(v, plan.batch, 2, 1);
          pairs = syntheticPairs(v, plan.batch, plan.scoringPairs, 100);
          if (plan.peer && peerInfo.available) peerWeights = await weightsFile(probe, opts.tmpDir);
          probe.model.dispose();
        }
        const m = await measureModel(plan, backend, batches, pairs!, log);
        results.figures.push(...m.figures);
        // Kernel speed under the step: the step's products alone (not on the pure-JS cpu
        // backend, whose minutes would say nothing new).
        if (plan.label.startsWith("tiny") && backend !== "cpu") {
          const mm = (results.matmul ??= {
            model: plan.label,
            shapes: stepShapes(plan, m.entry.config),
            ms: {},
          });
          mm.ms[backend] = (await productTimes(mm.shapes, 20)).map((x) => x.ms);
          log(`  ${backend} products: ${mm.ms[backend].map((x) => x.toFixed(2))} ms`);
        }
        skipped.push(...m.failures);
        if (!results.models.some((x) => x.label === plan.label)) results.models.push(m.entry);
        if (m.first && (backend === defaultBackend || !first)) first = m.first;
      } catch (err) {
        skipped.push(`${plan.label} on ${backend}: ${errorLine(err)}`);
        log(`  failed: ${errorLine(err)}`);
      }
    }
    for (const [b, why] of Object.entries(plan.excluded ?? {})) {
      if (usable.includes(b as BackendName)) skipped.push(`${plan.label} on ${b}: ${why}`);
    }
    if (plan.peer && peerInfo.available && batches && peerWeights && first) {
      const reps = plan.repeats;
      // The peer gets its best setting: on a CPU with several cores both one intra-op thread
      // (what Debian's build picks here) and all cores are timed, for the small model where
      // threading overhead can lose; the faster is the one our figures are compared with.
      const cores = opts.peerThreads ?? machine.cores;
      const threadCounts = plan.label.startsWith("tiny") && !opts.peerThreads && cores > 1
        ? [1, cores]
        : [cores];
      try {
        for (const threads of threadCounts) {
          log(`${plan.label}: PyTorch peer, ${threads} thread${threads > 1 ? "s" : ""}`);
          const l0 = await load1();
          const spec = peerSpec({
            config: results.models.find((x) => x.label === plan.label)!.config,
            weights: peerWeights,
            batches,
            settings: DEFAULT_DPO_SETTINGS,
            dpoSteps: reps.dpoSteps,
            dpoWarmup: reps.dpoWarmup,
            scoreRepeats: reps.scoreRepeats,
            threads,
            ...(results.matmul?.model === plan.label
              ? { matmul: { shapes: results.matmul.shapes, repeats: 20 } }
              : {}),
            ...(plan.tasks.includes("ches") && pairs
              ? {
                chesPasses: {
                  batches: chesBatches(pairs, plan.scoringBatch),
                  repeats: reps.passRepeats,
                },
              }
              : {}),
          });
          const r: PeerResult = await runPeer(
            peerInfo.python,
            spec,
            `${opts.tmpDir}/peer-spec.json`,
          );
          const l1 = await load1();
          const tokens = batchTokens(plan.batch);
          const name = `torch-${r.device.startsWith("cuda") ? "cuda" : `cpu-${r.threads}t`}`;
          if (r.dpo) {
            results.figures.push(peerFigure("dpo_step", plan.label, name, tokens, r.dpo, [l0, l1]));
          }
          if (r.score) {
            results.figures.push(peerFigure("score", plan.label, name, tokens, r.score, [l0, l1]));
          }
          if (r.ches && pairs) {
            results.figures.push(
              peerFigure("ches", plan.label, name, pairs.length, r.ches, [l0, l1]),
            );
          }
          if (r.matmul && results.matmul) results.matmul.ms[name] = r.matmul.map((x) => x.ms);
          Object.assign(results.peer, {
            device: r.device,
            deviceName: r.device_name,
            blas: r.blas,
          });
          if (r.openblas) {
            const o = r.openblas, ct = o.core_type;
            (results.peer.openblas ??= []).push({
              threads: r.threads,
              library: o.library,
              config: o.config,
              coreName: o.core_name,
              blasThreads: o.threads,
              coreType: `${ct.value ?? "unset"} (${ct.source})`,
            });
          }
          results.peer.threads = [...new Set([...(results.peer.threads ?? []), r.threads])];
          if (results.peer.sanity?.[plan.label]) continue;
          const ours = first;
          const peerLosses = r.dpo?.losses ?? [];
          const n = Math.min(ours.losses.length, peerLosses.length);
          (results.peer.sanity ??= {})[plan.label] = {
            backend: ours.backend,
            ...peerSanity(
              { logps: ours.logps, losses: ours.losses.slice(0, n) },
              { logps: r.first_batch_logps, losses: peerLosses.slice(0, n) },
            ),
          };
        }
      } catch (err) {
        (results.peer.errors ??= []).push(`${plan.label}: ${errorLine(err)}`);
        skipped.push(`PyTorch peer on ${plan.label}: ${errorLine(err)}`);
      }
    }
  }

  // Trainer-level measurements on the default backend and the shipped model's shape.
  const tinyPlan = planModels(opts, shippedDir, [defaultBackend])[0]!;
  const withTiny = async <T>(
    what: string,
    f: (model: import("../../lib/models/mod.ts").CausalLM) => Promise<T>,
  ) => {
    try {
      await startBackend(defaultBackend);
      const m = await openBenchModel({
        label: tinyPlan.label,
        dir: tinyPlan.dir,
        config: tinyPlan.config,
      });
      try {
        return await f(m.model);
      } finally {
        m.model.dispose();
      }
    } catch (err) {
      skipped.push(`${what}: ${errorLine(err)}`);
      log(`  ${what} failed: ${errorLine(err)}`);
      return undefined;
    }
  };
  const vocab = results.models[0]?.config.vocab_size as number ?? TINY_CONFIG.vocab_size!;
  if (!opts.skipTrackers) {
    log(`tracker overhead (${defaultBackend})`);
    const pairs = syntheticPairs(vocab, tinyPlan.batch, 32, 200);
    const t = await withTiny("tracker overhead", (model) =>
      trackerOverhead(model, pairs, {
        batchSize: tinyPlan.batch.pairs,
        steps: opts.quick ? 4 : 20,
        rounds: opts.quick ? 1 : 3,
        setting: opts.quick ? { every: 2, trackedPairs: 16, gradientPairs: 2 } : undefined,
        thread: (defaultBackend === "wasm" || defaultBackend === "cpu") &&
          (navigator.hardwareConcurrency ?? 1) >= 2,
      }));
    if (t) results.trackers = { ...t, backend: defaultBackend, model: tinyPlan.label };
  }
  if (!opts.skipMemory) {
    const steps = opts.memorySteps ?? (opts.quick ? 40 : 1000);
    const batch: BatchShape = { pairs: 2, length: 64, promptLength: 32 };
    log(`memory over ${steps} steps (${defaultBackend})`);
    const pairs = syntheticPairs(vocab, batch, 64, 300);
    const m = await withTiny(
      "memory check",
      (model) => memoryCheck(model, pairs, { batchSize: batch.pairs, at: [10, steps] }),
    );
    if (m) results.memory = { ...m, backend: defaultBackend, model: tinyPlan.label, batch };
  }
  if (!opts.skipProfile) {
    log(`profile (${defaultBackend})`);
    const batch = syntheticBatches(vocab, tinyPlan.batch, 1, 1)[0]!;
    const p = await withTiny("profile", async (model) => {
      const ref = await openBenchModel({
        label: "ref",
        dir: tinyPlan.dir,
        config: tinyPlan.config,
      });
      try {
        const phases = await stepPhases(model, ref.model, batch, { steps: 3 });
        const stepper = dpoStepper(model, ref.model, [batch]);
        await stepper.step();
        const k = await profileKernels(async () => {
          await stepper.step();
        });
        stepper.dispose();
        return { phases: phases.at(-1)!, ...k };
      } finally {
        ref.model.dispose();
      }
    });
    if (p) {
      results.profile = {
        backend: defaultBackend,
        model: tinyPlan.label,
        phases: p.phases,
        kernels: p.kernels,
        kernelMs: p.kernelMs,
        wallMs: p.wallMs,
        peakBytes: p.peakBytes,
      };
    }
  }
  if (!machine.nvidiaGpu) skipped.push("GPU figures: not measured: no GPU in this session");
  const loadEnd = await loadAverage();
  if (loadEnd) results.load.end = loadEnd;
  results.finishedAt = new Date().toISOString();
  results.goals = evaluateGoals(results);
  return results;
}
