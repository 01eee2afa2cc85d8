/**
 * The Llama architecture (Touvron et al. 2023) as a tfjs causal LM: pre-norm blocks with
 * RMSNorm, rotary position embeddings (RoPE, Hugging Face's rotate-half convention), grouped-
 * query attention and a SwiGLU MLP, then a final RMSNorm and an unembedding that is either
 * tied to the token embedding or a separate `lm_head`.
 *
 * The same file covers the Llama-shaped families by config: Llama and SmolLM (`llama`),
 * Qwen2 (`qwen2`: biases on q/k/v) and OLMo (`olmo`: LayerNorm without affine parameters,
 * optional `clip_qkv`). Parameters carry Hugging Face's names; `nn.Linear` weights are stored
 * [out, in], so projections multiply by the transpose.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM, ForwardOptions, ForwardOutput } from "./types.ts";
import {
  embed,
  intField,
  linear,
  MaskCache,
  numField,
  ParamStore,
  seededSource,
  type TensorSource,
  type TensorSpec,
} from "./common.ts";

/** The `model_type` values this file implements. */
export const LLAMA_MODEL_TYPES = ["llama", "qwen2", "olmo"] as const;

/** Llama-family hyper-parameters, named as in Hugging Face `config.json`. */
export interface LlamaConfig {
  model_type: (typeof LLAMA_MODEL_TYPES)[number];
  vocab_size: number;
  hidden_size: number;
  intermediate_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  /** Key/value heads for grouped-query attention; defaults to `num_attention_heads`. */
  num_key_value_heads: number;
  /** Per-head width; defaults to hidden_size / num_attention_heads. */
  head_dim: number;
  max_position_embeddings: number;
  rms_norm_eps: number;
  rope_theta: number;
  /** `null`, or `{rope_type: "linear" | "llama3", factor, ...}`; other types are rejected. */
  rope_scaling: Record<string, unknown> | null;
  tie_word_embeddings: boolean;
  /** Biases on q/k/v/o (Llama's switch); Qwen2 always has q/k/v biases and no o bias. */
  attention_bias: boolean;
  mlp_bias: boolean;
  hidden_act: "silu";
  initializer_range: number;
  /** OLMo: clamp q, k, v to [-clip_qkv, clip_qkv]. */
  clip_qkv: number | null;
  [field: string]: unknown;
}

/**
 * Fill defaults into a (partial) Llama-family config and validate it; errors name the field.
 *
 * @example
 * ```ts
 * import { llamaConfig } from "./llama.ts";
 * const c = llamaConfig({ hidden_size: 64, intermediate_size: 128, num_hidden_layers: 2,
 *   num_attention_heads: 4, num_key_value_heads: 2, vocab_size: 100 });
 * console.log(c.head_dim); // 16
 * ```
 */
export function llamaConfig(raw: Partial<LlamaConfig> | Record<string, unknown>): LlamaConfig {
  const r = raw as Record<string, unknown>;
  const type = (r.model_type ?? "llama") as LlamaConfig["model_type"];
  if (!LLAMA_MODEL_TYPES.includes(type)) {
    throw new TypeError(
      `config field 'model_type' is ${JSON.stringify(type)}; supported: ${
        LLAMA_MODEL_TYPES.join(", ")
      }`,
    );
  }
  const ropeParams = (r.rope_parameters ?? null) as Record<string, unknown> | null;
  const heads = intField(r, "num_attention_heads", 32);
  const hidden = intField(r, "hidden_size", 4096);
  const c: LlamaConfig = {
    ...r,
    model_type: type,
    vocab_size: intField(r, "vocab_size", 32000),
    hidden_size: hidden,
    intermediate_size: intField(r, "intermediate_size", 11008),
    num_hidden_layers: intField(r, "num_hidden_layers", 32),
    num_attention_heads: heads,
    num_key_value_heads: intField(r, "num_key_value_heads", heads),
    head_dim: intField(r, "head_dim", Math.floor(hidden / heads)),
    max_position_embeddings: intField(r, "max_position_embeddings", 2048),
    rms_norm_eps: numField(r, "rms_norm_eps", 1e-6),
    rope_theta: numField(
      ropeParams?.rope_theta !== undefined ? ropeParams : r,
      "rope_theta",
      10000,
    ),
    rope_scaling: ((r.rope_scaling ?? ropeParams) ?? null) as Record<string, unknown> | null,
    tie_word_embeddings: r.tie_word_embeddings === true,
    attention_bias: r.attention_bias === true,
    mlp_bias: r.mlp_bias === true,
    hidden_act: "silu",
    initializer_range: numField(r, "initializer_range", 0.02),
    clip_qkv: r.clip_qkv == null ? null : numField(r, "clip_qkv"),
  };
  if ((r.hidden_act ?? "silu") !== "silu") {
    throw new TypeError(
      `config field 'hidden_act' is ${JSON.stringify(r.hidden_act)}; only "silu"`,
    );
  }
  if (c.head_dim % 2 !== 0) {
    throw new RangeError(`config field 'head_dim' (${c.head_dim}) must be even`);
  }
  if (heads % c.num_key_value_heads !== 0) {
    throw new RangeError(
      `config field 'num_attention_heads' (${heads}) must be a multiple of 'num_key_value_heads' (${c.num_key_value_heads})`,
    );
  }
  if (r.use_sliding_window === true) {
    throw new TypeError(
      "config field 'use_sliding_window': sliding-window attention is not supported",
    );
  }
  ropeInverseFrequencies(c); // validates rope_scaling
  return c;
}

/**
 * RoPE inverse frequencies theta^(-2i/head_dim), i < head_dim/2, adjusted by `rope_scaling`
 * ("linear": divided by `factor`; "llama3": Llama 3.1's wavelength-dependent rescaling).
 */
export function ropeInverseFrequencies(config: LlamaConfig): Float64Array {
  const hd = config.head_dim;
  const inv = new Float64Array(hd / 2);
  for (let i = 0; i < hd / 2; i++) inv[i] = 1 / config.rope_theta ** ((2 * i) / hd);
  const s = config.rope_scaling;
  const type = s ? (s.rope_type ?? s.type) : "default";
  if (type === "default") return inv;
  const factor = Number(s!.factor);
  if (!(factor > 0)) throw new TypeError(`config field 'rope_scaling.factor' must be positive`);
  if (type === "linear") return inv.map((f) => f / factor);
  if (type === "llama3") {
    const low = Number(s!.low_freq_factor), high = Number(s!.high_freq_factor);
    const original = Number(s!.original_max_position_embeddings);
    if (!(low > 0 && high > low && original > 0)) {
      throw new TypeError(
        "config field 'rope_scaling' (llama3) needs low_freq_factor < high_freq_factor and original_max_position_embeddings",
      );
    }
    const lowWavelen = original / low, highWavelen = original / high;
    return inv.map((f) => {
      const wavelen = (2 * Math.PI) / f;
      if (wavelen < highWavelen) return f;
      if (wavelen > lowWavelen) return f / factor;
      const smooth = (original / wavelen - low) / (high - low);
      return (1 - smooth) * (f / factor) + smooth * f;
    });
  }
  throw new TypeError(
    `config field 'rope_scaling' has unsupported type ${
      JSON.stringify(type)
    }; supported: null, "default", "linear", "llama3"`,
  );
}

/**
 * Every parameter of a Llama-family model with its Hugging Face name, shape and init
 * (normal with `initializer_range` for weights, zeros for biases, ones for norm gains).
 *
 * @example
 * ```ts
 * import { llamaConfig, llamaTensorSpecs } from "./llama.ts";
 * const c = llamaConfig({ hidden_size: 8, intermediate_size: 16, num_hidden_layers: 1,
 *   num_attention_heads: 2, vocab_size: 10 });
 * console.log(llamaTensorSpecs(c).map((s) => s.name).at(-1)); // "lm_head.weight"
 * ```
 */
export function llamaTensorSpecs(config: LlamaConfig): TensorSpec[] {
  const d = config.hidden_size, hd = config.head_dim;
  const q = config.num_attention_heads * hd, kv = config.num_key_value_heads * hd;
  const inner = config.intermediate_size;
  const w = { normal: config.initializer_range };
  const { qkvBias, oBias } = biases(config);
  const norms = config.model_type !== "olmo";
  const specs: TensorSpec[] = [{
    name: "model.embed_tokens.weight",
    shape: [config.vocab_size, d],
    init: w,
  }];
  const add = (name: string, shape: number[], bias: boolean) => {
    specs.push({ name: name + ".weight", shape, init: w });
    if (bias) specs.push({ name: name + ".bias", shape: [shape[0]], init: "zeros" });
  };
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const p = `model.layers.${i}.`;
    add(p + "self_attn.q_proj", [q, d], qkvBias);
    add(p + "self_attn.k_proj", [kv, d], qkvBias);
    add(p + "self_attn.v_proj", [kv, d], qkvBias);
    add(p + "self_attn.o_proj", [d, q], oBias);
    add(p + "mlp.gate_proj", [inner, d], config.mlp_bias);
    add(p + "mlp.up_proj", [inner, d], config.mlp_bias);
    add(p + "mlp.down_proj", [d, inner], config.mlp_bias);
    if (norms) {
      specs.push(
        { name: p + "input_layernorm.weight", shape: [d], init: "ones" },
        { name: p + "post_attention_layernorm.weight", shape: [d], init: "ones" },
      );
    }
  }
  if (norms) specs.push({ name: "model.norm.weight", shape: [d], init: "ones" });
  if (!config.tie_word_embeddings) {
    specs.push({ name: "lm_head.weight", shape: [config.vocab_size, d], init: w });
  }
  return specs;
}

function biases(config: LlamaConfig): { qkvBias: boolean; oBias: boolean } {
  if (config.model_type === "qwen2") return { qkvBias: true, oBias: false };
  return { qkvBias: config.attention_bias, oBias: config.attention_bias };
}

/** A Llama-family causal LM. Build one with {@link createLlama} or `loadCausalLM`. */
export class Llama implements CausalLM {
  readonly kind = "llama";
  readonly config: Readonly<LlamaConfig>;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly #params: ParamStore;
  readonly #masks = new MaskCache();
  readonly #rope = new Map<number, { cos: tf.Tensor2D; sin: tf.Tensor2D }>();
  readonly #invFreq: Float64Array;

  constructor(config: LlamaConfig, source: TensorSource) {
    this.config = Object.freeze({ ...config });
    this.vocabSize = config.vocab_size;
    this.hiddenSize = config.hidden_size;
    this.#invFreq = ropeInverseFrequencies(config);
    this.#params = new ParamStore(llamaTensorSpecs(config), source);
  }

  /**
   * cos/sin tables [T, head_dim] for rotate-half RoPE, with the sign of rotate_half folded
   * into sin (first half negated) so that rope(x) = x cos + swap_halves(x) sin.
   */
  #ropeTables(length: number): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
    let r = this.#rope.get(length);
    if (!r || r.cos.isDisposed) {
      const hd = this.config.head_dim, half = hd / 2;
      const cos = new Float32Array(length * hd), sin = new Float32Array(length * hd);
      for (let t = 0; t < length; t++) {
        for (let i = 0; i < half; i++) {
          const angle = t * this.#invFreq[i];
          cos[t * hd + i] = cos[t * hd + half + i] = Math.cos(angle);
          sin[t * hd + i] = -Math.sin(angle);
          sin[t * hd + half + i] = Math.sin(angle);
        }
      }
      r = {
        cos: tf.keep(tf.tensor2d(cos, [length, hd])),
        sin: tf.keep(tf.tensor2d(sin, [length, hd])),
      };
      this.#rope.set(length, r);
    }
    return r;
  }

  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardOutput {
    const c = this.config;
    const [n, t] = ids.shape;
    if (t > c.max_position_embeddings) {
      throw new RangeError(
        `sequence length ${t} exceeds max_position_embeddings ${c.max_position_embeddings}`,
      );
    }
    const p = (name: string) => this.#params.get(name);
    const opt = (name: string) => this.#params.has(name) ? this.#params.get(name) : undefined;
    return tf.tidy((): tf.TensorContainerObject => {
      const d = c.hidden_size, hd = c.head_dim;
      const nh = c.num_attention_heads, nkv = c.num_key_value_heads, rep = nh / nkv;
      const mask = this.#masks.scoresMask(t, opts.attentionMask);
      const { cos, sin } = this.#ropeTables(t);
      const rope = (x: tf.Tensor) => {
        const [a, b] = tf.split(x, 2, -1);
        return tf.add(tf.mul(x, cos), tf.mul(tf.concat([b, a], -1), sin));
      };
      const heads = (z: tf.Tensor, count: number) =>
        tf.transpose(tf.reshape(z, [n, t, count, hd]), [0, 2, 1, 3]);
      const clip = (z: tf.Tensor) =>
        c.clip_qkv === null ? z : tf.clipByValue(z, -c.clip_qkv, c.clip_qkv);
      const proj = (x: tf.Tensor, name: string) =>
        linear(x, p(name + ".weight"), opt(name + ".bias"));

      let x: tf.Tensor = embed(p("model.embed_tokens.weight"), ids);
      for (let i = 0; i < c.num_hidden_layers; i++) {
        const l = `model.layers.${i}.`;
        const a = this.#norm(x, l + "input_layernorm");
        const q = heads(clip(proj(a, l + "self_attn.q_proj")), nh);
        const k = heads(clip(proj(a, l + "self_attn.k_proj")), nkv);
        const v = heads(clip(proj(a, l + "self_attn.v_proj")), nkv);
        // Grouped-query attention without repeating k/v: query head h = g*rep + r uses kv
        // head g, so [n, nh, T, hd] viewed as [n, nkv, rep*T, hd] lines up with k and v.
        const qs = tf.reshape(tf.mul(rope(q), 1 / Math.sqrt(hd)), [n, nkv, rep * t, hd]);
        const scores = tf.reshape(tf.matMul(qs, rope(k), false, true), [n, nh, t, t]);
        const att = tf.reshape(tf.softmax(tf.add(scores, mask)), [n, nkv, rep * t, t]);
        const y = tf.reshape(tf.matMul(att, v), [n, nh, t, hd]);
        const merged = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [n * t, nh * hd]);
        x = tf.add(x, proj(merged, l + "self_attn.o_proj"));
        const m = this.#norm(x, l + "post_attention_layernorm");
        const gate = proj(m, l + "mlp.gate_proj");
        const up = proj(m, l + "mlp.up_proj");
        x = tf.add(x, proj(tf.mul(tf.mul(gate, tf.sigmoid(gate)), up), l + "mlp.down_proj"));
      }
      const final = this.#norm(x, "model.norm");
      const unembed = c.tie_word_embeddings ? p("model.embed_tokens.weight") : p("lm_head.weight");
      const at = opts.logitsAt;
      const out: tf.TensorContainerObject = {
        logits: tf.reshape(
          linear(at ? tf.gather(final, at) : final, unembed),
          at ? [1, at.shape[0], c.vocab_size] : [n, t, c.vocab_size],
        ),
      };
      if (opts.hidden) out.hidden = tf.reshape(final, [n, t, d]);
      return out;
    }) as unknown as ForwardOutput;
  }

  #norm(x: tf.Tensor, prefix: string): tf.Tensor {
    if (this.config.model_type === "olmo") {
      // OLMo's LayerNorm has no learnable scale or shift, and a fixed eps of 1e-5.
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    }
    const ms = tf.mean(tf.mul(x, x), -1, true);
    const normed = tf.mul(x, tf.rsqrt(tf.add(ms, this.config.rms_norm_eps)));
    return tf.mul(normed, this.#params.get(prefix + ".weight"));
  }

  variables(): tf.Variable[] {
    return this.#params.list();
  }

  namedVariables(): ReadonlyMap<string, tf.Variable> {
    return this.#params.named();
  }

  dispose(): void {
    this.#params.dispose();
    this.#masks.dispose();
    for (const { cos, sin } of this.#rope.values()) {
      cos.dispose();
      sin.dispose();
    }
    this.#rope.clear();
  }
}

/**
 * Build a Llama-family model from a (partial) config, initialised from a seed like Hugging
 * Face does.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createLlama } from "./llama.ts";
 * const model = createLlama({ vocab_size: 50, hidden_size: 32, intermediate_size: 64,
 *   num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2 }, { seed: 0 });
 * const { logits } = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], "int32"));
 * console.log(logits.shape); // [1, 3, 50]
 * model.dispose();
 * ```
 */
export function createLlama(
  config: Partial<LlamaConfig> | Record<string, unknown>,
  opts: { seed?: number; source?: TensorSource } = {},
): Llama {
  const c = llamaConfig(config);
  return new Llama(c, opts.source ?? seededSource(opts.seed ?? 0));
}
