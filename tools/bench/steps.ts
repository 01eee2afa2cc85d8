/**
 * The timed operations: a DPO training step, forward-only scoring, reference-logp
 * precomputation and CHES scoring, each built from the library's own pieces (the causal-LM
 * scorer of lib/scoring/logps.ts, the DPO objective of lib/objectives, the AdamW of
 * lib/train/optimizers.ts, `computeReferenceLogps`, `chesScores`).
 *
 * Every timed call ends by reading a result back (`await tensor.data()`), so queued GPU work
 * is inside the measured time on every backend.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import { chesScores } from "../../lib/analysis/mod.ts";
import type { PreferenceBatch, TokenizedPair } from "../../lib/data/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import { causalLMScorer } from "../../lib/scoring/mod.ts";
import { createOptimizer, type OptimizerSpec } from "../../lib/train/mod.ts";
import { computeReferenceLogpsAsync } from "../../lib/scoring/mod.ts";
import type { ParallelScorer } from "../../lib/scoring/mod.ts";
import type { PairScores, SequenceScores, TrainData } from "../../lib/core/mod.ts";
import { collate } from "../../lib/data/mod.ts";

/** Wall and process-CPU time of one timed call, in milliseconds. */
export interface Timing {
  ms: number;
  /** CPU time of the whole process (all threads): less disturbed by other jobs than wall time. */
  cpuMs: number;
}

/** Times an async call: wall time and process CPU time. */
export async function timed<T>(f: () => Promise<T>): Promise<Timing & { value: T }> {
  const t0 = performance.now(), c0 = process.cpuUsage();
  const value = await f();
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, value };
}

/** Settings of the DPO step; the PyTorch peer receives the same. */
export interface DpoStepSettings {
  /** DPO β (default 0.1). */
  beta: number;
  /** Learning rate (default 1e-4). */
  lr: number;
  /** Optimizer (default AdamW with PyTorch's defaults). */
  optimizer: OptimizerSpec;
  /**
   * Data-parallel scorers over a worker thread (lib/scoring/parallel.ts) for the policy's
   * gradients and the reference's forward pass; default: this thread only.
   */
  parallel?: {
    policy: ParallelScorer<PreferenceBatch, unknown>;
    reference?: ParallelScorer<PreferenceBatch, unknown>;
  };
}

/** Defaults of {@link DpoStepSettings}: TRL's β, a usual DPO learning rate, AdamW. */
export const DEFAULT_DPO_SETTINGS: Readonly<DpoStepSettings> = {
  beta: 0.1,
  lr: 1e-4,
  optimizer: { name: "adamw", beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
};

/**
 * The sequence scores DPO reads: the policy's summed log-probs and lengths, and the reference's.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { dpoInputs } from "./steps.ts";
 * const v = tf.tensor1d([-1]);
 * const s = dpoInputs({ policyChosen: v, policyRejected: v, chosenLength: v, rejectedLength: v }, [v, v]);
 * console.log(Object.keys(s).length); // 6
 * ```
 */
export function dpoInputs(
  policy: PairScores,
  ref: readonly [tf.Tensor1D, tf.Tensor1D],
): SequenceScores {
  return {
    policyChosen: policy.policyChosen,
    policyRejected: policy.policyRejected,
    chosenLength: policy.chosenLength,
    rejectedLength: policy.rejectedLength,
    refChosen: ref[0],
    refRejected: ref[1],
  };
}

/** A DPO training step on fixed batches, stepped on demand. */
export interface DpoStepper {
  /** One step on the next batch (cycling): reference forward, policy forward+backward, AdamW. */
  step(): Promise<Timing & { loss: number }>;
  /** The policy's summed completion log-probs of a batch (chosen then rejected), no gradient. */
  logps(batch: PreferenceBatch): Promise<number[]>;
  dispose(): void;
}

/**
 * A DPO step as TRL runs it with a reference model: the reference scores the batch without a
 * tape, the policy scores it under the tape, the loss is the mean DPO loss over pairs, and
 * AdamW updates every policy variable. Chosen and rejected rows go through one forward pass
 * (the batch holds both). With `reference: "precomputed"` the reference scores are the
 * policy's own before its first update, computed once outside the timed steps (TRL's
 * `precompute_ref_log_probs`, the trainer's default), and no second model is held.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../../lib/models/mod.ts";
 * import { dpoStepper } from "./steps.ts";
 * import { syntheticBatches } from "./workload.ts";
 * const config = { vocab_size: 32, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 };
 * const policy = createGPT2(config, { seed: 1 }), reference = createGPT2(config, { seed: 1 });
 * const s = dpoStepper(policy, reference, syntheticBatches(32, { pairs: 2, length: 6, promptLength: 2 }, 1));
 * console.log((await s.step()).loss); // 0.6931...: policy = reference at the first step
 * s.dispose();
 * policy.dispose();
 * reference.dispose();
 * ```
 */
export function dpoStepper(
  policy: CausalLM,
  reference: CausalLM | "precomputed",
  batches: readonly PreferenceBatch[],
  settings: Partial<DpoStepSettings> = {},
): DpoStepper {
  if (batches.length === 0) throw new RangeError("dpoStepper: no batches");
  const s = { ...DEFAULT_DPO_SETTINGS, ...settings };
  const pol = causalLMScorer(policy);
  // The reference's token statistics are never read (lab train scores its reference without
  // them too); the policy's are, by the trainer's TRL metrics.
  const ref = reference === "precomputed" ? undefined : causalLMScorer(reference, { stats: false });
  const objective = dpo({ beta: s.beta });
  const optimizer = createOptimizer(s.optimizer);
  const vars = policy.variables();
  // Precomputed: the policy's own scores before its first update (TRL's
  // precompute_ref_log_probs), kept as plain numbers like the trainer keeps them.
  let cached: Float32Array[] | undefined;
  let next = 0;
  const refScores = async (i: number) => {
    if (ref && s.parallel?.reference) {
      const x = await s.parallel.reference.scoresAsync(batches[i]!);
      tf.dispose([x.chosenLength, x.rejectedLength]);
      return [x.policyChosen, x.policyRejected] as const;
    }
    if (ref) {
      return tf.tidy(() => {
        const x = ref.scores(batches[i]!);
        return [x.policyChosen, x.policyRejected] as const;
      });
    }
    if (!cached) {
      cached = [];
      for (const b of batches) {
        const x = tf.tidy(() => {
          const sc = pol.scores(b);
          return tf.concat([sc.policyChosen, sc.policyRejected]);
        });
        cached.push((await x.data()) as Float32Array);
        x.dispose();
      }
    }
    const v = cached[i]!, half = v.length / 2;
    return [tf.tensor1d(v.subarray(0, half)), tf.tensor1d(v.subarray(half))] as const;
  };
  return {
    async step() {
      const i = next++ % batches.length;
      if (!ref && !cached) await refScores(i); // the one-time precomputation is not timed
      const batch = batches[i]!;
      const t = await timed(async () => {
        const r = await refScores(i);
        const lossOf = (x: PairScores) =>
          tf.mean(objective.loss(dpoInputs(x, r)).losses) as tf.Scalar;
        const { value, grads } = s.parallel
          ? await s.parallel.policy.valueAndGrads(batch, lossOf)
          : tf.variableGrads(() => lossOf(pol.scores(batch)), vars);
        tf.dispose([...r]);
        optimizer.apply(vars, vars.map((v) => grads[v.name]!), s.lr);
        tf.dispose(Object.values(grads));
        const loss = (await value.data())[0]!;
        value.dispose();
        return loss;
      });
      return { ms: t.ms, cpuMs: t.cpuMs, loss: t.value };
    },
    async logps(batch) {
      const x = tf.tidy(() => {
        const sc = pol.scores(batch);
        return tf.concat([sc.policyChosen, sc.policyRejected]);
      });
      const v = Array.from(await x.data());
      x.dispose();
      return v;
    },
    dispose() {
      optimizer.dispose();
    },
  };
}

/**
 * One forward-only scoring pass: summed completion log-probs of every row of `batch`
 * (the reference pass of a DPO step, or evaluation), read back.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../../lib/models/mod.ts";
 * import { scoreBatch } from "./steps.ts";
 * import { syntheticBatches } from "./workload.ts";
 * const m = createGPT2({ vocab_size: 32, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const [b] = syntheticBatches(32, { pairs: 2, length: 6, promptLength: 2 }, 1);
 * console.log((await scoreBatch(m, b)).value.length); // 4
 * m.dispose();
 * ```
 */
export function scoreBatch(
  model: CausalLM,
  batch: PreferenceBatch,
): Promise<Timing & { value: Float32Array }> {
  // No token statistics: forward scoring and precomputation return log-probs only (as the peer).
  const scorer = causalLMScorer(model, { stats: false });
  return timed(async () => {
    const x = tf.tidy(() => {
      const sc = scorer.scores(batch);
      return tf.concat([sc.policyChosen, sc.policyRejected]);
    });
    const v = (await x.data()) as Float32Array;
    x.dispose();
    return v;
  });
}

/**
 * A `TrainData` over fixed pairs, for the library's reference precomputation.
 *
 * @example
 * ```ts
 * import { pairData } from "./steps.ts";
 * const d = pairData([{ index: 0, promptIds: [1], chosenIds: [2], rejectedIds: [3] }]);
 * console.log(d.size, d.batch([0]).size); // 1 1
 * ```
 */
export function pairData(pairs: readonly TokenizedPair[]): TrainData<PreferenceBatch> {
  return {
    size: pairs.length,
    batch: (positions) => collate(positions.map((p) => pairs[p]!), 0),
    fingerprint: () =>
      new Uint8Array(
        Int32Array.from(
          pairs.flatMap((p) => [...p.promptIds, -1, ...p.chosenIds, -2, ...p.rejectedIds]),
        )
          .buffer,
      ),
  };
}

/**
 * Reference log-probs of every pair through `computeReferenceLogpsAsync` (what `train()` runs before
 * the first step in its default `precompute` mode), timed.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../../lib/models/mod.ts";
 * import { precomputeReference } from "./steps.ts";
 * import { syntheticPairs } from "./workload.ts";
 * const m = createGPT2({ vocab_size: 32, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const pairs = syntheticPairs(32, { pairs: 1, length: 6, promptLength: 2 }, 3, 0);
 * console.log((await precomputeReference(m, pairs, 2)).value.chosen.length); // 3
 * m.dispose();
 * ```
 */
export function precomputeReference(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  batchSize: number,
): Promise<Timing & { value: { chosen: Float32Array; rejected: Float32Array } }> {
  // No token statistics: forward scoring and precomputation return log-probs only (as the peer).
  const scorer = causalLMScorer(model, { stats: false });
  const data = pairData(pairs);
  // The asynchronous variant: synchronous reads fail on webgpu under Deno.
  return timed(() => computeReferenceLogpsAsync(scorer, data, { batchSize }));
}

/**
 * CHES of every pair through the library's `chesScores` (batched forward passes with hidden
 * states), timed. It measures the library's default: on wasm with two or more cores, a worker
 * thread takes part of the batches (lib/analysis/ches_parallel.ts), and the CPU time counts
 * both threads.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../../lib/models/mod.ts";
 * import { chesPass } from "./steps.ts";
 * import { syntheticPairs } from "./workload.ts";
 * const m = createGPT2({ vocab_size: 32, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 });
 * const pairs = syntheticPairs(32, { pairs: 1, length: 6, promptLength: 2 }, 3, 0);
 * console.log((await chesPass(m, pairs, 2)).value.length); // 3
 * m.dispose();
 * ```
 */
export function chesPass(
  model: CausalLM,
  pairs: readonly TokenizedPair[],
  batchSize: number,
): Promise<Timing & { value: number[] }> {
  return timed(async () => (await chesScores(model, pairs, { batchSize })).map((s) => s.ches));
}
