/**
 * Chooses, starts and reports the TensorFlow.js backend.
 *
 * Preference order in `auto` mode:
 * 1. `tensorflow` (libtensorflow through `@tensorflow/tfjs-node-gpu`, then `@tensorflow/tfjs-node`)
 *    when the user has added one of them to the import map; never required (see README).
 * 2. `webgpu` on a hardware adapter (Deno's WebGPU, through a small adapter shim).
 * 3. On a machine without a hardware adapter, the order recorded by the last
 *    `lab backend --measure` on this machine (fastest backend that passed the conformance test),
 *    else {@link SOFTWARE_DEFAULT_ORDER}, which came from measurements on a 2-core CPU machine.
 *
 * A backend can be forced with `initBackend({ backend })` or the `DPO_LAB_BACKEND` environment
 * variable (`tensorflow`, `webgpu`, `wasm`, `cpu` or `auto`).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
// tfjs-core alone has no gradient functions under Deno; this registers them (see the module).
import "./kernels/gradients.ts";
import { registerWasmGradients } from "./kernels/wasm_grads.ts";
import { registerSharingIdentity } from "./kernels/wasm_identity.ts";
import { registerWasmCopies } from "./kernels/wasm_copies.ts";
import { type BlasInfo, registerBlasMatMul } from "./kernels/blas.ts";
import { CPU_KERNELS_ENV, registerCpuKernels } from "./kernels/cpu_fast.ts";
import { guardStorageBinding, maxBindingFromEnv, numericLimits } from "./kernels/webgpu_limits.ts";
import { ensureRuntimeDir } from "./runtime_env.ts";

/** Backends this module can start. */
export type BackendName = "tensorflow" | "webgpu" | "wasm" | "cpu";

/** Every {@link BackendName}, in the `auto` preference order for a machine with a GPU. */
export const BACKEND_NAMES: readonly BackendName[] = ["tensorflow", "webgpu", "wasm", "cpu"];

/**
 * Order tried on a machine whose only WebGPU adapter is a software one (Mesa llvmpipe), from
 * `lab backend --measure` on a 2-core x86-64 VM (see BENCHMARKS.md): for a 0.9M-parameter GPT
 * training step, wasm (with the transposed-matmul fix in lib/kernels) took about 6x less CPU time
 * than webgpu on llvmpipe and about 150x less than cpu.
 */
export const SOFTWARE_DEFAULT_ORDER: readonly BackendName[] = ["wasm", "webgpu", "cpu"];

/** The environment variable that forces a backend. */
export const BACKEND_ENV = "DPO_LAB_BACKEND";

/** What {@link initBackend} chose and why; shown atop every notebook and stored with every run. */
export interface BackendReport {
  /** The tfjs backend in use. */
  name: BackendName;
  /** Adapter or device description, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)" or "CPU (JS)". */
  adapter: string;
  /** True when the computation runs on a GPU (or libtensorflow), false on the CPU. */
  hardware: boolean;
  /** True when a software stand-in is used for a hardware API (WebGPU on llvmpipe). */
  softwareFallback: boolean;
  /** What was asked for: a backend name or "auto". */
  requested: BackendName | "auto";
  /** Where the request came from. */
  source: "option" | "env" | "default";
  /** One line on why this backend was chosen. */
  reason: string;
  /** Each backend tried, in order, with the error of those that failed. */
  tried: { name: BackendName; ok: boolean; error?: string }[];
  /** Versions of the stack. */
  versions: { tfjs: string; deno: string; v8: string };
  /** Operating system and processor, e.g. "linux x86_64, 2 cores". */
  host: string;
  /**
   * `wasm` only: what runs its matrix products (OpenBLAS through FFI, or XNNPACK and why);
   * library, version, core name and threads (see lib/kernels/blas.ts).
   */
  blas?: BlasInfo;
}

/** Options of {@link initBackend}. */
export interface InitBackendOptions {
  /** Force a backend, or "auto" (default: the `DPO_LAB_BACKEND` variable, else "auto"). */
  backend?: BackendName | "auto";
  /**
   * Path of a backend measurement written by `lab backend --measure`, used in auto mode on a
   * machine without a hardware GPU (default: {@link defaultMeasurementPath}).
   */
  measurementPath?: string;
}

/** A recorded measurement: which backends passed conformance and their training-step times. */
export interface BackendMeasurement {
  /** Identifies the machine and stack the numbers belong to; a mismatch ignores the file. */
  machine: string;
  /** Backends in the order to prefer them (passed conformance, fastest first). */
  order: BackendName[];
  /** Milliseconds per training step by backend (median), for the report. */
  stepMs: Partial<Record<BackendName, number>>;
  /** When it was measured (ISO time). */
  measuredAt: string;
}

let current: BackendReport | undefined;

/** The report of the backend in use, or undefined before {@link initBackend}. */
export function backendReport(): BackendReport | undefined {
  return current;
}

function hostLine(): string {
  const cores = navigator.hardwareConcurrency;
  return `${Deno.build.os} ${Deno.build.arch}, ${cores} cores`;
}

/** A string identifying this machine and stack, so measurements are not reused elsewhere. */
export async function machineKey(): Promise<string> {
  let cpu = "unknown cpu";
  try {
    const info = await Deno.readTextFile("/proc/cpuinfo");
    cpu = info.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: the architecture and core count still tell machines apart well enough.
  }
  const adapter = await describeWebGpuAdapter();
  return [
    hostLine(),
    cpu,
    adapter ?? "no webgpu",
    `deno ${Deno.version.deno}`,
    `tfjs ${tf.version_core}`,
  ]
    .join(" | ");
}

/** Default location of the backend measurement: `$XDG_CACHE_HOME/dpo-lab/backend.json`. */
export function defaultMeasurementPath(): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
  return `${base}/dpo-lab/backend.json`;
}

async function readMeasurement(path: string): Promise<BackendMeasurement | undefined> {
  try {
    const m = JSON.parse(await Deno.readTextFile(path)) as BackendMeasurement;
    if (m.machine === await machineKey() && Array.isArray(m.order) && m.order.length > 0) return m;
  } catch {
    // Absent or unreadable: fall back to the documented default order.
  }
  return undefined;
}

function parseBackend(value: string, source: string): BackendName | "auto" {
  const v = value.trim().toLowerCase();
  if (v === "auto" || (BACKEND_NAMES as readonly string[]).includes(v)) {
    return v as BackendName | "auto";
  }
  throw new RangeError(
    `${source}: unknown backend '${value}'; expected one of auto, ${BACKEND_NAMES.join(", ")}`,
  );
}

// ---------------------------------------------------------------------------------------------
// WebGPU adapter shim

/**
 * Wraps a WebGPU adapter so tfjs-backend-webgpu 4.22 can start under Deno on any adapter:
 * - it passes `requiredFeatures: [..., ['bgra8unorm-storage']]` (an array inside the list), which
 *   Deno's WebIDL conversion rejects; the shim flattens such entries to strings, as browsers do;
 * - it reads `adapter.info` after `requestDevice`, which Deno may invalidate; the shim answers
 *   `info` and `requestAdapterInfo()` from a copy taken before any device was created;
 * - it copies `adapter.limits` into `requiredLimits`, and on NVIDIA Deno reports some limits as
 *   a BigInt (u64::MAX), which the device request rejects; the shim's `limits` are Numbers,
 *   clamped to what tfjs's i32 indexing addresses (lib/kernels/webgpu_limits.ts), and so are
 *   the `requiredLimits` it passes on. `DPO_LAB_WEBGPU_MAX_BINDING` lowers the storage binding
 *   limit.
 *
 * @example
 * ```ts
 * import { shimAdapter } from "./backend.ts";
 * const fake = {
 *   info: { vendor: "v", architecture: "", device: "d", description: "fake" },
 *   features: new Set<string>(),
 *   limits: {},
 *   requestDevice: (d: { requiredFeatures?: string[] }) => Promise.resolve(d),
 * };
 * const a = shimAdapter(fake as unknown as GPUAdapter);
 * console.log(a.info.description); // "fake"
 * ```
 */
export function shimAdapter(adapter: GPUAdapter): GPUAdapter {
  const raw = (adapter as unknown as { info?: GPUAdapterInfo }).info;
  const info = raw
    ? {
      vendor: raw.vendor,
      architecture: raw.architecture,
      device: raw.device,
      description: raw.description,
      isFallbackAdapter: (raw as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        false,
    }
    : undefined;
  const maxBinding = maxBindingFromEnv();
  const limits = numericLimits(adapter.limits, { maxBinding });
  const requestDevice = (desc?: GPUDeviceDescriptor) => {
    const features = desc?.requiredFeatures
      ? [...desc.requiredFeatures].flat(Infinity).map((f) => String(f)) as GPUFeatureName[]
      : undefined;
    let fixed = features ? { ...desc, requiredFeatures: [...new Set(features)] } : desc;
    if (fixed?.requiredLimits) {
      const required = numericLimits(fixed.requiredLimits, { maxBinding });
      // A maximum never above the adapter's, an alignment never below: else the request fails.
      for (const [k, v] of Object.entries(required)) {
        const a = limits[k];
        if (a !== undefined) required[k] = k.startsWith("min") ? Math.max(v, a) : Math.min(v, a);
      }
      fixed = { ...fixed, requiredLimits: required };
    }
    return adapter.requestDevice(fixed);
  };
  return new Proxy(adapter, {
    get(target, prop) {
      if (prop === "info") return info;
      if (prop === "requestAdapterInfo") return () => Promise.resolve(info);
      if (prop === "requestDevice") return requestDevice;
      if (prop === "limits") return limits;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
    has(target, prop) {
      return prop === "info" || Reflect.has(target, prop);
    },
  });
}

let gpuShimInstalled = false;

/** Routes `navigator.gpu.requestAdapter` through {@link shimAdapter}; idempotent. */
export function installWebGpuShim(): boolean {
  const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
  if (!gpu) return false;
  if (gpuShimInstalled) return true;
  const original = gpu.requestAdapter.bind(gpu);
  Object.defineProperty(gpu, "requestAdapter", {
    configurable: true,
    value: async (opts?: GPURequestAdapterOptions) => {
      const a = await original(opts);
      return a ? shimAdapter(a) : a;
    },
  });
  gpuShimInstalled = true;
  return true;
}

let adapterCache: { description: string; fallback: boolean } | null | undefined;

async function probeAdapter(): Promise<{ description: string; fallback: boolean } | null> {
  if (adapterCache !== undefined) return adapterCache;
  const gpu = (navigator as unknown as { gpu?: GPU }).gpu;
  if (!gpu) return (adapterCache = null);
  // Before the driver loads: otherwise Mesa prints an XDG_RUNTIME_DIR error twice.
  ensureRuntimeDir();
  try {
    const a = await gpu.requestAdapter({ powerPreference: "high-performance" });
    if (!a) return (adapterCache = null);
    const info = a.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
    const desc = [info.description, info.vendor && `vendor ${info.vendor}`]
      .filter((s) => s).join(", ") || "unnamed adapter";
    // llvmpipe/lavapipe and SwiftShader are software rasterisers even when not flagged as fallback.
    const software = info.isFallbackAdapter === true ||
      /llvmpipe|lavapipe|swiftshader|software/i.test(info.description ?? "");
    return (adapterCache = { description: desc, fallback: software });
  } catch {
    return (adapterCache = null);
  }
}

/** Description of the WebGPU adapter Deno would give, or undefined when there is none. */
export async function describeWebGpuAdapter(): Promise<string | undefined> {
  const a = await probeAdapter();
  return a ? `${a.description}${a.fallback ? " [software]" : ""}` : undefined;
}

// ---------------------------------------------------------------------------------------------
// Starting each backend

/** The directory holding tfjs-backend-wasm's .wasm binaries, as a file URL ending in "/". */
export function wasmBinaryDir(): string {
  const entry = import.meta.resolve("@tensorflow/tfjs-backend-wasm");
  return entry.slice(0, entry.lastIndexOf("/") + 1);
}

/**
 * Registers (on first use) and switches tfjs to one backend, without touching the report that
 * {@link initBackend} keeps; for measuring and comparing backends in one process. Throws when
 * the backend cannot start here.
 *
 * @example
 * ```ts
 * import { startBackend } from "./backend.ts";
 * const { adapter } = await startBackend("cpu");
 * console.log(adapter);
 * ```
 */
export async function startBackend(
  name: BackendName,
): Promise<{ adapter: string; hardware: boolean; soft: boolean; blas?: BlasInfo }> {
  switch (name) {
    case "cpu": {
      await setAndCheck("cpu");
      // The stock kernels are the conformance reference: the fast ones only when asked for.
      if (Deno.env.get(CPU_KERNELS_ENV) !== "fast") {
        return { adapter: "CPU (tfjs pure-JS kernels)", hardware: false, soft: false };
      }
      const fast = registerCpuKernels();
      return {
        adapter:
          `CPU (tfjs JS kernels, fast ${CPU_KERNELS_ENV}; matrix products: ${fast.blas.summary})`,
        hardware: false,
        soft: false,
        blas: fast.blas,
      };
    }
    case "wasm": {
      const wasm = await import("@tensorflow/tfjs-backend-wasm");
      // Deno's fetch reads file: URLs, so the binaries load from node_modules with no server.
      wasm.setWasmPaths(wasmBinaryDir(), true);
      registerWasmGradients();
      registerSharingIdentity();
      registerWasmCopies();
      await setAndCheck("wasm");
      const blas = registerBlasMatMul();
      const simd = tf.env().getBool("WASM_HAS_SIMD_SUPPORT") ? "simd" : "no simd";
      return {
        adapter: `CPU (XNNPACK wasm, ${simd}; matrix products: ${blas.summary})`,
        hardware: false,
        soft: false,
        blas,
      };
    }
    case "webgpu": {
      const probe = await probeAdapter();
      if (!probe) {
        throw new Error("no WebGPU adapter (navigator.gpu missing or requestAdapter() gave null)");
      }
      installWebGpuShim();
      await import("@tensorflow/tfjs-backend-webgpu");
      await setAndCheck("webgpu");
      // Larger tensors would compute as zeros without an error: make them an error.
      guardStorageBinding(tf.backend());
      return { adapter: probe.description, hardware: !probe.fallback, soft: probe.fallback };
    }
    case "tensorflow": {
      let lastError = "";
      for (const spec of ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"]) {
        try {
          // A variable specifier keeps Deno from resolving (and downloading) it when absent.
          await import(spec);
          await setAndCheck("tensorflow");
          return {
            adapter: `libtensorflow via ${spec}`,
            hardware: spec.endsWith("-gpu"),
            soft: false,
          };
        } catch (e) {
          lastError = `${spec}: ${firstLine(e)}`;
        }
      }
      throw new Error(`not installed (${lastError}); see README "Optional: libtensorflow"`);
    }
  }
}

async function setAndCheck(name: string): Promise<void> {
  // PROD silences tfjs's "install tfjs-node" banner, which does not apply under Deno.
  tf.env().set("PROD", true);
  const ok = await tf.setBackend(name);
  if (!ok) throw new Error(`tf.setBackend('${name}') returned false`);
  await tf.ready();
  // One tiny op proves kernels run, not just that the backend registered.
  const y = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.scalar(1)));
  const d = await y.data();
  y.dispose();
  if (d[0] !== 2 || d[1] !== 3) throw new Error(`backend '${name}' computed 1+[1,2] = [${d}]`);
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0]!;
}

/**
 * Chooses and starts a tfjs backend and returns a report of what runs where.
 *
 * @example Force the reference backend
 * ```ts
 * import { initBackend } from "./backend.ts";
 * const r = await initBackend({ backend: "cpu" });
 * console.log(`${r.name} on ${r.adapter}`);
 * ```
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendReport> {
  ensureRuntimeDir();
  let requested: BackendName | "auto" = "auto";
  let source: BackendReport["source"] = "default";
  if (opts.backend) {
    requested = parseBackend(opts.backend, "initBackend option 'backend'");
    source = "option";
  } else {
    const env = Deno.env.get(BACKEND_ENV);
    if (env) {
      requested = parseBackend(env, `environment variable ${BACKEND_ENV}`);
      source = "env";
    }
  }
  const tried: BackendReport["tried"] = [];
  let order: BackendName[];
  let reason: string;
  if (requested !== "auto") {
    order = [requested];
    reason = `forced by ${source === "env" ? BACKEND_ENV : "option"}`;
  } else {
    const adapter = await probeAdapter();
    if (adapter && !adapter.fallback) {
      order = ["tensorflow", "webgpu", "wasm", "cpu"];
      reason = "hardware WebGPU adapter present";
    } else {
      const m = await readMeasurement(opts.measurementPath ?? defaultMeasurementPath());
      const rest = m ? m.order : [...SOFTWARE_DEFAULT_ORDER];
      order = ["tensorflow", ...rest.filter((b) => b !== "tensorflow")];
      // A measurement lists only the backends it timed; cpu stays the last resort.
      if (!order.includes("cpu")) order.push("cpu");
      reason = m
        ? `no hardware GPU; fastest conformant backend measured on this machine at ${m.measuredAt}`
        : "no hardware GPU; default order from the committed CPU-machine measurement " +
          "(run `deno task lab backend --measure` to measure here)";
    }
  }
  for (const name of order) {
    try {
      const got = await startBackend(name);
      tried.push({ name, ok: true });
      current = {
        name,
        adapter: got.adapter,
        hardware: got.hardware,
        softwareFallback: got.soft,
        requested,
        source,
        reason,
        tried,
        versions: { tfjs: tf.version_core, deno: Deno.version.deno, v8: Deno.version.v8 },
        host: hostLine(),
        ...(got.blas ? { blas: got.blas } : {}),
      };
      return current;
    } catch (e) {
      tried.push({ name, ok: false, error: firstLine(e) });
      if (requested !== "auto") {
        throw new Error(`backend '${name}' (${reason}) could not start: ${firstLine(e)}`);
      }
    }
  }
  throw new Error(
    `no tfjs backend could start: ${tried.map((t) => `${t.name}: ${t.error}`).join("; ")}`,
  );
}

/**
 * One line for logs and notebook headers.
 *
 * @example
 * ```ts
 * import { formatBackendReport, initBackend } from "./backend.ts";
 * console.log(formatBackendReport(await initBackend({ backend: "cpu" })));
 * ```
 */
export function formatBackendReport(r: BackendReport): string {
  const kind = r.hardware ? "hardware" : r.softwareFallback ? "software fallback" : "CPU";
  return `tfjs backend: ${r.name} on ${r.adapter} (${kind}); ${r.reason}. ` +
    `tfjs ${r.versions.tfjs}, deno ${r.versions.deno}, ${r.host}`;
}

// The `cpu` backend's fast kernels (OpenBLAS products, one-pass layout and element-wise ops,
// fused Adam): opt-in, for models too large for `wasm` (see lib/kernels/cpu_fast.ts).
export {
  CPU_KERNELS_ENV,
  type CpuKernelsInfo,
  registerCpuKernels,
  unregisterCpuKernels,
} from "./kernels/cpu_fast.ts";
