/**
 * Backend conformance and speed: does a backend compute a transformer's loss and gradients like
 * the reference `cpu` backend, and how long does it take for one training step?
 *
 * Both use one small GPT-2-style model written here with raw tfjs ops (independent of
 * lib/models, so a bug there cannot hide a backend bug or the reverse): token embedding
 * (gather), learned positions, pre-layer-norm blocks of causal multi-head softmax attention and
 * a GELU (tanh form) MLP, a final layer norm, logits, logSoftmax and mean cross-entropy.
 *
 * All backends are measured in one process: tfjs keeps each backend it has started and
 * `tf.setBackend` switches between them. {@link conformance} creates every tensor afresh on the
 * backend under test after switching, so a wrong result after a switch would fail it. Timed
 * steps are interleaved across backends, round by round, so that load from other processes
 * on a shared machine falls on all of them alike; medians are reported.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import process from "node:process";
import {
  BACKEND_NAMES,
  type BackendMeasurement,
  type BackendName,
  defaultMeasurementPath,
  machineKey,
  startBackend,
} from "../lib/backend.ts";

// ---------------------------------------------------------------------------------------------
// The model

/** Shape of the measurement model. */
export interface TinyGptConfig {
  vocab: number;
  /** Model width. */
  dModel: number;
  layers: number;
  heads: number;
  /** Tokens per sequence. */
  seqLen: number;
  batch: number;
  /** Share the token embedding with the output projection (GPT-2 does). */
  tied: boolean;
}

/**
 * The timed model: 0.93M parameters (vocab 4096, width 128, 2 layers, 4 heads, tied
 * embeddings), batch 8 x 64 tokens, the size design.md's measurements used.
 */
export const STEP_CONFIG: TinyGptConfig = {
  vocab: 4096,
  dModel: 128,
  layers: 2,
  heads: 4,
  seqLen: 64,
  batch: 8,
  tied: true,
};

/**
 * The conformance model: small enough to check in well under a second per backend, untied so
 * the embedding's gather gradient and the output projection's matMul gradient are compared
 * separately.
 */
export const CONFORMANCE_CONFIG: TinyGptConfig = {
  vocab: 97,
  dModel: 32,
  layers: 2,
  heads: 4,
  seqLen: 12,
  batch: 3,
  tied: false,
};

/** Parameter values by name, as plain arrays so they can be built on any backend. */
export type ParamValues = Map<string, { shape: number[]; values: Float32Array }>;

function checkConfig(c: TinyGptConfig): void {
  for (const k of ["vocab", "dModel", "layers", "heads", "seqLen", "batch"] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) {
      throw new RangeError(`TinyGptConfig.${k} must be a positive integer, got ${c[k]}`);
    }
  }
  if (c.dModel % c.heads !== 0) {
    throw new RangeError(`TinyGptConfig.dModel (${c.dModel}) must be divisible by heads`);
  }
}

/** A small xorshift generator: values depend only on the seed, on every platform. */
function uniforms(seed: number): () => number {
  let s = (seed * 2654435761) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * Seeded parameters for {@link tinyGptLoss}: weights uniform with std 1/sqrt(fan-in) (0.5 for
 * embeddings), layer-norm gains near 1 and biases near 0 but not exactly, so their gradients
 * are exercised with generic values.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG, tinyGptParams } from "./backend_measure.ts";
 * const p = tinyGptParams(CONFORMANCE_CONFIG, { seed: 1 });
 * console.log(p.get("wte")!.shape); // [97, 32]
 * ```
 */
export function tinyGptParams(config: TinyGptConfig, opts: { seed?: number } = {}): ParamValues {
  checkConfig(config);
  const u = uniforms(opts.seed ?? 1);
  const { vocab: V, dModel: d, seqLen: T } = config;
  const out: ParamValues = new Map();
  const add = (name: string, shape: number[], std: number, center = 0) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const values = new Float32Array(n);
    // Uniform on [-a, a] has std a/sqrt(3).
    const a = std * Math.sqrt(3);
    for (let i = 0; i < n; i++) values[i] = center + a * (2 * u() - 1);
    out.set(name, { shape, values });
  };
  add("wte", [V, d], 0.5);
  add("wpe", [T, d], 0.2);
  for (let l = 0; l < config.layers; l++) {
    add(`h${l}.ln1.g`, [d], 0.1, 1);
    add(`h${l}.ln1.b`, [d], 0.1);
    add(`h${l}.attn.w`, [d, 3 * d], 1 / Math.sqrt(d));
    add(`h${l}.attn.b`, [3 * d], 0.05);
    add(`h${l}.proj.w`, [d, d], 1 / Math.sqrt(d));
    add(`h${l}.proj.b`, [d], 0.05);
    add(`h${l}.ln2.g`, [d], 0.1, 1);
    add(`h${l}.ln2.b`, [d], 0.1);
    add(`h${l}.fc.w`, [d, 4 * d], 1 / Math.sqrt(d));
    add(`h${l}.fc.b`, [4 * d], 0.05);
    add(`h${l}.fc2.w`, [4 * d, d], 1 / Math.sqrt(4 * d));
    add(`h${l}.fc2.b`, [d], 0.05);
  }
  add("lnf.g", [d], 0.1, 1);
  add("lnf.b", [d], 0.1);
  if (!config.tied) add("lm_head", [d, V], 1 / Math.sqrt(d));
  return out;
}

/**
 * Seeded token ids and next-token targets, each `[batch * seqLen]` int32 values in [0, vocab).
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG, tinyGptBatch } from "./backend_measure.ts";
 * console.log(tinyGptBatch(CONFORMANCE_CONFIG).ids.length); // 36
 * ```
 */
export function tinyGptBatch(
  config: TinyGptConfig,
  opts: { seed?: number } = {},
): { ids: Int32Array; targets: Int32Array } {
  checkConfig(config);
  const u = uniforms(opts.seed ?? 2);
  const n = config.batch * config.seqLen;
  const ids = new Int32Array(n), targets = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = Math.floor(u() * config.vocab);
  for (let i = 0; i < n; i++) targets[i] = Math.floor(u() * config.vocab);
  return { ids, targets };
}

function layerNorm(x: tf.Tensor2D, g: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  const mu = tf.mean(x, -1, true);
  const c = tf.sub(x, mu);
  const variance = tf.mean(tf.square(c), -1, true);
  return tf.add(tf.mul(tf.mul(c, tf.rsqrt(tf.add(variance, 1e-5))), g), b);
}

function geluTanh(u: tf.Tensor): tf.Tensor {
  const inner = tf.mul(Math.sqrt(2 / Math.PI), tf.add(u, tf.mul(0.044715, tf.pow(u, 3))));
  return tf.mul(tf.mul(0.5, u), tf.add(1, tf.tanh(inner)));
}

/**
 * Mean next-token cross-entropy of the tiny GPT; call inside `tf.tidy` / a gradient function.
 * `causal` is a `[seqLen, seqLen]` bool tensor, true where a query may attend to a key.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "../lib/backend.ts"; // registers the gradient kernels
 * import { CONFORMANCE_CONFIG as c, tinyGptBatch, tinyGptLoss, tinyGptParams } from "./backend_measure.ts";
 * const p = tinyGptParams(c), b = tinyGptBatch(c);
 * const loss = tf.tidy(() => {
 *   const params = new Map([...p].map(([k, v]) => [k, tf.tensor(v.values, v.shape)]));
 *   const ones = tf.ones([c.seqLen, c.seqLen]) as tf.Tensor2D;
 *   return tinyGptLoss(c, params, {
 *     ids: tf.tensor1d(b.ids, "int32"),
 *     targets: tf.tensor1d(b.targets, "int32"),
 *     causal: tf.cast(tf.linalg.bandPart(ones, -1, 0), "bool"),
 *   });
 * });
 * console.log(loss.dataSync()[0]); // 5.21: above ln(97) = 4.57, as the logits start confident
 * ```
 */
export function tinyGptLoss(
  config: TinyGptConfig,
  params: ReadonlyMap<string, tf.Tensor>,
  batch: { ids: tf.Tensor1D; targets: tf.Tensor1D; causal: tf.Tensor2D },
): tf.Scalar {
  const { batch: B, seqLen: T, dModel: d, heads: H, vocab: V } = config;
  const dh = d / H;
  const p = (name: string) => {
    const t = params.get(name);
    if (!t) throw new RangeError(`tinyGptLoss: no parameter '${name}'`);
    return t;
  };
  const tok = tf.reshape(tf.gather(p("wte"), batch.ids, 0), [B, T, d]);
  let x = tf.reshape(tf.add(tok, p("wpe")), [B * T, d]) as tf.Tensor2D;
  const heads = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]);
  for (let l = 0; l < config.layers; l++) {
    const h = layerNorm(x, p(`h${l}.ln1.g`), p(`h${l}.ln1.b`));
    const qkv = tf.add(tf.matMul(h, p(`h${l}.attn.w`) as tf.Tensor2D), p(`h${l}.attn.b`));
    const [q, k, v] = tf.split(qkv, 3, 1);
    const scores = tf.mul(tf.matMul(heads(q!), heads(k!), false, true), 1 / Math.sqrt(dh));
    const masked = tf.where(batch.causal, scores, tf.fill(scores.shape, -1e9));
    const ctx = tf.matMul(tf.softmax(masked), heads(v!));
    const merged = tf.reshape(tf.transpose(ctx, [0, 2, 1, 3]), [B * T, d]) as tf.Tensor2D;
    const att = tf.add(tf.matMul(merged, p(`h${l}.proj.w`) as tf.Tensor2D), p(`h${l}.proj.b`));
    x = tf.add(x, att);
    const h2 = layerNorm(x, p(`h${l}.ln2.g`), p(`h${l}.ln2.b`));
    const fc = geluTanh(tf.add(tf.matMul(h2, p(`h${l}.fc.w`) as tf.Tensor2D), p(`h${l}.fc.b`)));
    const mlp = tf.add(
      tf.matMul(fc as tf.Tensor2D, p(`h${l}.fc2.w`) as tf.Tensor2D),
      p(`h${l}.fc2.b`),
    );
    x = tf.add(x, mlp);
  }
  const hf = layerNorm(x, p("lnf.g"), p("lnf.b"));
  const logits = config.tied
    ? tf.matMul(hf, p("wte") as tf.Tensor2D, false, true)
    : tf.matMul(hf, p("lm_head") as tf.Tensor2D);
  const logp = tf.logSoftmax(logits);
  const picked = tf.sum(tf.mul(logp, tf.oneHot(batch.targets, V)), -1);
  return tf.neg(tf.mean(picked));
}

function causalMask(t: number): tf.Tensor2D {
  const m = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) m[i * t + j] = 1;
  return tf.tensor2d(m, [t, t], "bool");
}

// ---------------------------------------------------------------------------------------------
// Conformance

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
 * import { CONFORMANCE_CONFIG, forwardBackward } from "./backend_measure.ts";
 * import { startBackend } from "../lib/backend.ts";
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

/** The relative-to-scale error of `got` against `ref`: max|got - ref| / max|ref|. */
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
 * import { conformance } from "./backend_measure.ts";
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

// ---------------------------------------------------------------------------------------------
// Timing

/** A model, batch and Adam optimizer living on one backend, stepped on demand. */
export interface TrainingStepper {
  /**
   * One timed step (forward, backward, Adam update); switch to the stepper's backend first.
   * `ms` is wall time; `cpuMs` the CPU time of the whole process (all threads, so webgpu's
   * software rasteriser threads count), which other jobs on the machine disturb less.
   */
  step(): Promise<{ ms: number; cpuMs: number; loss: number }>;
  dispose(): void;
}

/**
 * Builds the tiny GPT, a fixed batch and Adam on the current backend. Each step waits for its
 * loss to be read back, which on webgpu also waits for the update queued before the read.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG, trainingStepper } from "./backend_measure.ts";
 * import { startBackend } from "../lib/backend.ts";
 * await startBackend("wasm");
 * const s = trainingStepper(CONFORMANCE_CONFIG);
 * console.log((await s.step()).ms);
 * s.dispose();
 * ```
 */
export function trainingStepper(
  config: TinyGptConfig,
  opts: { seed?: number } = {},
): TrainingStepper {
  const values = tinyGptParams(config, { seed: opts.seed });
  const data = tinyGptBatch(config, { seed: (opts.seed ?? 1) + 1 });
  const vars = new Map(
    // tidy disposes the initial tensors; variables survive it.
    [...values].map(([n, v]) => [n, tf.tidy(() => tf.variable(tf.tensor(v.values, v.shape)))]),
  );
  const ids = tf.tensor1d(data.ids, "int32");
  const targets = tf.tensor1d(data.targets, "int32");
  const causal = causalMask(config.seqLen);
  const opt = tf.train.adam(1e-3);
  const varList = [...vars.values()];
  return {
    async step() {
      const t0 = performance.now(), c0 = process.cpuUsage();
      const loss = opt.minimize(
        () => tinyGptLoss(config, vars, { ids, targets, causal }),
        true,
        varList,
      )!;
      const l = (await loss.data())[0]!;
      loss.dispose();
      const c = process.cpuUsage(c0);
      return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, loss: l };
    },
    dispose() {
      opt.dispose();
      tf.dispose([...varList, ids, targets, causal]);
    },
  };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function checkCounts(where: string, steps: number, warmup: number): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`${where}: steps must be a positive integer, got ${steps}`);
  }
  if (!Number.isInteger(warmup) || warmup < 0) {
    throw new RangeError(`${where}: warmup must be an integer >= 0, got ${warmup}`);
  }
}

/**
 * Median milliseconds of one training step (forward, backward, Adam update) of the tiny GPT on
 * the current backend, after `warmup` untimed steps.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG, timeTrainingStep } from "./backend_measure.ts";
 * import { startBackend } from "../lib/backend.ts";
 * await startBackend("wasm");
 * console.log(await timeTrainingStep(CONFORMANCE_CONFIG, { steps: 3, warmup: 1 }));
 * ```
 */
export async function timeTrainingStep(
  config: TinyGptConfig,
  opts: { steps?: number; warmup?: number; seed?: number } = {},
): Promise<{ medianMs: number; timesMs: number[]; losses: number[] }> {
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2;
  checkCounts("timeTrainingStep", steps, warmup);
  const stepper = trainingStepper(config, opts);
  const timesMs: number[] = [], losses: number[] = [];
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const { ms, loss } = await stepper.step();
      if (i >= warmup) {
        timesMs.push(ms);
        losses.push(loss);
      }
    }
  } finally {
    stepper.dispose();
  }
  return { medianMs: median(timesMs), timesMs, losses };
}

// ---------------------------------------------------------------------------------------------
// Measuring every backend

/** One backend's line in a measurement. */
export interface BackendResult {
  name: BackendName;
  /** False when the backend could not start here; `error` says why. */
  started: boolean;
  adapter?: string;
  error?: string;
  conformance?: ConformanceResult;
  /** Median training-step wall time, when the step ran. */
  stepMs?: number;
  timesMs?: number[];
  /** Median process CPU time per step (all threads). */
  stepCpuMs?: number;
  cpuTimesMs?: number[];
}

/** What {@link measureBackends} writes: the {@link BackendMeasurement} plus the details. */
export interface MeasurementRecord extends BackendMeasurement {
  config: TinyGptConfig;
  params: number;
  results: BackendResult[];
}

/** Options of {@link measureBackends}. */
export interface MeasureOptions {
  /** Backends to try (default: all of {@link BACKEND_NAMES}). */
  backends?: BackendName[];
  /** Timed steps per backend (default 5) after `warmup` (default 2) untimed ones. */
  steps?: number;
  warmup?: number;
  /** Timed steps on `cpu`, which is ~30x slower (default 1, no warm-up). */
  cpuSteps?: number;
  /** Where to write the record (default {@link defaultMeasurementPath}); `false`: do not write. */
  path?: string | false;
  tolerance?: number;
  /** Model and batch to time (default {@link STEP_CONFIG}). */
  config?: TinyGptConfig;
  /** Called with each backend's result once all are timed, in `backends` order. */
  onResult?: (r: BackendResult) => void;
}

/**
 * For each backend that starts here, runs {@link conformance} and times a training step of
 * {@link STEP_CONFIG}; writes the record (conformant backends fastest first) for
 * `initBackend`'s auto mode and returns it.
 *
 * @example
 * ```ts
 * import { CONFORMANCE_CONFIG, measureBackends } from "./backend_measure.ts";
 * // A small model here; the default is STEP_CONFIG, whose cpu step takes 30 s or more.
 * const m = await measureBackends({
 *   backends: ["cpu", "wasm"],
 *   config: CONFORMANCE_CONFIG,
 *   steps: 1,
 *   warmup: 0,
 *   path: false,
 * });
 * console.log(m.order, m.stepMs);
 * ```
 */
export async function measureBackends(opts: MeasureOptions = {}): Promise<MeasurementRecord> {
  const config = opts.config ?? STEP_CONFIG;
  checkConfig(config);
  const names = opts.backends ?? [...BACKEND_NAMES];
  for (const n of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(n)) {
      throw new RangeError(`measureBackends option 'backends': unknown backend '${n}'`);
    }
  }
  const steps = opts.steps ?? 5, warmup = opts.warmup ?? 2, cpuSteps = opts.cpuSteps ?? 1;
  checkCounts("measureBackends", steps, warmup);
  checkCounts("measureBackends (cpuSteps)", cpuSteps, 0);
  const before = tf.getBackend();
  const results: BackendResult[] = [];
  const steppers = new Map<BackendName, TrainingStepper>();
  const fail = (r: BackendResult, e: unknown) => {
    r.error = (e instanceof Error ? e.message : String(e)).split("\n")[0];
    steppers.get(r.name)?.dispose();
    steppers.delete(r.name);
  };
  try {
    // Conformance, then the model and warm-up steps (webgpu compiles its shaders then).
    for (const name of names) {
      const r: BackendResult = { name, started: false };
      results.push(r);
      try {
        r.adapter = (await startBackend(name)).adapter;
        r.started = true;
        r.conformance = await conformance(name, { tolerance: opts.tolerance });
        await startBackend(name);
        const s = trainingStepper(config);
        steppers.set(name, s);
        for (let i = 0; i < (name === "cpu" ? 0 : warmup); i++) await s.step();
      } catch (e) {
        fail(r, e);
      }
    }
    // Timed steps, one backend after the other in each round: the machine's load changes over
    // minutes (other jobs share it), and interleaving exposes every backend to the same load.
    for (let round = 0; round < Math.max(steps, cpuSteps); round++) {
      for (const r of results) {
        const s = steppers.get(r.name);
        if (!s || round >= (r.name === "cpu" ? cpuSteps : steps)) continue;
        try {
          await startBackend(r.name);
          const t = await s.step();
          (r.timesMs ??= []).push(t.ms);
          (r.cpuTimesMs ??= []).push(t.cpuMs);
        } catch (e) {
          fail(r, e);
        }
      }
    }
    for (const r of results) {
      if (steppers.has(r.name) && r.timesMs?.length) {
        r.stepMs = median(r.timesMs);
        r.stepCpuMs = median(r.cpuTimesMs!);
      }
      opts.onResult?.(r);
    }
  } finally {
    for (const s of steppers.values()) s.dispose();
    if (before && before !== tf.getBackend()) await tf.setBackend(before);
  }
  const usable = results.filter((r) => r.conformance?.ok && r.stepMs !== undefined);
  usable.sort((a, b) => a.stepMs! - b.stepMs!);
  const stepMs: BackendMeasurement["stepMs"] = {};
  for (const r of results) if (r.stepMs !== undefined) stepMs[r.name] = r.stepMs;
  const record: MeasurementRecord = {
    machine: await machineKey(),
    order: usable.map((r) => r.name),
    stepMs,
    measuredAt: new Date().toISOString(),
    config,
    params: [...tinyGptParams(config).values()].reduce((a, v) => a + v.values.length, 0),
    results,
  };
  if (opts.path !== false) {
    const path = opts.path ?? defaultMeasurementPath();
    const dir = path.slice(0, path.lastIndexOf("/"));
    if (dir) await Deno.mkdir(dir, { recursive: true });
    await Deno.writeTextFile(path, JSON.stringify(record, null, 2) + "\n");
  }
  return record;
}
