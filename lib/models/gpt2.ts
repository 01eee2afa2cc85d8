/**
 * GPT-2 (Radford et al. 2019) as a tfjs causal LM: learned token and position embeddings,
 * pre-LayerNorm blocks of multi-head causal self-attention and a GELU MLP, a final LayerNorm
 * and an unembedding tied to the token embedding.
 *
 * Parameters carry Hugging Face's tensor names and layouts. GPT-2's projections are `Conv1D`
 * modules whose weights are stored [in, out], so `x @ W` needs no transpose.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CausalLM, ForwardOptions, ForwardOutput } from "./types.ts";
import {
  embed,
  intField,
  MaskCache,
  numField,
  ParamStore,
  seededSource,
  type TensorSource,
  type TensorSpec,
} from "./common.ts";
import { geluTanh, layerNorm } from "./fused_ops.ts";

/** GPT-2 hyper-parameters, named as in Hugging Face `config.json` (defaults: GPT-2 small). */
export interface GPT2Config {
  model_type: "gpt2";
  vocab_size: number;
  n_positions: number;
  n_embd: number;
  n_layer: number;
  n_head: number;
  /** MLP width; `null` means 4 * n_embd. */
  n_inner: number | null;
  layer_norm_epsilon: number;
  /** "gelu_new" (tanh approximation, GPT-2's own), "gelu_pytorch_tanh", "gelu" (erf) or "relu". */
  activation_function: string;
  initializer_range: number;
  tie_word_embeddings: boolean;
  [field: string]: unknown;
}

const ACTIVATIONS = ["gelu_new", "gelu_pytorch_tanh", "gelu", "relu"];

/**
 * Fill defaults into a (partial) GPT-2 config and validate it; every error names the field.
 *
 * @example
 * ```ts
 * import { gpt2Config } from "./gpt2.ts";
 * const c = gpt2Config({ n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 100, n_positions: 32 });
 * console.log(c.n_inner); // null (4 * n_embd is used)
 * ```
 */
export function gpt2Config(raw: Partial<GPT2Config> | Record<string, unknown>): GPT2Config {
  const r = raw as Record<string, unknown>;
  if (r.model_type !== undefined && r.model_type !== "gpt2") {
    throw new TypeError(
      `config field 'model_type' is ${JSON.stringify(r.model_type)}, expected "gpt2"`,
    );
  }
  const c: GPT2Config = {
    ...r,
    model_type: "gpt2",
    vocab_size: intField(r, "vocab_size", 50257),
    n_positions: intField(r, "n_positions", 1024),
    n_embd: intField(r, "n_embd", 768),
    n_layer: intField(r, "n_layer", 12),
    n_head: intField(r, "n_head", 12),
    n_inner: r.n_inner == null ? null : intField(r, "n_inner"),
    layer_norm_epsilon: numField(r, "layer_norm_epsilon", 1e-5),
    activation_function: String(r.activation_function ?? "gelu_new"),
    initializer_range: numField(r, "initializer_range", 0.02),
    tie_word_embeddings: r.tie_word_embeddings === undefined
      ? true
      : r.tie_word_embeddings === true,
  };
  if (c.n_embd % c.n_head !== 0) {
    throw new RangeError(
      `config field 'n_embd' (${c.n_embd}) must be divisible by 'n_head' (${c.n_head})`,
    );
  }
  if (!ACTIVATIONS.includes(c.activation_function)) {
    throw new TypeError(
      `config field 'activation_function' is "${c.activation_function}"; supported: ${
        ACTIVATIONS.join(", ")
      }`,
    );
  }
  for (const f of ["scale_attn_by_inverse_layer_idx", "add_cross_attention"]) {
    if (r[f] === true) throw new TypeError(`config field '${f}': true is not supported`);
  }
  if (r.scale_attn_weights === false) {
    throw new TypeError("config field 'scale_attn_weights': false is not supported");
  }
  return c;
}

/**
 * Every parameter of a GPT-2 model with its Hugging Face name, shape and init (normal with
 * `initializer_range`, residual projections scaled by 1/sqrt(2 n_layer) as in GPT-2).
 *
 * @example
 * ```ts
 * import { gpt2Config, gpt2TensorSpecs } from "./gpt2.ts";
 * const specs = gpt2TensorSpecs(gpt2Config({ n_layer: 1, n_embd: 8, n_head: 2, vocab_size: 10 }));
 * console.log(specs[0].name); // "transformer.wte.weight"
 * ```
 */
export function gpt2TensorSpecs(config: GPT2Config): TensorSpec[] {
  const d = config.n_embd;
  const inner = config.n_inner ?? 4 * d;
  const std = config.initializer_range;
  const projStd = std / Math.sqrt(2 * config.n_layer);
  const specs: TensorSpec[] = [
    { name: "transformer.wte.weight", shape: [config.vocab_size, d], init: { normal: std } },
    { name: "transformer.wpe.weight", shape: [config.n_positions, d], init: { normal: std } },
  ];
  for (let i = 0; i < config.n_layer; i++) {
    const p = `transformer.h.${i}.`;
    specs.push(
      { name: p + "ln_1.weight", shape: [d], init: "ones" },
      { name: p + "ln_1.bias", shape: [d], init: "zeros" },
      { name: p + "attn.c_attn.weight", shape: [d, 3 * d], init: { normal: std } },
      { name: p + "attn.c_attn.bias", shape: [3 * d], init: "zeros" },
      { name: p + "attn.c_proj.weight", shape: [d, d], init: { normal: projStd } },
      { name: p + "attn.c_proj.bias", shape: [d], init: "zeros" },
      { name: p + "ln_2.weight", shape: [d], init: "ones" },
      { name: p + "ln_2.bias", shape: [d], init: "zeros" },
      { name: p + "mlp.c_fc.weight", shape: [d, inner], init: { normal: std } },
      { name: p + "mlp.c_fc.bias", shape: [inner], init: "zeros" },
      { name: p + "mlp.c_proj.weight", shape: [inner, d], init: { normal: projStd } },
      { name: p + "mlp.c_proj.bias", shape: [d], init: "zeros" },
    );
  }
  specs.push(
    { name: "transformer.ln_f.weight", shape: [d], init: "ones" },
    { name: "transformer.ln_f.bias", shape: [d], init: "zeros" },
  );
  if (!config.tie_word_embeddings) {
    specs.push({ name: "lm_head.weight", shape: [config.vocab_size, d], init: { normal: std } });
  }
  return specs;
}

/** A GPT-2 causal LM. Build one with {@link createGPT2} or `loadCausalLM`. */
export class GPT2 implements CausalLM {
  readonly kind = "gpt2";
  readonly config: Readonly<GPT2Config>;
  readonly vocabSize: number;
  readonly hiddenSize: number;
  readonly #params: ParamStore;
  readonly #masks = new MaskCache();

  constructor(config: GPT2Config, source: TensorSource) {
    this.config = Object.freeze({ ...config });
    this.vocabSize = config.vocab_size;
    this.hiddenSize = config.n_embd;
    this.#params = new ParamStore(gpt2TensorSpecs(config), source);
  }

  forward(ids: tf.Tensor2D, opts: ForwardOptions = {}): ForwardOutput {
    const c = this.config;
    const [n, t] = ids.shape;
    if (t > c.n_positions) {
      throw new RangeError(`sequence length ${t} exceeds n_positions ${c.n_positions}`);
    }
    const p = (name: string) => this.#params.get(name);
    return tf.tidy((): tf.TensorContainerObject => {
      const d = c.n_embd, nh = c.n_head, hd = d / nh;
      const mask = this.#masks.scoresMask(t, opts.attentionMask);
      const pos = tf.slice(p("transformer.wpe.weight"), [0, 0], [t, d]);
      let x: tf.Tensor = tf.reshape(
        tf.add(tf.reshape(embed(p("transformer.wte.weight"), ids), [n, t, d]), pos),
        [n * t, d],
      );
      for (let i = 0; i < c.n_layer; i++) {
        const h = `transformer.h.${i}.`;
        // Attention: one fused qkv matmul, heads batched through reshape/transpose.
        const a = this.#layerNorm(x, h + "ln_1");
        const qkv = tf.add(tf.matMul(a, p(h + "attn.c_attn.weight")), p(h + "attn.c_attn.bias"));
        // One 4-D transpose of qkv to [n, 3 nh, t, hd], then q, k, v as blocks of heads: three
        // column splits and three head transposes cost more kernels and passes. (A 5-D permute,
        // PyTorch's [3, n, nh, t, hd], takes wasm's slow generic transpose: 50x slower.)
        const [q, k, v] = tf.split(
          tf.transpose(tf.reshape(qkv, [n, t, 3 * nh, hd]), [0, 2, 1, 3]),
          3,
          1,
        );
        const scores = tf.matMul(tf.mul(q, 1 / Math.sqrt(hd)), k, false, true);
        const att = tf.softmax(tf.add(scores, mask));
        const y = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [n * t, d]);
        x = tf.add(x, tf.add(tf.matMul(y, p(h + "attn.c_proj.weight")), p(h + "attn.c_proj.bias")));
        // MLP.
        const m = this.#layerNorm(x, h + "ln_2");
        const u = tf.add(tf.matMul(m, p(h + "mlp.c_fc.weight")), p(h + "mlp.c_fc.bias"));
        const o = tf.matMul(this.#activation(u), p(h + "mlp.c_proj.weight"));
        x = tf.add(x, tf.add(o, p(h + "mlp.c_proj.bias")));
      }
      const final = this.#layerNorm(x, "transformer.ln_f");
      const unembed = c.tie_word_embeddings ? p("transformer.wte.weight") : p("lm_head.weight");
      const at = opts.logitsAt;
      const rows = at ? tf.gather(final, at) : final;
      const logits = tf.reshape(
        tf.matMul(rows, unembed, false, true),
        at ? [1, at.shape[0], c.vocab_size] : [n, t, c.vocab_size],
      );
      const out: tf.TensorContainerObject = { logits };
      if (opts.hidden) out.hidden = tf.reshape(final, [n, t, d]);
      return out;
    }) as unknown as ForwardOutput;
  }

  #layerNorm(x: tf.Tensor, prefix: string): tf.Tensor {
    return layerNorm(
      x,
      this.#params.get(prefix + ".weight") as tf.Tensor1D,
      this.#params.get(prefix + ".bias") as tf.Tensor1D,
      this.config.layer_norm_epsilon,
    );
  }

  #activation(u: tf.Tensor): tf.Tensor {
    switch (this.config.activation_function) {
      case "relu":
        return tf.relu(u);
      case "gelu":
        return tf.mul(tf.mul(u, 0.5), tf.add(1, tf.erf(tf.mul(u, Math.SQRT1_2))));
      default:
        // One op with a closed-form gradient (lib/models/fused_ops.ts).
        return geluTanh(u);
    }
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
  }
}

/**
 * Build a GPT-2 from a (partial) config, initialised from a seed like Hugging Face does.
 *
 * @example
 * ```ts
 * import * as tf from "@tensorflow/tfjs-core";
 * import "@tensorflow/tfjs-backend-cpu";
 * import { createGPT2 } from "./gpt2.ts";
 * const model = createGPT2({ vocab_size: 50, n_positions: 16, n_embd: 32, n_layer: 2, n_head: 4 }, { seed: 0 });
 * const { logits } = model.forward(tf.tensor2d([[1, 2, 3]], [1, 3], "int32"));
 * console.log(logits.shape); // [1, 3, 50]
 * model.dispose();
 * ```
 */
export function createGPT2(
  config: Partial<GPT2Config> | Record<string, unknown>,
  opts: { seed?: number; source?: TensorSource } = {},
): GPT2 {
  const c = gpt2Config(config);
  return new GPT2(c, opts.source ?? seededSource(opts.seed ?? 0));
}
