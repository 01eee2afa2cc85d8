/**
 * Backend conformance: one forward and backward pass of the tiny GPT on a backend, compared with
 * the reference `cpu` backend, every tensor made afresh on the backend under test.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { BACKEND_NAMES, type BackendName, startBackend } from "../../lib/backend.ts";
import {
  causalMask,
  CONFORMANCE_CONFIG,
  type ParamValues,
  tinyGptBatch,
  type TinyGptConfig,
  tinyGptLoss,
  tinyGptParams,
} from "./tiny_gpt.ts";

/** Loss and gradients of one forward/backward pass, read back as plain arrays. */
export interface PassResult {
  loss: number;
  grads: Map<string, Float32Array>;
}

/**
 * One forward and backward pass of the tiny GPT on the current tfjs backend; every tensor is
 * made here and disposed before returning.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG } from "./tiny_gpt.ts";
 * import { forwardBackward } from "./conformance.ts";
 * import { startBackend } from "../../lib/backend.ts";
 * await startBackend("cpu");
 * const r = await forwardBackward(CONFORMANCE_CONFIG);
 * console.log(r.loss, r.grads.get("wte")!.length);
 * ```
 */
export async function forwardBackward(
  config: TinyGptConfig,
  opts: { params?: ParamValues; seed?: number } = {},
): Promise<PassResult> {
  const values = opts.params ?? tinyGptParams(config, { seed: opts.seed });
  const data = tinyGptBatch(config, { seed: (opts.seed ?? 1) + 1 });
  const names = [...values.keys()];
  const { value, grads } = tf.tidy(() => {
    const ts = names.map((n) => tf.tensor(values.get(n)!.values, values.get(n)!.shape));
    const batch = {
      ids: tf.tensor1d(data.ids, "int32"),
      targets: tf.tensor1d(data.targets, "int32"),
      causal: causalMask(config.seqLen),
    };
    const f = (...xs: tf.Tensor[]) =>
      tinyGptLoss(config, new Map(names.map((n, i) => [n, xs[i]!])), batch);
    return tf.valueAndGrads(f)(ts);
  });
  try {
    const loss = (await value.data())[0]!;
    const out = new Map<string, Float32Array>();
    for (let i = 0; i < names.length; i++) {
      out.set(names[i]!, (await grads[i]!.data()) as Float32Array);
    }
    return { loss, grads: out };
  } finally {
    tf.dispose([value, ...grads]);
  }
}

/**
 * The relative-to-scale error of `got` against `ref`: max|got - ref| / max|ref|.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scaledError } from "./conformance.ts";
 * assert.equal(scaledError([1, 2.5], [1, 2]), 0.25);
 * assert.equal(scaledError([NaN], [1]), Infinity);
 * ```
 */
export function scaledError(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  if (got.length !== ref.length) {
    throw new RangeError(`scaledError: lengths differ (${got.length} vs ${ref.length})`);
  }
  let diff = 0, scale = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = Math.abs(got[i]! - ref[i]!);
    diff = Number.isNaN(e) ? Infinity : Math.max(diff, e);
    scale = Math.max(scale, Math.abs(ref[i]!));
  }
  const e = scale === 0 ? diff : diff / scale;
  // A NaN in the reference itself must not pass as "no error".
  return Number.isNaN(e) ? Infinity : e;
}

/** Default conformance tolerance (relative to each gradient's max-abs scale, f32). */
export const CONFORMANCE_TOLERANCE = 1e-4;

/** Result of {@link conformance}. */
export interface ConformanceResult {
  backend: BackendName;
  /** True when the loss and every gradient are within `tolerance` of the `cpu` reference. */
  ok: boolean;
  tolerance: number;
  /** |loss - cpu loss| / |cpu loss|. */
  lossError: number;
  /** Per parameter: max|grad - cpu grad| / max|cpu grad|. */
  gradErrors: Record<string, number>;
  /** The largest of `lossError` and all `gradErrors`, and where it occurred. */
  maxError: number;
  worst: string;
  loss: number;
  referenceLoss: number;
}

/**
 * Compares one forward/backward pass of the tiny GPT (embedding gather, matMul, layer norm,
 * causal softmax attention, GELU MLP, logSoftmax, cross-entropy and all their gradients) on
 * `backend` with the `cpu` backend. Leaves tfjs on the backend that was active before.
 *
 * @example
 * ```ts
 * import { conformance } from "./conformance.ts";
 * const r = await conformance("wasm");
 * console.log(r.ok, r.maxError.toExponential(1), r.worst);
 * ```
 */
export async function conformance(
  backend: BackendName,
  opts: { tolerance?: number; config?: TinyGptConfig; seed?: number } = {},
): Promise<ConformanceResult> {
  if (!(BACKEND_NAMES as readonly string[]).includes(backend)) {
    throw new RangeError(`conformance: unknown backend '${backend}'`);
  }
  const tolerance = opts.tolerance ?? CONFORMANCE_TOLERANCE;
  const config = opts.config ?? CONFORMANCE_CONFIG;
  const params = tinyGptParams(config, { seed: opts.seed });
  const before = tf.getBackend();
  try {
    await startBackend("cpu");
    const ref = await forwardBackward(config, { params, seed: opts.seed });
    await startBackend(backend);
    const got = await forwardBackward(config, { params, seed: opts.seed });
    const lossError = Math.abs(got.loss - ref.loss) / Math.abs(ref.loss);
    const gradErrors: Record<string, number> = {};
    let maxError = Number.isNaN(lossError) ? Infinity : lossError, worst = "loss";
    for (const [name, g] of ref.grads) {
      const e = scaledError(got.grads.get(name)!, g);
      gradErrors[name] = e;
      if (e > maxError) [maxError, worst] = [e, name];
    }
    return {
      backend,
      ok: maxError <= tolerance,
      tolerance,
      lossError,
      gradErrors,
      maxError,
      worst,
      loss: got.loss,
      referenceLoss: ref.loss,
    };
  } finally {
    if (before && before !== tf.getBackend()) await tf.setBackend(before);
  }
}
