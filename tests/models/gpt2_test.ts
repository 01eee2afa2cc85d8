import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import "../../lib/kernels/gradients.ts";
import { assertClose, assertGradsLeakNothing, useCpu } from "../helpers.ts";
import { createGPT2, gpt2Config } from "../../lib/models/gpt2.ts";
import { gpt2Reference } from "./reference.ts";
import { gaussian, maxAbsDiff, randomSource, refWeights } from "./util.ts";

await useCpu();

const CONFIG = { vocab_size: 23, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 4 };

Deno.test("gpt2: logits and hidden states match the float64 reference", () => {
  for (const extra of [{}, { tie_word_embeddings: false, n_inner: 24 }]) {
    const config = { ...CONFIG, ...extra };
    const model = createGPT2(config, { source: randomSource(1) });
    const rows = [[1, 5, 22, 0, 7, 7, 3], [4, 4, 9, 13, 2, 18, 11]];
    const out = model.forward(tf.tensor2d(rows, [2, 7], "int32"), { hidden: true });
    const logits = out.logits.arraySync(), hidden = out.hidden!.arraySync();
    const weights = refWeights(model);
    let errL = 0, errH = 0;
    rows.forEach((ids, r) => {
      const ref = gpt2Reference(config, weights, ids);
      errL = Math.max(errL, maxAbsDiff(logits[r].flat(), ref.logits.flat()));
      errH = Math.max(errH, maxAbsDiff(hidden[r].flat(), ref.hidden.flat()));
    });
    console.log(
      `gpt2 ${JSON.stringify(extra)}: max |logit err| ${errL.toExponential(2)}, max |hidden err| ${
        errH.toExponential(2)
      }`,
    );
    assert.ok(errL < 1e-4 && errH < 1e-4, `errors ${errL}, ${errH}`);
    tf.dispose([out.logits, out.hidden!]);
    model.dispose();
  }
});

Deno.test("gpt2: right padding with an attention mask leaves real positions as unpadded", () => {
  const model = createGPT2(CONFIG, { source: randomSource(2) });
  const weights = refWeights(model);
  const rows = [[3, 1, 4, 1, 5, 9], [2, 6, 5, 0, 0, 0]];
  const lengths = [6, 3];
  const mask = tf.tensor2d(rows.map((r, i) => r.map((_, t) => (t < lengths[i] ? 1 : 0))));
  const { logits } = model.forward(tf.tensor2d(rows, [2, 6], "int32"), { attentionMask: mask });
  const got = logits.arraySync();
  rows.forEach((ids, r) => {
    const ref = gpt2Reference(CONFIG, weights, ids.slice(0, lengths[r]));
    assertClose(got[r].slice(0, lengths[r]).flat(), ref.logits.flat(), {
      atol: 1e-4,
      msg: `row ${r}`,
    });
  });
  model.dispose();
});

Deno.test("gpt2: gradients match central finite differences of the float64 reference", () => {
  const config = { ...CONFIG, n_layer: 1 };
  const model = createGPT2(config, { source: randomSource(3) });
  const ids = [2, 7, 1, 8, 2];
  const g = gaussian(9);
  const coef = Array.from({ length: ids.length * config.vocab_size }, () => g());
  // Scalar objective: sum of logits weighted by fixed random coefficients.
  const objective = (logits: number[][]) => logits.flat().reduce((s, v, i) => s + v * coef[i], 0);
  const named = model.namedVariables();
  const probes: Array<[string, number]> = [
    ["transformer.wte.weight", 7 * 16 + 3],
    ["transformer.wpe.weight", 2 * 16 + 5],
    ["transformer.h.0.attn.c_attn.weight", 4 * 48 + 20],
    ["transformer.h.0.ln_1.bias", 6],
    ["transformer.h.0.mlp.c_fc.weight", 3 * 64 + 17],
    ["transformer.ln_f.weight", 11],
  ];
  const vars = probes.map(([n]) => named.get(n)!);
  const coefT = tf.tensor3d(coef, [1, ids.length, config.vocab_size]);
  const { grads } = tf.variableGrads(
    () => tf.sum(tf.mul(model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits, coefT)),
    vars,
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
      return objective(gpt2Reference(config, w, ids).logits);
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    const got = grads[named.get(name)!.name].dataSync()[index];
    assertClose(got, fd, { rtol: 2e-3, atol: 2e-4, msg: name });
  }
  model.dispose();
});

Deno.test("gpt2: seeded init follows Hugging Face's scheme and is reproducible", () => {
  const config = { vocab_size: 500, n_positions: 64, n_embd: 64, n_layer: 4, n_head: 4 };
  const a = createGPT2(config, { seed: 7 });
  const b = createGPT2(config, { seed: 7 });
  const c = createGPT2(config, { seed: 8 });
  const std = (x: Float32Array) => Math.sqrt(x.reduce((s, v) => s + v * v, 0) / x.length);
  const get = (m: typeof a, n: string) => m.namedVariables().get(n)!.dataSync() as Float32Array;
  assert.deepEqual(get(a, "transformer.wte.weight"), get(b, "transformer.wte.weight"));
  assert.notDeepEqual(get(a, "transformer.wte.weight"), get(c, "transformer.wte.weight"));
  assertClose(std(get(a, "transformer.wte.weight")), 0.02, { rtol: 0.03 });
  assertClose(std(get(a, "transformer.h.1.mlp.c_fc.weight")), 0.02, { rtol: 0.03 });
  // Residual projections: 0.02 / sqrt(2 * n_layer).
  assertClose(std(get(a, "transformer.h.1.mlp.c_proj.weight")), 0.02 / Math.sqrt(8), {
    rtol: 0.03,
  });
  assert.ok(get(a, "transformer.h.0.ln_1.weight").every((v) => v === 1));
  assert.ok(get(a, "transformer.h.0.attn.c_attn.bias").every((v) => v === 0));
  assert.equal(a.variables().length, 2 + 12 * 4 + 2);
  assert.equal(
    a.namedVariables().get("transformer.h.0.attn.c_attn.weight")!.shape.join(),
    "64,192",
  );
  for (const m of [a, b, c]) m.dispose();
});

Deno.test("gpt2: config errors name the field; overlong input is a RangeError", () => {
  assert.throws(() => gpt2Config({ n_embd: 10, n_head: 4 }), /'n_embd'.*'n_head'/);
  assert.throws(() => gpt2Config({ activation_function: "swish" }), /activation_function/);
  assert.throws(() => gpt2Config({ n_layer: 0 }), /'n_layer'/);
  assert.throws(() => gpt2Config({ model_type: "llama" }), /model_type/);
  const model = createGPT2({ ...CONFIG, n_positions: 4 }, { seed: 0 });
  assert.throws(() => model.forward(tf.zeros([1, 5], "int32")), RangeError);
  model.dispose();
});

Deno.test("gpt2: forward and backward leak no tensors", () => {
  const model = createGPT2(CONFIG, { seed: 0 });
  const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
  // The first pass warms the mask cache.
  assertGradsLeakNothing(() => tf.mean(model.forward(ids).logits));
  ids.dispose();
  model.dispose();
});
