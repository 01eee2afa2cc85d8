/**
 * The benchmark's results file (JSON) and its rendering into BENCHMARKS.md.
 *
 * BENCHMARKS.md holds hand-written sections (how to read the numbers, what changed them) around
 * one generated block between {@link BEGIN_MARK} and {@link END_MARK}; `lab bench` rewrites
 * only that block, so the prose survives a re-run.
 *
 * @module
 */
import type { ConformanceResult } from "../backend_measure.ts";
import type { LoadAverage, MachineInfo } from "./machine.ts";
import type { PeerSanity } from "./peer.ts";
import type { KernelTime, StepPhases } from "./profile.ts";
import { formatNumber, formatSummary, median as medianOf, type Summary } from "./stats.ts";
import type { MemoryCheck, TrackerOverhead } from "./trainer_runs.ts";
import type { BatchShape } from "./workload.ts";

/** Version tag of the results format. */
export const RESULTS_FORMAT = "dpo-lab-bench/1";

/** What a figure measures. */
export type Task = "dpo_step" | "score" | "ref_precompute" | "ches";

/** Units of each task's rate. */
export const TASK_UNITS: Readonly<Record<Task, string>> = {
  dpo_step: "tokens/s",
  score: "tokens/s",
  ref_precompute: "tokens/s",
  ches: "pairs/s",
};

/** Human names of the tasks, for tables. */
export const TASK_NAMES: Readonly<Record<Task, string>> = {
  dpo_step: "DPO step (ref fwd + policy fwd/bwd + AdamW)",
  score: "forward-only scoring (sequence log-probs)",
  ref_precompute: "reference log-prob precomputation",
  ches: "CHES scoring",
};

/** One measured figure: a task on a model and backend (or the PyTorch peer). */
export interface Figure {
  task: Task;
  /** Model label (see {@link ModelEntry}). */
  model: string;
  /** tfjs backend name, or `torch-cpu` / `torch-cuda` for the peer. */
  backend: string;
  unit: string;
  /** Units processed by one timed run (tokens or pairs). */
  unitsPerRun: number;
  /** Rate per run (units/s): median and spread. */
  rate: Summary;
  /** Wall milliseconds per run. */
  wallMs: Summary;
  /** Process CPU milliseconds per run (all threads). */
  cpuMs?: Summary;
  /** 1-minute load average when the figure started and ended. */
  load?: [number, number];
  note?: string;
}

/** A model the run measured. */
export interface ModelEntry {
  label: string;
  params: number;
  /** Checkpoint directory, or "random init". */
  source: string;
  config: Record<string, unknown>;
  /** Batch of the DPO step and scoring figures. */
  batch: BatchShape;
  /** Pairs scored by the reference-precomputation and CHES figures, and their batch size. */
  scoringPairs: number;
  scoringBatch: number;
}

/** A backend's line: did it start, did it pass conformance. */
export interface BackendEntry {
  name: string;
  started: boolean;
  adapter?: string;
  error?: string;
  conformance?: Pick<ConformanceResult, "ok" | "maxError" | "worst" | "tolerance">;
}

/** The peer's availability and what it ran on. */
export interface PeerEntry {
  available: boolean;
  python?: string;
  torch?: string;
  reason?: string;
  device?: string;
  /** torch's name of the device ("cpu", or the CUDA GPU's name). */
  deviceName?: string;
  /** Intra-op thread counts the peer was timed with. */
  threads?: number[];
  blas?: string[];
  /** The OpenBLAS of each CPU thread setting (core name and threads), from the peer itself. */
  openblas?: {
    threads: number;
    library: string;
    config: string;
    coreName: string;
    blasThreads: number;
    coreType: string;
  }[];
  /** Sanity check per model: our first-batch numbers against the peer's. */
  sanity?: Record<string, PeerSanity & { backend: string }>;
  errors?: string[];
}

/** A measured goal of issues #7 and #14. */
export interface Goal {
  id: string;
  text: string;
  /** The measured value, as shown (with what it was measured on). */
  measured: string;
  /** The target, as shown, e.g. "ratio >= 1". */
  targetText: string;
  /** The measured number the verdict compares (a ratio, a tensor growth); null if unmeasured. */
  value: number | null;
  /** The number `value` is compared with. */
  target: number;
  /** Met when `value comparison target`. */
  comparison: ">=" | "<=";
  /** true / false, or null when it could not be measured here. */
  met: boolean | null;
  note?: string;
}

/** Everything one `lab bench` run measured. */
export interface BenchResults {
  format: typeof RESULTS_FORMAT;
  startedAt: string;
  finishedAt: string;
  quick: boolean;
  machine: MachineInfo;
  /** Load average at the start and at the end of the run. */
  load: { start?: LoadAverage; end?: LoadAverage };
  /** The backend `initBackend()` picks in auto mode here. */
  defaultBackend: string;
  backends: BackendEntry[];
  models: ModelEntry[];
  figures: Figure[];
  peer: PeerEntry;
  trackers?: TrackerOverhead & { backend: string; model: string };
  memory?: MemoryCheck & { backend: string; model: string; batch: BatchShape };
  profile?: {
    backend: string;
    model: string;
    phases: StepPhases;
    kernels: KernelTime[];
    kernelMs: number;
    wallMs: number;
    peakBytes: number;
  };
  /**
   * Plain float32 products at the shipped model's step shapes `[m, k, n]`: median ms of each,
   * by who ran them (a tfjs backend, or the peer as `torch-cpu-Nt`).
   */
  matmul?: { model: string; shapes: number[][]; ms: Record<string, number[]> };
  goals: Goal[];
  /** Anything that could not be measured, one line each. */
  skipped: string[];
}

/** Ratio of our rate to the peer's for one task and model. */
export interface PeerRatio {
  task: Task;
  model: string;
  backend: string;
  ours: number;
  peer: number;
  /** The peer figure compared with (its fastest thread setting). */
  peerBackend: string;
  /** ours / peer (above 1: we are faster). */
  ratio: number;
}

/**
 * Our median rate over the peer's, for every figure that has a peer figure of the same task
 * and model.
 *
 * @example
 * ```ts
 * import { peerRatios } from "./report.ts";
 * const s = (m: number) => ({ n: 1, median: m, min: m, max: m, q1: m, q3: m, relIqr: 0 });
 * const f = (backend: string, r: number) => ({ task: "dpo_step" as const, model: "tiny", backend,
 *   unit: "tokens/s", unitsPerRun: 1, rate: s(r), wallMs: s(1) });
 * console.log(peerRatios([f("wasm", 300), f("torch-cpu", 200)])[0].ratio); // 1.5
 * ```
 */
export function peerRatios(figures: readonly Figure[]): PeerRatio[] {
  const out: PeerRatio[] = [];
  for (const f of figures) {
    if (f.backend.startsWith("torch")) continue;
    // The fastest peer setting (thread count) of the same task and model.
    const p = figures
      .filter((g) => g.backend.startsWith("torch") && g.task === f.task && g.model === f.model)
      .sort((a, b) => b.rate.median - a.rate.median)[0];
    if (!p) continue;
    out.push({
      task: f.task,
      model: f.model,
      backend: f.backend,
      ours: f.rate.median,
      peer: p.rate.median,
      peerBackend: p.backend,
      ratio: f.rate.median / p.rate.median,
    });
  }
  return out;
}

/**
 * The goals of issue #7, judged on a run's figures.
 *
 * @example
 * ```ts
 * import { evaluateGoals } from "./report.ts";
 * const goals = evaluateGoals({ figures: [], defaultBackend: "wasm", machine: { nvidiaGpu: false } });
 * console.log(goals.find((g) => g.id === "gpu")?.measured); // "not measured: no GPU in this session"
 * ```
 */
export function evaluateGoals(
  r: Pick<BenchResults, "figures" | "defaultBackend" | "trackers" | "memory"> & {
    machine: Pick<MachineInfo, "nvidiaGpu">;
  },
): Goal[] {
  const ratios = peerRatios(r.figures);
  const goals: Goal[] = [];
  const goal = (
    g: Omit<Goal, "met" | "targetText">,
  ): Goal => ({
    ...g,
    targetText: `${g.id === "leaks" ? "growth" : "ratio"} ${g.comparison} ${
      g.id === "trackers" ? g.target.toFixed(2) : g.target
    }`,
    met: g.value === null
      ? null
      : g.comparison === ">="
      ? g.value >= g.target
      : g.value <= g.target,
  });
  const describe = (x: PeerRatio, unit: string) =>
    `${formatNumber(x.ratio)}x (${x.backend} ${formatNumber(x.ours)} vs ` +
    `${x.peerBackend} ${formatNumber(x.peer)} ${unit}, ${x.model})`;
  // The shipped model's figures against the CPU peer (its faster thread setting).
  const cpuRatio = (task: Task, backend: string) => {
    const peer = r.figures.find((f) => f.task === task && f.backend.startsWith("torch-cpu"));
    return ratios.find((x) => x.task === task && x.backend === backend && peer?.model === x.model);
  };
  const dpo = cpuRatio("dpo_step", r.defaultBackend);
  // The same backend with the batch split over a worker thread (lib/scoring/parallel.ts).
  const par = cpuRatio("dpo_step", `${r.defaultBackend}+worker`);
  goals.push(goal({
    id: "cpu_vs_torch",
    text: "CPU-only machine: the default backend's DPO step at least matches the PyTorch peer " +
      "on the same model",
    comparison: ">=",
    target: 1,
    value: dpo?.ratio ?? null,
    measured: dpo
      ? describe(dpo, "tokens/s") +
        (par ? `; data-parallel over 2 threads: ${describe(par, "tokens/s")}` : "")
      : "not measured (no PyTorch peer figure on CPU)",
  }));
  for (
    const [task, id, what] of [["score", "score_vs_torch", "forward-only scoring"], [
      "ches",
      "ches_vs_torch",
      "CHES scoring",
    ]] as const
  ) {
    const x = cpuRatio(task, r.defaultBackend);
    goals.push(goal({
      id,
      text: `CPU-only machine: the default backend's ${what} at least matches the PyTorch peer`,
      comparison: ">=",
      target: 1,
      value: x?.ratio ?? null,
      measured: x
        ? describe(x, TASK_UNITS[task])
        : `not measured (no PyTorch peer figure of ${what} on CPU)`,
    }));
  }
  const gpuPeer = r.figures.find((f) => f.task === "dpo_step" && f.backend === "torch-cuda");
  const gpu = gpuPeer &&
    ratios.find((x) =>
      x.task === "dpo_step" && x.model === gpuPeer.model && x.backend === r.defaultBackend
    );
  goals.push(goal({
    id: "gpu",
    text: "NVIDIA GPU: at least half the PyTorch CUDA eager throughput for the 124M config",
    comparison: ">=",
    target: 0.5,
    value: gpu?.ratio ?? null,
    measured: !r.machine.nvidiaGpu
      ? "not measured: no GPU in this session"
      : gpu
      ? `${formatNumber(gpu.ratio)}x (${gpu.backend} vs torch-cuda, ${gpu.model})`
      : "not measured (no CUDA peer figure)",
  }));
  const t = r.trackers;
  goals.push(goal({
    id: "trackers",
    text: "tracker overhead (step time, all trackers on vs off) at most 10%",
    comparison: "<=",
    target: 1.1,
    value: t ? (t.thread?.ratio ?? t.ratio) : null,
    measured: !t
      ? "not measured"
      : t.thread
      ? `${formatNumber(t.thread.ratio)}x wall with the scoring trackers on a worker thread ` +
        `(trackerThread; ${formatNumber(t.thread.cpuRatio)}x CPU over both threads), ` +
        `${formatNumber(t.ratio)}x in the training thread (${t.model}, scoring trackers every ` +
        `${t.setting.every} steps)`
      : `${formatNumber(t.ratio)}x wall, ${formatNumber(t.cpuRatio)}x CPU (${t.model}, ` +
        `scoring trackers every ${t.setting.every} steps)`,
  }));
  const m = r.memory;
  goals.push(goal({
    id: "leaks",
    text: "tfjs tensor count flat over a long run (no leaks)",
    comparison: "<=",
    target: 0,
    value: m?.tensorGrowth ?? null,
    measured: m
      ? `${m.points.map((p) => `${p.tensors} tensors after ${p.step} steps`).join(", ")}`
      : "not measured",
  }));
  return goals;
}

function peerOpenBlasLine(p: PeerEntry): string {
  const runs = p.openblas ?? [];
  if (runs.length === 0) return "";
  const o = runs[0]!;
  const threads = runs.map((r) => `${r.blasThreads} with ${r.threads} torch thread(s)`).join(", ");
  return ` OpenBLAS: ${o.config} (library ${o.library}), running ${o.coreName} kernels ` +
    `(OPENBLAS_CORETYPE ${o.coreType}); its threads: ${threads}.`;
}

/** Start of the generated block of BENCHMARKS.md. */
export const BEGIN_MARK = "<!-- lab bench: generated results begin -->";
/** End of the generated block of BENCHMARKS.md. */
export const END_MARK = "<!-- lab bench: generated results end -->";

const mib = (b: number) => `${formatNumber(b / 2 ** 20)} MiB`;
const load = (l?: LoadAverage) => (l ? l.map((x) => x.toFixed(2)).join(" / ") : "n/a");

function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

/**
 * The generated block of BENCHMARKS.md (markers included) for a run.
 *
 * @example
 * ```ts ignore
 * const md = renderResults(results, "bench/results-linux.json");
 * ```
 */
export function renderResults(r: BenchResults, jsonPath: string): string {
  const m = r.machine;
  const out: string[] = [BEGIN_MARK, ""];
  out.push(
    `### Run of ${r.finishedAt.slice(0, 16).replace("T", " ")} UTC${r.quick ? " (quick)" : ""}`,
  );
  out.push("");
  out.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGiB ?? "?"} GiB, ${m.os}; WebGPU adapter: ` +
      `${m.webgpuAdapter}; NVIDIA GPU: ${m.nvidiaGpu ? (m.nvidiaGpuName ?? "yes") : "none"}. ` +
      `Deno ${m.deno} ` +
      `(V8 ${m.v8}), tfjs ${m.tfjs}. Load average (1/5/15 min) at the start ${
        load(r.load.start)
      }, ` +
      `at the end ${load(r.load.end)}. Default backend here: **${r.defaultBackend}**. ` +
      `Raw numbers: \`${jsonPath}\`.`,
  );
  out.push("");
  out.push(
    table(
      ["backend", "started", "conformance vs cpu", "adapter"],
      r.backends.map((b) => [
        b.name,
        b.started ? "yes" : `no: ${b.error ?? ""}`,
        b.conformance
          ? `${b.conformance.ok ? "pass" : "FAIL"} (max err ${
            b.conformance.maxError.toExponential(1)
          })`
          : "-",
        b.adapter ?? "-",
      ]),
    ),
  );
  out.push("");
  out.push(
    table(
      ["model", "params", "weights", "batch (pairs x tokens)", "CHES / precompute pairs"],
      r.models.map((x) => [
        x.label,
        `${formatNumber(x.params / 1e6)}M`,
        x.source,
        `${x.batch.pairs} x ${x.batch.length} (prompt ${x.batch.promptLength})`,
        `${x.scoringPairs} (batches of ${x.scoringBatch})`,
      ]),
    ),
  );
  out.push("");
  out.push("#### Throughput (median of repeated runs; spread = interquartile range)");
  out.push("");
  out.push(
    table(
      ["task", "model", "backend", "rate", "ms per run (wall)", "CPU ms per run", "load 1m"],
      r.figures.map((f) => [
        TASK_NAMES[f.task],
        f.model,
        f.backend,
        `${formatSummary(f.rate)} ${f.unit}`,
        formatSummary(f.wallMs),
        f.cpuMs ? formatSummary(f.cpuMs) : "-",
        f.load ? `${f.load[0].toFixed(1)}-${f.load[1].toFixed(1)}` : "-",
      ]),
    ),
  );
  const notes = r.figures.filter((f) => f.note);
  if (notes.length) {
    out.push("");
    for (const f of notes) out.push(`- ${f.task} ${f.model} ${f.backend}: ${f.note}`);
  }
  out.push("");
  out.push("#### Against PyTorch (same model, weights, batch, objective and optimizer)");
  out.push("");
  const p = r.peer;
  if (!p.available) {
    out.push(`PyTorch peer not available: ${p.reason ?? "unknown reason"}.`);
  } else {
    out.push(
      `Peer: torch ${p.torch} (${p.python}) on ${p.device}, timed with ` +
        `${(p.threads ?? []).join(" and ")} intra-op thread(s) (\`torch-cpu-Nt\`; ratios use the ` +
        `faster), BLAS ` +
        `${p.blas?.length ? p.blas.join(", ") : "unknown"}.` + peerOpenBlasLine(p),
    );
    out.push("");
    const ratios = peerRatios(r.figures);
    out.push(
      table(
        ["task", "model", "ours", "rate (ours)", "rate (torch)", "ours / torch"],
        ratios.map((x) => [
          TASK_NAMES[x.task],
          x.model,
          x.backend,
          formatNumber(x.ours),
          `${formatNumber(x.peer)} (${x.peerBackend})`,
          `**${formatNumber(x.ratio)}x**`,
        ]),
      ),
    );
    out.push("");
    for (const [model, s] of Object.entries(p.sanity ?? {})) {
      const logps = `first-batch sequence log-probs agree to ${s.logpRelError.toExponential(1)} ` +
        `(relative)`;
      const verdict = s.ok ? "**match**" : "**MISMATCH**";
      if (s.losses.ours.length === 0) {
        out.push(`- Sanity (${model}, ${s.backend} vs torch): ${logps} -> ${verdict}.`);
        continue;
      }
      const n = Math.min(s.losses.ours.length, s.losses.peer.length);
      const list = (xs: number[]) => `[${xs.slice(0, n).map((x) => x.toFixed(5)).join(", ")}]`;
      out.push(
        `- Sanity (${model}, ${s.backend} vs torch): ${logps}; DPO loss per step ours ` +
          `${list(s.losses.ours)} vs torch ${list(s.losses.peer)}: max difference ` +
          `${s.lossAbsError.toExponential(1)} -> ${verdict}.`,
      );
    }
    for (const e of p.errors ?? []) out.push(`- Peer error: ${e}`);
  }
  if (r.trackers) {
    const t = r.trackers;
    const ms = (xs: number[]) => `[${xs.map((x) => x.toFixed(0)).join(", ")}]`;
    out.push("");
    out.push("#### Tracker overhead");
    out.push("");
    out.push(
      `${t.model} on ${t.backend}: \`train()\` with DPO (reference log-probs precomputed, the ` +
        `trainer's default), ${t.steps} steps per run, runs interleaved; mean ms per step of ` +
        `each run. "All": implicit-rewards rows every step, probability mass and displacement on ` +
        `${t.setting.trackedPairs} pairs and gradient alignment on ${t.setting.gradientPairs} ` +
        `pairs, every ${t.setting.every} steps.`,
    );
    out.push("");
    out.push(
      table(
        ["trackers", "wall ms per step", "CPU ms per step", "end of run, ms"],
        t.levels.map((l) => [l.level, ms(l.wallMs), ms(l.cpuMs), ms(l.endMs ?? [])]),
      ),
    );
    out.push("");
    out.push(
      `All on / off: **${formatNumber(t.ratio)}x** wall, ${formatNumber(t.cpuRatio)}x CPU; ` +
        `implicit-rewards rows only / off: ${formatNumber(t.rewardsRatio)}x wall. One ` +
        `measurement by the three scoring trackers costs about ${t.measurementMs.toFixed(0)} ms ` +
        `(${formatNumber(t.measurementMs / medianOf(t.levels[0]!.wallMs))} steps), so their ` +
        `overhead at an interval of k steps is about ` +
        `${formatNumber((100 * t.measurementMs) / medianOf(t.levels[0]!.wallMs))}%/k.`,
    );
    if (t.thread) {
      out.push("");
      out.push(
        `"thread": the same trackers as one \`trackerThread\` callback, measuring on a worker ` +
          `thread on a copy of each measured step's weights while training goes on. Thread / ` +
          `off: **${formatNumber(t.thread.ratio)}x** wall, ${formatNumber(t.thread.cpuRatio)}x ` +
          `CPU (both threads). The last measurement of a run overlaps no step: the run ends ` +
          `${t.thread.endMs.toFixed(0)} ms later than with no tracker (once per run, not per ` +
          `step).`,
      );
    }
  }
  if (r.memory) {
    const mm = r.memory;
    out.push("");
    out.push("#### Memory over a long run");
    out.push("");
    out.push(
      `${mm.model} on ${mm.backend}, \`train()\` with every tracker on (scoring trackers every ` +
        `50 steps), batch ${mm.batch.pairs} x ${mm.batch.length}, ${mm.stepsRun} steps in ` +
        `${mm.seconds.toFixed(0)} s:`,
    );
    out.push("");
    out.push(
      table(
        ["after step", "tfjs tensors", "tensor bytes", "resident", "peak resident"],
        mm.points.map((x) => [
          String(x.step),
          String(x.tensors),
          mib(x.tensorBytes),
          x.rss ? mib(x.rss) : "-",
          x.peakRss ? mib(x.peakRss) : "-",
        ]),
      ),
    );
  }
  if (r.matmul) {
    const mm = r.matmul, who = Object.keys(mm.ms);
    out.push("");
    out.push("#### Matrix products at the step's shapes");
    out.push("");
    out.push(
      `The float32 products of one DPO step of ${mm.model} alone (\`[m, k] x [k, n]\`, median ` +
        "of 20 after 3 untimed, one element read back): GFLOPS = 2mkn / time. The fused qkv " +
        "projection, the MLP's two products and the unembedding at completion positions.",
    );
    out.push("");
    out.push(
      table(
        ["[m, k, n]", ...who.map((w) => `${w} GFLOPS (ms)`)],
        mm.shapes.map((sh, i) => {
          const flop = 2 * sh[0] * sh[1] * sh[2];
          return [
            `[${sh.join(", ")}]`,
            ...who.map((w) => {
              const ms = mm.ms[w][i];
              return ms === undefined
                ? "-"
                : `${formatNumber(flop / ms / 1e6)} (${formatNumber(ms)})`;
            }),
          ];
        }),
      ),
    );
  }
  if (r.profile) {
    const pr = r.profile;
    out.push("");
    out.push("#### Where a DPO step's time goes");
    out.push("");
    out.push(
      `${pr.model} on ${pr.backend}: phases (ms, one step after warm-up) reference forward ` +
        `${pr.phases.referenceForward.toFixed(0)}, policy forward+backward ` +
        `${pr.phases.policyForwardBackward.toFixed(0)}, AdamW ${pr.phases.optimizer.toFixed(0)}; ` +
        `tf.profile of one step: ${pr.kernelMs.toFixed(0)} ms in kernels of ` +
        `${pr.wallMs.toFixed(0)} ms, peak tensor memory ${mib(pr.peakBytes)}. Top kernels:`,
    );
    out.push("");
    out.push(
      table(
        ["kernel", "ms", "share", "calls"],
        pr.kernels.slice(0, 10).map((k) => [
          k.name,
          k.ms.toFixed(1),
          `${((100 * k.ms) / pr.kernelMs).toFixed(0)}%`,
          String(k.calls),
        ]),
      ),
    );
  }
  out.push("");
  out.push("#### Goals");
  out.push("");
  out.push(
    table(
      ["goal", "target", "measured", "met"],
      r.goals.map((g) => [
        g.text,
        g.targetText,
        g.measured,
        g.met === null ? "n/a" : g.met ? "yes" : "**no**",
      ]),
    ),
  );
  if (r.skipped.length) {
    out.push("");
    out.push("Not measured in this run:");
    out.push("");
    for (const s of r.skipped) out.push(`- ${s}`);
  }
  out.push("");
  out.push(END_MARK);
  return out.join("\n");
}

/**
 * Puts a generated block into BENCHMARKS.md text: replaces the block between the markers, or
 * appends it when the markers are absent (a new or hand-edited file).
 *
 * @example
 * ```ts
 * import { BEGIN_MARK, END_MARK, spliceResults } from "./report.ts";
 * const doc = `# B\n\n${BEGIN_MARK}\nold\n${END_MARK}\n\n## After\n`;
 * console.log(spliceResults(doc, `${BEGIN_MARK}\nnew\n${END_MARK}`).includes("old")); // false
 * ```
 */
export function spliceResults(doc: string, block: string): string {
  const i = doc.indexOf(BEGIN_MARK), j = doc.indexOf(END_MARK);
  if (i >= 0 && j > i) return doc.slice(0, i) + block + doc.slice(j + END_MARK.length);
  return `${doc.trimEnd()}\n\n${block}\n`;
}

/**
 * A file-name-safe slug for the machine, used in `bench/results-<slug>.json`.
 *
 * @example
 * ```ts
 * import { machineSlug } from "./report.ts";
 * console.log(machineSlug({ os: "linux x86_64", cores: 2, cpu: "AMD EPYC", nvidiaGpu: false }));
 * // "linux-x86_64-2c-amd-epyc"
 * ```
 */
export function machineSlug(m: Pick<MachineInfo, "os" | "cores" | "cpu" | "nvidiaGpu">): string {
  const s = `${m.os} ${m.cores}c ${m.cpu}${m.nvidiaGpu ? " nvidia" : ""}`
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|cpu|processor|@.*$/g, " ")
    .replace(/[^a-z0-9_]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return s.slice(0, 60).replace(/-+$/, "");
}
