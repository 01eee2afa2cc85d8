/**
 * The shipped tiny model: it loads through the checkpoint loader, stays within its size
 * budget, and predicts held-out Brown sentences better than the add-one unigram baseline,
 * both computed here from scratch.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useCpu } from "../helpers.ts";
import { loadCausalLM } from "../../lib/models/checkpoint.ts";
import { loadTokenizer } from "../../tools/pretrain/hf_tokenizer.ts";
import { readBrown, splitDocuments } from "../../tools/pretrain/corpus.ts";

const DIR = "data/models/tiny";

/** Opening sentences of four documents that the seed-0 split holds out. */
const HELD_OUT: Record<string, string> = {
  ck16: "The red glow from the cove had died out of the sky. The two in the bed knew each other " +
    "as old people know the partners with whom they have shared the same bed for many years.",
  cp05: "The Momoyama family had come from Miyagi Prefecture, in the northeast of the main " +
    "Japanese island of Honshu, where there are still traces of the mysterious Ainu strain.",
  ca04: "This has been a working session of an organization that, by its very nature, can only " +
    "proceed along its route step by step and without dramatic changes.",
  cg50: "As he had done on his first Imperial sortie a year and a half before, Lewis trekked " +
    "southeast through Red Russia to Kamieniec.",
};

Deno.test("shipped model: HF files present, under 25 MB, a few million parameters", async () => {
  for (const f of ["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"]) {
    assert.ok((await Deno.stat(`${DIR}/${f}`)).isFile, f);
  }
  const size = (await Deno.stat(`${DIR}/model.safetensors`)).size;
  assert.ok(size < 25e6, `model.safetensors is ${size} bytes`);
  const config = JSON.parse(await Deno.readTextFile(`${DIR}/config.json`));
  assert.equal(config.model_type, "gpt2");
  const { n_embd: d, n_layer: L, vocab_size: V, n_positions: P } = config;
  // Tied GPT-2: wte + wpe + per layer (2 LN + qkv + proj + 2 MLP) + final LN.
  const params = V * d + P * d +
    L * (4 * d + (3 * d * d + 3 * d) + (d * d + d) + 8 * d * d + 5 * d) +
    2 * d;
  assert.ok(params >= 1e6 && params <= 5e6, `${params} parameters`);
  assert.equal(size, 4 * params + headerBytes(await Deno.readFile(`${DIR}/model.safetensors`)));
});

function headerBytes(file: Uint8Array): number {
  return 8 + Number(new DataView(file.buffer).getBigUint64(0, true));
}

Deno.test("shipped model: beats the unigram baseline on held-out sentences", async () => {
  await useCpu();
  // The sentences really are held out by the seed-0 document split.
  const docs = await readBrown();
  const { train, heldOut } = splitDocuments(docs, { seed: 0 });
  const heldIds = new Set(heldOut.map((d) => d.id));
  for (const id of Object.keys(HELD_OUT)) assert.ok(heldIds.has(id), `${id} is held out`);

  const tok = await loadTokenizer(DIR);
  // Training unigram counts with Hugging Face's Rust tokenizer (a second BPE implementation),
  // one <|endoftext|> per document as in training.
  const tk = await import("tokenizers");
  const native = tk.Tokenizer.fromFile(`${DIR}/tokenizer.json`);
  const counts = new Float64Array(tok.vocabSize);
  const encs = await native.encodeBatch(train.map((d) => d.text));
  for (const e of encs) for (const id of e.getIds()) counts[id]++;
  counts[tok.eosId] += train.length;
  const N = counts.reduce((a, b) => a + b, 0);

  const model = await loadCausalLM(DIR);
  let modelNll = 0, unigramNll = 0, n = 0;
  for (const text of Object.values(HELD_OUT)) {
    const ids = tok.encode(text);
    assert.deepEqual((await native.encode(text)).getIds(), ids, "both tokenizers agree");
    // Predict every token of the sentence, starting from <|endoftext|> as context.
    const input = [tok.eosId, ...ids.slice(0, -1)];
    const logits = tf.tidy(() =>
      model.forward(tf.tensor2d([input], [1, input.length], "int32")).logits
    );
    const rows = await logits.array();
    logits.dispose();
    ids.forEach((y, t) => {
      const row = rows[0][t];
      const m = Math.max(...row);
      const logZ = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
      modelNll += logZ - row[y];
      unigramNll += Math.log(N + tok.vocabSize) - Math.log(counts[y] + 1);
      n++;
    });
  }
  model.dispose();
  const modelLoss = modelNll / n, unigramLoss = unigramNll / n;
  assert.ok(
    modelLoss < unigramLoss - 0.5,
    `model ${modelLoss.toFixed(3)} nats/token vs unigram ${unigramLoss.toFixed(3)} on ${n} tokens`,
  );
});
