import assert from "node:assert/strict";
import { findingVerdict, meanCI, studyTable } from "../../lib/study/mod.ts";

const ci = (lo: number, hi: number) => ({
  mean: (lo + hi) / 2,
  lo,
  hi,
  n: 5,
  level: 0.95,
  method: "t over 5 runs",
});

Deno.test("a finding's verdict is where its interval lies against the threshold", () => {
  const f = (lo: number, hi: number, direction: ">" | "<") =>
    findingVerdict({ claim: "c", expected: "e", estimate: ci(lo, hi), threshold: 0, direction });
  assert.equal(f(0.1, 0.5, ">"), "SUPPORTED");
  assert.equal(f(-0.5, -0.1, ">"), "CONTRADICTED");
  assert.equal(f(-0.1, 0.5, ">"), "INCONCLUSIVE");
  assert.equal(f(-0.5, -0.1, "<"), "SUPPORTED");
  assert.equal(f(0.1, 0.5, "<"), "CONTRADICTED");
  // One run: a point, no interval, never "supported".
  const one = { claim: "c", expected: "e", estimate: 0.3, threshold: 0, direction: ">" as const };
  assert.equal(findingVerdict(one), "ONE RUN: AGREES");
  assert.equal(findingVerdict({ claim: "c", expected: "e", pass: false }), "ONE RUN: DISAGREES");
  assert.throws(() => findingVerdict({ claim: "bare", expected: "e" }), /finding "bare"/);
});

Deno.test("the table prints sanity checks apart, and its verdict counts findings only", () => {
  const t = studyTable();
  t.sanity({ what: "autodiff vs formula", expected: "< 1e-6", measured: "2e-8", pass: true });
  t.sanity({ what: "hinge keeps π(y+)", expected: "≥ start", measured: "below", pass: false });
  t.finding({
    claim: "chosen log-prob falls",
    expected: "mean change < 0",
    estimate: meanCI([-0.4, -0.2, -0.5, -0.3, -0.1]),
    threshold: 0,
    direction: "<",
  });
  t.finding({ claim: "one-run claim", expected: "e", measured: "x = 3", pass: true });
  const s = t.summary();
  assert.deepEqual(s.sanity, { passed: 1, total: 2 });
  assert.equal(s.findings.SUPPORTED, 1);
  assert.equal(s.findings["ONE RUN: AGREES"], 1);
  const text = t.text();
  const sanityAt = text.indexOf("Sanity checks"), findingsAt = text.indexOf("Findings");
  assert.ok(sanityAt >= 0 && findingsAt > text.indexOf("FAIL S2. hinge keeps π(y+)"));
  assert.match(text, /SUPPORTED +F1\. chosen log-prob falls/);
  // mean −0.3, s = 0.1581, t = 2.776 → ±0.1963
  assert.match(
    text,
    /measured: -0\.3 \[-0\.4963, -0\.1037\] \(95%, t over 5 runs\) \(claim: < 0\)/,
  );
  assert.match(
    text,
    /Verdict \(findings only\): 1 supported, 0 contradicted, 0 inconclusive, 1 from one run/,
  );
  assert.match(text, /Sanity checks: 1\/2 pass \(a failing check means a measurement is broken\)/);
});
