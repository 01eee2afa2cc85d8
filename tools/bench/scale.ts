/**
 * `lab bench --scale`: how large a model trains on one CPU machine. GPT-2 small and medium
 * (large on request) take DPO steps (1 pair x 128 tokens, reference log-probs precomputed,
 * AdamW) on the `cpu` backend with the fast kernels of lib/kernels/cpu_fast.ts, against the
 * PyTorch peer on the same checkpoint (1 thread and all threads); a ~1B Llama
 * (TinyLlama-1.1B's shape) scores forward-only and computes CHES. Each measurement runs in its
 * own process (./scale_child.ts) and reports its peak resident memory. Not part of the default
 * `lab bench`: one run took 41 minutes on a loaded 2-core machine.
 *
 * @module
 */
import { describeMachine, loadAverage, type MachineInfo } from "./machine.ts";
import {
  detectPeer,
  type PeerResult,
  type PeerSanity,
  peerSanity,
  peerSpec,
  runPeer,
} from "./peer.ts";
import type { Figure, Goal } from "./report.ts";
import { rateSummary, summarize } from "./stats.ts";
import { DEFAULT_DPO_SETTINGS, type Timing } from "./steps.ts";
import { syntheticBatches } from "./workload.ts";
import { DEFAULT_SCALE_MODELS, SCALE_MODELS, type ScaleModel } from "./scale_models.ts";
import { SCALE_BATCH, type ScaleMeasurement, type ScaleRepeats } from "./scale_child.ts";

/** Format tag of the scale results file. */
export const SCALE_FORMAT = "dpo-lab-bench-scale/1";

/** A figure of the scale task, with the process's peak resident memory. */
export type ScaleFigure = Figure & { peakRssBytes?: number; params?: number };

/** Everything one `lab bench --scale` run measured. */
export interface ScaleResults {
  format: typeof SCALE_FORMAT;
  startedAt: string;
  finishedAt: string;
  machine: MachineInfo;
  batch: typeof SCALE_BATCH;
  figures: ScaleFigure[];
  /** Our first-batch log-probs and losses against the peer's, per model. */
  sanity: Record<string, PeerSanity>;
  /** The largest model whose DPO step completed here, and its peak memory. */
  largestTrained?: { model: string; params: number; peakRssBytes: number };
  goals: Goal[];
  /** What failed or was not measured, one line each. */
  skipped: string[];
}

/** Options of {@link runScale}. */
export interface ScaleOptions {
  models?: readonly string[];
  /** Thread counts of the peer (default: 1 and all cores). */
  threads?: readonly number[];
  /**
   * OpenBLAS threads of our side (default 1: every other kernel of the `cpu` backend runs on one
   * thread, and on a shared machine a second BLAS thread waits for a descheduled core).
   */
  oursThreads?: readonly number[];
  peer?: boolean;
  pythons?: string[];
  tmpDir: string;
  log?: (line: string) => void;
}

const CHILD = new URL("./scale_child.ts", import.meta.url).pathname;
const DENO_JSON = new URL("../../deno.json", import.meta.url).pathname;

/** Repetitions per model: fewer for the larger ones (a step of each takes a minute or more). */
export function scaleRepeats(m: ScaleModel): ScaleRepeats {
  if (m.task === "score") return { warmup: 0, steps: 2, chesPairs: 2 };
  // GPT-2 large: one step, enough to say whether it trains here and at what memory.
  if (m.id === "gpt2-large") return { warmup: 0, steps: 1, chesPairs: 0 };
  return { warmup: 1, steps: m.id === "gpt2-small" ? 2 : 1, chesPairs: 0 };
}

async function child(
  args: string[],
  env: Record<string, string>,
  log: (s: string) => void,
): Promise<{ ok: boolean; why: string }> {
  const p = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--no-prompt", "--config", DENO_JSON, CHILD, ...args],
    env,
    stdout: "inherit",
    stderr: "piped",
  }).spawn();
  let tail = "";
  const dec = new TextDecoder();
  for await (const chunk of p.stderr) {
    const text = dec.decode(chunk);
    tail = (tail + text).slice(-2000);
    for (const line of text.split("\n")) if (line.trim()) log(`  ${line.trim()}`);
  }
  const st = await p.status;
  if (st.success) return { ok: true, why: "" };
  const how = st.signal ? `killed by ${st.signal}` : `exit ${st.code}`;
  const oom = st.signal === "SIGKILL" || st.code === 137 ? " (out of memory?)" : "";
  return { ok: false, why: `${how}${oom}: ${tail.trim().split("\n").slice(-2).join(" | ")}` };
}

function scaleFigure(
  task: Figure["task"],
  model: ScaleModel,
  backend: string,
  units: number,
  runs: readonly Timing[],
  load: [number, number],
  extra: { peakRssBytes?: number; params?: number; note?: string },
): ScaleFigure {
  return {
    task,
    model: model.label,
    backend,
    unit: task === "ches" ? "pairs/s" : "tokens/s",
    unitsPerRun: units,
    rate: rateSummary(runs.map((r) => r.ms), units),
    wallMs: summarize(runs.map((r) => r.ms)),
    ...(runs.every((r) => Number.isFinite(r.cpuMs))
      ? { cpuMs: summarize(runs.map((r) => r.cpuMs)) }
      : {}),
    load,
    ...(extra.peakRssBytes !== undefined ? { peakRssBytes: extra.peakRssBytes } : {}),
    ...(extra.params !== undefined ? { params: extra.params } : {}),
    ...(extra.note ? { note: extra.note } : {}),
  };
}

const load1 = async () => (await loadAverage())?.[0] ?? NaN;

/** Our measurement of one model at one thread count, in a child process. */
async function measureOurs(
  m: ScaleModel,
  dir: string,
  threads: number,
  opts: ScaleOptions,
  log: (s: string) => void,
): Promise<{ m?: ScaleMeasurement; figures: ScaleFigure[]; error?: string }> {
  const out = `${opts.tmpDir}/${m.id}-${threads}t.json`;
  const l0 = await load1();
  const env = { DPO_LAB_CPU_KERNELS: "fast", DPO_LAB_BLAS_THREADS: String(threads) };
  const r = await child(["measure", m.id, dir, out, JSON.stringify(scaleRepeats(m))], env, log);
  if (!r.ok) return { figures: [], error: `${m.label} on cpu (${threads} BLAS threads): ${r.why}` };
  const x = JSON.parse(await Deno.readTextFile(out)) as ScaleMeasurement;
  const load: [number, number] = [l0, await load1()];
  const backend = `cpu-fast-${threads}t`;
  const extra = { peakRssBytes: x.peakRss, params: x.params, note: x.blas };
  const figures = [
    scaleFigure(
      m.task === "dpo" ? "dpo_step" : "score",
      m,
      backend,
      x.tokensPerRun,
      x.runs,
      load,
      extra,
    ),
  ];
  if (x.ches) {
    figures.push(scaleFigure("ches", m, backend, x.ches.pairs, [x.ches.run], load, extra));
  }
  return { m: x, figures };
}

/** The peer's DPO step on the same checkpoint and batches. */
async function measurePeer(
  m: ScaleModel,
  dir: string,
  threads: number,
  python: string,
  opts: ScaleOptions,
): Promise<{ r: PeerResult; figure: ScaleFigure }> {
  const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
  const reps = scaleRepeats(m);
  const spec = peerSpec({
    config,
    weights: `${dir}/model.safetensors`,
    batches: syntheticBatches(Number(config.vocab_size), SCALE_BATCH, 2, 1),
    settings: DEFAULT_DPO_SETTINGS,
    dpoSteps: reps.steps,
    dpoWarmup: reps.warmup,
    scoreRepeats: 0,
    threads,
    tasks: ["dpo"],
    reference: "precomputed",
  });
  const l0 = await load1();
  const r = await runPeer(python, spec, `${opts.tmpDir}/peer-spec.json`);
  const runs = r.dpo!.times_ms.map((ms, i) => ({ ms, cpuMs: r.dpo!.cpu_ms[i] ?? NaN }));
  const figure = scaleFigure(
    "dpo_step",
    m,
    `torch-cpu-${r.threads}t`,
    2 * SCALE_BATCH.length,
    runs,
    [
      l0,
      await load1(),
    ],
    { peakRssBytes: r.max_rss_bytes, params: r.params },
  );
  return { r, figure };
}

/**
 * Runs the scale task: per model, a checkpoint, our measurement at each thread count, and the
 * peer's (GPT-2 only: the peer implements GPT-2). Nothing is written here.
 *
 * @example
 * ```ts ignore
 * const r = await runScale({ models: ["gpt2-small"], tmpDir: "/tmp/scale" });
 * console.log(r.goals.map((g) => g.measured));
 * ```
 */
export async function runScale(opts: ScaleOptions): Promise<ScaleResults> {
  const log = opts.log ?? (() => {});
  const machine = await describeMachine();
  const threads = opts.threads ?? [...new Set([1, machine.cores])];
  const ids = opts.models ?? DEFAULT_SCALE_MODELS;
  const res: ScaleResults = {
    format: SCALE_FORMAT,
    startedAt: new Date().toISOString(),
    finishedAt: "",
    machine,
    batch: SCALE_BATCH,
    figures: [],
    sanity: {},
    goals: [],
    skipped: [],
  };
  const peer = opts.peer === false
    ? { available: false, python: "", reason: "disabled with --no-peer" }
    : await detectPeer(opts.pythons ? { pythons: opts.pythons } : {});
  if (!peer.available) res.skipped.push(`PyTorch peer: ${peer.reason}`);
  for (const id of ids) {
    const m = SCALE_MODELS[id];
    if (!m) throw new RangeError(`--scale-models: unknown model '${id}'`);
    const dir = `${opts.tmpDir}/${id}`;
    log(`${m.label}: writing a seeded random checkpoint`);
    const prep = await child(["prepare", id, dir], {}, log);
    if (!prep.ok) {
      res.skipped.push(`${m.label}: checkpoint not written: ${prep.why}`);
      continue;
    }
    let first: ScaleMeasurement | undefined;
    for (const t of opts.oursThreads ?? [1]) {
      log(`${m.label}: ours, cpu backend, ${t} BLAS thread(s)`);
      const o = await measureOurs(m, dir, t, opts, log);
      res.figures.push(...o.figures);
      if (o.error) res.skipped.push(o.error);
      first ??= o.m;
    }
    if (
      m.task === "dpo" && first && !(res.largestTrained && res.largestTrained.params > first.params)
    ) {
      res.largestTrained = { model: m.label, params: first.params, peakRssBytes: first.peakRss };
    }
    if (m.id === "gpt2-large") {
      res.skipped.push(`${m.label}: no PyTorch peer figure (one step of ours only, to time)`);
    } else if (m.family === "gpt2" && peer.available) {
      for (const t of threads) {
        log(`${m.label}: PyTorch peer, ${t} thread(s)`);
        try {
          const p = await measurePeer(m, dir, t, peer.python, opts);
          res.figures.push(p.figure);
          if (first?.firstLogps && !res.sanity[m.label]) {
            const n = Math.min(first.losses!.length, p.r.dpo!.losses.length);
            res.sanity[m.label] = peerSanity(
              { logps: first.firstLogps, losses: first.losses!.slice(0, n) },
              { logps: p.r.first_batch_logps, losses: p.r.dpo!.losses.slice(0, n) },
            );
          }
        } catch (e) {
          res.skipped.push(`PyTorch peer on ${m.label} (${t} threads): ${(e as Error).message}`);
        }
      }
    } else if (m.family !== "gpt2") {
      res.skipped.push(`${m.label}: no PyTorch peer figure (the peer implements GPT-2 only)`);
    }
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
  res.finishedAt = new Date().toISOString();
  res.goals = scaleGoals(res, ids);
  return res;
}

/** Best (highest median rate) figure of `task` and model whose backend starts with `prefix`. */
function best(figs: readonly ScaleFigure[], task: Figure["task"], label: string, prefix: string) {
  return figs
    .filter((f) => f.task === task && f.model === label && f.backend.startsWith(prefix))
    .sort((a, b) => b.rate.median - a.rate.median)[0];
}

/**
 * The scale goals: each GPT-2 model's DPO step as a ratio to the faster peer setting (target
 * 1), and the Llama's scoring peak memory against the machine's memory (target: fits).
 *
 * @example
 * ```ts
 * import { scaleGoals } from "./scale.ts";
 * const g = scaleGoals({ figures: [], machine: { memoryGiB: 24 } }, ["gpt2-small"]);
 * console.log(g[0].value, g[0].met); // null null
 * ```
 */
export function scaleGoals(
  r: Pick<ScaleResults, "figures"> & { machine: Pick<MachineInfo, "memoryGiB"> },
  ids: readonly string[],
): Goal[] {
  const goals: Goal[] = [];
  for (const id of ids) {
    const m = SCALE_MODELS[id];
    if (!m) continue;
    if (m.task === "dpo") {
      const ours = best(r.figures, "dpo_step", m.label, "cpu");
      const peer = best(r.figures, "dpo_step", m.label, "torch");
      const value = ours && peer ? ours.rate.median / peer.rate.median : null;
      goals.push({
        id: `scale_dpo_${id}`,
        text: `${m.label}: DPO step (1 pair x 128 tokens, AdamW, reference precomputed) on the ` +
          `cpu backend, against the faster PyTorch peer setting`,
        measured: ours && peer
          ? `${value!.toFixed(2)}x (${ours.backend} ${ours.rate.median.toFixed(1)} vs ` +
            `${peer.backend} ${peer.rate.median.toFixed(1)} tokens/s; peak RSS ` +
            `${((ours.peakRssBytes ?? NaN) / 2 ** 30).toFixed(1)} vs ` +
            `${((peer.peakRssBytes ?? NaN) / 2 ** 30).toFixed(1)} GiB)`
          : ours
          ? `ours ${ours.rate.median.toFixed(1)} tokens/s; no peer figure`
          : "did not run",
        targetText: "ratio >= 1",
        value,
        target: 1,
        comparison: ">=",
        met: value === null ? null : value >= 1,
      });
    } else {
      const score = best(r.figures, "score", m.label, "cpu");
      const ches = best(r.figures, "ches", m.label, "cpu");
      const peak = Math.max(score?.peakRssBytes ?? NaN, ches?.peakRssBytes ?? NaN);
      const mem = r.machine.memoryGiB;
      const value = score && Number.isFinite(peak) ? peak / 2 ** 30 : null;
      goals.push({
        id: `scale_score_${id}`,
        text: `${m.label}: forward-only scoring and CHES on the cpu backend without running ` +
          `out of memory (peak RSS against the machine's memory)`,
        measured: score
          ? `peak RSS ${value?.toFixed(1)} GiB; scoring ${score.rate.median.toFixed(1)} ` +
            `tokens/s; CHES ${ches ? ches.rate.median.toFixed(3) : "n/a"} pairs/s`
          : "did not run",
        targetText: `peak GiB <= ${mem ?? "?"}`,
        value,
        target: mem ?? NaN,
        comparison: "<=",
        met: value === null || mem === undefined ? null : value <= mem,
      });
    }
  }
  return goals;
}
