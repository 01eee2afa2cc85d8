/**
 * The measurement model of `lab backend --measure`: a small GPT-2-style transformer written with
 * raw tfjs ops (independent of lib/models, so a bug there cannot hide a backend bug or the
 * reverse), its seeded parameters and batch, and its loss.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

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

/**
 * Refuse a config with a non-positive count or a width the heads do not divide.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkConfig, CONFORMANCE_CONFIG } from "./tiny_gpt.ts";
 * checkConfig(CONFORMANCE_CONFIG);
 * assert.throws(() => checkConfig({ ...CONFORMANCE_CONFIG, heads: 5 }), /divisible by heads/);
 * ```
 */
export function checkConfig(c: TinyGptConfig): void {
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
 * import { CONFORMANCE_CONFIG, tinyGptParams } from "./tiny_gpt.ts";
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
 * import { CONFORMANCE_CONFIG, tinyGptBatch } from "./tiny_gpt.ts";
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
 * import "../../lib/backend.ts"; // registers the gradient kernels
 * import { CONFORMANCE_CONFIG as c, tinyGptBatch, tinyGptLoss, tinyGptParams } from "./tiny_gpt.ts";
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

/**
 * The `[t, t]` bool mask of causal attention: true where query i may attend to key j (j <= i).
 *
 * @example
 * ```ts
 * import "@tensorflow/tfjs-backend-cpu";
 * import assert from "node:assert/strict";
 * import { causalMask } from "./tiny_gpt.ts";
 * assert.deepEqual(Array.from(causalMask(2).dataSync()), [1, 0, 1, 1]);
 * ```
 */
export function causalMask(t: number): tf.Tensor2D {
  const m = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) for (let j = 0; j <= i; j++) m[i * t + j] = 1;
  return tf.tensor2d(m, [t, t], "bool");
}
