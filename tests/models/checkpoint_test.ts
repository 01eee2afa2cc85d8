import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { createLlama } from "../../lib/models/llama.ts";
import { loadCausalLM, locateCheckpoint, saveCausalLM } from "../../lib/models/checkpoint.ts";
import { encodeSafetensors } from "../../lib/models/safetensors.ts";
import type { CausalLM } from "../../lib/models/types.ts";
import { llamaReference, type RefWeights } from "./reference.ts";
import { randomSource, TINY_GPT2, TINY_LLAMA } from "./util.ts";

await useCpu();

const FIXTURES = new URL("../fixtures/models/", import.meta.url).pathname;
const GPT2 = TINY_GPT2, LLAMA = TINY_LLAMA;

function snapshot(model: CausalLM): Map<string, Float32Array> {
  return new Map([...model.namedVariables()].map(([n, v]) => [n, v.dataSync() as Float32Array]));
}

/** Bitwise equality of two f32 arrays (distinguishes -0 and NaN payloads). */
function sameBits(a: Float32Array, b: Float32Array): boolean {
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

async function withTempDir(fn: (dir: string) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("checkpoint: save -> load is bit-identical for GPT-2 and Llama (tied and untied)", async () => {
  const models = [
    createGPT2(GPT2, { source: randomSource(1) }),
    createLlama(LLAMA, { source: randomSource(2) }),
    createLlama({ ...LLAMA, tie_word_embeddings: true, model_type: "qwen2" }, {
      source: randomSource(3),
    }),
  ];
  for (const model of models) {
    await withTempDir(async (dir) => {
      await saveCausalLM(model, dir);
      const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
      assert.equal(config.model_type, model.config.model_type);
      assert.equal(config.torch_dtype, "float32");
      assert.ok(Array.isArray(config.architectures) && config.architectures.length === 1);
      const loaded = await loadCausalLM(dir);
      assert.equal(loaded.kind, model.kind);
      const a = snapshot(model), b = snapshot(loaded);
      assert.deepEqual([...a.keys()], [...b.keys()]);
      for (const [name, values] of a) assert.ok(sameBits(values, b.get(name)!), name);
      const ids = tf.tensor2d([[1, 2, 3, 4]], [1, 4], "int32");
      assert.deepEqual(model.forward(ids).logits.dataSync(), loaded.forward(ids).logits.dataSync());
      loaded.dispose();
    });
    model.dispose();
  }
});

Deno.test("checkpoint: tied unembeddings are not written twice", async () => {
  await withTempDir(async (dir) => {
    const model = createLlama({ ...LLAMA, tie_word_embeddings: true }, { seed: 0 });
    await saveCausalLM(model, dir);
    const bytes = await Deno.readFile(`${dir}/model.safetensors`);
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.equal(header["lm_head.weight"], undefined);
    assert.ok(header["model.embed_tokens.weight"]);
    model.dispose();
  });
});

Deno.test("checkpoint: sharded save writes an index and reloads identically", async () => {
  await withTempDir(async (dir) => {
    const model = createGPT2(GPT2, { source: randomSource(4) });
    const files = await saveCausalLM(model, dir, { maxShardBytes: 8000 });
    assert.ok(files.weights.length > 2, `${files.weights.length} shards`);
    const index = JSON.parse(await Deno.readTextFile(`${dir}/model.safetensors.index.json`));
    const total = [...model.namedVariables().values()].reduce((s, v) => s + 4 * v.size, 0);
    assert.equal(index.metadata.total_size, total);
    assert.equal(Object.keys(index.weight_map).length, model.variables().length);
    assert.match(index.weight_map["transformer.wte.weight"], /^model-\d{5}-of-\d{5}\.safetensors$/);
    const loaded = await loadCausalLM(dir);
    const a = snapshot(model), b = snapshot(loaded);
    for (const [name, values] of a) assert.ok(sameBits(values, b.get(name)!), name);
    loaded.dispose();
    model.dispose();
  });
});

Deno.test("checkpoint: loads a numpy-written BF16 sharded Llama with exact values", async () => {
  const dir = FIXTURES + "tiny-llama-bf16-sharded";
  const files = await locateCheckpoint(dir);
  assert.equal(files.weights.length, 2);
  const model = await loadCausalLM(dir);
  const exact: Record<string, number[]> = JSON.parse(
    await Deno.readTextFile(FIXTURES + "tiny-llama-bf16-sharded.weights.json"),
  );
  const named = model.namedVariables();
  assert.deepEqual([...named.keys()].sort(), Object.keys(exact).sort());
  for (const [name, values] of Object.entries(exact)) {
    assert.deepEqual([...named.get(name)!.dataSync()], values, name);
  }
  // The forward pass on these weights agrees with the reference fed straight from the JSON.
  const weights: RefWeights = new Map(
    Object.entries(exact).map((
      [n, v],
    ) => [n, { shape: named.get(n)!.shape, data: Float64Array.from(v) }]),
  );
  const ids = [3, 0, 18, 7, 7, 2];
  const ref = llamaReference(
    { num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, rope_theta: 50 },
    weights,
    ids,
  );
  const { logits } = model.forward(tf.tensor2d([ids], [1, ids.length], "int32"));
  assertClose(logits.dataSync(), ref.logits.flat(), { atol: 1e-4 });
  model.dispose();
});

Deno.test("checkpoint: GPT-2 files without the transformer. prefix and with mask buffers load", async () => {
  await withTempDir(async (dir) => {
    const model = createGPT2(GPT2, { source: randomSource(5) });
    const tensors = new Map();
    for (const [name, v] of model.namedVariables()) {
      tensors.set(name.replace(/^transformer\./, ""), { shape: v.shape, values: v.dataSync() });
    }
    tensors.set("h.0.attn.bias", { shape: [1, 1, 16, 16], values: new Float32Array(256) });
    await Deno.writeFile(`${dir}/model.safetensors`, encodeSafetensors(tensors));
    await Deno.writeTextFile(
      `${dir}/config.json`,
      JSON.stringify({ ...GPT2, architectures: ["GPT2LMHeadModel"], model_type: "gpt2" }),
    );
    const loaded = await loadCausalLM(dir);
    const a = snapshot(model), b = snapshot(loaded);
    for (const [name, values] of a) assert.ok(sameBits(values, b.get(name)!), name);
    loaded.dispose();
    model.dispose();
  });
});

Deno.test("checkpoint: config.json without model_type falls back to architectures", async () => {
  await withTempDir(async (dir) => {
    const model = createLlama(LLAMA, { seed: 1 });
    await saveCausalLM(model, dir);
    const config = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
    delete config.model_type;
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
    const loaded = await loadCausalLM(dir);
    assert.equal(loaded.config.model_type, "llama");
    loaded.dispose();
    model.dispose();
  });
});

Deno.test("checkpoint: every error names the file and the tensor or field", async () => {
  await withTempDir(async (root) => {
    const model = createGPT2(GPT2, { seed: 2 });
    const fresh = async (name: string, opts = {}) => {
      const dir = `${root}/${name}`;
      await saveCausalLM(model, dir, opts);
      return dir;
    };
    const editConfig = async (dir: string, patch: Record<string, unknown>) => {
      const c = JSON.parse(await Deno.readTextFile(`${dir}/config.json`));
      await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ ...c, ...patch }));
    };

    // Not a checkpoint directory at all.
    await assert.rejects(
      () => loadCausalLM(`${root}/nothing`),
      /nothing\/config\.json: file not found/,
    );

    // Unsupported architecture.
    let dir = await fresh("bert");
    await editConfig(dir, { model_type: "bert", architectures: ["BertModel"] });
    await assert.rejects(() => loadCausalLM(dir), (e: Error) => {
      assert.ok(e instanceof TypeError);
      assert.match(e.message, /bert\/config\.json: unsupported architecture.*"bert".*BertModel/);
      return true;
    });

    // Config field out of range.
    dir = await fresh("badcfg");
    await editConfig(dir, { n_head: 5 });
    await assert.rejects(() => loadCausalLM(dir), /badcfg\/config\.json: .*'n_embd'.*'n_head'/);

    // Shape mismatch: config says a bigger vocabulary than the weights hold.
    dir = await fresh("shape");
    await editConfig(dir, { vocab_size: 24 });
    await assert.rejects(() => loadCausalLM(dir), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(
        e.message,
        /shape\/model\.safetensors: tensor 'transformer\.wte\.weight' has shape \[23,16\], config\.json implies \[24,16\]/,
      );
      return true;
    });

    // Missing tensor: the config asks for one more layer than the file has.
    dir = await fresh("missing");
    await editConfig(dir, { n_layer: 3 });
    await assert.rejects(
      () => loadCausalLM(dir),
      /missing\/model\.safetensors: missing tensor 'transformer\.h\.2\.ln_1\.weight'/,
    );

    // Truncated weights file.
    dir = await fresh("cut");
    const bytes = await Deno.readFile(`${dir}/model.safetensors`);
    await Deno.writeFile(`${dir}/model.safetensors`, bytes.subarray(0, bytes.byteLength - 100));
    await assert.rejects(
      () => loadCausalLM(dir),
      /cut\/model\.safetensors: truncated file: tensor '/,
    );

    // The index names a shard that lacks the tensor.
    dir = await fresh("index", { maxShardBytes: 8000 });
    const indexPath = `${dir}/model.safetensors.index.json`;
    const index = JSON.parse(await Deno.readTextFile(indexPath));
    const other = Object.values(index.weight_map).find((f) =>
      f !== index.weight_map["transformer.wte.weight"]
    );
    index.weight_map["transformer.wte.weight"] = other;
    await Deno.writeTextFile(indexPath, JSON.stringify(index));
    await assert.rejects(
      () => loadCausalLM(dir),
      new RegExp(
        `index/${other}: missing tensor 'transformer\\.wte\\.weight' \\(listed in .*index\\.json\\)`,
      ),
    );

    // A shard named by the index is absent.
    dir = await fresh("noshard", { maxShardBytes: 8000 });
    const files = await locateCheckpoint(dir);
    await Deno.remove(files.weights[1]);
    await assert.rejects(
      () => loadCausalLM(dir),
      /noshard\/model-00002-of-\d{5}\.safetensors: weight file not found/,
    );

    // Only PyTorch pickles.
    dir = `${root}/bin`;
    await Deno.mkdir(dir);
    await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(GPT2));
    await Deno.writeFile(`${dir}/pytorch_model.bin`, new Uint8Array(4));
    await assert.rejects(() => loadCausalLM(dir), /pytorch_model\.bin is not supported/);
    model.dispose();
  });
});

Deno.test("checkpoint: tokenizer files are located and copied on save", async () => {
  await withTempDir(async (root) => {
    await Deno.mkdir(`${root}/tok`);
    await Deno.writeTextFile(`${root}/tok/tokenizer.json`, '{"model":{}}');
    await Deno.writeTextFile(`${root}/tok/tokenizer_config.json`, '{"eos_token":"</s>"}');
    const model = createGPT2(GPT2, { seed: 0 });
    const files = await saveCausalLM(model, `${root}/out`, {
      tokenizerFrom: `${root}/tok`,
      extraConfig: { eos_token_id: 22 },
    });
    assert.equal(files.tokenizer, `${root}/out/tokenizer.json`);
    const found = await locateCheckpoint(`${root}/out`);
    assert.equal(found.tokenizer, `${root}/out/tokenizer.json`);
    assert.equal(found.tokenizerConfig, `${root}/out/tokenizer_config.json`);
    assert.equal(await Deno.readTextFile(found.tokenizerConfig!), '{"eos_token":"</s>"}');
    assert.equal(JSON.parse(await Deno.readTextFile(found.config)).eos_token_id, 22);
    await saveCausalLM(model, `${root}/bare`);
    assert.equal((await locateCheckpoint(`${root}/bare`)).tokenizer, undefined);
    model.dispose();
  });
});
