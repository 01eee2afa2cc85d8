/**
 * Preference metrics under Hugging Face TRL's names, with exact definitions.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { SequenceScores } from "../core/scores.ts";

/** The metric names, as TRL logs them. */
export const METRIC_NAMES = [
  "rewards/chosen",
  "rewards/rejected",
  "rewards/margins",
  "rewards/accuracies",
  "logps/chosen",
  "logps/rejected",
] as const;

/** One of {@link METRIC_NAMES}, or "loss" when losses are given. */
export type MetricName = typeof METRIC_NAMES[number] | "loss";

/** Per-pair values and their batch means. */
export interface PreferenceMetrics {
  perPair: Partial<Record<MetricName, number[]>>;
  mean: Partial<Record<MetricName, number>>;
}

/** Options of {@link preferenceMetrics}. */
export interface MetricOptions {
  /** β of the implicit reward (TRL logs β·u even for non-sigmoid losses). */
  beta: number;
  /**
   * Use mean token log-probs `ℓ/|y|` for rewards and logps, as TRL's CPO/ORPO/SimPO trainers
   * do (their `logps` are averages). Default false: summed log-probs.
   */
  lengthNormalize?: boolean;
  /** Per-pair losses to report under "loss". */
  losses?: tf.Tensor1D | ArrayLike<number>;
}

/** The host-side inputs of the metrics, however they were read. */
interface MetricInputs {
  pc: ArrayLike<number>;
  pr: ArrayLike<number>;
  rc?: ArrayLike<number>;
  rr?: ArrayLike<number>;
  lc: ArrayLike<number>;
  lr: ArrayLike<number>;
  losses?: ArrayLike<number>;
}

function checkBeta(opts: MetricOptions): void {
  if (!(typeof opts?.beta === "number" && opts.beta > 0 && Number.isFinite(opts.beta))) {
    throw new RangeError(
      `preferenceMetrics: option 'beta' must be a positive number, got ${opts?.beta}`,
    );
  }
}

function isTensor(x: tf.Tensor1D | ArrayLike<number>): x is tf.Tensor1D {
  return "dataSync" in x;
}

/**
 * TRL's preference metrics, per pair and as batch means (plain numbers, float64 on the host):
 * - `rewards/chosen = β(ℓθ(y_w) − ℓref(y_w))`, `rewards/rejected = β(ℓθ(y_l) − ℓref(y_l))`;
 *   without reference log-probs the reference term is 0 (TRL's reference-free trainers);
 * - `rewards/margins = rewards/chosen − rewards/rejected`;
 * - `rewards/accuracies = 1` if `rewards/chosen > rewards/rejected` (strict), else 0;
 * - `logps/chosen = ℓθ(y_w)`, `logps/rejected = ℓθ(y_l)`: **summed** completion log-probs;
 * - with `lengthNormalize`, every ℓ above is divided by its completion length first.
 *
 * Reads the scores synchronously (cpu and wasm backends only); on webgpu use
 * {@link preferenceMetricsAsync}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { preferenceMetrics } from "./metrics.ts";
 * const m = preferenceMetrics({
 *   policyChosen: tf.tensor1d([-10]), policyRejected: tf.tensor1d([-12]),
 *   refChosen: tf.tensor1d([-11]), refRejected: tf.tensor1d([-11]),
 *   chosenLength: tf.tensor1d([5]), rejectedLength: tf.tensor1d([6]),
 * }, { beta: 0.1 });
 * console.log(m.mean["rewards/margins"]); // 0.2
 * ```
 */
export function preferenceMetrics(scores: SequenceScores, opts: MetricOptions): PreferenceMetrics {
  checkBeta(opts);
  const read = (t: tf.Tensor1D | undefined) => t?.dataSync() as Float32Array | undefined;
  const l = opts.losses;
  return compute({
    pc: read(scores.policyChosen)!,
    pr: read(scores.policyRejected)!,
    rc: read(scores.refChosen),
    rr: read(scores.refRejected),
    lc: read(scores.chosenLength)!,
    lr: read(scores.rejectedLength)!,
    losses: l === undefined ? undefined : isTensor(l) ? l.dataSync() : l,
  }, opts);
}

/**
 * {@link preferenceMetrics} on any backend (webgpu included): the scores are read back
 * asynchronously; the synchronous version works on cpu and wasm only.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { preferenceMetricsAsync } from "./metrics.ts";
 * const m = await preferenceMetricsAsync({
 *   policyChosen: tf.tensor1d([-10]), policyRejected: tf.tensor1d([-12]),
 *   chosenLength: tf.tensor1d([5]), rejectedLength: tf.tensor1d([6]),
 * }, { beta: 0.1 });
 * console.log(m.mean["rewards/accuracies"]); // 1
 * ```
 */
export async function preferenceMetricsAsync(
  scores: SequenceScores,
  opts: MetricOptions,
): Promise<PreferenceMetrics> {
  checkBeta(opts);
  const read = async (t: tf.Tensor1D | undefined) => t ? await t.data() : undefined;
  const l = opts.losses;
  const [pc, pr, rc, rr, lc, lr, losses] = await Promise.all([
    read(scores.policyChosen),
    read(scores.policyRejected),
    read(scores.refChosen),
    read(scores.refRejected),
    read(scores.chosenLength),
    read(scores.rejectedLength),
    l === undefined ? undefined : isTensor(l) ? read(l) : l,
  ]);
  return compute({ pc: pc!, pr: pr!, rc, rr, lc: lc!, lr: lr!, losses }, opts);
}

function compute(x: MetricInputs, opts: MetricOptions): PreferenceMetrics {
  const { pc, pr, rc, rr, lc, lr } = x;
  const b = pc.length;
  const norm = (v: number, n: number) => opts.lengthNormalize ? v / Math.max(n, 1) : v;
  const per: Record<string, number[]> = Object.fromEntries(METRIC_NAMES.map((n) => [n, []]));
  for (let i = 0; i < b; i++) {
    const lw = norm(pc[i], lc[i]);
    const ll = norm(pr[i], lr[i]);
    const cw = opts.beta * (lw - (rc ? norm(rc[i], lc[i]) : 0));
    const cl = opts.beta * (ll - (rr ? norm(rr[i], lr[i]) : 0));
    per["rewards/chosen"].push(cw);
    per["rewards/rejected"].push(cl);
    per["rewards/margins"].push(cw - cl);
    per["rewards/accuracies"].push(cw > cl ? 1 : 0);
    per["logps/chosen"].push(lw);
    per["logps/rejected"].push(ll);
  }
  if (x.losses !== undefined) per.loss = Array.from(x.losses);
  const mean: Record<string, number> = {};
  for (const [k, v] of Object.entries(per)) mean[k] = v.reduce((a, y) => a + y, 0) / v.length;
  return { perPair: per, mean };
}
