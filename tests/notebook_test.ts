import assert from "node:assert/strict";
import { bySmoke, isSmoke, setupNotebook, SMOKE_ENV } from "../lib/notebook.ts";

Deno.test("smoke mode follows DPO_LAB_SMOKE: unset, '0' and '' are off, anything else on", () => {
  const saved = Deno.env.get(SMOKE_ENV);
  try {
    const cases: [string | undefined, boolean][] = [[undefined, false], ["0", false], ["", false], [
      "1",
      true,
    ], ["yes", true]];
    for (const [v, want] of cases) {
      if (v === undefined) Deno.env.delete(SMOKE_ENV);
      else Deno.env.set(SMOKE_ENV, v);
      assert.equal(isSmoke(), want, `DPO_LAB_SMOKE=${v}`);
      assert.equal(bySmoke("full", "smoke"), want ? "smoke" : "full");
    }
  } finally {
    if (saved === undefined) Deno.env.delete(SMOKE_ENV);
    else Deno.env.set(SMOKE_ENV, saved);
  }
});

Deno.test("setupNotebook outside a Jupyter kernel prints the report line instead of displaying", async () => {
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    const r = await setupNotebook({ backend: "cpu" });
    assert.equal(r.name, "cpu");
  } finally {
    console.log = orig;
  }
  assert.equal(lines.length, 1);
  assert.match(lines[0]!, /^tfjs backend: cpu on CPU/);
});
