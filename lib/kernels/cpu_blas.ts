/**
 * Matrix products of the pure-JS `cpu` backend on OpenBLAS, through Deno's FFI.
 *
 * The `cpu` backend keeps every tensor in an ordinary `Float32Array`, outside any wasm heap, so
 * it has no 4 GiB cap: it is the backend on which models too large for `wasm` (GPT-2 small and
 * up) can train. Its own `BatchMatMul` is a JS triple loop (about 1 GFLOPS). This kernel hands
 * the operands' backing stores to `cblas_sgemm` directly (`Deno.UnsafePointer.of` on the typed
 * arrays: no copy in or out), one call per batch entry, covering transposed operands and
 * broadcast batch dimensions the same way as the `wasm` kernel of ./blas.ts, whose library
 * loading, core-type choice and start-up check it reuses.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import {
  broadcastBatchIndex,
  loadOpenBlas,
  matMulPlan,
  restoreMatMul,
  type Sgemm,
  swapMatMul,
} from "./blas.ts";
import type { BlasInfo } from "./blas.ts";

/** The parts of tfjs-backend-cpu's `MathBackendCPU` (4.22) the cpu kernels read. */
export interface CpuBackendInternals {
  data: { get(dataId: unknown): { values: unknown } | undefined };
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.TypedArray): tf.TensorInfo;
}

/** The `Float32Array` behind a float32 tensor of the `cpu` backend, or undefined. */
export function cpuValues(backend: unknown, t: tf.TensorInfo): Float32Array | undefined {
  const v = (backend as CpuBackendInternals).data.get(t.dataId)?.values;
  return v instanceof Float32Array ? v : undefined;
}

/**
 * The byte address of a typed array's first element. Reading `.buffer` first moves a small
 * array V8 keeps inside its own heap (64 bytes or less) to a fixed backing store, so the
 * address stays valid while OpenBLAS writes through it.
 */
export function addressOf(view: Float32Array): number {
  void view.buffer;
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Float32Array<ArrayBuffer>)));
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/**
 * A `BatchMatMul` kernel config for `cpu` on `sgemm`; inputs that are not float32 arrays go to
 * `fallback` (the stock kernel).
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { loadOpenBlas } from "./blas.ts";
 * import { cpuBlasBatchMatMul } from "./cpu_blas.ts";
 * const { sgemm } = loadOpenBlas();
 * const k = sgemm ? cpuBlasBatchMatMul(sgemm, tf.getKernel("BatchMatMul", "cpu")!) : undefined;
 * console.log(k === undefined || k.backendName === "cpu"); // true
 * ```
 */
export function cpuBlasBatchMatMul(sgemm: Sgemm, fallback: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    const av = cpuValues(args.backend, a), bv = cpuValues(args.backend, b);
    if (a.dtype !== "float32" || b.dtype !== "float32" || !av || !bv) {
      return fallback.kernelFunc(args);
    }
    const { tA, tB, m, n, k, colsA, colsB, outerA, outerB, outer, batch, strides } = matMulPlan(
      a.shape,
      b.shape,
      args.attrs,
      "cpu, OpenBLAS",
    );
    const out = new Float32Array(batch * m * n);
    const backend = args.backend as unknown as CpuBackendInternals;
    if (out.length === 0 || k === 0) {
      return backend.makeTensorInfo([...outer, m, n], "float32", out);
    }
    const [pa, pb, pc] = [addressOf(av), addressOf(bv), addressOf(out)];
    const ia = broadcastBatchIndex(outer, outerA), ib = broadcastBatchIndex(outer, outerB);
    const [sa, sb, sc] = strides;
    for (let i = 0; i < batch; i++) {
      sgemm(tA, tB, m, n, k, pa + sa * ia[i]!, colsA, pb + sb * ib[i]!, colsB, pc + sc * i, n);
    }
    return backend.makeTensorInfo([...outer, m, n], "float32", out);
  };
  return {
    kernelName: "BatchMatMul",
    backendName: "cpu",
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}

/** Marks the kernel this module registered and keeps the stock one it replaced. */
const CPU_BLAS = Symbol.for("dpo-lab.cpu.openblas");

let loaded: { sgemm?: Sgemm; info: BlasInfo } | undefined;

/**
 * Puts `cpu`'s `BatchMatMul` on OpenBLAS when the library loads and passes its start-up check
 * (loaded once per process), else leaves the stock kernel; returns the library report.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { registerCpuBlasMatMul, unregisterCpuBlasMatMul } from "./cpu_blas.ts";
 * const info = registerCpuBlasMatMul();
 * console.log(typeof info.summary); // "string"
 * unregisterCpuBlasMatMul();
 * ```
 */
export function registerCpuBlasMatMul(opts: { path?: string } = {}): BlasInfo {
  loaded ??= loadOpenBlas(opts);
  const sgemm = loaded.sgemm;
  if (sgemm) swapMatMul("cpu", CPU_BLAS, (current) => cpuBlasBatchMatMul(sgemm, current));
  return loaded.info;
}

/**
 * Puts back the stock `cpu` `BatchMatMul`; false when {@link registerCpuBlasMatMul} had not
 * replaced it.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { unregisterCpuBlasMatMul } from "./cpu_blas.ts";
 * console.log(unregisterCpuBlasMatMul()); // false: nothing was replaced
 * ```
 */
export function unregisterCpuBlasMatMul(): boolean {
  return restoreMatMul("cpu", CPU_BLAS);
}
