/**
 * `lab bench`: measure training and scoring throughput on every backend, against PyTorch when
 * it is installed, and write the results (JSON) and BENCHMARKS.md.
 *
 * @example
 * ```sh
 * deno task bench --quick          # a few minutes; writes under out/bench/
 * deno task bench                  # the full run (~20 min); writes bench/ and BENCHMARKS.md
 * deno task bench --install-peer   # apt-get install Debian's PyTorch first (root)
 * ```
 *
 * @module
 */
import { BACKEND_NAMES, type BackendName } from "../../lib/backend.ts";
import { type BenchOptions, runBench } from "./run.ts";
import { machineSlug, renderResults } from "./report.ts";
import { describeMachine } from "./machine.ts";
import { checkBenchOutputs, writeBenchOutputs } from "./write.ts";
import { prepareOutput, writeOutput } from "../../lib/output.ts";
import { runScale } from "./scale.ts";
import { DEFAULT_SCALE_MODELS, SCALE_MODELS } from "./scale_models.ts";

/** Parsed command-line options. */
export interface BenchArgs {
  quick: boolean;
  backends?: BackendName[];
  modelDir?: string;
  skipLarge: boolean;
  peer: boolean;
  installPeer: boolean;
  python?: string;
  peerThreads?: number;
  memorySteps?: number;
  skip: Set<"trackers" | "memory" | "profile">;
  /** Where to write the results JSON (default: bench/results-<machine>.json; quick: out/bench/). */
  json?: string;
  /** Where to write the markdown (default: BENCHMARKS.md; quick: out/bench/BENCHMARKS.md). */
  md?: string;
  /** Replace an existing results file (default: refuse it before measuring). */
  force?: boolean;
  /** Run the scale task (tools/bench/scale.ts) instead of the default bench. */
  scale?: boolean;
  /** Models of the scale task (default: DEFAULT_SCALE_MODELS). */
  scaleModels?: string[];
}

const USAGE = `usage: lab bench [options]

Measures a DPO training step, forward-only scoring, reference-logp precomputation and CHES
scoring on every tfjs backend that starts here, runs the same workload in PyTorch when
/usr/bin/python3 (or python3) imports torch, measures tracker overhead and memory over 1,000
steps, profiles the default backend's step, and writes the results JSON and BENCHMARKS.md.

options:
  --quick             short runs, small shapes, no 124M model; writes under out/bench/
  --backends a,b      backends to measure (default: all of ${BACKEND_NAMES.join(", ")} that start)
  --model DIR         the shipped model's checkpoint directory (default: data/models/tiny)
  --no-large          skip the GPT-2 small (124M) model
  --no-peer           do not run the PyTorch peer
  --install-peer      install Debian's python3-torch (and OpenBLAS) first; needs root
  --python PATH       the Python that imports torch (default: /usr/bin/python3, then python3)
  --peer-threads N    torch intra-op threads (default: all cores)
  --memory-steps N    steps of the memory check (default 1000; quick 40)
  --skip LIST         any of trackers,memory,profile
  --json PATH         results file (default bench/results-<machine>.json)
  --md PATH           markdown file whose generated block is rewritten (default BENCHMARKS.md)
  --force             replace an existing results file (default: refuse it before measuring)
  --scale             instead: the scale task (GPT-2 small/medium DPO steps and a 1.1B Llama's
                      scoring on the cpu backend's fast kernels, against the peer; ~40 min);
                      writes bench/scale-<machine>.json (or --json)
  --scale-models LIST any of ${Object.keys(SCALE_MODELS).join(",")}
                      (default ${DEFAULT_SCALE_MODELS.join(",")})`;

function positiveInt(v: string | undefined, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new RangeError(`${flag}: expected a positive integer, got '${v ?? ""}'`);
  }
  return n;
}

/**
 * Parses `lab bench` arguments; every error names the flag.
 *
 * @example
 * ```ts
 * import { parseBenchArgs } from "./cli.ts";
 * const a = parseBenchArgs(["--quick", "--backends", "wasm,cpu", "--skip", "memory"]);
 * console.log(a.quick, a.backends, [...a.skip]); // true ["wasm", "cpu"] ["memory"]
 * ```
 */
export function parseBenchArgs(args: string[]): BenchArgs {
  const out: BenchArgs = {
    quick: false,
    skipLarge: false,
    peer: true,
    installPeer: false,
    skip: new Set(),
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = () => {
      const v = args[++i];
      if (v === undefined || v.startsWith("--")) throw new RangeError(`${a}: missing value`);
      return v;
    };
    switch (a) {
      case "--quick":
        out.quick = true;
        break;
      case "--backends":
        out.backends = value().split(",").map((b) => {
          if (!(BACKEND_NAMES as readonly string[]).includes(b)) {
            throw new RangeError(
              `--backends: unknown backend '${b}' (${BACKEND_NAMES.join(", ")})`,
            );
          }
          return b as BackendName;
        });
        break;
      case "--model":
        out.modelDir = value();
        break;
      case "--no-large":
        out.skipLarge = true;
        break;
      case "--no-peer":
        out.peer = false;
        break;
      case "--install-peer":
        out.installPeer = true;
        break;
      case "--python":
        out.python = value();
        break;
      case "--peer-threads":
        out.peerThreads = positiveInt(value(), a);
        break;
      case "--memory-steps":
        out.memorySteps = positiveInt(value(), a);
        if (out.memorySteps < 11) {
          throw new RangeError(`--memory-steps: at least 11 (step 10 is compared)`);
        }
        break;
      case "--skip":
        for (const s of value().split(",")) {
          if (s !== "trackers" && s !== "memory" && s !== "profile") {
            throw new RangeError(`--skip: unknown part '${s}' (trackers, memory, profile)`);
          }
          out.skip.add(s);
        }
        break;
      case "--json":
        out.json = value();
        break;
      case "--md":
        out.md = value();
        break;
      case "--force":
        out.force = true;
        break;
      case "--scale":
        out.scale = true;
        break;
      case "--scale-models":
        out.scaleModels = value().split(",").map((m) => {
          if (!SCALE_MODELS[m]) {
            throw new RangeError(
              `--scale-models: unknown model '${m}' (${Object.keys(SCALE_MODELS).join(", ")})`,
            );
          }
          return m;
        });
        break;
      default:
        throw new RangeError(`unknown option '${a}'\n\n${USAGE}`);
    }
  }
  return out;
}

async function installPeer(): Promise<void> {
  const out = await new Deno.Command("bash", {
    args: ["scripts/bench/install_peer.sh"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) throw new Error(`scripts/bench/install_peer.sh exited ${out.code}`);
}

/**
 * The `lab bench` command.
 *
 * @example
 * ```ts ignore
 * await benchCommand(["--quick", "--no-peer"]);
 * ```
 */
export async function benchCommand(args: string[]): Promise<number> {
  if (args.includes("-h") || args.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  const a = parseBenchArgs(args);
  const slug = machineSlug(await describeMachine());
  if (a.scale) {
    const scaleJson = a.json ?? `bench/scale-${slug}.json`;
    await prepareOutput(scaleJson, { force: a.force === true });
    if (a.installPeer) await installPeer();
    return await scaleCommand(a, scaleJson);
  }
  // The outputs are settled before measuring, so a long run never ends refused.
  const json = a.json ?? defaultJson(a.quick, slug);
  const md = a.md ?? (a.quick ? "out/bench/BENCHMARKS.md" : "BENCHMARKS.md");
  await checkBenchOutputs(json, md, a.force === true);
  if (a.installPeer) await installPeer();
  const opts: BenchOptions = {
    quick: a.quick,
    backends: a.backends,
    modelDir: a.modelDir,
    skipLarge: a.skipLarge,
    peer: a.peer,
    pythons: a.python ? [a.python] : undefined,
    peerThreads: a.peerThreads,
    memorySteps: a.memorySteps,
    skipTrackers: a.skip.has("trackers"),
    skipMemory: a.skip.has("memory"),
    skipProfile: a.skip.has("profile"),
    tmpDir: await Deno.makeTempDir({ prefix: "dpo-lab-bench-" }),
    log: (line) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`),
  };
  try {
    const r = await runBench(opts);
    await writeBenchOutputs(json, JSON.stringify(r, null, 2) + "\n", md, renderResults(r, json));
    console.log(`wrote ${json} and ${md}`);
    for (const g of r.goals) {
      console.log(
        `goal ${g.id}: ${g.measured} (target ${g.targetText}) ${
          g.met === null ? "n/a" : g.met ? "met" : "NOT met"
        }`,
      );
    }
    return 0;
  } finally {
    await Deno.remove(opts.tmpDir, { recursive: true }).catch(() => {});
  }
}

function defaultJson(quick: boolean, slug: string): string {
  return quick ? `out/bench/results-${slug}-quick.json` : `bench/results-${slug}.json`;
}

/** `lab bench --scale`: runs tools/bench/scale.ts and writes its results JSON. */
async function scaleCommand(a: BenchArgs, json: string): Promise<number> {
  const tmpDir = await Deno.makeTempDir({ prefix: "dpo-lab-scale-" });
  try {
    const r = await runScale({
      models: a.scaleModels,
      threads: a.peerThreads ? [a.peerThreads] : undefined,
      peer: a.peer,
      pythons: a.python ? [a.python] : undefined,
      tmpDir,
      log: (line) => console.error(`[scale ${new Date().toISOString().slice(11, 19)}] ${line}`),
    });
    await writeOutput(json, JSON.stringify(r, null, 2) + "\n", { force: a.force === true });
    for (const f of r.figures) {
      const rss = f.peakRssBytes ? `, peak RSS ${(f.peakRssBytes / 2 ** 30).toFixed(2)} GiB` : "";
      console.log(
        `${f.model} ${f.task} ${f.backend}: ${f.rate.median.toFixed(2)} ${f.unit} ` +
          `(${(f.wallMs.median / 1000).toFixed(1)} s per run${rss})`,
      );
    }
    for (const g of r.goals) {
      console.log(
        `goal ${g.id}: ${g.measured} (target ${g.targetText}) ${
          g.met === null ? "n/a" : g.met ? "met" : "NOT met"
        }`,
      );
    }
    for (const s of r.skipped) console.log(`skipped: ${s}`);
    console.log(`wrote ${json}`);
    return 0;
  } finally {
    await Deno.remove(tmpDir, { recursive: true }).catch(() => {});
  }
}
