/**
 * Trainer checkpoints: everything needed to continue a run exactly. A checkpoint is a directory
 * `checkpoints/step-NNNNNN/` in the run directory with
 * - `weights.safetensors`: the trained variables (f32, by the scorer's variable names);
 * - `optimizer.safetensors`: the optimizer's slot tensors (`<variable index>/<slot>`);
 * - `state.json`: step, data-order position, seed, optimizer spec and step count, callback
 *   state, elapsed training time and the settings a resume must match.
 *
 * It is written to a temporary directory (each file and the folder fsynced) and renamed into
 * place, then `checkpoints/` is fsynced, so a crash or power cut while saving leaves the
 * previous checkpoint as the latest complete one.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { encodeSafetensors, readSafetensors } from "../models/safetensors.ts";
import type { OptimizerState, SavedTensor } from "./optimizers.ts";
import type { ObjectiveState } from "../objectives/types.ts";
import { faultPoint } from "./fault.ts";
import { syncDir } from "../output.ts";

/** The JSON part of a checkpoint. */
export interface CheckpointState {
  /** Format tag. */
  format: "dpo-lab-trainer-checkpoint/1";
  /** Optimizer steps completed. */
  step: number;
  /** Data-order position of the next step: epoch index and window index within it. */
  position: { epoch: number; window: number };
  /** The run's seed (data order is a function of seed and epoch index). */
  seed: number;
  /** Optimizer specification and update count. */
  optimizer: { spec: OptimizerState["spec"]; steps: number };
  /** Callback states by callback name. */
  callbacks: Record<string, unknown>;
  /** Running statistics of a stateful objective (BCO's running mean, α-DPO's EMAs). */
  objective?: ObjectiveState;
  /** Seconds of training before this checkpoint (continues `time_s` after a resume). */
  elapsedSeconds: number;
  /** Settings a resumed run must share with the run that wrote the checkpoint. */
  settings: Record<string, unknown>;
}

/** A checkpoint loaded into memory. */
export interface Checkpoint {
  state: CheckpointState;
  /** Variable values by name. */
  weights: Map<string, SavedTensor>;
  /** Optimizer state (slots included). */
  optimizer: OptimizerState;
}

function join(dir: string, file: string): string {
  return dir.endsWith("/") ? dir + file : `${dir}/${file}`;
}

/**
 * Directory name of the checkpoint after `step` steps.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkpointName } from "./checkpoint.ts";
 * assert.equal(checkpointName(42), "step-000042");
 * ```
 */
export function checkpointName(step: number): string {
  return `step-${String(step).padStart(6, "0")}`;
}

/**
 * Save a checkpoint under `<runDir>/checkpoints/`, keeping the newest `keep` (default 2), with
 * `extra` files (name → bytes) beside the standard ones. Returns its directory.
 *
 * @example
 * ```ts ignore
 * await saveCheckpoint(runDir, { state, weights, optimizer }, { keep: 3 });
 * ```
 */
export async function saveCheckpoint(
  runDir: string,
  ckpt: Checkpoint,
  opts: { keep?: number; extra?: Record<string, Uint8Array> } = {},
): Promise<string> {
  const root = join(runDir, "checkpoints");
  await Deno.mkdir(root, { recursive: true });
  const final = join(root, checkpointName(ckpt.state.step));
  const tmp = `${final}.tmp-${crypto.randomUUID().slice(0, 8)}`;
  await Deno.mkdir(tmp);
  await writeSynced(join(tmp, "weights.safetensors"), encodeSafetensors(ckpt.weights));
  faultPoint("checkpoint");
  await writeSynced(join(tmp, "optimizer.safetensors"), encodeSafetensors(ckpt.optimizer.slots));
  await writeSynced(
    join(tmp, "state.json"),
    new TextEncoder().encode(JSON.stringify(ckpt.state, null, 2)),
  );
  // Extra files (a moving reference's weights) land in the same atomic rename.
  for (const [name, bytes] of Object.entries(opts.extra ?? {})) {
    await writeSynced(join(tmp, name), bytes);
  }
  await syncDir(tmp);
  await Deno.remove(final, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  await Deno.rename(tmp, final);
  // The rename is durable only once the folder holding it is flushed.
  await syncDir(root);
  const keep = opts.keep ?? 2;
  if (keep > 0) {
    const all = await listCheckpoints(runDir);
    for (const old of all.slice(0, Math.max(0, all.length - keep))) {
      await Deno.remove(old.dir, { recursive: true });
    }
  }
  return final;
}

/** Write a file and flush it to the disk before returning (a rename after it is then durable). */
async function writeSynced(path: string, data: Uint8Array): Promise<void> {
  const f = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    let off = 0;
    while (off < data.length) off += await f.write(data.subarray(off));
    await f.sync();
  } finally {
    f.close();
  }
}

/**
 * Complete checkpoints of a run directory, oldest first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listCheckpoints } from "./checkpoint.ts";
 * assert.deepEqual(await listCheckpoints(await Deno.makeTempDir()), []);
 * ```
 */
export async function listCheckpoints(runDir: string): Promise<{ step: number; dir: string }[]> {
  const root = join(runDir, "checkpoints");
  const out: { step: number; dir: string }[] = [];
  try {
    for await (const e of Deno.readDir(root)) {
      const m = e.isDirectory ? /^step-(\d+)$/.exec(e.name) : null;
      if (m) out.push({ step: Number(m[1]), dir: join(root, e.name) });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => a.step - b.step);
}

/**
 * Load a checkpoint directory.
 *
 * @example
 * ```ts ignore
 * const ckpt = await loadCheckpoint("runs/a/checkpoints/step-000010");
 * console.log(ckpt.state.step);
 * ```
 */
export async function loadCheckpoint(dir: string): Promise<Checkpoint> {
  const statePath = join(dir, "state.json");
  let state: CheckpointState;
  try {
    state = JSON.parse(await Deno.readTextFile(statePath));
  } catch (e) {
    throw new TypeError(`${statePath}: cannot read checkpoint state (${(e as Error).message})`);
  }
  if (state.format !== "dpo-lab-trainer-checkpoint/1") {
    throw new TypeError(`${statePath}: unknown checkpoint format ${JSON.stringify(state.format)}`);
  }
  const weights = await readSafetensors(join(dir, "weights.safetensors"));
  const slots = await readSafetensors(join(dir, "optimizer.safetensors"));
  return {
    state,
    weights,
    optimizer: { spec: state.optimizer.spec, steps: state.optimizer.steps, slots },
  };
}

/**
 * Copy variable values into a map for {@link saveCheckpoint}.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { readWeights } from "./checkpoint.ts";
 * const w = await readWeights([tf.variable(tf.ones([2]))], ["w"]);
 * assert.deepEqual(Array.from(w.get("w")!.values), [1, 1]);
 * ```
 */
export async function readWeights(
  vars: readonly tf.Variable[],
  names: readonly string[],
): Promise<Map<string, SavedTensor>> {
  const out = new Map<string, SavedTensor>();
  for (let i = 0; i < vars.length; i++) {
    if (out.has(names[i])) throw new RangeError(`duplicate variable name '${names[i]}'`);
    const v = vars[i];
    if (v.dtype !== "float32") {
      throw new TypeError(`variable '${names[i]}' is ${v.dtype}; checkpoints hold float32 only`);
    }
    out.set(names[i], { shape: [...v.shape], values: (await v.data()) as Float32Array });
  }
  return out;
}

/**
 * Assign saved values to variables, checking that every name is present with the same shape.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { assignWeights } from "./checkpoint.ts";
 * const v = tf.variable(tf.zeros([2]));
 * assignWeights([v], ["w"], new Map([["w", { shape: [2], values: new Float32Array([3, 4]) }]]));
 * assert.deepEqual(Array.from(v.dataSync()), [3, 4]);
 * ```
 */
export function assignWeights(
  vars: readonly tf.Variable[],
  names: readonly string[],
  weights: Map<string, SavedTensor>,
): void {
  for (let i = 0; i < vars.length; i++) {
    const w = weights.get(names[i]);
    if (!w) throw new RangeError(`checkpoint has no weights for variable '${names[i]}'`);
    if (!tf.util.arraysEqual(w.shape, vars[i].shape)) {
      throw new RangeError(
        `checkpoint weights '${names[i]}' have shape [${w.shape}], variable [${vars[i].shape}]`,
      );
    }
    tf.tidy(() => vars[i].assign(tf.tensor(w.values, w.shape, "float32")));
  }
}
