import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../lib/kernels/gradients.ts";
import { assertClose, assertGradsLeakNothing, useCpu } from "../helpers.ts";
import { createLlama, llamaConfig, ropeInverseFrequencies } from "../../lib/models/llama.ts";
import { llamaReference, type RefLlamaConfig } from "./reference.ts";
import { gaussian, maxAbsDiff, randomSource, refWeights } from "./util.ts";

await useCpu();

const BASE = {
  vocab_size: 29,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  max_position_embeddings: 32,
  rope_theta: 100, // small theta so positions rotate visibly within a short test sequence
};

const CASES: Array<[string, Record<string, unknown>, Partial<RefLlamaConfig>]> = [
  ["llama MHA, untied", { num_key_value_heads: 4 }, {}],
  ["llama GQA 4:2, tied", { num_key_value_heads: 2, tie_word_embeddings: true }, {
    tie_word_embeddings: true,
  }],
  ["llama MQA 4:1, head_dim 6, attention_bias", {
    num_key_value_heads: 1,
    head_dim: 6,
    attention_bias: true,
  }, { head_dim: 6 }],
  ["qwen2 GQA, q/k/v biases, tied", {
    model_type: "qwen2",
    num_key_value_heads: 2,
    tie_word_embeddings: true,
  }, { tie_word_embeddings: true }],
  ["olmo, clip_qkv 0.5", { model_type: "olmo", clip_qkv: 0.5 }, {
    model_type: "olmo",
    clip_qkv: 0.5,
  }],
  ["llama, rope_scaling linear x4", {
    num_key_value_heads: 2,
    rope_scaling: { rope_type: "linear", factor: 4 },
  }, { invFreqScale: (f: number) => f / 4 }],
];

Deno.test("llama: logits and hidden states match the float64 reference", () => {
  for (const [label, extra, refExtra] of CASES) {
    const config = { ...BASE, ...extra };
    const model = createLlama(config, { source: randomSource(11) });
    const rows = [[1, 5, 28, 0, 7, 7, 3, 12], [4, 4, 9, 13, 2, 18, 11, 27]];
    const out = model.forward(tf.tensor2d(rows, [2, 8], "int32"), { hidden: true });
    const logits = out.logits.arraySync(), hidden = out.hidden!.arraySync();
    const weights = refWeights(model);
    const ref: RefLlamaConfig = {
      num_hidden_layers: 2,
      num_attention_heads: 4,
      num_key_value_heads: (extra.num_key_value_heads as number) ?? 4,
      rope_theta: 100,
      ...refExtra,
    };
    let errL = 0, errH = 0;
    rows.forEach((ids, r) => {
      const o = llamaReference(ref, weights, ids);
      errL = Math.max(errL, maxAbsDiff(logits[r].flat(), o.logits.flat()));
      errH = Math.max(errH, maxAbsDiff(hidden[r].flat(), o.hidden.flat()));
    });
    console.log(
      `${label}: max |logit err| ${errL.toExponential(2)}, max |hidden err| ${
        errH.toExponential(2)
      }`,
    );
    assert.ok(errL < 1e-4 && errH < 1e-4, `${label}: errors ${errL}, ${errH}`);
    tf.dispose([out.logits, out.hidden!]);
    model.dispose();
  }
});

Deno.test("llama: rope_scaling llama3 rescales frequencies by wavelength", () => {
  // Wavelengths 2*pi/f for theta 100, head_dim 4: f = 1, 0.1 -> 6.3 and 62.8 positions.
  // original 40, low 1 -> low wavelen 40; high 4 -> high wavelen 10: f=1 kept, f=0.1 / factor.
  const scaling = {
    rope_type: "llama3",
    factor: 8,
    low_freq_factor: 1,
    high_freq_factor: 4,
    original_max_position_embeddings: 40,
  };
  const config = { ...BASE, rope_scaling: scaling };
  const model = createLlama(config, { source: randomSource(5) });
  const ids = [3, 1, 4, 1, 5, 9, 2, 6];
  const { logits } = model.forward(tf.tensor2d([ids], [1, 8], "int32"));
  const ref = llamaReference(
    {
      num_hidden_layers: 2,
      num_attention_heads: 4,
      rope_theta: 100,
      invFreqScale: (f, i) => (i === 0 ? f : f / 8),
    },
    refWeights(model),
    ids,
  );
  assertClose(logits.arraySync()[0].flat(), ref.logits.flat(), { atol: 1e-4 });
  model.dispose();
  // A frequency between the two wavelengths is interpolated: theta = (20 / 2pi)^2 gives
  // f1 = 2pi / 20 (wavelength 20), smooth = (40 / 20 - 1) / (4 - 1) = 1/3.
  const f1 = (2 * Math.PI) / 20;
  const inv = ropeInverseFrequencies(llamaConfig({ ...config, rope_theta: (1 / f1) ** 2 }));
  assertClose(inv[0], 1);
  assertClose(inv[1], (2 / 3) * (f1 / 8) + (1 / 3) * f1, { rtol: 1e-12 });
});

Deno.test("llama: unsupported rope_scaling types and bad configs are rejected, naming the field", () => {
  assert.throws(
    () => llamaConfig({ ...BASE, rope_scaling: { rope_type: "yarn", factor: 2 } }),
    /rope_scaling.*"yarn"/,
  );
  assert.throws(
    () => llamaConfig({ ...BASE, rope_scaling: { type: "dynamic", factor: 2 } }),
    /rope_scaling.*"dynamic"/,
  );
  assert.throws(() => llamaConfig({ ...BASE, num_key_value_heads: 3 }), /num_key_value_heads/);
  assert.throws(() => llamaConfig({ ...BASE, hidden_act: "gelu" }), /hidden_act/);
  assert.throws(() => llamaConfig({ ...BASE, model_type: "gemma" }), /model_type/);
  assert.throws(() => llamaConfig({ ...BASE, use_sliding_window: true }), /use_sliding_window/);
  // null and absent rope_scaling are the default.
  assert.equal(llamaConfig({ ...BASE, rope_scaling: null }).rope_scaling, null);
});

Deno.test("llama: right padding with an attention mask leaves real positions as unpadded", () => {
  const config = { ...BASE, num_key_value_heads: 2 };
  const model = createLlama(config, { source: randomSource(2) });
  const weights = refWeights(model);
  const rows = [[3, 1, 4, 1, 5, 9], [2, 6, 5, 0, 0, 0]];
  const lengths = [6, 3];
  const mask = tf.tensor2d(rows.map((r, i) => r.map((_, t) => (t < lengths[i] ? 1 : 0))));
  const { logits } = model.forward(tf.tensor2d(rows, [2, 6], "int32"), { attentionMask: mask });
  const got = logits.arraySync();
  rows.forEach((ids, r) => {
    const ref = llamaReference(
      { num_hidden_layers: 2, num_attention_heads: 4, num_key_value_heads: 2, rope_theta: 100 },
      weights,
      ids.slice(0, lengths[r]),
    );
    assertClose(got[r].slice(0, lengths[r]).flat(), ref.logits.flat(), {
      atol: 1e-4,
      msg: `row ${r}`,
    });
  });
  model.dispose();
});

Deno.test("llama: gradients match central finite differences of the float64 reference", () => {
  const config = { ...BASE, num_hidden_layers: 1, num_key_value_heads: 2, model_type: "qwen2" };
  const ref: RefLlamaConfig = {
    num_hidden_layers: 1,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    rope_theta: 100,
  };
  const model = createLlama(config, { source: randomSource(3) });
  const ids = [2, 7, 1, 8, 2, 8];
  const g = gaussian(4);
  const coef = Array.from({ length: ids.length * config.vocab_size }, () => g());
  const objective = (logits: number[][]) => logits.flat().reduce((s, v, i) => s + v * coef[i], 0);
  const named = model.namedVariables();
  const probes: Array<[string, number]> = [
    ["model.embed_tokens.weight", 7 * 16 + 3],
    ["model.layers.0.self_attn.q_proj.weight", 5 * 16 + 2],
    ["model.layers.0.self_attn.k_proj.bias", 3],
    ["model.layers.0.self_attn.v_proj.weight", 6 * 16 + 9],
    ["model.layers.0.mlp.gate_proj.weight", 10 * 16 + 1],
    ["model.layers.0.input_layernorm.weight", 4],
    ["lm_head.weight", 2 * 16 + 15],
  ];
  const coefT = tf.tensor3d(coef, [1, ids.length, config.vocab_size]);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits, coefT)),
    probes.map(([n]) => named.get(n)!),
  );
  const base = refWeights(model);
  for (const [name, index] of probes) {
    const h = 1e-5;
    const at = (delta: number) => {
      const w = new Map(base);
      const t = base.get(name)!;
      const data = t.data.slice();
      data[index] += delta;
      w.set(name, { shape: t.shape, data });
      return objective(llamaReference(ref, w, ids).logits);
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    assertClose(grads[named.get(name)!.name].dataSync()[index], fd, {
      rtol: 2e-3,
      atol: 2e-4,
      msg: name,
    });
  }
  model.dispose();
});

Deno.test("llama: seeded init and parameter layout follow Hugging Face", () => {
  const config = {
    ...BASE,
    hidden_size: 64,
    intermediate_size: 96,
    num_key_value_heads: 2,
    vocab_size: 300,
  };
  const m = createLlama(config, { seed: 3 });
  const named = m.namedVariables();
  assert.deepEqual(named.get("model.layers.0.self_attn.k_proj.weight")!.shape, [32, 64]);
  assert.deepEqual(named.get("model.layers.0.mlp.down_proj.weight")!.shape, [64, 96]);
  assert.deepEqual(named.get("lm_head.weight")!.shape, [300, 64]);
  const emb = Array.from(named.get("model.embed_tokens.weight")!.dataSync());
  const std = Math.sqrt(emb.reduce((s, v) => s + v * v, 0) / emb.length);
  assertClose(std, 0.02, { rtol: 0.03 });
  assert.ok(named.get("model.norm.weight")!.dataSync().every((v) => v === 1));
  assert.equal(named.has("model.layers.0.self_attn.q_proj.bias"), false);
  m.dispose();
  const tied = createLlama({ ...config, tie_word_embeddings: true }, { seed: 3 });
  assert.equal(tied.namedVariables().has("lm_head.weight"), false);
  tied.dispose();
});

Deno.test("llama: forward and backward leak no tensors", () => {
  const model = createLlama({ ...BASE, num_key_value_heads: 2 }, { seed: 0 });
  const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
  const mask = tf.tensor2d([[1, 1, 1, 0]]);
  assertGradsLeakNothing(() =>
    tf.mean(model.forward(ids, { attentionMask: mask, hidden: true }).logits)
  );
  tf.dispose([ids, mask]);
  model.dispose();
});
