/**
 * Matrix products of the `wasm` backend on OpenBLAS, through Deno's FFI.
 *
 * XNNPACK compiled to WebAssembly has 128-bit SIMD and no fused multiply-add; at a DPO step's
 * shapes it ran at 11-34 GFLOPS on one thread of a 2-core AVX-512 machine, where OpenBLAS's
 * native kernels ran at 110-150 through FFI. This module loads OpenBLAS with `Deno.dlopen` and
 * registers a `BatchMatMul` kernel for `wasm` that calls `cblas_sgemm` on the operands where
 * they lie, in the wasm heap: the heap's address plus each tensor's offset, no copy in or out.
 * Batched, transposed (either side) and broadcast-batch products are one `sgemm` call per batch
 * entry. The models reach matrix products only through `tf.matMul` (`BatchMatMul`; its gradient
 * is `BatchMatMul` too); `_FusedMatMul` (bias and activation fused in) keeps `wasm`'s own
 * kernel, as nothing here dispatches it.
 *
 * **Core type.** Debian's OpenBLAS 0.3.21 is a DYNAMIC_ARCH build that picks its kernels at
 * load time from the processor it recognises; on processors newer than it knows it falls back to
 * generic "Prescott" kernels (9-16 GFLOPS on an AVX-512 machine of this project's kind). The
 * library reads `OPENBLAS_CORETYPE` when it loads: if the variable is set, it is respected;
 * otherwise this module sets it from /proc/cpuinfo's flags before `dlopen`
 * ({@link coreTypeForFlags}).
 *
 * **Fallback.** Without the library (or with `DPO_LAB_OPENBLAS=off`), or when a start-up check
 * of `sgemm` against a float64 product fails, `wasm` keeps XNNPACK and the backend report says
 * why ({@link BlasInfo}). `DPO_LAB_OPENBLAS=/path/to/libopenblas.so.0` picks the library;
 * `DPO_LAB_BLAS_THREADS=N` sets its thread count (default 1: {@link blasThreads}).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Environment variable: a library path, or `off` to keep XNNPACK's products. */
export const BLAS_ENV = "DPO_LAB_OPENBLAS";
/** Environment variable: OpenBLAS's thread count (default 1, see {@link blasThreads}). */
export const BLAS_THREADS_ENV = "DPO_LAB_BLAS_THREADS";

/** Where Debian and other distributions put OpenBLAS, tried in order. */
export const OPENBLAS_CANDIDATES: readonly string[] = [
  `/usr/lib/${Deno.build.arch}-linux-gnu/openblas-pthread/libopenblas.so.0`,
  `/usr/lib/${Deno.build.arch}-linux-gnu/libopenblas.so.0`,
  "/usr/lib64/libopenblas.so.0",
  "/usr/lib/libopenblas.so.0",
  "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
  "/usr/local/opt/openblas/lib/libopenblas.dylib",
];

/** What the backend report says about matrix products on `wasm`. */
export interface BlasInfo {
  /** True when `wasm`'s BatchMatMul runs on OpenBLAS, false when it stays on XNNPACK. */
  active: boolean;
  /** One line: what runs the products and, on fallback, why. */
  summary: string;
  /** The library loaded (path), when one was. */
  library?: string;
  /** `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ... Haswell". */
  config?: string;
  /** The version from the config string, e.g. "0.3.21". */
  version?: string;
  /** `openblas_get_corename()`: the kernels the library runs, e.g. "Haswell". */
  coreName?: string;
  /** The OPENBLAS_CORETYPE in effect and where it came from. */
  coreType?: { value: string; source: "environment" | "cpuinfo" } | {
    value: undefined;
    source: "library";
  };
  /** `openblas_get_num_threads()`. */
  threads?: number;
  /** The start-up check: largest error relative to the product's largest magnitude. */
  check?: { maxRelError: number; tolerance: number };
}

/**
 * OpenBLAS's thread count: {@link BLAS_THREADS_ENV} when set, else 1. One thread because the
 * `wasm` step runs its other kernels on one thread between products, so a second OpenBLAS thread
 * only helps inside a product, and on a shared machine it loses: each product waits for a
 * descheduled thread (a DPO step on a 2-core machine at load ~20 took 3.1x longer in wall time
 * with 2 threads than on XNNPACK, and 0.6x with 1). The second core is better used by the
 * data-parallel worker (`parallelLMScorer`), whose thread then runs its own 1-thread products.
 *
 * @example
 * ```ts
 * import { blasThreads } from "./blas.ts";
 * Deno.env.delete("DPO_LAB_BLAS_THREADS");
 * console.log(blasThreads()); // 1
 * ```
 */
export function blasThreads(): number {
  const v = Deno.env.get(BLAS_THREADS_ENV);
  if (v === undefined || v === "") return 1;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${BLAS_THREADS_ENV}: expected a positive integer, got '${v}'`);
  }
  return n;
}

/** The FFI symbols used. */
const SYMBOLS = {
  cblas_sgemm: {
    // order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc; pointers as
    // addresses (usize): they point into the wasm heap at computed offsets.
    parameters: [
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "i32",
      "f32",
      "usize",
      "i32",
      "usize",
      "i32",
      "f32",
      "usize",
      "i32",
    ],
    result: "void",
  },
  openblas_get_config: { parameters: [], result: "pointer" },
  openblas_get_corename: { parameters: [], result: "pointer" },
  openblas_get_num_threads: { parameters: [], result: "i32" },
  openblas_set_num_threads: { parameters: ["i32"], result: "void" },
} as const;

type OpenBlasLib = Deno.DynamicLibrary<typeof SYMBOLS>;

/** `C = op(A) op(B)` on row-major float32 data at byte addresses (as `cblas_sgemm` with beta 0). */
export type Sgemm = (
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  a: number,
  lda: number,
  b: number,
  ldb: number,
  c: number,
  ldc: number,
) => void;

const ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

/**
 * The OpenBLAS core type for a processor's /proc/cpuinfo flags: `SkylakeX` where AVX-512
 * (F, BW, VL, DQ, CD) is present, `Haswell` with AVX2 and FMA, `Sandybridge` with AVX, else
 * undefined (leave the choice to the library).
 *
 * @example
 * ```ts
 * import { coreTypeForFlags } from "./blas.ts";
 * console.log(coreTypeForFlags(new Set(["avx", "avx2", "fma"]))); // "Haswell"
 * ```
 */
export function coreTypeForFlags(flags: ReadonlySet<string>): string | undefined {
  if (["avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"].every((f) => flags.has(f))) {
    return "SkylakeX";
  }
  if (flags.has("avx2") && flags.has("fma")) return "Haswell";
  if (flags.has("avx")) return "Sandybridge";
  return undefined;
}

function cpuFlags(): Set<string> {
  try {
    const info = Deno.readTextFileSync("/proc/cpuinfo");
    const line = info.match(/^flags\s*:\s*(.*)$/m)?.[1] ?? "";
    return new Set(line.trim().split(/\s+/));
  } catch {
    return new Set();
  }
}

/** Respects OPENBLAS_CORETYPE when set, else sets it from the CPU's flags (before dlopen). */
function chooseCoreType(): NonNullable<BlasInfo["coreType"]> {
  const set = Deno.env.get("OPENBLAS_CORETYPE");
  if (set) return { value: set, source: "environment" };
  if (Deno.build.arch !== "x86_64") return { value: undefined, source: "library" };
  const chosen = coreTypeForFlags(cpuFlags());
  if (!chosen) return { value: undefined, source: "library" };
  Deno.env.set("OPENBLAS_CORETYPE", chosen);
  return { value: chosen, source: "cpuinfo" };
}

function openLibrary(requested: string | undefined): { lib: OpenBlasLib; path: string } {
  const paths = requested ? [requested] : OPENBLAS_CANDIDATES;
  const errors: string[] = [];
  for (const path of paths) {
    try {
      return { lib: Deno.dlopen(path, SYMBOLS), path };
    } catch (e) {
      errors.push(`${path}: ${(e instanceof Error ? e.message : String(e)).split("\n")[0]}`);
    }
  }
  throw new Error(
    requested
      ? `cannot load ${BLAS_ENV}=${requested} (${errors[0]})`
      : `OpenBLAS not found (tried ${
        paths.join(", ")
      }; Debian: apt-get install libopenblas0-pthread)`,
  );
}

function sgemmOf(lib: OpenBlasLib): Sgemm {
  // Deno's FFI takes a Number for a usize argument (its types say bigint only); a Number
  // avoids allocating a BigInt per address, and heap addresses stay far below 2^53.
  const f = lib.symbols.cblas_sgemm as unknown as (...args: number[]) => void;
  return (tA, tB, m, n, k, a, lda, b, ldb, c, ldc) =>
    f(
      ROW_MAJOR,
      tA ? TRANS : NO_TRANS,
      tB ? TRANS : NO_TRANS,
      m,
      n,
      k,
      1,
      a,
      lda,
      b,
      ldb,
      0,
      c,
      ldc,
    );
}

function address(view: ArrayBufferView): number {
  return Number(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view as Uint8Array)));
}

/**
 * Checks an {@link Sgemm} against a float64 product on seeded data: the four transpose
 * combinations, shapes large enough to take the library's threaded path, and a product whose
 * rows are strided inside a larger buffer (lda > columns). Returns the largest error relative to
 * each product's largest magnitude.
 *
 * @example
 * ```ts
 * import { checkSgemm } from "./blas.ts";
 * const zeros = () => {}; // writes nothing: C keeps the NaN it was filled with
 * console.log(checkSgemm(zeros) > 1e-4); // true
 * ```
 */
export function checkSgemm(sgemm: Sgemm): number {
  let worst = 0;
  let seed = 12345;
  const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  for (
    const [m, n, k, tA, tB] of [[131, 97, 160, false, false], [64, 130, 129, true, false], [
      77,
      128,
      96,
      false,
      true,
    ], [128, 128, 128, true, true]] as const
  ) {
    const rowsA = tA ? k : m, colsA = tA ? m : k, rowsB = tB ? n : k, colsB = tB ? k : n;
    const lda = colsA + 3; // rows of A strided inside a wider buffer
    const a = Float32Array.from({ length: rowsA * lda }, rand);
    const b = Float32Array.from({ length: rowsB * colsB }, rand);
    const c = new Float32Array(m * n).fill(NaN);
    sgemm(tA, tB, m, n, k, address(a), lda, address(b), colsB, address(c), n);
    let err = 0, mag = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) {
          s += a[tA ? p * lda + i : i * lda + p]! * b[tB ? j * colsB + p : p * colsB + j]!;
        }
        const d = Math.abs(c[i * n + j]! - s);
        err = Number.isNaN(d) ? Infinity : Math.max(err, d);
        mag = Math.max(mag, Math.abs(s));
      }
    }
    worst = Math.max(worst, err / (mag || 1));
  }
  return worst;
}

/** Tolerance of the start-up check (relative to the product's largest magnitude). */
export const BLAS_CHECK_TOLERANCE = 1e-5;

/** A loaded, checked OpenBLAS: the product function and the report. */
export interface OpenBlas {
  sgemm: Sgemm;
  info: BlasInfo;
}

/**
 * Loads OpenBLAS (the given path, else {@link BLAS_ENV}, else {@link OPENBLAS_CANDIDATES}),
 * setting its core type first, and checks its products. Never throws: without a usable library
 * `sgemm` is undefined and `info.summary` says why.
 *
 * @example
 * ```ts
 * import { loadOpenBlas } from "./blas.ts";
 * const { info } = loadOpenBlas({ path: "/nonexistent/libopenblas.so.0" });
 * console.log(info.active, info.summary.startsWith("XNNPACK")); // false true
 * ```
 */
export function loadOpenBlas(
  opts: { path?: string } = {},
): { sgemm?: Sgemm; info: BlasInfo } {
  try {
    return tryLoadOpenBlas(opts);
  } catch (e) {
    // E.g. no permission to read the environment or to use FFI (a sandboxed run).
    const why = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    return { info: { active: false, summary: `XNNPACK (OpenBLAS not loaded: ${why})` } };
  }
}

function tryLoadOpenBlas(opts: { path?: string }): { sgemm?: Sgemm; info: BlasInfo } {
  const requested = opts.path ?? Deno.env.get(BLAS_ENV) ?? undefined;
  if (requested?.toLowerCase() === "off") {
    return { info: { active: false, summary: `XNNPACK (OpenBLAS turned off by ${BLAS_ENV}=off)` } };
  }
  const coreType = chooseCoreType();
  let opened: { lib: OpenBlasLib; path: string };
  try {
    opened = openLibrary(requested || undefined);
  } catch (e) {
    return { info: { active: false, coreType, summary: `XNNPACK (${(e as Error).message})` } };
  }
  const { lib, path } = opened;
  const cstr = (p: Deno.PointerValue) => p ? Deno.UnsafePointerView.getCString(p) : "";
  let threads: number;
  try {
    threads = blasThreads();
  } catch (e) {
    lib.close();
    return { info: { active: false, coreType, summary: `XNNPACK (${(e as Error).message})` } };
  }
  lib.symbols.openblas_set_num_threads(threads);
  const config = cstr(lib.symbols.openblas_get_config());
  const info: BlasInfo = {
    active: false,
    summary: "",
    library: path,
    config,
    version: config.match(/OpenBLAS\s+(\S+)/)?.[1],
    coreName: cstr(lib.symbols.openblas_get_corename()),
    coreType,
    threads: lib.symbols.openblas_get_num_threads(),
  };
  const sgemm = sgemmOf(lib);
  const err = checkSgemm(sgemm);
  info.check = { maxRelError: err, tolerance: BLAS_CHECK_TOLERANCE };
  const what = `OpenBLAS ${info.version ?? "?"} (${info.coreName}, ${info.threads} threads)`;
  if (!(err <= BLAS_CHECK_TOLERANCE)) {
    lib.close();
    info.summary = `XNNPACK (${what} at ${path} failed its start-up check: ` +
      `relative error ${err.toExponential(1)} > ${BLAS_CHECK_TOLERANCE})`;
    return { info };
  }
  info.active = true;
  info.summary = what;
  return { sgemm, info };
}

/** The parts of tfjs-backend-wasm's backend (4.22) the kernel reads. */
interface WasmBackendInternals {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  dataIdMap: { get(dataId: unknown): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Element offsets of each output batch entry's operand, for outer (batch) shapes broadcast
 * against `outer` as numpy does (aligned on the right, size-1 dimensions repeated).
 */
export function broadcastBatchIndex(
  outer: readonly number[],
  operand: readonly number[],
): number[] {
  const total = tf.util.sizeFromShape(outer as number[]);
  const size = tf.util.sizeFromShape(operand as number[]);
  if (size === total && tf.util.arraysEqual(outer as number[], operand as number[])) {
    return Array.from({ length: total }, (_, i) => i);
  }
  if (size === 1) return new Array(total).fill(0);
  const shift = outer.length - operand.length;
  const strides = tf.util.computeStrides(operand as number[]).concat([1]);
  const out = new Array<number>(total);
  for (let i = 0; i < total; i++) {
    let rest = i, idx = 0;
    for (let d = outer.length - 1; d >= 0; d--) {
      const coord = rest % outer[d]!;
      rest = Math.floor(rest / outer[d]!);
      const od = d - shift;
      if (od >= 0 && operand[od] !== 1) idx += coord * strides[od]!;
    }
    out[i] = idx;
  }
  return out;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];

/** The sizes of one `BatchMatMul` on row-major operands, as `cblas_sgemm` wants them. */
export interface MatMulPlan {
  tA: boolean;
  tB: boolean;
  /** The product of each batch entry is m × n, summed over k. */
  m: number;
  n: number;
  k: number;
  /** Leading dimensions (row lengths) of the stored operands. */
  colsA: number;
  colsB: number;
  outerA: number[];
  outerB: number[];
  /** The broadcast batch shape and its size. */
  outer: number[];
  batch: number;
  /** Bytes from one batch entry to the next in a, b and the output. */
  strides: [number, number, number];
}

/**
 * The plan of `BatchMatMul` for operand shapes `a` and `b` under the kernel's attributes;
 * throws, naming `label`, when the inner dimensions differ or the batches do not broadcast.
 *
 * @example
 * ```ts
 * import { matMulPlan } from "./blas.ts";
 * const p = matMulPlan([2, 3, 4], [4, 5], { transposeA: false }, "test");
 * console.log(p.m, p.n, p.k, p.batch, p.strides); // 3 5 4 2 [ 48, 80, 60 ]
 * ```
 */
export function matMulPlan(
  a: number[],
  b: number[],
  attrs: unknown,
  label: string,
): MatMulPlan {
  const t = attrs as { transposeA?: boolean; transposeB?: boolean } | undefined;
  const tA = t?.transposeA === true, tB = t?.transposeB === true;
  const [rowsA, colsA] = [a[a.length - 2]!, a[a.length - 1]!];
  const [rowsB, colsB] = [b[b.length - 2]!, b[b.length - 1]!];
  const [m, k] = tA ? [colsA, rowsA] : [rowsA, colsA];
  const [kb, n] = tB ? [colsB, rowsB] : [rowsB, colsB];
  if (k !== kb) {
    throw new RangeError(
      `BatchMatMul (${label}): inner dimensions differ: [${a}]${tA ? "^T" : ""} x ` +
        `[${b}]${tB ? "^T" : ""}`,
    );
  }
  const outerA = a.slice(0, -2), outerB = b.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batch = tf.util.sizeFromShape(outer);
  const strides: [number, number, number] = [4 * rowsA * colsA, 4 * rowsB * colsB, 4 * m * n];
  return { tA, tB, m, n, k, colsA, colsB, outerA, outerB, outer, batch, strides };
}

/**
 * A `BatchMatMul` kernel config for `wasm` on `sgemm`; other dtypes go to `fallback`.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import * as tf from "@tensorflow/tfjs-core";
 * import { blasBatchMatMul, loadOpenBlas } from "./blas.ts";
 * const { sgemm } = loadOpenBlas();
 * const k = sgemm ? blasBatchMatMul(sgemm, tf.getKernel("BatchMatMul", "wasm")!) : undefined;
 * console.log(k === undefined || k.kernelName === "BatchMatMul"); // true
 * ```
 */
export function blasBatchMatMul(sgemm: Sgemm, fallback: tf.KernelConfig): tf.KernelConfig {
  const kernelFunc = (args: KernelArgs) => {
    const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (a.dtype !== "float32" || b.dtype !== "float32") return fallback.kernelFunc(args);
    const { tA, tB, m, n, k, colsA, colsB, outerA, outerB, outer, batch, strides } = matMulPlan(
      a.shape,
      b.shape,
      args.attrs,
      "OpenBLAS",
    );
    const backend = args.backend as unknown as WasmBackendInternals;
    const out = backend.makeOutput([...outer, m, n], "float32");
    if (batch * m * n === 0) return out;
    // The heap is read after makeOutput: an allocation can grow (and move) it.
    const heap = backend.wasm.HEAPU8;
    const offset = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const [offA, offB, offC] = [offset(a), offset(b), offset(out)];
    if (k === 0) {
      heap.fill(0, offC, offC + 4 * batch * m * n);
      return out;
    }
    const base = address(heap);
    const ia = broadcastBatchIndex(outer, outerA), ib = broadcastBatchIndex(outer, outerB);
    const [sa, sb, sc] = strides;
    for (let i = 0; i < batch; i++) {
      sgemm(
        tA,
        tB,
        m,
        n,
        k,
        base + offA + sa * ia[i]!,
        colsA,
        base + offB + sb * ib[i]!,
        colsB,
        base + offC + sc * i,
        n,
      );
    }
    return out;
  };
  return {
    kernelName: "BatchMatMul",
    backendName: "wasm",
    kernelFunc: kernelFunc as unknown as tf.KernelFunc,
  };
}

/** Marks the kernel config this module registered, and keeps the one it replaced. */
const BLAS = Symbol.for("dpo-lab.wasm.openblas");
/** wasm_grads.ts's mark of kernels it must not wrap again (the BLAS kernel needs no wrapper). */
const WRAPPED = Symbol.for("dpo-lab.wasm.untransposing");

let loaded: { sgemm?: Sgemm; info: BlasInfo } | undefined;

/**
 * Puts `wasm`'s `BatchMatMul` on OpenBLAS when it loads and passes its check (once per process;
 * later calls return the first report), else leaves the kernel registered now (XNNPACK).
 * Call it after `registerWasmGradients` (lib/backend.ts does, when it starts `wasm`).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerBlasMatMul } from "./blas.ts";
 * const info = registerBlasMatMul();
 * console.log(info.summary); // e.g. "OpenBLAS 0.3.21 (Haswell, 2 threads)"
 * ```
 */
export function registerBlasMatMul(opts: { path?: string } = {}): BlasInfo {
  loaded ??= loadOpenBlas(opts);
  const sgemm = loaded.sgemm;
  if (sgemm) {
    swapMatMul(
      "wasm",
      BLAS,
      (current) => ({ ...blasBatchMatMul(sgemm, current), [WRAPPED]: true }),
    );
  }
  return loaded.info;
}

/**
 * Puts back the `BatchMatMul` kernel {@link registerBlasMatMul} replaced (XNNPACK); for tests
 * and measurements that compare the two in one process. Returns false when none was replaced.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-wasm";
 * import { registerBlasMatMul, unregisterBlasMatMul } from "./blas.ts";
 * registerBlasMatMul();
 * unregisterBlasMatMul();
 * console.log(unregisterBlasMatMul()); // false: nothing left to put back
 * ```
 */
export function unregisterBlasMatMul(): boolean {
  return restoreMatMul("wasm", BLAS);
}

type MarkedKernel = tf.KernelConfig & { [mark: symbol]: tf.KernelConfig | undefined };

/**
 * Replaces `backend`'s `BatchMatMul` with `make(current)`, keeping `current` under `mark`;
 * nothing when no kernel is registered or it already carries `mark`. The BLAS kernels of `wasm`
 * and `cpu` register this way.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { restoreMatMul, swapMatMul } from "./blas.ts";
 * const mark = Symbol("example"), stock = tf.getKernel("BatchMatMul", "cpu");
 * swapMatMul("cpu", mark, (current) => ({ ...current }));
 * console.log(tf.getKernel("BatchMatMul", "cpu") !== stock, restoreMatMul("cpu", mark)); // true true
 * console.log(tf.getKernel("BatchMatMul", "cpu") === stock, restoreMatMul("cpu", mark)); // true false
 * ```
 */
export function swapMatMul(
  backend: string,
  mark: symbol,
  make: (current: tf.KernelConfig) => tf.KernelConfig,
): void {
  const current = tf.getKernel("BatchMatMul", backend) as MarkedKernel | undefined;
  if (!current || current[mark]) return;
  tf.unregisterKernel("BatchMatMul", backend);
  tf.registerKernel({ ...make(current), [mark]: current } as tf.KernelConfig);
}

/**
 * Puts back the `BatchMatMul` kernel that {@link swapMatMul} kept under `mark`; false when the
 * registered kernel carries no such mark.
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import { restoreMatMul } from "./blas.ts";
 * console.log(restoreMatMul("cpu", Symbol("never used"))); // false
 * ```
 */
export function restoreMatMul(backend: string, mark: symbol): boolean {
  const current = tf.getKernel("BatchMatMul", backend) as MarkedKernel | undefined;
  const previous = current?.[mark];
  if (!previous) return false;
  tf.unregisterKernel("BatchMatMul", backend);
  tf.registerKernel(previous);
  return true;
}
