/**
 * The PyTorch peer: the same DPO workload run by `scripts/bench/torch_peer.py` in the same
 * benchmark run, so our throughput can be given as a ratio to what a PyTorch user would get on
 * the same machine.
 *
 * Availability is decided at run time: the peer runs when some Python can import `torch`. On
 * Debian, `python3-torch` installs for `/usr/bin/python3`, which is often not the `python3`
 * first on PATH (pyenv), so `/usr/bin/python3` is tried first. Nothing here is needed by the
 * library or its tests; `scripts/bench/install_peer.sh` installs the peer.
 *
 * @module
 */
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import type { DpoStepSettings } from "./steps.ts";

/** The peer script, relative to the repository root. */
export const PEER_SCRIPT = "scripts/bench/torch_peer.py";

/** Pythons tried in order when none is given: Debian's system Python first. */
export const DEFAULT_PYTHONS: readonly string[] = ["/usr/bin/python3", "python3"];

/** What a probe of one Python found. */
export interface PeerInfo {
  available: boolean;
  /** The interpreter that was probed (the first that imports torch, or the last tried). */
  python: string;
  torch?: string;
  cuda?: boolean;
  /** Why the peer is unavailable, one line per Python tried. */
  reason?: string;
}

/** Runs a command and returns its exit status and output; a missing program is status 127. */
export type Runner = (
  cmd: string,
  args: string[],
) => Promise<{ code: number; stdout: string; stderr: string }>;

/** The {@link Runner} that spawns real processes. */
export const denoRunner: Runner = async (cmd, args) => {
  try {
    const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return { code: 127, stdout: "", stderr: `${cmd}: not found` };
    }
    throw e;
  }
};

/**
 * Finds a Python that imports torch, by running the peer script's `--probe` with each of
 * `pythons`. Never throws for a missing or broken Python: the result says why.
 *
 * @example
 * ```ts
 * import { detectPeer } from "./peer.ts";
 * const fake = () => Promise.resolve({ code: 127, stdout: "", stderr: "not found" });
 * const p = await detectPeer({ pythons: ["nopython"], run: fake });
 * console.log(p.available, p.reason); // false "nopython: exit 127: not found"
 * ```
 */
export async function detectPeer(
  opts: { pythons?: readonly string[]; script?: string; run?: Runner } = {},
): Promise<PeerInfo> {
  const pythons = opts.pythons ?? DEFAULT_PYTHONS;
  const run = opts.run ?? denoRunner;
  const reasons: string[] = [];
  for (const python of pythons) {
    const r = await run(python, [opts.script ?? PEER_SCRIPT, "--probe"]);
    if (r.code !== 0) {
      reasons.push(`${python}: exit ${r.code}: ${firstLine(r.stderr || r.stdout)}`);
      continue;
    }
    let probe: { ok?: boolean; torch?: string; cuda?: boolean; error?: string };
    try {
      probe = JSON.parse(r.stdout.trim().split("\n").at(-1) ?? "");
    } catch {
      reasons.push(`${python}: probe printed no JSON: ${firstLine(r.stdout)}`);
      continue;
    }
    if (probe.ok) return { available: true, python, torch: probe.torch, cuda: probe.cuda };
    reasons.push(`${python}: ${probe.error ?? "torch does not import"}`);
  }
  return { available: false, python: pythons.at(-1) ?? "", reason: reasons.join("; ") };
}

function firstLine(s: string): string {
  return s.trim().split("\n")[0] ?? "";
}

/** The OpenBLAS a CPU peer ran on, as torch_peer.py reads it from the loaded library. */
export interface PeerOpenBlas {
  library: string;
  config: string;
  core_name: string;
  threads: number;
  /** OPENBLAS_CORETYPE: respected when set ("environment"), else chosen from the CPU's flags. */
  core_type: { value: string | null; source: "environment" | "cpuinfo" | "library" };
}

/** The JSON the peer script reads. */
export interface PeerSpec {
  device: "auto" | "cpu" | "cuda";
  /** Intra-op threads for torch (default: torch's own choice). */
  threads?: number;
  model: { config: Record<string, unknown>; weights: string };
  batches: {
    pairs: number;
    length: number;
    input_ids: number[];
    attention_mask: number[];
    completion_mask: number[];
  }[];
  tasks: ("dpo" | "score")[];
  dpo: {
    /** "model": a frozen copy scores each batch; "precomputed": scored once before step 1. */
    reference: "model" | "precomputed";
    beta: number;
    lr: number;
    beta1: number;
    beta2: number;
    eps: number;
    weight_decay: number;
    warmup: number;
    steps: number;
  };
  score: { warmup: number; repeats: number };
  /** Plain float32 products `[m, k] x [k, n]` to time (median of `repeats`). */
  matmul?: { shapes: number[][]; repeats: number };
  /** CHES over pairs in batches (rows chosen first), each pass timed whole. */
  ches?: {
    batches: (PeerSpec["batches"][number] & {
      prompt_length: number[];
      completion_length: number[];
    })[];
    warmup: number;
    repeats: number;
  };
}

/** What the peer script prints. */
export interface PeerResult {
  torch: string;
  device: string;
  device_name: string;
  threads: number;
  /** BLAS libraries the process mapped. */
  blas: string[];
  /**
   * The OpenBLAS the peer's torch loaded (CPU only; absent or null without one): its config
   * string, the core name whose kernels it runs, and its threads (set to the peer's count).
   */
  openblas?: PeerOpenBlas | null;
  params: number;
  /** Summed completion log-probs of the first batch's rows before any update. */
  first_batch_logps: number[];
  score?: { times_ms: number[]; cpu_ms: number[] };
  dpo?: { losses: number[]; times_ms: number[]; cpu_ms: number[]; peak_bytes?: number };
  /** CHES of every pair (last pass) and the pass times. */
  ches?: { values: number[]; times_ms: number[]; cpu_ms: number[] };
  max_rss_bytes?: number;
  /** Median ms of each product of `spec.matmul`. */
  matmul?: { shape: number[]; ms: number }[];
}

/**
 * The peer spec for a workload. The DPO settings must be AdamW's (the peer runs
 * `torch.optim.AdamW`).
 *
 * @example
 * ```ts
 * import { peerSpec } from "./peer.ts";
 * import { DEFAULT_DPO_SETTINGS } from "./steps.ts";
 * import { syntheticBatches } from "./workload.ts";
 * const batches = syntheticBatches(50, { pairs: 1, length: 4, promptLength: 2 }, 1);
 * const spec = peerSpec({ config: {}, weights: "/tmp/w.safetensors", batches,
 *   settings: DEFAULT_DPO_SETTINGS, dpoSteps: 3, dpoWarmup: 1, scoreRepeats: 3 });
 * console.log(spec.batches[0].input_ids.length, spec.dpo.weight_decay); // 8 0.01
 * ```
 */
export function peerSpec(opts: {
  config: Record<string, unknown>;
  weights: string;
  batches: readonly PreferenceBatch[];
  settings: DpoStepSettings;
  dpoSteps: number;
  dpoWarmup: number;
  scoreRepeats: number;
  scoreWarmup?: number;
  threads?: number;
  device?: PeerSpec["device"];
  tasks?: PeerSpec["tasks"];
  reference?: PeerSpec["dpo"]["reference"];
  matmul?: PeerSpec["matmul"];
  /** CHES batches (collated pairs) and pass repeats, when CHES is timed. */
  chesPasses?: { batches: readonly PreferenceBatch[]; repeats: number };
}): PeerSpec {
  const o = opts.settings.optimizer;
  if (o.name !== "adamw") {
    throw new TypeError(`peerSpec: the peer runs AdamW; settings.optimizer is ${o.name}`);
  }
  return {
    device: opts.device ?? "auto",
    ...(opts.threads ? { threads: opts.threads } : {}),
    model: { config: opts.config, weights: opts.weights },
    batches: opts.batches.map(batchJson),
    tasks: opts.tasks ?? ["dpo", "score"],
    dpo: {
      reference: opts.reference ?? "model",
      beta: opts.settings.beta,
      lr: opts.settings.lr,
      beta1: o.beta1 ?? 0.9,
      beta2: o.beta2 ?? 0.999,
      eps: o.eps ?? 1e-8,
      weight_decay: o.weightDecay ?? 0.01,
      warmup: opts.dpoWarmup,
      steps: opts.dpoSteps,
    },
    score: { warmup: opts.scoreWarmup ?? 1, repeats: opts.scoreRepeats },
    ...(opts.matmul ? { matmul: opts.matmul } : {}),
    ...(opts.chesPasses
      ? {
        ches: {
          batches: opts.chesPasses.batches.map((b) => ({
            ...batchJson(b),
            prompt_length: Array.from(b.promptLength),
            completion_length: Array.from(b.completionLength),
          })),
          warmup: 1,
          repeats: opts.chesPasses.repeats,
        },
      }
      : {}),
  };
}

function batchJson(b: PreferenceBatch): PeerSpec["batches"][number] {
  return {
    pairs: b.size,
    length: b.length,
    input_ids: Array.from(b.inputIds),
    attention_mask: Array.from(b.attentionMask),
    completion_mask: Array.from(b.completionMask),
  };
}

/**
 * Checks the shape of what the peer printed, naming the first field that is wrong.
 *
 * @example
 * ```ts
 * import { parsePeerResult } from "./peer.ts";
 * const r = parsePeerResult('{"torch":"1.13","device":"cpu","device_name":"cpu","threads":2,"blas":[],"params":10,"first_batch_logps":[-1,-2]}');
 * console.log(r.torch); // "1.13"
 * ```
 */
export function parsePeerResult(text: string): PeerResult {
  const line = text.trim().split("\n").at(-1) ?? "";
  let r: Record<string, unknown>;
  try {
    r = JSON.parse(line);
  } catch {
    throw new SyntaxError(`torch peer: last output line is not JSON: '${line.slice(0, 200)}'`);
  }
  for (const k of ["torch", "device", "device_name"]) {
    if (typeof r[k] !== "string") throw new TypeError(`torch peer result: '${k}' is not a string`);
  }
  for (const k of ["threads", "params"]) {
    if (typeof r[k] !== "number") throw new TypeError(`torch peer result: '${k}' is not a number`);
  }
  if (!Array.isArray(r.first_batch_logps)) {
    throw new TypeError("torch peer result: 'first_batch_logps' is not a list");
  }
  for (const k of ["dpo", "score"]) {
    const t = r[k] as Record<string, unknown> | undefined;
    if (t !== undefined && !Array.isArray(t.times_ms)) {
      throw new TypeError(`torch peer result: '${k}.times_ms' is not a list`);
    }
  }
  if (r.matmul !== undefined) {
    const ok = Array.isArray(r.matmul) &&
      (r.matmul as { shape?: unknown; ms?: unknown }[]).every((m) =>
        Array.isArray(m.shape) && typeof m.ms === "number"
      );
    if (!ok) throw new TypeError("torch peer result: 'matmul' is not a list of {shape, ms}");
  }
  return r as unknown as PeerResult;
}

/**
 * Runs the peer on a spec (written to `specPath`) and returns its result; throws with the
 * peer's stderr tail when it fails.
 *
 * @example
 * ```ts ignore
 * const r = await runPeer("/usr/bin/python3", spec, "/tmp/peer-spec.json");
 * console.log(r.dpo?.times_ms);
 * ```
 */
export async function runPeer(
  python: string,
  spec: PeerSpec,
  specPath: string,
  opts: { script?: string; run?: Runner } = {},
): Promise<PeerResult> {
  await Deno.writeTextFile(specPath, JSON.stringify(spec));
  const r = await (opts.run ?? denoRunner)(python, [opts.script ?? PEER_SCRIPT, specPath]);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split("\n").slice(-5).join(" | ");
    throw new Error(`torch peer (${python}) exited ${r.code}: ${tail}`);
  }
  return parsePeerResult(r.stdout);
}

/** Agreement of our first-batch numbers with the peer's. */
export interface PeerSanity {
  /** max |ours - peer| over the first batch's summed log-probs, relative to max |peer|. */
  logpRelError: number;
  /** Our and the peer's DPO loss at each step, in order (warm-up steps included). */
  losses: { ours: number[]; peer: number[] };
  /** max |ours - peer| of the losses over the steps both ran. */
  lossAbsError: number;
  /** True when logps agree to 1e-4 and every loss both sides ran to 1e-3. */
  ok: boolean;
}

/**
 * Compares our first-batch log-probs and per-step losses with the peer's.
 *
 * @example
 * ```ts
 * import { peerSanity } from "./peer.ts";
 * const s = peerSanity({ logps: [-10, -20], losses: [0.6931, 0.69] },
 *   { logps: [-10.0001, -20], losses: [0.6931, 0.6902] });
 * console.log(s.ok, s.lossAbsError.toFixed(4)); // true 0.0002
 * ```
 */
export function peerSanity(
  ours: { logps: readonly number[]; losses: readonly number[] },
  peer: { logps: readonly number[]; losses: readonly number[] },
): PeerSanity {
  if (ours.logps.length !== peer.logps.length) {
    throw new RangeError(
      `peerSanity: ${ours.logps.length} log-probs of ours vs ${peer.logps.length} of the peer`,
    );
  }
  let diff = 0, scale = 0;
  ours.logps.forEach((x, i) => {
    diff = Math.max(diff, Math.abs(x - peer.logps[i]!));
    scale = Math.max(scale, Math.abs(peer.logps[i]!));
  });
  const logpRelError = scale === 0 ? diff : diff / scale;
  const n = Math.min(ours.losses.length, peer.losses.length);
  let lossAbsError = 0;
  for (let i = 0; i < n; i++) {
    lossAbsError = Math.max(lossAbsError, Math.abs(ours.losses[i]! - peer.losses[i]!));
  }
  return {
    logpRelError,
    losses: { ours: [...ours.losses], peer: [...peer.losses] },
    lossAbsError,
    // Without steps on our side (a model too large to train here) the log-probs decide alone.
    ok: Number.isFinite(logpRelError) && logpRelError <= 1e-4 && lossAbsError <= 1e-3,
  };
}
