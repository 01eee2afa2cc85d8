/**
 * The GPU check (`scripts/gpu/gpu_check.sh`, `deno task gpu-check`): `lab bench` on `webgpu`
 * and `wasm` (each backend's conformance test against `cpu` comes first in every bench run),
 * the shipped model and GPT-2 small (124M, random init), against the PyTorch peer (CUDA where
 * torch sees a GPU), without the long trainer measurements (trackers, 1,000-step memory,
 * profile), so that it fits 8 minutes. Writes `bench/results-gpu-<gpu>.json` and
 * `out/gpu-check/BENCHMARKS.md`, the GPU named in both. Extra arguments go to `lab bench`
 * (e.g. `--quick` for the shipped model only, `--backends wasm`); `--report` alone prints the
 * webgpu and wasm backend reports and stops.
 *
 * Runs with the bundle's narrowed import map (scripts/gpu/config.json): only tfjs's packages.
 *
 * @module
 */
import { formatBackendReport, initBackend } from "../../lib/backend.ts";
import { benchCommand } from "../../tools/bench/cli.ts";
import { nvidiaGpuName } from "../../tools/bench/machine.ts";

// `--report`: only start webgpu and wasm and print their reports (a first diagnosis on a new
// machine: is the Vulkan driver found, which adapter, which BLAS).
if (Deno.args[0] === "--report") {
  let failed = 0;
  for (const backend of ["webgpu", "wasm"] as const) {
    try {
      console.log(formatBackendReport(await initBackend({ backend })));
    } catch (e) {
      failed++;
      console.log(`${backend}: ${(e as Error).message}`);
    }
  }
  Deno.exit(failed ? 1 : 0);
}

const gpu = await nvidiaGpuName();
const slug = (gpu ?? "no-nvidia-gpu").split(/[,;]/)[0]!.toLowerCase().replace(
  /[^a-z0-9]+/g,
  "-",
)
  .replace(/^-|-$/g, "");
console.error(`[gpu-check] GPU: ${gpu ?? "none found by nvidia-smi"}`);
const has = (flag: string) => Deno.args.includes(flag);
const args = [
  ...(has("--backends") ? [] : ["--backends", "webgpu,wasm"]),
  ...(has("--skip") ? [] : ["--skip", "trackers,memory,profile"]),
  ...(has("--json") ? [] : ["--json", `bench/results-gpu-${slug}.json`]),
  ...(has("--md") ? [] : ["--md", "out/gpu-check/BENCHMARKS.md"]),
  ...Deno.args,
];
console.error(`[gpu-check] lab bench ${args.join(" ")}`);
Deno.exit(await benchCommand(args));
