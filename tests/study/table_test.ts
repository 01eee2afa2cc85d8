import assert from "node:assert/strict";
import { formatTable, wrapText } from "../../lib/study/table.ts";

Deno.test("formatTable: bare strings, 3 significant digits, numbers right-aligned", () => {
  const t = formatTable([
    { objective: "dpo", gain: 2.91349, lr: 0.0000123456, n: 12 },
    { objective: "discopop", gain: -1.1, lr: 0.5, n: 3 },
  ]);
  assert.deepEqual(t.split("\n"), [
    "objective │ gain │      lr │  n",
    "──────────┼──────┼─────────┼───",
    "dpo       │ 2.91 │ 1.23e-5 │ 12",
    "discopop  │ -1.1 │     0.5 │  3",
  ]);
});

Deno.test("formatTable: a table wider than maxWidth splits into parts that repeat the key", () => {
  const row = (name: string) =>
    Object.fromEntries([
      ["name", name],
      ...Array.from({ length: 12 }, (_, c) => [`column number ${c}`, c + 0.5]),
    ]);
  const t = formatTable([row("first"), row("second")], { maxWidth: 110 });
  const lines = t.split("\n");
  assert.ok(Math.max(...lines.map((l) => l.length)) <= 110, t);
  // 12 columns of width 16 (+3 separators) next to the key (6): 5 per part, so 3 parts.
  const headers = lines.filter((l) => l.startsWith("name"));
  assert.equal(headers.length, 3);
  for (let c = 0; c < 12; c++) {
    assert.equal(
      headers.filter((h) => h.includes(`column number ${c} `) || h.endsWith(`column number ${c}`))
        .length,
      1,
    );
  }
  assert.equal(lines.filter((l) => l.startsWith("second")).length, 3);
});

Deno.test("formatTable: long text is cut to fit, and bad widths are refused", () => {
  const t = formatTable([{ k: "a", note: "x".repeat(200) }], { maxWidth: 60 });
  assert.ok(t.split("\n").every((l) => l.length <= 60), t);
  assert.ok(t.includes("…"));
  assert.throws(() => formatTable([{ a: 1 }], { maxWidth: 5 }), /maxWidth 5/);
});

Deno.test("wrapText: long lines break at spaces under 110 columns, words and order kept", () => {
  const words = Array.from({ length: 60 }, (_, i) => `w${i}[${"x".repeat(i % 7)}]`);
  const long = `    measured: ${words.join(" ")}`;
  const text = `PASS S1. short line\n${long}\nend`;
  const out = wrapText(text).split("\n");
  assert.ok(out.every((l) => l.length <= 110), out.join("\n"));
  assert.equal(out[0], "PASS S1. short line");
  assert.equal(out.at(-1), "end");
  // The continuation lines sit under the line's own indent plus two spaces.
  const middle = out.slice(1, -1);
  assert.ok(middle.length >= 3);
  assert.ok(middle[0].startsWith("    measured: w0"));
  assert.ok(middle.slice(1).every((l) => /^ {6}\S/.test(l)));
  assert.deepEqual(middle.join(" ").trim().split(/ +/), long.trim().split(/ +/));
});

Deno.test("wrapText keeps runs of spaces inside a line (the verdict column)", () => {
  const line = `SUPPORTED          F2. ${"claim ".repeat(30).trim()}`;
  const out = wrapText(line).split("\n");
  assert.ok(out[0].startsWith("SUPPORTED          F2. claim"), out[0]);
  assert.ok(out.every((l) => l.length <= 110));
});
