/**
 * Where a DPO step's time goes: per-kernel times from `tf.profile`, and wall time of the step's
 * phases (reference forward, policy forward+backward, optimizer update) each closed by a read
 * back so queued GPU work is counted in its own phase.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { dpo } from "../../lib/objectives/mod.ts";
import { causalLMScorer } from "../../lib/scoring/mod.ts";
import { createOptimizer } from "../../lib/train/mod.ts";
import { DEFAULT_DPO_SETTINGS, dpoInputs, type DpoStepSettings } from "./steps.ts";

/** Time spent in one kernel name over a profiled call. */
export interface KernelTime {
  name: string;
  /** Summed kernel time (ms) as the backend reports it. */
  ms: number;
  calls: number;
}

/** Result of {@link profileKernels}. */
export interface KernelProfile {
  /** By kernel name, largest total first. */
  kernels: KernelTime[];
  /** Sum of all kernel times (ms). */
  kernelMs: number;
  /** Wall time of the profiled call (ms); larger than `kernelMs` by dispatch overhead. */
  wallMs: number;
  /** Peak bytes of live tensors during the call, and tensors it left behind. */
  peakBytes: number;
  newTensors: number;
  /** Kernels whose time the backend could not give (e.g. WebGPU without timestamp queries). */
  untimed: number;
}

/**
 * Sums kernel records by name, largest first.
 *
 * @example
 * ```ts
 * import { aggregateKernels } from "./profile.ts";
 * const k = aggregateKernels([{ name: "MatMul", kernelTimeMs: 2 }, { name: "Add", kernelTimeMs: 1 },
 *   { name: "MatMul", kernelTimeMs: 3 }]);
 * console.log(k.kernels[0]); // { name: "MatMul", ms: 5, calls: 2 }
 * ```
 */
export function aggregateKernels(
  records: readonly { name: string; kernelTimeMs: number | { error: string } }[],
): { kernels: KernelTime[]; kernelMs: number; untimed: number } {
  const by = new Map<string, KernelTime>();
  let untimed = 0, kernelMs = 0;
  for (const r of records) {
    const ms = typeof r.kernelTimeMs === "number" ? r.kernelTimeMs : NaN;
    if (!Number.isFinite(ms)) untimed++;
    const k = by.get(r.name) ?? { name: r.name, ms: 0, calls: 0 };
    k.calls++;
    if (Number.isFinite(ms)) {
      k.ms += ms;
      kernelMs += ms;
    }
    by.set(r.name, k);
  }
  return { kernels: [...by.values()].sort((a, b) => b.ms - a.ms), kernelMs, untimed };
}

/**
 * Profiles one call with `tf.profile` and sums kernel times by kernel name.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { profileKernels } from "./profile.ts";
 * const a = tf.ones([64, 64]);
 * const p = await profileKernels(async () => { const c = tf.matMul(a, a); await c.data(); c.dispose(); });
 * console.log(p.kernels[0].name); // "BatchMatMul"
 * ```
 */
export async function profileKernels(f: () => Promise<void>): Promise<KernelProfile> {
  const t0 = performance.now();
  const info = await tf.profile(async () => {
    await f();
    return [];
  });
  const wallMs = performance.now() - t0;
  const records = info.kernels.map((k) => ({
    name: k.name,
    kernelTimeMs: k.kernelTimeMs as number | { error: string },
  }));
  return {
    ...aggregateKernels(records),
    wallMs,
    peakBytes: info.peakBytes,
    newTensors: info.newTensors,
  };
}

/** Wall milliseconds of the phases of one DPO step. */
export interface StepPhases {
  referenceForward: number;
  policyForwardBackward: number;
  optimizer: number;
  total: number;
}

/**
 * Runs `steps` DPO steps on `batch` and times their phases separately (each phase ends with a
 * small read back); returns each step's phases (the first step includes one-time compilation).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "../../lib/models/mod.ts";
 * import { stepPhases } from "./profile.ts";
 * import { syntheticBatches } from "./workload.ts";
 * const c = { vocab_size: 32, n_positions: 8, n_embd: 8, n_layer: 1, n_head: 2 };
 * const p = createGPT2(c), r = createGPT2(c);
 * const [b] = syntheticBatches(32, { pairs: 1, length: 6, promptLength: 2 }, 1);
 * const ph = await stepPhases(p, r, b, { steps: 2 });
 * console.log(ph.length, ph[1].total > 0); // 2 true
 * p.dispose();
 * r.dispose();
 * ```
 */
export async function stepPhases(
  policy: CausalLM,
  reference: CausalLM,
  batch: PreferenceBatch,
  opts: { steps?: number; settings?: Partial<DpoStepSettings> } = {},
): Promise<StepPhases[]> {
  const s = { ...DEFAULT_DPO_SETTINGS, ...opts.settings };
  const pol = causalLMScorer(policy), ref = causalLMScorer(reference, { stats: false });
  const objective = dpo({ beta: s.beta });
  const optimizer = createOptimizer(s.optimizer);
  const vars = policy.variables();
  const out: StepPhases[] = [];
  try {
    for (let i = 0; i < (opts.steps ?? 3); i++) {
      const t0 = performance.now();
      const r = tf.tidy(() => {
        const x = ref.scores(batch);
        return [x.policyChosen, x.policyRejected] as const;
      });
      await r[0].data();
      const t1 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        const x = pol.scores(batch);
        return tf.mean(
          objective.loss(dpoInputs(x, r)).losses,
        ) as tf.Scalar;
      }, vars);
      // Reading one gradient element waits for the whole backward pass to be computed.
      await grads[vars[0]!.name]!.data();
      const t2 = performance.now();
      optimizer.apply(vars, vars.map((v) => grads[v.name]!), s.lr);
      await vars[0]!.data();
      const t3 = performance.now();
      await value.data();
      tf.dispose([value, ...r, ...Object.values(grads)]);
      out.push({
        referenceForward: t1 - t0,
        policyForwardBackward: t2 - t1,
        optimizer: t3 - t2,
        total: performance.now() - t0,
      });
    }
  } finally {
    optimizer.dispose();
  }
  return out;
}
