import assert from "node:assert/strict";
import { dataCommand } from "../../tools/commands/data.ts";

/** Run with console.log captured. */
async function run(args: string[]): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await dataCommand(args), out: lines.join("\n") };
  } finally {
    console.log = log;
  }
}

Deno.test("lab data check: bad rows listed as file:line, exit 1; good file exit 0 with counts", async () => {
  const bad = await run(["check", "tests/fixtures/data/bad_pairs.jsonl"]);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /error: tests\/fixtures\/data\/bad_pairs\.jsonl:2: field 'chosen'/);
  assert.match(bad.out, /2 valid rows \(standard\), 8 invalid, 1 warnings/);
  const good = await run([
    "check",
    "tests/fixtures/data/standard.jsonl",
    "--tokenizer",
    "tests/fixtures/data/tiny_tokenizer",
    "--max-length",
    "5",
  ]);
  assert.equal(good.code, 0);
  // Row 1's prompt is 5 tokens ("Is", " it", " cold", "?", " "): no room left in 5.
  assert.match(good.out, /skipped: tests\/fixtures\/data\/standard\.jsonl:1: prompt of 5 tokens/);
});

Deno.test("lab data check: usage errors are TypeErrors with the usage line", async () => {
  await assert.rejects(() => dataCommand(["check"]), /usage: lab data check FILE/);
  await assert.rejects(() => dataCommand(["check", "a", "--bogus"]), /unknown option '--bogus'/);
});
