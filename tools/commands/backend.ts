/**
 * `lab backend`: print the backend report as JSON (`--backend NAME` forces one), or with
 * `--measure` check and time every backend that starts here and record the fastest conformant
 * order for `initBackend`'s auto mode.
 *
 * @example
 * ```sh
 * deno task lab backend --measure --steps 5 --out /tmp/backend.json
 * ```
 *
 * @module
 */
import {
  BACKEND_NAMES,
  type BackendName,
  defaultMeasurementPath,
  formatBackendReport,
  initBackend,
} from "../../lib/backend.ts";

const USAGE = `usage: lab backend [--backend NAME]
       lab backend --measure [--out PATH] [--steps N] [--warmup N] [--cpu-steps N] [--backends a,b]

Prints which tfjs backend starts here and why (JSON report). With --measure, checks every
backend's conformance and times a training step on each, and remembers the fastest for 'auto'.

options:
  --backend NAME    force one backend: auto, tensorflow, webgpu, wasm, cpu (default auto)
  --measure         measure every backend instead of reporting the chosen one
  --out PATH        measure: where the result is kept (default ~/.cache/dpo-lab/backend.json,
                    under $XDG_CACHE_HOME when set)
  --steps N         measure: timed training steps per backend (default 5)
  --warmup N        measure: untimed steps first (default 2)
  --cpu-steps N     measure: timed steps on the slow cpu backend (default 1)
  --backends a,b    measure: only these backends (default all that start)
  -h, --help        this text`;

function value(args: string[], flag: string): string | undefined {
  const i = args.indexOf(flag);
  if (i < 0) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith("--")) throw new TypeError(`${flag} needs a value`);
  return v;
}

function count(args: string[], flag: string): number | undefined {
  const v = value(args, flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) {
    throw new RangeError(`${flag} must be a non-negative integer, got '${v}'`);
  }
  return n;
}

function fmtErr(x: number | undefined): string {
  return x === undefined ? "-" : x.toExponential(1);
}

async function measure(args: string[]): Promise<number> {
  const { measureBackends } = await import("../backend_measure/measure.ts");
  const list = value(args, "--backends");
  const backends = list?.split(",").map((s) => s.trim()) as BackendName[] | undefined;
  for (const b of backends ?? []) {
    if (!(BACKEND_NAMES as readonly string[]).includes(b)) {
      throw new RangeError(`--backends: unknown backend '${b}'; expected ${BACKEND_NAMES}`);
    }
  }
  const path = value(args, "--out") ?? defaultMeasurementPath();
  const opts = {
    steps: count(args, "--steps"),
    warmup: count(args, "--warmup"),
    cpuSteps: count(args, "--cpu-steps"),
  };
  const slow = !backends || backends.includes("cpu")
    ? " (the cpu step takes a minute or more)"
    : "";
  console.error(`checking conformance and timing training steps of each backend${slow}`);
  const rec = await measureBackends({ backends, path, ...opts });
  const c = rec.config;
  console.log(
    `training step: ${
      (rec.params / 1e6).toFixed(2)
    }M-param GPT (vocab ${c.vocab}, d ${c.dModel}, ` +
      `${c.layers} layers, ${c.heads} heads), batch ${c.batch} x ${c.seqLen} tokens, Adam; ` +
      `forward + backward + update; median wall and process-CPU time per step, steps ` +
      `interleaved across backends`,
  );
  console.log(
    "backend     step ms    cpu ms   conformance (max rel. error vs cpu)   adapter",
  );
  for (const r of rec.results) {
    const conf = r.conformance
      ? `${r.conformance.ok ? "pass" : "FAIL"} ${fmtErr(r.conformance.maxError)} ` +
        `(tol ${fmtErr(r.conformance.tolerance)})`
      : "-";
    const ms = r.stepMs === undefined ? "-" : r.stepMs.toFixed(0);
    const cpu = r.stepCpuMs === undefined ? "-" : r.stepCpuMs.toFixed(0);
    const where = r.started ? r.adapter ?? "" : `not available: ${r.error}`;
    console.log(
      `${r.name.padEnd(11)} ${ms.padStart(7)}   ${cpu.padStart(7)}   ${conf.padEnd(36)}  ${where}`,
    );
  }
  console.log(`order: ${rec.order.join(" > ") || "(none passed)"}; written to ${path}`);
  return rec.order.length > 0 ? 0 : 1;
}

/**
 * Entry point of `lab backend`.
 *
 * @example
 * ```ts
 * import { backendCommand } from "./backend.ts";
 * await backendCommand(["--backend", "cpu"]);
 * ```
 */
export async function backendCommand(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (args.includes("--measure")) return await measure(args);
  const backend = value(args, "--backend") as BackendName | "auto" | undefined;
  const report = await initBackend(backend ? { backend } : {});
  console.error(formatBackendReport(report));
  console.log(JSON.stringify(report, null, 2));
  return 0;
}
