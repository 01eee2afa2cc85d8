/**
 * Benchmarks that go through the library's `train()` loop: tracker overhead (the same run with
 * every tracker on and with none) and memory over a long run (tensor count and resident memory
 * after 10 steps and after 1,000).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import {
  displacementTracker,
  gradientAlignmentTracker,
  pairSides,
} from "../../lib/analysis/mod.ts";
import type { PreferenceBatch, ProbeBatch, TokenizedPair } from "../../lib/data/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import type { TrainCallback } from "../../lib/train/mod.ts";
import { lmScorer } from "../../lib/scoring/mod.ts";
import { probabilityMassTracker, trackerThread } from "../../lib/analysis/mod.ts";
import { train } from "../../lib/train/mod.ts";
import type { PreferenceScorer } from "../../lib/core/mod.ts";
import { residentMemory } from "./machine.ts";
import { median } from "./stats.ts";
import { pairData } from "./steps.ts";

/** The tracker set of the "on" setting, with the measurement interval of the scoring ones. */
export interface TrackerSetting {
  /** Steps between measurements of the mass, displacement and gradient trackers. */
  every: number;
  /** Pairs the mass and displacement trackers follow. */
  trackedPairs: number;
  /** Pairs the gradient-alignment tracker measures (one backward pass each). */
  gradientPairs: number;
}

/** Default "all trackers on": rewards every step, the scoring trackers every 10 steps. */
export const ALL_TRACKERS: Readonly<TrackerSetting> = {
  every: 10,
  trackedPairs: 16,
  gradientPairs: 4,
};

/**
 * Every tracker the library has for causal LMs: implicit rewards (per-pair rows every step,
 * built into `train()`), probability mass, likelihood displacement and gradient alignment.
 * Given the run's `pairs` (data position p = `pairs[p]`, padding id 0, as `pairData`), gradient
 * alignment differentiates one-row sides of each pair, for the same values, and runs first so
 * that the other two reuse those passes' scores of its pairs.
 *
 * @example
 * ```ts
 * import { allTrackers, ALL_TRACKERS } from "./trainer_runs.ts";
 * console.log(allTrackers(ALL_TRACKERS).map((c) => c.name));
 * // ["gradient_alignment", "probability_mass", "displacement"]
 * ```
 */
export function allTrackers(
  s: TrackerSetting,
  pairs?: readonly TokenizedPair[],
): TrainCallback<PreferenceBatch>[] {
  const tracked = [...Array(s.trackedPairs).keys()];
  // Gradient alignment first: its side passes give its pairs' scores to the two after it.
  return [
    gradientAlignmentTracker<PreferenceBatch, ProbeBatch>({
      every: s.every,
      positions: [...Array(s.gradientPairs).keys()],
      ...(pairs ? { sides: pairSides(pairs, 0) } : {}),
    }),
    probabilityMassTracker<PreferenceBatch>({ every: s.every, positions: tracked }),
    displacementTracker<PreferenceBatch>({ every: s.every, positions: tracked }),
  ] as TrainCallback<PreferenceBatch>[];
}

/** Options shared by the `train()` runs. */
export interface TrainRunOptions {
  /** Pairs per step. */
  batchSize: number;
  /** DPO β and the AdamW learning rate. */
  beta?: number;
  lr?: number;
}

/**
 * How many of steps 1..`steps` a tracker with interval `every` measures: the multiples of
 * `every`, and the last step always.
 *
 * @example
 * ```ts
 * import { measurementsIn } from "./trainer_runs.ts";
 * console.log(measurementsIn(20, 10), measurementsIn(25, 10), measurementsIn(4, 10)); // 2 3 1
 * ```
 */
export function measurementsIn(steps: number, every: number): number {
  return Math.floor(steps / every) + (steps % every === 0 ? 0 : 1);
}

/**
 * Which trackers a timed run has: none, the trainer's implicit-rewards rows, every tracker in
 * the training thread, or every tracker with the scoring ones on a worker thread
 * (`trackerThread`).
 */
export type TrackerLevel = "off" | "rewards" | "all" | "thread";

/** The scoring trackers of `s` as one `trackerThread` callback (same pairs, same interval). */
function threadTrackers(
  s: TrackerSetting,
  model: CausalLM,
  pairs: readonly TokenizedPair[],
): TrainCallback<PreferenceBatch> {
  const tracked = [...Array(s.trackedPairs).keys()];
  return trackerThread({
    model,
    pairs,
    padId: 0,
    every: s.every,
    gradient: { positions: [...Array(s.gradientPairs).keys()] },
    mass: { positions: tracked },
    displacement: { positions: tracked },
  });
}

function levelCallbacks(
  level: TrackerLevel,
  s: TrackerSetting,
  model: CausalLM,
  pairs: readonly TokenizedPair[],
): TrainCallback<PreferenceBatch>[] {
  if (level === "all") return allTrackers(s, pairs);
  return level === "thread" ? [threadTrackers(s, model, pairs)] : [];
}

/**
 * Per-step wall and process-CPU times (ms) of one `train()` run, measured between consecutive
 * step ends (the first step's from the end of the trainer's set-up).
 */
async function timedTrain(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  steps: number,
  level: TrackerLevel,
  setting: TrackerSetting,
  opts: TrainRunOptions,
  extra: TrainCallback<PreferenceBatch>[] = [],
): Promise<{ wall: number[]; cpu: number[]; endMs: number }> {
  const wall: number[] = [], cpu: number[] = [];
  const cpuNow = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  let last = [0, 0];
  // Last in the list, so its timestamps include every tracker's hook.
  const clock: TrainCallback<PreferenceBatch> = {
    name: "bench_clock",
    onTrainBegin: () => {
      last = [performance.now(), cpuNow()];
    },
    onStepEnd: () => {
      const now = [performance.now(), cpuNow()];
      wall.push(now[0]! - last[0]!);
      cpu.push(now[1]! - last[1]!);
      last = now;
    },
  };
  await train({
    policy: lmScorer(model) as PreferenceScorer<PreferenceBatch, unknown>,
    data: pairData(pairs),
    objective: dpo({ beta: opts.beta ?? 0.1 }),
    optimizer: { name: "adamw" },
    lr: opts.lr ?? 1e-4,
    batchSize: opts.batchSize,
    maxSteps: steps,
    progress: false,
    examplesEvery: level === "off" ? false : 1,
    callbacks: [...levelCallbacks(level, setting, model, pairs), ...extra, clock],
  });
  // From the last step's end to train()'s return: the summary, and late metrics still waited for.
  return { wall, cpu, endMs: performance.now() - last[0]! };
}

/** Step times of one tracker level over the rounds of {@link trackerOverhead}. */
export interface LevelTimes {
  level: TrackerLevel;
  /** Mean wall ms per step of each round. */
  wallMs: number[];
  /** Mean process-CPU ms per step of each round (every thread of the process). */
  cpuMs: number[];
  /** Ms from the last step's end to `train()`'s return, each round (absent in older files). */
  endMs?: number[];
}

/** Result of {@link trackerOverhead}. */
export interface TrackerOverhead {
  levels: LevelTimes[];
  /** median wall step time with all trackers / with none. */
  ratio: number;
  /** The same ratio of CPU time (less disturbed by other processes). */
  cpuRatio: number;
  /** Implicit-rewards rows only (the trainer's default) / none, wall. */
  rewardsRatio: number;
  /**
   * Wall ms of one measurement by the scoring trackers (mass, displacement, gradient
   * alignment together), from the difference between "all" and "rewards" runs: the overhead
   * at any interval k is about `measurementMs / k` per step.
   */
  measurementMs: number;
  steps: number;
  setting: TrackerSetting;
  /**
   * With the scoring trackers on a worker thread (`trackerThread`), when the run had one:
   * median wall and CPU step time / none, and the extra wait at the end of a run (the last
   * measurement, which no step overlaps) over the run with no tracker, ms.
   */
  thread?: { ratio: number; cpuRatio: number; endMs: number };
}

/**
 * Step time of the same DPO run with no tracker, with the trainer's default implicit-rewards
 * rows, and with every tracker, in interleaved rounds (so load from other processes falls on
 * all alike). A round's figure is the *mean* step time over `steps` steps: trackers that
 * measure every k steps cost nothing on the others, and a median would hide them. The policy
 * is restored between runs, so every run starts alike.
 *
 * @example
 * ```ts ignore
 * const r = await trackerOverhead(model, pairs, { batchSize: 4, steps: 20, rounds: 3 });
 * console.log(r.ratio);
 * ```
 */
export async function trackerOverhead(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  opts: TrainRunOptions & {
    steps: number;
    rounds: number;
    setting?: TrackerSetting;
    /** Also time the scoring trackers on a worker thread (wasm or cpu, two cores). */
    thread?: boolean;
  },
): Promise<TrackerOverhead> {
  const setting = opts.setting ?? ALL_TRACKERS;
  if (pairs.length < Math.max(setting.trackedPairs, setting.gradientPairs, opts.batchSize)) {
    throw new RangeError(
      `trackerOverhead: ${pairs.length} pairs; the trackers follow ${setting.trackedPairs}`,
    );
  }
  const initial = model.variables().map((v) => tf.clone(v));
  const restore = () => model.variables().forEach((v, i) => v.assign(initial[i]!));
  const order: TrackerLevel[] = [
    "off",
    "rewards",
    "all",
    ...(opts.thread ? ["thread" as const] : []),
  ];
  const levels: LevelTimes[] = order.map((level) => ({ level, wallMs: [], cpuMs: [], endMs: [] }));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  try {
    for (let r = 0; r < opts.rounds; r++) {
      // Rotate the order each round so no level always runs first.
      for (let k = 0; k < order.length; k++) {
        const i = (k + r) % order.length;
        restore();
        const t = await timedTrain(model, pairs, opts.steps, order[i]!, setting, opts);
        levels[i]!.wallMs.push(mean(t.wall));
        levels[i]!.cpuMs.push(mean(t.cpu));
        levels[i]!.endMs!.push(t.endMs);
      }
    }
  } finally {
    restore();
    tf.dispose(initial);
  }
  const [off, rewards, all, thread] = levels as [
    LevelTimes,
    LevelTimes,
    LevelTimes,
    LevelTimes | undefined,
  ];
  const extra = (median(all.wallMs) - median(rewards.wallMs)) * opts.steps;
  return {
    measurementMs: extra / measurementsIn(opts.steps, setting.every),
    levels,
    ratio: median(all.wallMs) / median(off.wallMs),
    cpuRatio: median(all.cpuMs) / median(off.cpuMs),
    rewardsRatio: median(rewards.wallMs) / median(off.wallMs),
    steps: opts.steps,
    setting,
    ...(thread
      ? {
        thread: {
          ratio: median(thread.wallMs) / median(off.wallMs),
          cpuRatio: median(thread.cpuMs) / median(off.cpuMs),
          endMs: median(thread.endMs!) - median(off.endMs!),
        },
      }
      : {}),
  };
}

/** Memory after a number of steps. */
export interface MemoryPoint {
  step: number;
  /** Live tfjs tensors (`tf.memory().numTensors`). */
  tensors: number;
  /** Bytes held by live tfjs tensors. */
  tensorBytes: number;
  /** Resident memory of the process now and its peak so far (Linux), bytes. */
  rss?: number;
  peakRss?: number;
}

/** Result of {@link memoryCheck}. */
export interface MemoryCheck {
  points: MemoryPoint[];
  /** Tensor count at the last point minus at the first: 0 when nothing leaks. */
  tensorGrowth: number;
  stepsRun: number;
  /** Total wall seconds of the run. */
  seconds: number;
}

/**
 * A long DPO run through `train()` with every tracker on, recording tfjs memory and resident
 * memory after the steps in `at` (e.g. 10 and 1,000).
 *
 * @example
 * ```ts ignore
 * const m = await memoryCheck(model, pairs, { batchSize: 2, at: [10, 1000] });
 * console.log(m.tensorGrowth); // 0
 * ```
 */
export async function memoryCheck(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  opts: TrainRunOptions & { at: number[]; setting?: TrackerSetting },
): Promise<MemoryCheck> {
  const at = [...opts.at].sort((a, b) => a - b);
  if (at.length < 2 || at.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new RangeError(
      `memoryCheck: 'at' needs two or more positive step numbers, got ${opts.at}`,
    );
  }
  const points: MemoryPoint[] = [];
  const probe: TrainCallback<PreferenceBatch> = {
    name: "bench_memory",
    async onStepEnd(ctx) {
      if (!at.includes(ctx.step)) return;
      const m = tf.memory();
      const rss = await residentMemory();
      points.push({
        step: ctx.step,
        tensors: m.numTensors,
        tensorBytes: m.numBytes,
        ...(rss ? { rss: rss.current, peakRss: rss.peak } : {}),
      });
    },
  };
  const t0 = performance.now();
  const setting = opts.setting ?? { ...ALL_TRACKERS, every: 50 };
  await timedTrain(model, pairs, at.at(-1)!, "all", setting, opts, [probe]);
  return {
    points,
    tensorGrowth: points.at(-1)!.tensors - points[0]!.tensors,
    stepsRun: at.at(-1)!,
    seconds: (performance.now() - t0) / 1000,
  };
}
