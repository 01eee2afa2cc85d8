import assert from "node:assert/strict";
import { formatTick, linearTicks, logTicks, niceStep } from "../../lib/plot/ticks.ts";

Deno.test("niceStep picks 1, 2 or 5 times a power of ten", () => {
  assert.equal(niceStep(10, 5), 2);
  assert.equal(niceStep(0.37, 5), 0.1);
  assert.equal(niceStep(2.47, 5), 0.5);
  assert.equal(niceStep(900, 6), 200);
  assert.throws(() => niceStep(0), RangeError);
});

Deno.test("linearTicks covers the range at the nice step without float noise", () => {
  assert.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(linearTicks(-0.37, 2.1, 5), [0, 0.5, 1, 1.5, 2]);
  assert.deepEqual(linearTicks(0.1, 0.3, 2), [0.1, 0.2, 0.3]);
  assert.throws(() => linearTicks(1, 1), RangeError);
});

Deno.test("logTicks lists decades, and 2 and 5 on short ranges", () => {
  assert.deepEqual(logTicks(0, 3), [1, 10, 100, 1000]);
  assert.deepEqual(logTicks(0, 1), [1, 2, 5, 10]);
  assert.deepEqual(logTicks(-2, -1), [0.01, 0.02, 0.05, 0.1]);
});

Deno.test("formatTick uses the step's decimals, exponents at extremes, and a true minus", () => {
  assert.equal(formatTick(-0.5, 0.25), "\u22120.50");
  assert.equal(formatTick(3, 1), "3");
  assert.equal(formatTick(0, 0.1), "0");
  assert.equal(formatTick(1_500_000, 500_000), "1.5e6");
  assert.equal(formatTick(2e-6, 1e-6), "2e\u22126");
});

Deno.test("logTicks over many decades labels every k-th decade, at most 8 labels", () => {
  // 02's log panel spans 1e-34 .. 1e-2: one label per decade (33) overlapped.
  assert.deepEqual(logTicks(-34, -2), [1e-30, 1e-25, 1e-20, 1e-15, 1e-10, 1e-5]);
  assert.deepEqual(logTicks(-10, 0), [1e-10, 1e-8, 1e-6, 1e-4, 1e-2, 1]);
  assert.equal(logTicks(-8, 0).length, 9); // up to eight decades: every decade
});
