/**
 * Float64 reference forward passes for GPT-2 and Llama-family models, written in plain JS
 * straight from the architecture definitions (one sequence at a time, explicit loops, no tfjs
 * and no library code), to check the tfjs models against.
 *
 * @module
 */

/** Weights by Hugging Face tensor name; matrices row-major in the stored layout. */
export type RefWeights = Map<string, { shape: number[]; data: Float64Array }>;

/** Per-position logits [T][V] and final hidden states [T][d] of one sequence. */
export interface RefOutput {
  logits: number[][];
  hidden: number[][];
}

function w(weights: RefWeights, name: string) {
  const t = weights.get(name);
  if (!t) throw new Error(`reference: no weight ${name}`);
  return t;
}

/** y = x @ M for M stored [in, out] (GPT-2 Conv1D). */
function matIn(x: number[], m: { shape: number[]; data: Float64Array }): number[] {
  const [nin, nout] = m.shape;
  const y = new Array(nout).fill(0);
  for (let i = 0; i < nin; i++) {
    const xi = x[i];
    for (let j = 0; j < nout; j++) y[j] += xi * m.data[i * nout + j];
  }
  return y;
}

/** y = M x for M stored [out, in] (torch nn.Linear). */
function matOut(x: number[], m: { shape: number[]; data: Float64Array }): number[] {
  const [nout, nin] = m.shape;
  const y = new Array(nout).fill(0);
  for (let j = 0; j < nout; j++) {
    let s = 0;
    for (let i = 0; i < nin; i++) s += m.data[j * nin + i] * x[i];
    y[j] = s;
  }
  return y;
}

function addVec(a: number[], b: ArrayLike<number>): number[] {
  return a.map((v, i) => v + b[i]);
}

function layerNorm(x: number[], eps: number, gain?: ArrayLike<number>, bias?: ArrayLike<number>) {
  const n = x.length;
  const mu = x.reduce((a, b) => a + b, 0) / n;
  const varc = x.reduce((a, b) => a + (b - mu) ** 2, 0) / n;
  return x.map((v, i) =>
    ((v - mu) / Math.sqrt(varc + eps)) * (gain ? gain[i] : 1) + (bias ? bias[i] : 0)
  );
}

function rmsNorm(x: number[], eps: number, gain: ArrayLike<number>) {
  const ms = x.reduce((a, b) => a + b * b, 0) / x.length;
  return x.map((v, i) => (v / Math.sqrt(ms + eps)) * gain[i]);
}

function softmaxInPlace(s: number[]) {
  const m = Math.max(...s);
  let z = 0;
  for (let i = 0; i < s.length; i++) z += s[i] = Math.exp(s[i] - m);
  for (let i = 0; i < s.length; i++) s[i] /= z;
}

function geluTanh(u: number) {
  return 0.5 * u * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (u + 0.044715 * u ** 3)));
}

/**
 * Causal self-attention over one sequence. q[t][h] is head h's query at position t; head h
 * reads key/value head kvOf(h).
 */
function attend(
  q: number[][][],
  k: number[][][],
  v: number[][][],
  kvOf: (h: number) => number,
): number[][] {
  const T = q.length, H = q[0].length, hd = q[0][0].length;
  const out: number[][] = [];
  for (let t = 0; t < T; t++) {
    const row: number[] = [];
    for (let h = 0; h < H; h++) {
      const g = kvOf(h);
      const s: number[] = [];
      for (let j = 0; j <= t; j++) {
        let dot = 0;
        for (let e = 0; e < hd; e++) dot += q[t][h][e] * k[j][g][e];
        s.push(dot / Math.sqrt(hd));
      }
      softmaxInPlace(s);
      for (let e = 0; e < hd; e++) {
        let acc = 0;
        for (let j = 0; j <= t; j++) acc += s[j] * v[j][g][e];
        row.push(acc);
      }
    }
    out.push(row);
  }
  return out;
}

/** Logits `W h` for each hidden state, with `W` the row-major `[V, d]` unembedding. */
function unembedLogits(hidden: number[][], W: Float64Array, V: number, d: number): number[][] {
  return hidden.map((h) => {
    const out = new Array(V).fill(0);
    for (let j = 0; j < V; j++) {
      for (let i = 0; i < d; i++) out[j] += W[j * d + i] * h[i];
    }
    return out;
  });
}

function splitHeads(x: number[], heads: number): number[][] {
  const hd = x.length / heads;
  return Array.from({ length: heads }, (_, h) => x.slice(h * hd, (h + 1) * hd));
}

/** GPT-2 forward for one sequence of ids. */
export function gpt2Reference(
  config: {
    n_layer: number;
    n_head: number;
    layer_norm_epsilon?: number;
    tie_word_embeddings?: boolean;
  },
  weights: RefWeights,
  ids: number[],
): RefOutput {
  const eps = config.layer_norm_epsilon ?? 1e-5;
  const wte = w(weights, "transformer.wte.weight"), wpe = w(weights, "transformer.wpe.weight");
  const d = wte.shape[1], V = wte.shape[0];
  let xs = ids.map((id, t) =>
    Array.from({ length: d }, (_, i) => wte.data[id * d + i] + wpe.data[t * d + i])
  );
  for (let l = 0; l < config.n_layer; l++) {
    const p = `transformer.h.${l}.`;
    const g = (n: string) => w(weights, p + n).data;
    const qkv = xs.map((x) =>
      addVec(
        matIn(
          layerNorm(x, eps, g("ln_1.weight"), g("ln_1.bias")),
          w(weights, p + "attn.c_attn.weight"),
        ),
        g("attn.c_attn.bias"),
      )
    );
    const q = qkv.map((r) => splitHeads(r.slice(0, d), config.n_head));
    const k = qkv.map((r) => splitHeads(r.slice(d, 2 * d), config.n_head));
    const v = qkv.map((r) => splitHeads(r.slice(2 * d), config.n_head));
    const att = attend(q, k, v, (h) => h);
    xs = xs.map((x, t) =>
      addVec(x, addVec(matIn(att[t], w(weights, p + "attn.c_proj.weight")), g("attn.c_proj.bias")))
    );
    xs = xs.map((x) => {
      const m = layerNorm(x, eps, g("ln_2.weight"), g("ln_2.bias"));
      const u = addVec(matIn(m, w(weights, p + "mlp.c_fc.weight")), g("mlp.c_fc.bias")).map(
        geluTanh,
      );
      return addVec(x, addVec(matIn(u, w(weights, p + "mlp.c_proj.weight")), g("mlp.c_proj.bias")));
    });
  }
  const hidden = xs.map((x) =>
    layerNorm(
      x,
      eps,
      w(weights, "transformer.ln_f.weight").data,
      w(weights, "transformer.ln_f.bias").data,
    )
  );
  const unembed = config.tie_word_embeddings === false ? w(weights, "lm_head.weight") : wte;
  return { logits: unembedLogits(hidden, unembed.data, V, d), hidden };
}

/** Llama-family config fields the reference reads. */
export interface RefLlamaConfig {
  model_type?: string;
  num_hidden_layers: number;
  num_attention_heads: number;
  num_key_value_heads?: number;
  head_dim?: number;
  rms_norm_eps?: number;
  rope_theta?: number;
  tie_word_embeddings?: boolean;
  clip_qkv?: number;
  /** Per-frequency multiplier applied to the inverse frequencies (rope scaling), if any. */
  invFreqScale?: (invFreq: number, i: number) => number;
}

/** Llama / Qwen2 / OLMo forward for one sequence of ids. */
export function llamaReference(
  config: RefLlamaConfig,
  weights: RefWeights,
  ids: number[],
): RefOutput {
  const emb = w(weights, "model.embed_tokens.weight");
  const V = emb.shape[0], d = emb.shape[1];
  const H = config.num_attention_heads, KV = config.num_key_value_heads ?? H;
  const hd = config.head_dim ?? d / H;
  const eps = config.rms_norm_eps ?? 1e-6, theta = config.rope_theta ?? 10000;
  const olmo = config.model_type === "olmo";
  const norm = (x: number[], name: string) =>
    olmo ? layerNorm(x, 1e-5) : rmsNorm(x, eps, w(weights, name).data);
  const lin = (x: number[], name: string) => {
    const y = matOut(x, w(weights, name + ".weight"));
    const b = weights.get(name + ".bias");
    return b ? addVec(y, b.data) : y;
  };
  const clip = (x: number[]) =>
    config.clip_qkv === undefined
      ? x
      : x.map((v) => Math.min(config.clip_qkv!, Math.max(-config.clip_qkv!, v)));
  // Rotate each pair (e, e + hd/2) of a head by angle t * invFreq[e].
  const rope = (vec: number[], t: number) => {
    const half = hd / 2, out = vec.slice();
    for (let e = 0; e < half; e++) {
      let f = 1 / Math.pow(theta, (2 * e) / hd);
      if (config.invFreqScale) f = config.invFreqScale(f, e);
      const c = Math.cos(t * f), s = Math.sin(t * f);
      out[e] = vec[e] * c - vec[e + half] * s;
      out[e + half] = vec[e + half] * c + vec[e] * s;
    }
    return out;
  };
  let xs = ids.map((id) => Array.from(emb.data.subarray(id * d, (id + 1) * d)));
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `model.layers.${l}.`;
    const a = xs.map((x) => norm(x, p + "input_layernorm.weight"));
    const q = a.map((x, t) =>
      splitHeads(clip(lin(x, p + "self_attn.q_proj")), H).map((h) => rope(h, t))
    );
    const k = a.map((x, t) =>
      splitHeads(clip(lin(x, p + "self_attn.k_proj")), KV).map((h) => rope(h, t))
    );
    const v = a.map((x) => splitHeads(clip(lin(x, p + "self_attn.v_proj")), KV));
    const att = attend(q, k, v, (h) => Math.floor(h / (H / KV)));
    xs = xs.map((x, t) => addVec(x, lin(att[t], p + "self_attn.o_proj")));
    xs = xs.map((x) => {
      const m = norm(x, p + "post_attention_layernorm.weight");
      const gate = lin(m, p + "mlp.gate_proj"), up = lin(m, p + "mlp.up_proj");
      const act = gate.map((g, i) => (g / (1 + Math.exp(-g))) * up[i]);
      return addVec(x, lin(act, p + "mlp.down_proj"));
    });
  }
  const hidden = xs.map((x) => norm(x, "model.norm.weight"));
  const unembed = config.tie_word_embeddings ? emb : w(weights, "lm_head.weight");
  return { logits: unembedLogits(hidden, unembed.data, V, d), hidden };
}
