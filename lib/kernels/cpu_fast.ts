/**
 * Fast kernels for the pure-JS `cpu` backend, for models too large for `wasm`'s 4 GiB heap.
 *
 * `registerCpuKernels()` puts on `cpu`: OpenBLAS matrix products (./cpu_blas.ts), one-pass
 * `Transpose` / `Slice` / `SplitV` and a scatter-add `UnsortedSegmentSum` (./cpu_layout.ts),
 * broadcasting float32 `Add` / `Sub` / `Multiply` / `RealDiv` and a row-wise `Softmax`
 * (./cpu_elementwise.ts), and
 * the fused Adam / AdamW update (./cpu_adam.ts) that lib/train/optimizers.ts uses when it is
 * registered. They are opt-in: the stock `cpu` kernels are the reference every other backend
 * (and the conformance test) is compared with, so `startBackend("cpu")` keeps them unless
 * `DPO_LAB_CPU_KERNELS=fast` is set; `unregisterCpuKernels()` puts the stock kernels back.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BlasInfo } from "./blas.ts";
import { registerCpuBlasMatMul, unregisterCpuBlasMatMul } from "./cpu_blas.ts";
import { CPU_LAYOUT_KERNELS } from "./cpu_layout.ts";
import { ADAM_KERNEL, cpuAdamKernel, setAdamInPlace } from "./cpu_adam.ts";
import { BINARY_OPS, binaryKernel, softmaxKernel } from "./cpu_elementwise.ts";

/** Every replaced kernel by name, built over the stock kernel it replaces. */
const REPLACED: Readonly<Record<string, (fallback: tf.KernelConfig) => tf.KernelFunc>> = {
  ...CPU_LAYOUT_KERNELS,
  Softmax: softmaxKernel,
  ...Object.fromEntries(
    Object.keys(BINARY_OPS).map((n) => [n, (f: tf.KernelConfig) => binaryKernel(n, f)]),
  ),
};

/** Environment variable: `in-place` turns on the fused Adam's in-place mode (./cpu_adam.ts). */
export const CPU_ADAM_ENV = "DPO_LAB_CPU_ADAM";

/** Environment variable: `fast` makes `startBackend("cpu")` register these kernels. */
export const CPU_KERNELS_ENV = "DPO_LAB_CPU_KERNELS";

/** Marks a kernel this module registered and keeps the stock one it replaced. */
const STOCK = Symbol.for("dpo-lab.cpu.fast");

type Marked = tf.KernelConfig & { [STOCK]?: tf.KernelConfig };

/** What {@link registerCpuKernels} put in place. */
export interface CpuKernelsInfo {
  /** The matrix products' library report (OpenBLAS, or why the stock JS loop stays). */
  blas: BlasInfo;
  /** Kernels replaced or added, by name. */
  kernels: string[];
}

/**
 * Registers the fast `cpu` kernels (idempotent). Without OpenBLAS the products stay on the
 * stock kernel and `blas.summary` says why; the other kernels need no library. With
 * `DPO_LAB_CPU_ADAM=in-place` set, the fused Adam updates unshared parameters in place (see
 * `setAdamInPlace` in ./cpu_adam.ts for what that can change).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { registerCpuKernels, unregisterCpuKernels } from "./cpu_fast.ts";
 * const info = registerCpuKernels();
 * console.log(info.kernels.includes("UnsortedSegmentSum")); // true
 * unregisterCpuKernels();
 * ```
 */
export function registerCpuKernels(opts: { blasPath?: string } = {}): CpuKernelsInfo {
  const blas = registerCpuBlasMatMul(opts.blasPath ? { path: opts.blasPath } : {});
  const kernels = blas.active ? ["BatchMatMul"] : [];
  for (const [name, make] of Object.entries(REPLACED)) {
    const current = tf.getKernel(name, "cpu") as Marked | undefined;
    if (current && !current[STOCK]) {
      tf.unregisterKernel(name, "cpu");
      tf.registerKernel(
        {
          kernelName: name,
          backendName: "cpu",
          kernelFunc: make(current),
          [STOCK]: current,
        } as tf.KernelConfig,
      );
    }
    if (current) kernels.push(name);
  }
  if (!tf.getKernel(ADAM_KERNEL, "cpu")) tf.registerKernel(cpuAdamKernel);
  if (Deno.env.get(CPU_ADAM_ENV) === "in-place") setAdamInPlace(true);
  kernels.push(ADAM_KERNEL);
  return { blas, kernels };
}

/**
 * Puts the stock `cpu` kernels back and removes the fused Adam kernel; returns the names it
 * restored or removed.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { unregisterCpuKernels } from "./cpu_fast.ts";
 * console.log(unregisterCpuKernels()); // []: nothing was registered
 * ```
 */
export function unregisterCpuKernels(): string[] {
  const done: string[] = [];
  if (unregisterCpuBlasMatMul()) done.push("BatchMatMul");
  for (const name of Object.keys(REPLACED)) {
    const stock = (tf.getKernel(name, "cpu") as Marked | undefined)?.[STOCK];
    if (!stock) continue;
    tf.unregisterKernel(name, "cpu");
    tf.registerKernel(stock);
    done.push(name);
  }
  if (tf.getKernel(ADAM_KERNEL, "cpu")) {
    tf.unregisterKernel(ADAM_KERNEL, "cpu");
    done.push(ADAM_KERNEL);
  }
  return done;
}
