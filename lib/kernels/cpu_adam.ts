/**
 * A fused Adam / AdamW update for the pure-JS `cpu` backend: one pass over each parameter.
 *
 * Written as tfjs ops, one Adam update is about a dozen kernels per parameter (multiply by a
 * scalar, add, square, sqrt, divide, subtract), each a pass over the whole parameter that
 * allocates its result, and the `cpu` backend's element-wise kernels with a scalar operand go
 * through its broadcasting path, which computes coordinates per element. On GPT-2 small (124M
 * parameters) that was 40 of a 51-55 s DPO step. This kernel (`DpoLabAdamUpdate`) reads the
 * parameter, gradient and both moments once and writes the three new tensors in the same loop,
 * in float64 arithmetic rounded to float32 on store.
 *
 * The update, with t the step count, bc1 = 1 - beta1^t, bc2 = 1 - beta2^t:
 *   g' = g + l2 * p                      (Adam's coupled weight decay; l2 = 0 for AdamW)
 *   m' = beta1 m + (1 - beta1) g'
 *   v' = beta2 v + (1 - beta2) g'^2
 *   p' = decay * p - lr / bc1 * m' / (sqrt(v') / sqrt(bc2) + eps)
 * where decay = 1 - lr * weightDecay for AdamW (decoupled, Loshchilov & Hutter) and 1 for Adam,
 * exactly the op sequence of lib/train/optimizers.ts.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { cpuValues } from "./cpu_blas.ts";
import type { CpuBackendInternals } from "./cpu_blas.ts";

/** The kernel's name in tfjs's registry. */
export const ADAM_KERNEL = "DpoLabAdamUpdate";

/** Scalars of one update (see the module for the formula). */
export interface AdamUpdateAttrs {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Multiplies p before the step: 1 - lr * weightDecay for AdamW, 1 for Adam. */
  decay: number;
  /** Coupled L2 weight decay added to the gradient (Adam); 0 for AdamW. */
  l2: number;
  /** Bias corrections 1 - beta1^t and 1 - beta2^t. */
  bc1: number;
  bc2: number;
}

/**
 * One Adam / AdamW update over plain arrays: returns the new parameter and moments.
 *
 * @example One AdamW step by hand: p = 1, g = 2, first step (m' = 0.2, v' = 0.004)
 * ```ts
 * import { adamUpdateArrays } from "./cpu_adam.ts";
 * const one = (x: number) => Float32Array.from([x]);
 * const [p] = adamUpdateArrays(one(1), one(2), one(0), one(0), { lr: 0.1, beta1: 0.9,
 *   beta2: 0.999, eps: 0, decay: 1 - 0.1 * 0.01, l2: 0, bc1: 0.1, bc2: 0.001 });
 * console.log(p[0].toFixed(4)); // "0.8990": 0.999 - 0.1 * (0.2 / 0.1) / (sqrt(0.004 / 0.001))
 * ```
 */
export function adamUpdateArrays(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  a: AdamUpdateAttrs,
): [Float32Array, Float32Array, Float32Array] {
  // Copies updated in place: one loop serves both forms, so they cannot drift apart.
  const np = p.slice(), nm = m.slice(), nv = v.slice();
  adamUpdateInPlace(np, g, nm, nv, a);
  return [np, nm, nv];
}

/**
 * {@link adamUpdateArrays} writing the new values over `p`, `m` and `v`.
 *
 * @example
 * ```ts
 * import { adamUpdateInPlace } from "./cpu_adam.ts";
 * const p = Float32Array.from([1]), m = Float32Array.from([0]), v = Float32Array.from([0]);
 * adamUpdateInPlace(p, Float32Array.from([2]), m, v, { lr: 0.1, beta1: 0.9, beta2: 0.999,
 *   eps: 0, decay: 1, l2: 0, bc1: 0.1, bc2: 0.001 });
 * console.log(p[0].toFixed(2), m[0].toFixed(2)); // "0.90" "0.20"
 * ```
 */
export function adamUpdateInPlace(
  p: Float32Array,
  g: Float32Array,
  m: Float32Array,
  v: Float32Array,
  a: AdamUpdateAttrs,
): void {
  const n = p.length;
  if (g.length !== n || m.length !== n || v.length !== n) {
    throw new RangeError(
      `${ADAM_KERNEL}: lengths differ (param ${n}, grad ${g.length}, m ${m.length}, v ${v.length})`,
    );
  }
  const { beta1, beta2, eps, decay, l2 } = a;
  const c1 = 1 - beta1, c2 = 1 - beta2, step = a.lr / a.bc1, sbc2 = Math.sqrt(a.bc2);
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    const gi = g[i]! + l2 * pi;
    const mi = beta1 * m[i]! + c1 * gi;
    const vi = beta2 * v[i]! + c2 * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = decay * pi - step * mi / (Math.sqrt(vi) / sbc2 + eps);
  }
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

function adamKernel(args: KernelArgs): tf.TensorInfo[] {
  const { param, grad, m, v } = args.inputs as Record<string, tf.TensorInfo>;
  const vals = [param!, grad!, m!, v!].map((t) => cpuValues(args.backend, t));
  if (vals.some((x) => x === undefined)) {
    throw new TypeError(`${ADAM_KERNEL} (cpu): every input must be a float32 tensor`);
  }
  const [p, g, mm, vv] = vals as Float32Array[];
  const out = adamUpdateArrays(p!, g!, mm!, vv!, args.attrs as unknown as AdamUpdateAttrs);
  const backend = args.backend as unknown as CpuBackendInternals;
  return out.map((x) => backend.makeTensorInfo([...param!.shape], "float32", x));
}

/** The `cpu` kernel config of {@link ADAM_KERNEL}. */
export const cpuAdamKernel: tf.KernelConfig = {
  kernelName: ADAM_KERNEL,
  backendName: "cpu",
  kernelFunc: adamKernel as unknown as tf.KernelFunc,
};

let inPlace = false;

/**
 * Turns the in-place mode of {@link fusedAdamUpdate} on or off (default off, or on when
 * `DPO_LAB_CPU_ADAM=in-place` is set when `registerCpuKernels()` runs); returns the old mode.
 *
 * @example
 * ```ts
 * import { setAdamInPlace } from "./cpu_adam.ts";
 * const old = setAdamInPlace(true);
 * setAdamInPlace(old);
 * console.log(old); // false
 * ```
 */
export function setAdamInPlace(on: boolean): boolean {
  const old = inPlace;
  inPlace = on;
  return old;
}

/** The `cpu` backend's array of `t` when `t` is the only tensor on it, else undefined. */
function soleArray(backend: unknown, t: tf.Tensor): Float32Array | undefined {
  const b = backend as CpuBackendInternals & { refCount?(dataId: unknown): number };
  if (typeof b.refCount !== "function" || b.refCount(t.dataId) !== 1) return undefined;
  return cpuValues(backend, t);
}

/**
 * The fused update when the active backend has {@link ADAM_KERNEL} registered (the `cpu`
 * backend after `registerCpuKernels()`), else undefined: the caller then runs its op sequence.
 *
 * Returns new tensors [param, m, v] (inputs are not disposed), or, in the opt-in in-place
 * mode ({@link setAdamInPlace}) on `cpu` when the parameter and both moments are each held by
 * one tensor only, writes the update over their arrays and returns `"in-place"`: no new
 * memory. A fresh allocation can cost more than the update itself on a virtual machine, where
 * each new page faults (GPT-2 small's three new 0.5 GB sets per step). It is opt-in because
 * tfjs-backend-cpu hands out its arrays without copying: `tf.tensor(array)` keeps the caller's
 * array, `dataSync()` / `data()` return the tensor's own, and a contiguous `tf.slice` is a view;
 * any of those held across an update would see the new values.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { fusedAdamUpdate } from "./cpu_adam.ts";
 * await tf.setBackend("cpu");
 * const x = tf.scalar(1);
 * const r = fusedAdamUpdate(x, x, x, x, { lr: 0, beta1: 0, beta2: 0, eps: 1, decay: 1, l2: 0, bc1: 1, bc2: 1 });
 * console.log(r === undefined || r === "in-place" || r.length === 3); // true
 * ```
 */
export function fusedAdamUpdate(
  param: tf.Tensor,
  grad: tf.Tensor,
  m: tf.Tensor,
  v: tf.Tensor,
  attrs: AdamUpdateAttrs,
): [tf.Tensor, tf.Tensor, tf.Tensor] | "in-place" | undefined {
  if (!tf.getKernel(ADAM_KERNEL, tf.getBackend())) return undefined;
  if ([param, grad, m, v].some((t) => t.dtype !== "float32")) return undefined;
  if (inPlace && tf.getBackend() === "cpu") {
    const backend = tf.backend();
    const [p, mm, vv] = [param, m, v].map((t) => soleArray(backend, t));
    const g = cpuValues(backend, grad);
    if (p && mm && vv && g) {
      adamUpdateInPlace(p, g, mm, vv, attrs);
      return "in-place";
    }
  }
  const out = tf.engine().runKernel(
    ADAM_KERNEL,
    { param, grad, m, v } as unknown as tf.NamedTensorMap,
    attrs as unknown as tf.NamedAttrMap,
  ) as tf.Tensor[];
  return [out[0]!, out[1]!, out[2]!];
}
