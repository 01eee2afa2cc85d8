import assert from "node:assert/strict";
import {
  formatIssue,
  loadPreferenceFile,
  loadUnpairedFile,
  parsePreferenceJsonl,
  PreferenceDataError,
  preferenceRows,
  unpairPreferences,
} from "../../lib/data/mod.ts";
import { splitHhPair } from "../../lib/data/rows.ts";

const FIX = "tests/fixtures/data";

Deno.test("standard rows: fields, 0-based line index, blank lines skipped, identical pair warned", async () => {
  const r = await loadPreferenceFile(`${FIX}/standard.jsonl`);
  assert.equal(r.format, "standard");
  assert.equal(r.rows.length, 3);
  assert.deepEqual(r.rows.map((x) => x.line), [1, 3, 4]);
  assert.deepEqual(r.rows.map((x) => x.index), [0, 2, 3]);
  assert.equal(r.rows[0].prompt, "Is it cold? ");
  assert.equal(r.rows[0].chosen, "Yes");
  assert.deepEqual(r.rows[0].extra, { kind: "contradiction" });
  assert.equal(r.skipped, 0);
  assert.equal(r.warnings.length, 1);
  assert.equal(
    formatIssue(r.warnings[0]),
    `${FIX}/standard.jsonl:3: field 'rejected': identical to 'chosen'`,
  );
});

Deno.test("conversational rows: explicit prompt, and implicit prompt from shared leading messages", async () => {
  const r = await loadPreferenceFile(`${FIX}/conversational.jsonl`);
  assert.equal(r.format, "conversational");
  assert.deepEqual(r.rows[0].prompt, [{ role: "user", content: "Is it cold?" }]);
  assert.deepEqual(r.rows[1].prompt, [{ role: "user", content: "Hi?" }]);
  assert.deepEqual(r.rows[1].chosen, [{ role: "assistant", content: "Hello." }]);
  assert.deepEqual(r.rows[1].rejected, [{ role: "assistant", content: "Go away." }]);
});

Deno.test("HH-RLHF: prompt ends at the last shared Assistant turn, even when answers share a prefix", async () => {
  const r = await loadPreferenceFile(`${FIX}/hh_rlhf.jsonl`);
  assert.equal(r.format, "hh-rlhf");
  // "Yes, it is." and "Yesterday..." share "Yes": the split must not move into the answer.
  assert.equal(r.rows[0].prompt, "\n\nHuman: Is it cold?\n\nAssistant:");
  assert.equal(r.rows[0].chosen, " Yes, it is.");
  assert.equal(r.rows[0].rejected, " Yesterday it was.");
  assert.equal(
    r.rows[1].prompt,
    "\n\nHuman: Hi\n\nAssistant: Hello.\n\nHuman: How are you?\n\nAssistant:",
  );
  assert.equal(r.rows[1].chosen, " Fine, thanks.");
  assert.equal(splitHhPair("\n\nHuman: a", "\n\nHuman: b"), undefined);
});

Deno.test("UltraFeedback rows: user turn becomes the prompt, scores kept, inverted scores warned", async () => {
  const r = await loadPreferenceFile(`${FIX}/ultrafeedback.jsonl`);
  assert.equal(r.format, "ultrafeedback");
  assert.deepEqual(r.rows[0].prompt, [{ role: "user", content: "Name a color." }]);
  assert.deepEqual(r.rows[0].chosen, [{ role: "assistant", content: "Blue." }]);
  assert.equal(r.rows[0].extra.score_chosen, 8.5);
  assert.equal(r.rows[0].extra.prompt_id, "a1");
  assert.equal(r.warnings.length, 1);
  assert.match(formatIssue(r.warnings[0]), /ultrafeedback\.jsonl:2: field 'score_chosen': lower/);
});

Deno.test("malformed file: strict loading throws one message naming file, line and field of every error", async () => {
  const file = `${FIX}/bad_pairs.jsonl`;
  const err = await loadPreferenceFile(file, { onError: "throw" }).then(
    () => assert.fail("expected a throw"),
    (e) => e,
  );
  assert.ok(err instanceof PreferenceDataError);
  assert.ok(err instanceof TypeError);
  const msg: string = err.message;
  const expected = [
    `${file}:2: field 'chosen': expected a non-empty string, got number`,
    `${file}:3: malformed JSON:`,
    `${file}:4: field 'prompt': expected a non-empty string, got empty string`,
    `${file}:5: field 'chosen': expected a non-empty string, got nothing (field missing)`,
    `${file}:6: expected a JSON object, got array`,
    `${file}:7: field 'chosen[0].content': expected a non-empty string, got nothing (field missing)`,
    `${file}:9: field 'prompt': missing, and 'chosen'/'rejected' are not HH-RLHF transcripts`,
    `${file}:10: this is an unpaired (KTO) row`,
  ];
  for (const e of expected) assert.ok(msg.includes(e), `missing "${e}" in:\n${msg}`);
  assert.equal(err.issues.length, expected.length);
  assert.ok(!msg.includes(":8:"), "an identical pair is a warning, not an error");
});

Deno.test("malformed file by default: valid rows kept, errors and skipped count reported", async () => {
  const r = await loadPreferenceFile(`${FIX}/bad_pairs.jsonl`);
  assert.equal(
    formatIssue(r.errors[0]),
    `${FIX}/bad_pairs.jsonl:2: field 'chosen': expected a non-empty string, got number`,
  );
  assert.deepEqual(r.rows.map((x) => x.line), [1, 8]);
  assert.equal(r.skipped, 8);
  assert.equal(r.errors.length, 8);
  assert.equal(r.warnings.length, 1);
  assert.equal(r.warnings[0].line, 8);
});

Deno.test("one bad row: the thrown message is exactly that row's line", () => {
  const text =
    '{"prompt":"Q","chosen":"A","rejected":"B"}\n{"prompt":"Q","chosen":"A","rejected":7}';
  assert.throws(
    () => parsePreferenceJsonl(text, { source: "x.jsonl", onError: "throw" }),
    (e: Error) =>
      e.message === "x.jsonl:2: field 'rejected': expected a non-empty string, got number",
  );
});

Deno.test("missing file and empty file give named errors, not stack traces", async () => {
  await assert.rejects(() => loadPreferenceFile(`${FIX}/nope.jsonl`), /nope\.jsonl: no such file/);
  assert.throws(() => parsePreferenceJsonl("\n\n", { source: "e.jsonl" }), /e\.jsonl: no rows/);
  // No valid row at all: even the lenient default throws, listing every problem.
  assert.throws(
    () => parsePreferenceJsonl('{"prompt":1}\nnot json', { source: "n.jsonl" }),
    (e: Error) =>
      e instanceof PreferenceDataError && /n\.jsonl:1: field 'prompt'/.test(e.message) &&
      /n\.jsonl:2: malformed JSON/.test(e.message),
  );
});

Deno.test("unpaired rows: label must be boolean; pairs rejected with a hint", async () => {
  const ok = await loadUnpairedFile(`${FIX}/unpaired.jsonl`);
  assert.equal(ok.format, "mixed");
  assert.deepEqual(ok.formats, { "unpaired": 2, "unpaired-conversational": 1 });
  assert.deepEqual(ok.rows.map((r) => r.label), [true, false, true]);
  const file = `${FIX}/bad_unpaired.jsonl`;
  const err = await loadUnpairedFile(file, { onError: "throw" }).then(
    () => assert.fail("expected a throw"),
    (e) => e,
  );
  assert.ok(
    err.message.includes(
      `${file}:2: field 'label': expected a boolean (true = desirable), got string`,
    ),
  );
  assert.ok(
    err.message.includes(`${file}:3: field 'completion': expected a non-empty string, got null`),
  );
  assert.ok(err.message.includes(`${file}:4: this is a preference pair`));
});

Deno.test("unpairPreferences: chosen -> true, rejected -> false, prompt kept", () => {
  const { rows } = preferenceRows([{ prompt: "Q", chosen: "A", rejected: "B" }]);
  const u = unpairPreferences(rows);
  assert.deepEqual(
    u.map((r) => [r.prompt, r.completion, r.label]),
    [["Q", "A", true], ["Q", "B", false]],
  );
});
