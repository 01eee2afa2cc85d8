/**
 * A moving reference (TR-DPO, Gorbatovski et al., arXiv 2404.09656; TRL's `sync_ref_model`):
 * every `every` optimizer steps (τ) the reference is pulled toward the policy,
 * `π_ref ← α·π_θ + (1 − α)·π_ref`, parameter by parameter; α = 1 is the hard update (the
 * reference becomes a copy of the policy). Defaults α = 0.6, τ = 512 are TRL's
 * (`ref_model_mixup_alpha`, `ref_model_sync_steps` in `trl/trainer/dpo_config.py`). Semantics
 * read in TRL's `SyncRefModelCallback` (`trl/trainer/callbacks.py`): `on_step_end`, after the
 * optimizer step, when `global_step % ref_model_sync_steps == 0`, each reference parameter
 * becomes `(1 − α)·ref + α·policy` using the policy weights *after* that step's update.
 *
 * TRL refuses `sync_ref_model` with precomputed reference log-probs (they would go stale). Here
 * the precomputed values are recomputed under the moved reference instead, so both reference
 * kinds work: a frozen reference model is mixed in place; a precomputed reference keeps its
 * weights in memory ({@link ReferenceWeights}) and is rescored after each sync.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { PreferenceScorer } from "../core/scores.ts";
import { encodeSafetensors, readSafetensors } from "../models/safetensors.ts";

/** Settings of a moving reference. */
export interface RefSyncSpec {
  /** α, weight of the policy in the mix, in (0, 1] (default 0.6; 1 = hard sync). */
  alpha?: number;
  /** τ, optimizer steps between syncs (default 512). */
  every?: number;
}

/** A validated {@link RefSyncSpec} with defaults filled in. */
export interface RefSync {
  alpha: number;
  every: number;
}

/**
 * Check a moving-reference spec and fill TRL's defaults, naming the bad field.
 *
 * @example
 * ```ts
 * import { resolveRefSync } from "./ref_sync.ts";
 * console.log(resolveRefSync({}), resolveRefSync({ alpha: 1, every: 8 }));
 * // { alpha: 0.6, every: 512 } { alpha: 1, every: 8 }
 * ```
 */
export function resolveRefSync(spec: RefSyncSpec, where = "syncReference"): RefSync {
  if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
    throw new TypeError(`${where} must be an object`);
  }
  for (const k of Object.keys(spec)) {
    if (k !== "alpha" && k !== "every") {
      throw new TypeError(`${where}.${k} is not a field (known: alpha, every)`);
    }
  }
  const alpha = spec.alpha ?? 0.6, every = spec.every ?? 512;
  if (!(typeof alpha === "number" && alpha > 0 && alpha <= 1)) {
    throw new RangeError(`${where}.alpha must be in (0, 1], got ${JSON.stringify(alpha)}`);
  }
  if (!(Number.isInteger(every) && every >= 1)) {
    throw new RangeError(`${where}.every must be an integer >= 1, got ${JSON.stringify(every)}`);
  }
  return { alpha, every };
}

function checkShapes(target: readonly tf.Tensor[], source: readonly tf.Tensor[]): void {
  if (target.length !== source.length) {
    throw new RangeError(`reference has ${target.length} tensors, policy ${source.length}`);
  }
  target.forEach((t, i) => {
    if (t.shape.join(",") !== source[i].shape.join(",")) {
      throw new RangeError(
        `reference tensor ${i} has shape [${t.shape}], policy [${source[i].shape}]`,
      );
    }
  });
}

/**
 * `target ← α·source + (1 − α)·target` for each pair of variables, in place (TR-DPO's soft
 * update; α = 1 copies).
 *
 * @example α = 0.6 of (1, 2) into (0, 0)
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { mixInto } from "./ref_sync.ts";
 * const ref = tf.variable(tf.tensor1d([0, 0])), policy = tf.variable(tf.tensor1d([1, 2]));
 * mixInto([ref], [policy], 0.6);
 * console.log(Array.from(ref.dataSync())); // [0.6, 1.2] (float32)
 * ```
 */
export function mixInto(
  target: readonly tf.Variable[],
  source: readonly tf.Tensor[],
  alpha: number,
): void {
  checkShapes(target, source);
  target.forEach((t, i) => {
    const next = tf.tidy(() => mix(t, source[i], alpha));
    t.assign(next);
    next.dispose();
  });
}

function mix(target: tf.Tensor, source: tf.Tensor, alpha: number): tf.Tensor {
  return alpha === 1 ? tf.clone(source) : tf.add(tf.mul(source, alpha), tf.mul(target, 1 - alpha));
}

/**
 * Reference weights held in memory for a precomputed reference (no second model): a copy of
 * the weights the reference started from, moved by {@link ReferenceWeights.mix}, and lent to a
 * scorer by {@link ReferenceWeights.swapInto} while the reference log-probs are recomputed.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { ReferenceWeights } from "./ref_sync.ts";
 * const w = tf.variable(tf.tensor1d([1]));
 * const ref = ReferenceWeights.copyOf([w]);
 * w.assign(tf.tensor1d([3]));
 * ref.mix([w], 0.5); // reference 0.5·3 + 0.5·1 = 2
 * const seen = await ref.swapInto([w], async () => w.dataSync()[0]);
 * console.log(seen, w.dataSync()[0]); // 2 3
 * ref.dispose();
 * ```
 */
export class ReferenceWeights {
  private tensors: tf.Tensor[];

  private constructor(tensors: tf.Tensor[]) {
    this.tensors = tensors;
  }

  /** A copy of the current values of `vars`. */
  static copyOf(vars: readonly tf.Tensor[]): ReferenceWeights {
    return new ReferenceWeights(vars.map((v) => tf.keep(tf.clone(v))));
  }

  /** `ref ← α·policy + (1 − α)·ref`. */
  mix(policy: readonly tf.Tensor[], alpha: number): void {
    checkShapes(this.tensors, policy);
    this.tensors = this.tensors.map((t, i) => {
      const next = tf.keep(tf.tidy(() => mix(t, policy[i], alpha)));
      t.dispose();
      return next;
    });
  }

  /**
   * Run `f` with `vars` holding the reference weights, then put the variables' own values back
   * (also when `f` throws).
   */
  async swapInto<T>(vars: readonly tf.Variable[], f: () => Promise<T>): Promise<T> {
    checkShapes(this.tensors, vars);
    const saved = vars.map((v) => tf.clone(v));
    try {
      vars.forEach((v, i) => v.assign(this.tensors[i]));
      return await f();
    } finally {
      vars.forEach((v, i) => v.assign(saved[i]));
      tf.dispose(saved);
    }
  }

  /** Replace the reference values (shapes must match). */
  set(values: readonly tf.Tensor[]): void {
    checkShapes(this.tensors, values);
    const next = values.map((v) => tf.keep(tf.clone(v)));
    tf.dispose(this.tensors);
    this.tensors = next;
  }

  /** The current reference values (owned by this object; do not dispose). */
  values(): readonly tf.Tensor[] {
    return this.tensors;
  }

  dispose(): void {
    tf.dispose(this.tensors);
    this.tensors = [];
  }
}

/** What {@link referenceMover} needs from the trainer. */
export interface MoverOptions<B> {
  /** The moving-reference settings. */
  spec: RefSyncSpec;
  /** The policy's trainable variables (the source of every mix). */
  policy: PreferenceScorer<B, unknown>;
  /** `model`: a frozen reference model scored each batch; `precompute`: a table of log-probs. */
  kind: "model" | "precompute";
  /** The reference model (kind `model`), or the scorer the table was computed with, if not the policy. */
  scorer?: PreferenceScorer<B, unknown>;
  /** Recompute the precomputed tables with this scorer (kind `precompute`). */
  rescore: (scorer: PreferenceScorer<B, unknown>) => Promise<void>;
}

/** A moving reference bound to a run: call {@link ReferenceMover.afterStep} after each update. */
export interface ReferenceMover {
  readonly alpha: number;
  readonly every: number;
  /** Syncs done so far. */
  readonly syncs: number;
  /** Sync when `step` (1-based, completed) is a multiple of τ; true when it did. */
  afterStep(step: number): Promise<boolean>;
  /** The reference weights as safetensors bytes (`ref/<i>`, in the policy's variable order). */
  encode(): Promise<Uint8Array>;
  /**
   * Continue from a checkpoint: the reference weights of `path` (written by {@link encode}),
   * `step` the checkpoint's step; precomputed log-probs are recomputed under them.
   */
  restore(path: string, step: number): Promise<void>;
  dispose(): void;
}

/**
 * Bind a moving reference to a run. Must be created before the first update: a precomputed
 * reference without its own scorer starts from a copy of the policy's weights taken here.
 *
 * @example A reference model moved halfway toward the policy every 2 steps
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { referenceMover } from "./ref_sync.ts";
 * const p = tf.variable(tf.scalar(4)), r = tf.variable(tf.scalar(0));
 * const scorer = (v: tf.Variable) => ({ variables: () => [v], scores: () => { throw 0; } });
 * const mover = referenceMover({ spec: { alpha: 0.5, every: 2 }, policy: scorer(p), kind: "model",
 *   scorer: scorer(r), rescore: async () => {} });
 * console.log(await mover.afterStep(1), await mover.afterStep(2), r.dataSync()[0]); // false true 2
 * ```
 */
export function referenceMover<B>(o: MoverOptions<B>): ReferenceMover {
  const { alpha, every } = resolveRefSync(o.spec);
  const policyVars = o.policy.variables();
  const own = o.kind === "precompute" && !o.scorer
    ? ReferenceWeights.copyOf(policyVars)
    : undefined;
  if (o.scorer) checkShapes(o.scorer.variables(), policyVars);
  let syncs = 0;
  const refValues = (): readonly tf.Tensor[] => own ? own.values() : o.scorer!.variables();
  return {
    alpha,
    every,
    get syncs() {
      return syncs;
    },
    async afterStep(step: number): Promise<boolean> {
      if (step % every !== 0) return false;
      if (own) {
        own.mix(policyVars, alpha);
        await own.swapInto(policyVars, () => o.rescore(o.policy));
      } else {
        mixInto(o.scorer!.variables(), policyVars, alpha);
        if (o.kind === "precompute") await o.rescore(o.scorer!);
      }
      syncs++;
      return true;
    },
    async encode() {
      const map = new Map<string, { shape: number[]; values: Float32Array }>();
      for (const [i, t] of refValues().entries()) {
        map.set(`ref/${i}`, { shape: [...t.shape], values: (await t.data()) as Float32Array });
      }
      return encodeSafetensors(map);
    },
    async restore(path: string, step: number) {
      let saved;
      try {
        saved = await readSafetensors(path);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) {
          throw new TypeError(
            `${path}: missing; the checkpoint was not written with a moving reference`,
          );
        }
        throw e;
      }
      const values = policyVars.map((_, i) => {
        const t = saved.get(`ref/${i}`);
        if (!t) throw new RangeError(`${path}: no tensor 'ref/${i}'`);
        return tf.tensor(t.values, t.shape);
      });
      try {
        if (own) {
          own.set(values);
          await own.swapInto(policyVars, () => o.rescore(o.policy));
        } else {
          mixInto(o.scorer!.variables(), values, 1);
          if (o.kind === "precompute") await o.rescore(o.scorer!);
        }
      } finally {
        tf.dispose(values);
      }
      syncs = Math.floor(step / every);
    },
    dispose: () => own?.dispose(),
  };
}
