import assert from "node:assert/strict";
import {
  loadPreferenceFile,
  loadUnpairedFile,
  loadYesNoQuestions,
  parseYesNoJsonl,
  singleTokenPairs,
} from "../../lib/data/mod.ts";
import { toJsonl } from "../../scripts/datasets/jsonl.ts";
import { generatePairs, KINDS, PAIRS_DEFAULTS } from "../../scripts/datasets/pairs.ts";
import { generateUnpaired, UNPAIRED_DEFAULTS } from "../../scripts/datasets/unpaired.ts";
import { generateYesNo, YESNO_DEFAULTS } from "../../scripts/datasets/yesno.ts";

const DIR = "data/datasets";
const words = (s: string) => s.trim().split(/\s+/).length;

Deno.test("shipped files are exactly what their scripts write from the recorded seeds", async () => {
  const cases: [string, string][] = [
    [`${DIR}/simple_pairs/pairs.jsonl`, toJsonl(generatePairs(PAIRS_DEFAULTS))],
    [`${DIR}/simple_unpaired/unpaired.jsonl`, toJsonl(generateUnpaired(UNPAIRED_DEFAULTS))],
    [`${DIR}/yesno_cautious/questions.jsonl`, toJsonl(generateYesNo(YESNO_DEFAULTS))],
  ];
  for (const [path, text] of cases) assert.equal(await Deno.readTextFile(path), text, path);
  assert.notEqual(
    toJsonl(generatePairs({ ...PAIRS_DEFAULTS, seed: 8 })),
    toJsonl(generatePairs(PAIRS_DEFAULTS)),
    "the seed must matter",
  );
});

Deno.test("simple_pairs: >= 500 valid standard pairs, every kind well represented, short texts", async () => {
  const r = await loadPreferenceFile(`${DIR}/simple_pairs/pairs.jsonl`);
  assert.equal(r.format, "standard");
  assert.ok(r.rows.length >= 500, `${r.rows.length} rows`);
  assert.equal(r.warnings.length, 0, "no pair has chosen identical to rejected");
  const byKind = new Map<string, number>();
  for (const row of r.rows) {
    const kind = row.extra.kind as string;
    byKind.set(kind, (byKind.get(kind) ?? 0) + 1);
    for (const t of [row.chosen as string, row.rejected as string]) {
      assert.ok(t.startsWith(" ") && words(t) >= 1 && words(t) <= 25, `line ${row.line}: '${t}'`);
    }
    assert.ok(words(row.prompt as string) <= 25);
    assert.notEqual(row.extra.chosen_paraphrase, row.chosen);
    assert.notEqual(row.extra.chosen_paraphrase, row.rejected);
  }
  assert.deepEqual([...byKind.keys()].sort(), [...KINDS].sort());
  for (const [k, n] of byKind) assert.ok(n >= 100, `${k}: ${n}`);
});

Deno.test("simple_pairs kinds mean what they say: word overlap falls from paraphrase to different_topic", async () => {
  const { rows } = await loadPreferenceFile(`${DIR}/simple_pairs/pairs.jsonl`);
  const bag = (s: string) => new Set(s.toLowerCase().match(/[a-z']+/g) ?? []);
  const jaccard = (a: string, b: string) => {
    const x = bag(a), y = bag(b);
    const inter = [...x].filter((w) => y.has(w)).length;
    return inter / (x.size + y.size - inter);
  };
  const mean = (kind: string) => {
    const v = rows.filter((r) => r.extra.kind === kind).map((r) =>
      jaccard(r.chosen as string, r.rejected as string)
    );
    return v.reduce((s, x) => s + x, 0) / v.length;
  };
  assert.ok(mean("minor_edit") > mean("paraphrase"), "a one-word edit keeps most words");
  assert.ok(mean("paraphrase") > mean("different_topic") + 0.3);
  assert.ok(mean("different_topic") < 0.2);
});

Deno.test("simple_unpaired: valid KTO rows, balanced labels", async () => {
  const r = await loadUnpairedFile(`${DIR}/simple_unpaired/unpaired.jsonl`);
  assert.equal(r.format, "unpaired");
  const pos = r.rows.filter((x) => x.label).length;
  assert.ok(r.rows.length >= 200);
  assert.equal(pos, r.rows.length - pos);
  for (const row of r.rows) assert.ok(words(row.completion as string) <= 25);
});

Deno.test("yesno_cautious: >= 100 distinct questions, both answers common, pairs built from them", async () => {
  const qs = await loadYesNoQuestions(`${DIR}/yesno_cautious/questions.jsonl`);
  assert.ok(qs.length >= 100);
  assert.equal(new Set(qs.map((q) => q.question)).size, qs.length);
  const no = qs.filter((q) => q.cautiousAnswer === "No").length;
  assert.ok(no / qs.length > 0.4 && no / qs.length < 0.6, `${no} of ${qs.length} answered No`);
  for (const q of qs) assert.ok(q.question.endsWith("?") && words(q.question) <= 25, q.question);
  const rows = singleTokenPairs(qs, {
    chosen: (q) => q.cautiousAnswer,
    rejected: (q) => q.cautiousAnswer === "No" ? "Yes" : "No",
  });
  assert.equal(rows[0].prompt, qs[0].question + "\n");
  assert.ok(rows.every((r) => r.chosen !== r.rejected));
});

Deno.test("yes/no parser names bad lines", () => {
  assert.throws(
    () => parseYesNoJsonl('{"question":"Q?","cautious_answer":"Maybe"}', { source: "q.jsonl" }),
    /q\.jsonl:1: field 'cautious_answer': expected "Yes" or "No", got "Maybe"/,
  );
});
