/**
 * The SFT-then-compare harness of the multi-token toy studies (05, 06): per seed, random pairs
 * whose y_l copies y_w except at a few positions, an unconstrained-features model trained by SFT
 * on y_w, and runs of any objective that each start from a copy of that SFT model (also the
 * reference), so per-seed differences between objectives are paired.
 *
 * @module
 */
import type { TrainData } from "../core/scores.ts";
import { Rng } from "../core/rng.ts";
import { createUnconstrainedFeatures } from "../models/toy.ts";
import {
  createToySequenceScorer,
  type ToySequenceBatch,
  toySequenceData,
} from "../models/toy_sequence.ts";
import type { Objective } from "../objectives/mod.ts";
import { sft } from "../objectives/trl/sft.ts";
import { train } from "../train/trainer.ts";

/** The toy's size and the SGD schedule; every run of a study shares one. */
export interface SftToyConfig {
  /** Vocabulary size (tokens `t0`..`t{vocab-1}`). */
  vocab: number;
  /** Feature dimension. */
  dim: number;
  /** Number of prompts, one pair each; also the (full) batch size. */
  prompts: number;
  /** Tokens per completion. */
  length: number;
  /** Positions where y_l differs from y_w. */
  differ: number;
  /** SGD steps of SFT on y_w (learning rate 1). */
  sftSteps: number;
  /** SGD steps of each compared run. */
  steps: number;
  /** Learning rate of each compared run. */
  lr: number;
}

/**
 * The toy of studies 05 and 06 (16 tokens, 8 dimensions, 8 prompts of 6 tokens, y_l differing
 * at 2 positions, 40 SFT steps, then 100 steps at lr 0.2), with any field replaced.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sftToyConfig } from "./sft_compare.ts";
 * const cfg = sftToyConfig({ steps: 20 });
 * assert.deepEqual([cfg.vocab, cfg.differ, cfg.sftSteps, cfg.steps, cfg.lr], [16, 2, 40, 20, 0.2]);
 * ```
 */
export function sftToyConfig(overrides: Partial<SftToyConfig> = {}): SftToyConfig {
  return {
    vocab: 16,
    dim: 8,
    prompts: 8,
    length: 6,
    differ: 2,
    sftSteps: 40,
    steps: 100,
    lr: 0.2,
    ...overrides,
  };
}

/** A seed's SFT model (weights) and its pairs. */
export interface SftStart {
  hidden: number[][];
  unembedding: number[][];
  data: TrainData<ToySequenceBatch>;
}

function toyTokens(cfg: SftToyConfig): string[] {
  return Array.from({ length: cfg.vocab }, (_, i) => `t${i}`);
}

function modelOf(cfg: SftToyConfig, init: { seed?: number; start?: SftStart }) {
  const model = createUnconstrainedFeatures({
    tokens: toyTokens(cfg),
    prompts: cfg.prompts,
    dim: cfg.dim,
    ...(init.start
      ? { hidden: init.start.hidden, unembedding: init.start.unembedding }
      : { seed: init.seed }),
  });
  const scorer = createToySequenceScorer(model, {
    maxLength: cfg.length,
    context: (x: number) => x,
  });
  return { model, scorer };
}

/**
 * The pairs of a seed: per prompt a uniform y_w and a y_l equal to it except at `differ` random
 * positions, each changed to another token. Drawn from `Rng(1000 + seed)`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sftToyPairs } from "./sft_compare.ts";
 * const cfg = { vocab: 16, dim: 8, prompts: 4, length: 6, differ: 2, sftSteps: 1, steps: 1, lr: 0.2 };
 * const b = sftToyPairs(1, cfg).batch([0]);
 * const changed = [...b.chosen[0]].filter((t, i) => t !== b.rejected[0][i]).length;
 * assert.equal(changed, 2);
 * ```
 */
export function sftToyPairs(seed: number, cfg: SftToyConfig): TrainData<ToySequenceBatch> {
  const rng = new Rng(1000 + seed);
  const randInt = (n: number) => Math.floor(rng.uniform() * n);
  const pairs = { prompt: [] as number[], chosen: [] as number[][], rejected: [] as number[][] };
  for (let x = 0; x < cfg.prompts; x++) {
    const yw = Array.from({ length: cfg.length }, () => randInt(cfg.vocab));
    const yl = [...yw];
    const order = Array.from({ length: cfg.length }, (_, i) => i).sort(() => rng.uniform() - 0.5);
    for (const t of order.slice(0, cfg.differ)) {
      yl[t] = (yw[t] + 1 + randInt(cfg.vocab - 1)) % cfg.vocab;
    }
    pairs.prompt.push(x), pairs.chosen.push(yw), pairs.rejected.push(yl);
  }
  return toySequenceData(pairs);
}

/**
 * The SFT model of a seed: a model initialised from `seed`, after `sftSteps` of full-batch SGD
 * (learning rate 1) on the y_w of {@link sftToyPairs}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { sftStart } from "./sft_compare.ts";
 * const cfg = { vocab: 8, dim: 4, prompts: 2, length: 3, differ: 1, sftSteps: 2, steps: 1, lr: 0.2 };
 * const start = await sftStart(1, cfg);
 * assert.equal(start.unembedding.length, 8);
 * assert.equal(start.data.size, 2);
 * ```
 */
export async function sftStart(seed: number, cfg: SftToyConfig): Promise<SftStart> {
  const data = sftToyPairs(seed, cfg);
  const { model, scorer } = modelOf(cfg, { seed });
  try {
    await train({
      policy: scorer,
      data,
      objective: sft(),
      optimizer: { name: "sgd" },
      lr: 1,
      batchSize: cfg.prompts,
      maxSteps: cfg.sftSteps,
      progress: false,
      examplesEvery: false,
    });
    return {
      hidden: model.hidden.arraySync() as number[][],
      unembedding: model.unembedding.arraySync() as number[][],
      data,
    };
  } finally {
    scorer.dispose();
    model.dispose();
  }
}

/**
 * Train `objective` from a copy of the SFT model (which is also the reference) for `steps` of
 * full-batch SGD at `lr` (default `cfg.lr`); the trainer's records, one per step, each measured
 * before that step's update.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dpo } from "../objectives/mod.ts";
 * import { runFromSft, sftStart } from "./sft_compare.ts";
 * const cfg = { vocab: 8, dim: 4, prompts: 2, length: 3, differ: 1, sftSteps: 2, steps: 1, lr: 0.2 };
 * const records = await runFromSft(await sftStart(1, cfg), dpo({ beta: 0.1 }), cfg);
 * // Step 1 is measured at the reference: margin 0, so the DPO loss is ln 2.
 * assert.ok(Math.abs(records[0].loss - Math.LN2) < 1e-5);
 * ```
 */
export async function runFromSft(
  start: SftStart,
  objective: Objective,
  cfg: SftToyConfig,
  lr = cfg.lr,
): Promise<Record<string, number>[]> {
  const { model, scorer } = modelOf(cfg, { start });
  try {
    const result = await train({
      policy: scorer,
      data: start.data,
      objective,
      optimizer: { name: "sgd" },
      lr,
      batchSize: cfg.prompts,
      maxSteps: cfg.steps,
      progress: false,
      examplesEvery: false,
    });
    return result.records as unknown as Record<string, number>[];
  } finally {
    scorer.dispose();
    model.dispose();
  }
}
