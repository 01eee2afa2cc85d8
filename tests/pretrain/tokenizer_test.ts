import assert from "node:assert/strict";
import { BYTE_CHARS, fromByteLevel, toByteLevel } from "../../tools/pretrain/bytelevel.ts";
import {
  bpeSplit,
  buildTokenizer,
  EOS_TOKEN,
  learnMerges,
  STUDY_WORDS,
  writeTokenizer,
} from "../../tools/pretrain/tokenizer.ts";
import { loadTokenizer } from "../../tools/pretrain/hf_tokenizer.ts";

const SHIPPED = "data/models/tiny";

Deno.test("byte-level alphabet: GPT-2's table, 256 distinct characters", () => {
  assert.equal(new Set(BYTE_CHARS).size, 256);
  assert.equal(BYTE_CHARS[0x21], "!");
  assert.equal(BYTE_CHARS[0x20], "\u0120"); // Ġ: space is the 33rd non-printable byte
  assert.equal(BYTE_CHARS[0x0a], "\u010a"); // Ċ
  assert.equal(BYTE_CHARS[0x00], "\u0100");
  assert.equal(BYTE_CHARS[0xad], "\u0143"); // soft hyphen, the last remapped byte (67th)
  assert.equal(toByteLevel(" Yes\n"), "\u0120YesĊ");
  assert.equal(toByteLevel("é"), "\u00c3\u00a9"); // UTF-8 C3 A9
  assert.equal(fromByteLevel(toByteLevel("naïve — ok")), "naïve — ok");
});

Deno.test("bpeSplit: lowest-ranked pair first, by hand", () => {
  const merges: [string, string][] = [["a", "b"], ["b", "c"], ["ab", "c"]];
  // "abc": (a,b) rank 0 beats (b,c) rank 1 -> ab c -> abc.
  assert.deepEqual(bpeSplit("abc", merges), ["abc"]);
  // "bbc": only (b,c) applies -> b bc.
  assert.deepEqual(bpeSplit("bbc", merges), ["b", "bc"]);
  assert.deepEqual(bpeSplit("xy", merges), ["x", "y"]);
});

Deno.test("learnMerges: Hugging Face's trainer picks the most frequent pair first", async () => {
  // Pre-tokens: "ab", "Ġab", "Ġab", "Ġcd": pair (a, b) occurs 3 times, (Ġ, a) twice.
  const merges = await learnMerges(["ab ab ab cd"]);
  assert.deepEqual(merges[0], ["a", "b"]);
  assert.deepEqual(merges[1], ["Ġ", "ab"]);
});

Deno.test("buildTokenizer: exact vocabulary size, required words single tokens via AutoTokenizer", async () => {
  const learned: [string, string][] = [["Ġ", "t"], ["h", "e"], ["Ġt", "he"], ["Ġ", "a"]];
  const files = buildTokenizer(learned, { vocabSize: 264, requiredWords: ["Yes", "No"] });
  // Required words add 5 tokens: "Yes" needs (Y,e), (Ye,s); " Yes" is then Ġ Yes -> (Ġ,Yes);
  // "No" -> (N,o); " No" -> (Ġ,No). The largest learned prefix k with 256 + k + 5 + 1 <= 264
  // is k = 2, keeping (Ġ,t) -> id 256 and (h,e) -> id 257.
  assert.equal(files.learnedMerges, 2);
  assert.equal(files.eosId, 263);
  const dir = await Deno.makeTempDir();
  try {
    await writeTokenizer(dir, files);
    const tok = await loadTokenizer(dir);
    assert.equal(tok.vocabSize, 264);
    assert.equal(tok.eosId, 263);
    for (const w of ["Yes", " Yes", "No", " No"]) {
      assert.equal(tok.encode(w).length, 1, JSON.stringify(w));
    }
    assert.deepEqual(files.addedMerges, [["Y", "e"], ["Ye", "s"], ["Ġ", "Yes"], ["N", "o"], [
      "Ġ",
      "No",
    ]]);
    assert.deepEqual(tok.encode("the"), [116, 257]); // t + he; (Ġt, he) was not kept
    assert.deepEqual(tok.encode(" the"), [256, 257]);
    const text = "No, the Yes-man said: 'naïve'.\nNew line " + EOS_TOKEN;
    const ids = tok.encode(text);
    assert.equal(ids[ids.length - 1], 263);
    assert.equal(tok.decode(ids), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("shipped tokenizer: study words are single tokens and text round-trips", async () => {
  const tok = await loadTokenizer(SHIPPED);
  assert.equal(tok.vocabSize, 4096);
  assert.equal(tok.eosId, 4095);
  const seen = new Set<number>();
  for (const w of STUDY_WORDS) {
    for (const form of [w, " " + w]) {
      const ids = tok.encode(form);
      assert.equal(ids.length, 1, `${JSON.stringify(form)} -> ${ids}`);
      assert.equal(tok.decode(ids), form);
      seen.add(ids[0]);
    }
  }
  assert.equal(seen.size, 2 * STUDY_WORDS.length);
  const json = JSON.parse(await Deno.readTextFile(`${SHIPPED}/tokenizer.json`));
  assert.equal(json.model.vocab["ĠYes"], tok.encode(" Yes")[0]);
  assert.equal(json.model.vocab["Yes"], tok.encode("Yes")[0]);
  const text = 'Q: Is it raining? A: "Yes," she said. Perhaps not -- 1,234 naïve cafés.';
  assert.equal(tok.decode(tok.encode(text)), text);
});
