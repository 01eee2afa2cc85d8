import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { argmaxMass, massShift, softmax64, topKGains } from "../../lib/analysis/distribution.ts";

Deno.test("topKGains ranks tokens by probability gained, by hand", () => {
  const p0 = [0.40, 0.30, 0.10, 0.15, 0.05];
  const p1 = [0.10, 0.25, 0.30, 0.05, 0.30];
  // gains: -0.30, -0.05, +0.20, -0.10, +0.25 -> order 4, 2, 1, 3, 0
  const top = topKGains(p0, p1, 3);
  assert.deepEqual(top.map((t) => t.token), [4, 2, 1]);
  assertClose(top.map((t) => t.gain), [0.25, 0.20, -0.05], { atol: 1e-12 });
  assertClose(top[0].logGain, Math.log(0.30 / 0.05), { rtol: 1e-12 });
  assert.equal(top[1].before, 0.10);
  assert.equal(top[1].after, 0.30);
});

Deno.test("topKGains by log-probability and with exclusions", () => {
  const p0 = [0.40, 0.30, 0.10, 0.15, 0.05];
  const p1 = [0.10, 0.25, 0.30, 0.05, 0.30];
  // ratios 1/4, 5/6, 3, 1/3, 6 -> 4 (6x), 2 (3x), 1 (5/6), 3 (1/3), 0 (1/4)
  const byLog = topKGains(p0, p1, { k: 5, by: "logProbability" });
  assert.deepEqual(byLog.map((t) => t.token), [4, 2, 1, 3, 0]);
  assertClose(byLog[3].logGain, Math.log(1 / 3), { rtol: 1e-12 });
  const ex = topKGains(p0, p1, { k: 2, exclude: [4] });
  assert.deepEqual(ex.map((t) => t.token), [2, 1]);
  assert.throws(() => topKGains([0.5, 0.5], [1, 0, 0], 1), RangeError);
  assert.throws(() => topKGains([0.5, 0.6], [0.5, 0.5], 1), /sums to/);
});

Deno.test("argmaxMass and softmax64 by hand", () => {
  const a = argmaxMass([0.1, 0.6, 0.3]);
  assert.equal(a.token, 1);
  assert.equal(a.mass, 0.6);
  assertClose(a.logProb, Math.log(0.6), { rtol: 1e-15 });
  const p = softmax64([1, 2, 3]);
  const e = [Math.exp(1), Math.exp(2), Math.exp(3)];
  const s = e[0] + e[1] + e[2];
  assertClose(p, e.map((v) => v / s), { rtol: 1e-14 });
  // A huge shift must not overflow.
  assertClose(softmax64([1000, 1000]), [0.5, 0.5], { rtol: 1e-15 });
});

Deno.test("massShift splits the change into y+, y-, good and other", () => {
  const p0 = [0.5, 0.3, 0.1, 0.05, 0.05];
  const p1 = [0.2, 0.1, 0.3, 0.1, 0.3];
  const s = massShift(p0, p1, { chosen: 0, rejected: 1, good: [2, 0] });
  assertClose(s.chosen, -0.3, { atol: 1e-12 });
  assertClose(s.rejected, -0.2, { atol: 1e-12 });
  assertClose(s.good, 0.2, { atol: 1e-12 });
  assertClose(s.other, 0.05 + 0.25, { atol: 1e-12 });
  assert.throws(() => massShift(p0, p1, { chosen: 7 }), RangeError);
});
