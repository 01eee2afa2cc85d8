/**
 * Measures what trackers cost: wall-clock time per optimizer step of the same run without
 * trackers, with the built-in implicit-rewards tracker (per-pair rows), and with the
 * probability-mass tracker scoring its pairs and probes every step. Run:
 *
 * ```sh
 * deno run -A lib/train/overhead.ts [--backend cpu] [--steps 30]
 * ```
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import { type BackendName, initBackend } from "../backend.ts";
import { collate, collateProbes } from "../data/collate.ts";
import { createGPT2 } from "../models/gpt2.ts";
import { createUnconstrainedFeatures } from "../models/toy.ts";
import { dpo } from "../objectives/trl.ts";
import type { TrainCallback } from "./callbacks.ts";
import { lmScorer, probeSet } from "./lm.ts";
import { probabilityMassTracker } from "./trackers.ts";
import { train } from "./trainer.ts";
import { toyData } from "./train_data.ts";
import type { PreferenceBatch } from "../data/types.ts";
import type { PreferenceScorer, ToyBatch, ToyProbes, TrainData } from "./types.ts";

/** Seconds per step of one configuration. */
export interface OverheadRow {
  model: string;
  trackers: string;
  /** Median wall seconds per step (trackers included). */
  secondsPerStep: number;
  /** Median process CPU seconds per step: less sensitive to other processes on the machine. */
  cpuSecondsPerStep: number;
  /** CPU-time ratio to the same model without trackers. */
  ratio: number;
}

function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function median(xs: number[]): number {
  const d = [...xs].sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)];
}

/** Per-step wall and CPU seconds of one short run (the first step, which compiles, dropped). */
async function timeRun<B>(
  policy: PreferenceScorer<B, unknown>,
  data: TrainData<B>,
  steps: number,
  examples: boolean,
  callbacks: TrainCallback<B>[],
): Promise<{ wall: number[]; cpu: number[] }> {
  const wall: number[] = [], cpu: number[] = [];
  const clock: TrainCallback<B> = {
    name: "clock",
    onStepEnd: () => {
      wall.push(performance.now() / 1000);
      cpu.push(cpuSeconds());
    },
  };
  await train({
    policy,
    data,
    objective: dpo({ beta: 0.1 }),
    optimizer: { name: "rmsprop" },
    lr: 1e-4,
    batchSize: 4,
    maxSteps: steps,
    progress: false,
    examplesEvery: examples ? 1 : false,
    callbacks: [...callbacks, clock],
  });
  const diff = (xs: number[]) => xs.slice(1).map((t, i) => t - xs[i]);
  return { wall: diff(wall), cpu: diff(cpu) };
}

/**
 * Interleave the three settings for `rounds` rounds (so slow periods of a shared machine hit
 * all of them) and return per-setting medians.
 */
async function compare<B>(
  policy: PreferenceScorer<B, unknown>,
  data: TrainData<B>,
  steps: number,
  rounds: number,
  mass: () => TrainCallback<B>,
): Promise<{ wall: number; cpu: number }[]> {
  const acc = [0, 1, 2].map(() => ({ wall: [] as number[], cpu: [] as number[] }));
  // Warm-up: the first runs compile kernels and JIT the loop; not timed.
  for (let k = 0; k < 3; k++) await timeRun(policy, data, 3, k > 0, k === 2 ? [mass()] : []);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < 3; k++) {
      const t = await timeRun(policy, data, steps, k > 0, k === 2 ? [mass()] : []);
      acc[k].wall.push(...t.wall);
      acc[k].cpu.push(...t.cpu);
    }
  }
  return acc.map((a) => ({ wall: median(a.wall), cpu: median(a.cpu) }));
}

/**
 * Time the three tracker settings on a toy model and a tiny GPT-2.
 *
 * @example
 * ```ts ignore
 * const rows = await measureTrackerOverhead({ steps: 20 });
 * console.table(rows);
 * ```
 */
export async function measureTrackerOverhead(
  opts: { steps?: number; rounds?: number } = {},
): Promise<OverheadRow[]> {
  const steps = opts.steps ?? 12;
  const rounds = opts.rounds ?? 3;
  const rows: OverheadRow[] = [];
  const settings = ["none", "implicit rewards", "implicit rewards + mass (every step)"];
  const push = (model: string, t: { wall: number; cpu: number }[]) =>
    t.forEach((x, k) =>
      rows.push({
        model,
        trackers: settings[k],
        secondsPerStep: x.wall,
        cpuSecondsPerStep: x.cpu,
        ratio: x.cpu / t[0].cpu,
      })
    );

  // Toy: 16 prompts, 32 tokens, 64 pairs.
  const toy = createUnconstrainedFeatures({
    tokens: Array.from({ length: 32 }, (_, i) => `t${i}`),
    prompts: 16,
    dim: 8,
    seed: 0,
  });
  const n = 64;
  const toyPairs = toyData({
    prompt: Array.from({ length: n }, (_, i) => i % 16),
    chosen: Array.from({ length: n }, (_, i) => i % 32),
    rejected: Array.from({ length: n }, (_, i) => (i * 7 + 3) % 32),
  });
  const toyProbes = {
    batch: {
      prompt: Int32Array.from({ length: 32 }, (_, i) => i % 16),
      token: Int32Array.from({ length: 32 }, (_, i) => (i * 5) % 32),
    },
    prompts: Array.from({ length: 32 }, (_, i) => i % 16),
    labels: Array.from({ length: 32 }, () => "probe"),
  };
  const toyTimes = await compare(
    toy as PreferenceScorer<ToyBatch, unknown>,
    toyPairs,
    steps,
    rounds,
    () =>
      probabilityMassTracker<ToyBatch, ToyProbes>({
        positions: [...Array(32).keys()],
        probes: toyProbes,
      }),
  );
  toy.dispose();
  push("toy UFM (V=32, d=8), 4 pairs/step; mass: 32 pairs + 32 probes", toyTimes);

  // Tiny GPT-2: vocab 300, 2 layers, width 32; pairs of ~12-token rows.
  const gpt = createGPT2({ vocab_size: 300, n_positions: 64, n_embd: 32, n_layer: 2, n_head: 4 }, {
    seed: 0,
  });
  const pairs = Array.from({ length: 32 }, (_, i) => ({
    index: i,
    promptIds: [1 + (i % 50), 2 + (i % 40), 3, 4 + (i % 7)],
    chosenIds: [10 + (i % 90), 11, 12 + (i % 5), 13, 0],
    rejectedIds: [20 + (i % 80), 21, 22, 0],
  }));
  const lmData: TrainData<PreferenceBatch> = {
    size: pairs.length,
    batch: (ps) => collate(ps.map((p) => pairs[p]), 0),
    fingerprint: () =>
      new Uint8Array(
        Int32Array.from(pairs.flatMap((p) => [...p.promptIds, ...p.chosenIds, ...p.rejectedIds]))
          .buffer,
      ),
  };
  const probeBatch = collateProbes(
    pairs.slice(0, 8).map((p) => ({
      index: p.index,
      name: "para",
      promptIds: p.promptIds,
      completionIds: [30, 31, 32, 0],
    })),
    0,
  );
  const scorer = lmScorer(gpt);
  const lmTimes = await compare(
    scorer as PreferenceScorer<PreferenceBatch, unknown>,
    lmData,
    steps,
    rounds,
    () => probabilityMassTracker({ positions: [...Array(8).keys()], probes: probeSet(probeBatch) }),
  );
  gpt.dispose();
  push("GPT-2 2x32, V=300, 4 pairs/step; mass: 8 pairs + 8 probes", lmTimes);
  return rows;
}

if (import.meta.main) {
  const arg = (flag: string) => {
    const i = Deno.args.indexOf(flag);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const backend = (arg("--backend") ?? "cpu") as BackendName;
  const steps = Number(arg("--steps") ?? 12), rounds = Number(arg("--rounds") ?? 3);
  const report = await initBackend({ backend });
  console.log(
    `backend ${report.name} (${report.adapter}), tfjs ${tf.version_core}; ` +
      `${rounds} interleaved rounds of ${steps} steps per setting; medians per step`,
  );
  for (const r of await measureTrackerOverhead({ steps, rounds })) {
    console.log(
      `${r.model.padEnd(62)} ${r.trackers.padEnd(38)} wall ${
        (r.secondsPerStep * 1000).toFixed(1).padStart(7)
      } ms  cpu ${(r.cpuSecondsPerStep * 1000).toFixed(1).padStart(7)} ms  x${r.ratio.toFixed(2)}`,
    );
  }
}
