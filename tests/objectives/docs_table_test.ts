/**
 * The registry (lib/objectives/registry.ts, entries in registry_trl.ts and registry_papers.ts) is
 * the one place an objective's metadata is written;
 * the table "Every objective" in docs/objectives.md must agree with it field by field: names and
 * aliases, arXiv ids, formulas, provenance, and the defaults and flags of the objective the
 * registry builds.
 */
import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { createObjective, OBJECTIVES } from "../../lib/objectives/mod.ts";

await useCpu();

const DOCS = new URL("../../docs/objectives.md", import.meta.url);

interface DocRow {
  line: number;
  cells: string[];
}

/** Rows of the first table under "## Every objective", cells unescaped (`\|` → `|`). */
function docRows(text: string): DocRow[] {
  const lines = text.split("\n");
  const start = lines.findIndex((l) => l.startsWith("## Every objective"));
  assert.ok(start >= 0, "docs/objectives.md: no '## Every objective' section");
  const rows: DocRow[] = [];
  let inTable = false;
  for (let i = start + 1; i < lines.length && !lines[i].startsWith("## "); i++) {
    const l = lines[i];
    if (!l.startsWith("|")) {
      if (inTable) break;
      continue;
    }
    inTable = true;
    const cells = l.slice(1, -1).split(/(?<!\\)\|/).map((c) => c.trim().replaceAll("\\|", "|"));
    if (cells[0] === "name" || /^-+$/.test(cells[0])) continue;
    rows.push({ line: i + 1, cells });
  }
  return rows;
}

/** `` `name` (`a`, `b`) `` → ["name", "a", "b"]. */
function names(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** `k=v` pairs of a defaults cell; values as the docs write them (numbers, "strings", true). */
function defaults(cell: string): [string, string][] {
  return [...cell.matchAll(/\b([A-Za-z]\w*)=("[^"]*"|[^\s,;()]+)/g)].map((m) => [m[1], m[2]]);
}

function shown(v: unknown): string {
  return typeof v === "string" ? `"${v}"` : String(v);
}

const SOURCE: Record<string, RegExp> = {
  code: /^read \(code\b/,
  paper: /^read \(paper\b/,
  reconstructed: /^\*\*reconstructed\*\*/,
};

const rows = docRows(await Deno.readTextFile(DOCS));
const byName = new Map(rows.map((r) => [names(r.cells[0])[0], r]));

Deno.test("docs table and registry list the same objectives, in the same order", () => {
  assert.deepEqual(
    rows.map((r) => names(r.cells[0])[0]),
    OBJECTIVES.map((e) => e.name),
  );
});

for (const e of OBJECTIVES) {
  Deno.test(`docs row of ${e.name} agrees with the registry`, () => {
    const r = byName.get(e.name);
    assert.ok(r, `docs/objectives.md has no row for ${e.name}`);
    const where = `docs/objectives.md line ${r.line} (${e.name})`;
    const [name, arxiv, formula, defs, ref, tokens, coupled, source] = r.cells;
    for (const a of names(name).slice(1)) {
      assert.ok(e.aliases.includes(a), `${where}: alias '${a}' is not in the registry`);
    }
    assert.equal(arxiv, e.arxiv, `${where}: arXiv`);
    assert.equal(formula, e.formula, `${where}: formula`);
    assert.match(source, SOURCE[e.source], `${where}: provenance should be ${e.source}`);
    const obj = createObjective(e.name);
    for (const [k, v] of defaults(defs)) {
      // A combination (mpo) names its parts' parameters "<i>:<part>.<name>".
      const values = k in obj.params
        ? [obj.params[k]]
        : Object.entries(obj.params).filter(([n]) => n.endsWith(`.${k}`)).map(([, x]) => x);
      assert.ok(values.length > 0, `${where}: default '${k}' is not a parameter`);
      for (const x of values) assert.equal(v, shown(x), `${where}: default of ${k}`);
    }
    const yes = (cell: string) => /^yes\b/.test(cell);
    assert.equal(yes(ref), obj.needsReference, `${where}: reference column`);
    assert.equal(yes(tokens), obj.needsTokens, `${where}: tokens column`);
    assert.equal(yes(coupled), obj.batchCoupled, `${where}: batch-coupled column`);
  });
}

Deno.test("the checker fails on a row that disagrees", () => {
  const table = [
    "## Every objective",
    "| name | arXiv | loss | defaults | reference | tokens | batch-coupled | formula |",
    "| ---- | ----- | ---- | -------- | --------- | ------ | ------------- | ------- |",
    "| `dpo` (`sigmoid`) | 2305.18290 | x \\| y | beta=0.2 | yes | no | no | read (code) |",
  ].join("\n");
  const [row] = docRows(table);
  assert.equal(row.cells[2], "x | y");
  assert.deepEqual(defaults(row.cells[3]), [["beta", "0.2"]]);
  assert.notEqual(shown(createObjective("dpo").params.beta), "0.2");
});
