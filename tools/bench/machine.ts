/**
 * What a benchmark ran on: processor, cores, memory, WebGPU adapter, the Deno and tfjs versions,
 * and the load average, which on a shared machine says how much the numbers are to be trusted.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { describeWebGpuAdapter } from "../../lib/backend.ts";

/** The machine and software stack of a benchmark run. */
export interface MachineInfo {
  /** Processor model from /proc/cpuinfo, or "unknown". */
  cpu: string;
  /** Logical processors (`navigator.hardwareConcurrency`). */
  cores: number;
  /** Physical memory in GiB, when the OS says. */
  memoryGiB?: number;
  /** `linux x86_64`, ... */
  os: string;
  /** The WebGPU adapter Deno offers ("... [software]" for llvmpipe), or "none". */
  webgpuAdapter: string;
  /** True when an NVIDIA GPU is visible (`/proc/driver/nvidia` or `nvidia-smi`). */
  nvidiaGpu: boolean;
  /** `nvidia-smi`'s name, memory and driver of each GPU ("NVIDIA H100 80GB HBM3, 81559 MiB, 550.54"). */
  nvidiaGpuName?: string;
  deno: string;
  v8: string;
  typescript: string;
  tfjs: string;
  /** Host name: tells result files of different machines apart. */
  hostname: string;
}

/** 1, 5 and 15 minute load averages (Linux), or undefined where /proc/loadavg is absent. */
export type LoadAverage = [number, number, number];

/**
 * Parses the first three fields of `/proc/loadavg`.
 *
 * @example
 * ```ts
 * import { parseLoadAverage } from "./machine.ts";
 * console.log(parseLoadAverage("1.50 0.75 0.25 2/300 4242\n")); // [1.5, 0.75, 0.25]
 * ```
 */
export function parseLoadAverage(text: string): LoadAverage {
  const f = text.trim().split(/\s+/).slice(0, 3).map(Number);
  if (f.length !== 3 || f.some((x) => !Number.isFinite(x))) {
    throw new RangeError(`/proc/loadavg: cannot read three numbers from '${text.trim()}'`);
  }
  return f as LoadAverage;
}

/**
 * The load average now, or undefined off Linux.
 *
 * @example
 * ```ts
 * import { loadAverage } from "./machine.ts";
 * console.log(await loadAverage()); // e.g. [0.4, 0.6, 0.7]
 * ```
 */
export async function loadAverage(): Promise<LoadAverage | undefined> {
  try {
    return parseLoadAverage(await Deno.readTextFile("/proc/loadavg"));
  } catch {
    return undefined;
  }
}

/**
 * The processor model from the text of /proc/cpuinfo ("unknown" when absent).
 *
 * @example
 * ```ts
 * import { cpuModel } from "./machine.ts";
 * console.log(cpuModel("processor : 0\nmodel name\t: AMD EPYC\n")); // "AMD EPYC"
 * ```
 */
export function cpuModel(cpuinfo: string): string {
  return cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown";
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch {
    return undefined;
  }
}

async function hasNvidia(): Promise<boolean> {
  try {
    await Deno.stat("/proc/driver/nvidia/version");
    return true;
  } catch {
    // Fall through to nvidia-smi.
  }
  try {
    const out = await new Deno.Command("nvidia-smi", {
      args: ["-L"],
      stdout: "null",
      stderr: "null",
    })
      .output();
    return out.success;
  } catch {
    return false;
  }
}

/**
 * Each NVIDIA GPU as `nvidia-smi` names it (name, memory, driver), or undefined without one.
 *
 * @example
 * ```ts
 * import { nvidiaGpuName } from "./machine.ts";
 * console.log(await nvidiaGpuName()); // e.g. "NVIDIA H100 80GB HBM3, 81559 MiB, 550.54"
 * ```
 */
export async function nvidiaGpuName(): Promise<string | undefined> {
  try {
    const out = await new Deno.Command("nvidia-smi", {
      args: ["--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
      stdout: "piped",
      stderr: "null",
    }).output();
    const text = new TextDecoder().decode(out.stdout).trim();
    return out.success && text ? text.split("\n").map((l) => l.trim()).join("; ") : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Describes this machine and stack.
 *
 * @example
 * ```ts
 * import { describeMachine } from "./machine.ts";
 * const m = await describeMachine();
 * console.log(`${m.cpu}, ${m.cores} cores, tfjs ${m.tfjs}`);
 * ```
 */
export async function describeMachine(): Promise<MachineInfo> {
  const cpuinfo = await readText("/proc/cpuinfo");
  const meminfo = await readText("/proc/meminfo");
  const kb = meminfo?.match(/^MemTotal:\s*(\d+)\s*kB/m)?.[1];
  return {
    cpu: cpuinfo ? cpuModel(cpuinfo) : "unknown",
    cores: navigator.hardwareConcurrency,
    ...(kb ? { memoryGiB: Math.round((Number(kb) / 1024 ** 2) * 10) / 10 } : {}),
    os: `${Deno.build.os} ${Deno.build.arch}`,
    webgpuAdapter: (await describeWebGpuAdapter()) ?? "none",
    nvidiaGpu: await hasNvidia(),
    ...await nvidiaGpuName().then((n) => n ? { nvidiaGpuName: n } : {}),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    tfjs: tf.version_core,
    hostname: Deno.hostname(),
  };
}

/**
 * Peak and current resident memory of this process in bytes (Linux `VmHWM` / `VmRSS`), or
 * undefined where /proc is absent.
 *
 * @example
 * ```ts
 * import { residentMemory } from "./machine.ts";
 * console.log(await residentMemory()); // e.g. { peak: 412000000, current: 398000000 }
 * ```
 */
export async function residentMemory(): Promise<{ peak: number; current: number } | undefined> {
  const s = await readText("/proc/self/status");
  const peak = s?.match(/^VmHWM:\s*(\d+)\s*kB/m)?.[1];
  const cur = s?.match(/^VmRSS:\s*(\d+)\s*kB/m)?.[1];
  if (!peak || !cur) return undefined;
  return { peak: Number(peak) * 1024, current: Number(cur) * 1024 };
}
