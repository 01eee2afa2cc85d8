/**
 * Pieces shared by the causal LMs: parameter specs and seeded initialisation, named variable
 * storage, and cached attention masks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
// The models must be differentiable wherever they are imported, not only via backend.ts.
import "../kernels/gradients.ts";
import { Rng } from "../core/rng.ts";

/** How a parameter is initialised when it is not loaded from a checkpoint. */
export type TensorInit = { normal: number } | "zeros" | "ones";

/** One parameter of an architecture: its Hugging Face tensor name, shape and default init. */
export interface TensorSpec {
  name: string;
  shape: number[];
  init: TensorInit;
}

/** Supplies a parameter's initial values; the returned array must have the spec's size. */
export type TensorSource = (spec: TensorSpec) => Float32Array;

/**
 * A {@link TensorSource} that initialises from each spec's `init` with a seeded generator
 * (normal draws for weights, zeros for biases, ones for norm gains), as Hugging Face does.
 *
 * @example
 * ```ts
 * import { seededSource } from "./common.ts";
 * const src = seededSource(0);
 * console.log(src({ name: "w", shape: [2, 2], init: { normal: 0.02 } }).length); // 4
 * ```
 */
export function seededSource(seed: number): TensorSource {
  const rng = new Rng(seed);
  return (spec) => {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const out = new Float32Array(n);
    if (spec.init === "ones") out.fill(1);
    else if (spec.init !== "zeros") {
      const std = spec.init.normal;
      for (let i = 0; i < n; i++) out[i] = std * rng.normal();
    }
    return out;
  };
}

let nextModelId = 0;

/**
 * The named trainable variables of one model. tfjs requires globally unique variable names,
 * so each variable is registered as `m<id>/<hf name>` while lookups use the bare HF name.
 */
export class ParamStore {
  readonly #byName = new Map<string, tf.Variable>();
  readonly #prefix = `m${nextModelId++}/`;

  constructor(specs: TensorSpec[], source: TensorSource) {
    for (const spec of specs) {
      const values = source(spec);
      const n = spec.shape.reduce((a, b) => a * b, 1);
      if (values.length !== n) {
        throw new RangeError(
          `tensor '${spec.name}': got ${values.length} values for shape [${spec.shape}]`,
        );
      }
      const v = tf.tidy(() =>
        tf.variable(tf.tensor(values, spec.shape, "float32"), true, this.#prefix + spec.name)
      );
      this.#byName.set(spec.name, v);
    }
  }

  /** The variable with this Hugging Face name (throws if the architecture has none). */
  get(name: string): tf.Variable {
    const v = this.#byName.get(name);
    if (!v) throw new RangeError(`no parameter named '${name}'`);
    return v;
  }

  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Variables in spec order. */
  list(): tf.Variable[] {
    return [...this.#byName.values()];
  }

  named(): ReadonlyMap<string, tf.Variable> {
    return this.#byName;
  }

  dispose(): void {
    for (const v of this.#byName.values()) v.dispose();
    this.#byName.clear();
  }
}

/** Additive masking value: large enough to zero a softmax entry, finite so rows never NaN. */
export const MASKED = -1e9;

/**
 * Caches the additive causal mask [T, T] per length, built once and kept outside any tidy.
 */
export class MaskCache {
  readonly #causal = new Map<number, tf.Tensor2D>();

  /** 0 on and below the diagonal, {@link MASKED} above it. */
  causal(length: number): tf.Tensor2D {
    let m = this.#causal.get(length);
    if (!m || m.isDisposed) {
      const values = new Float32Array(length * length);
      for (let i = 0; i < length; i++) {
        for (let j = i + 1; j < length; j++) values[i * length + j] = MASKED;
      }
      m = tf.keep(tf.tensor2d(values, [length, length]));
      this.#causal.set(length, m);
    }
    return m;
  }

  /**
   * Full additive mask for attention scores [N, H, T, T]: causal, plus padding keys masked
   * when an attention mask [N, T] (1 = real token) is given. Returns [T, T] or [N, 1, T, T].
   */
  scoresMask(length: number, attentionMask?: tf.Tensor2D): tf.Tensor {
    const causal = this.causal(length);
    if (!attentionMask) return causal;
    return tf.tidy(() => {
      const n = attentionMask.shape[0];
      const pad = tf.reshape(
        tf.mul(tf.sub(1, tf.cast(attentionMask, "float32")), MASKED),
        [n, 1, 1, length],
      );
      return tf.add(causal, pad);
    });
  }

  dispose(): void {
    for (const m of this.#causal.values()) m.dispose();
    this.#causal.clear();
  }
}

/** Read a positive-integer config field, naming it in the error. */
export function intField(
  config: Record<string, unknown>,
  field: string,
  fallback?: number,
): number {
  const v = config[field] ?? fallback;
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0) {
    throw new TypeError(
      `config field '${field}' must be a positive integer, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** Read a positive-number config field, naming it in the error. */
export function numField(
  config: Record<string, unknown>,
  field: string,
  fallback?: number,
): number {
  const v = config[field] ?? fallback;
  if (typeof v !== "number" || !(v > 0)) {
    throw new TypeError(
      `config field '${field}' must be a positive number, got ${JSON.stringify(v)}`,
    );
  }
  return v;
}

/** `x [rows, in] @ W` for a Hugging Face Linear weight W [out, in], plus optional bias. */
export function linear(x: tf.Tensor, weight: tf.Tensor, bias?: tf.Tensor): tf.Tensor {
  const y = tf.matMul(x, weight, false, true);
  return bias ? tf.add(y, bias) : y;
}

/**
 * Token embedding lookup. Gathers on flattened 1-D ids (axis 0, no batch dims) because that
 * form has a plain unsorted-segment-sum gradient on every backend that has the kernel.
 */
export function embed(table: tf.Tensor, ids: tf.Tensor2D): tf.Tensor2D {
  const flat = tf.reshape(tf.cast(ids, "int32"), [-1]);
  return tf.gather(table, flat, 0) as tf.Tensor2D;
}
