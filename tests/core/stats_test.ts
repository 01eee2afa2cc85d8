import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import {
  averageRanks,
  pearsonCorrelation,
  smoothEma,
  spearmanCorrelation,
} from "../../lib/core/stats.ts";

Deno.test("averageRanks gives tied values the mean of their positions", () => {
  assert.deepEqual(averageRanks([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
  assert.deepEqual(averageRanks([7, 7, 7]), [2, 2, 2]);
  assert.deepEqual(averageRanks([]), []);
});

Deno.test("spearmanCorrelation with ties matches a hand computation (7/19), not the d^2 shortcut", () => {
  // ranks x = [1, 2.5, 2.5, 4, 5], ranks y = [2, 1, 5, 3.5, 3.5]; both mean 3;
  // sum dx*dy = 2 + 1 - 1 + 0.5 + 1 = 3.5; sum dx^2 = sum dy^2 = 9.5  =>  rho = 3.5 / 9.5.
  const x = [1, 2, 2, 3, 4], y = [2, 1, 4, 3, 3];
  assertClose(spearmanCorrelation(x, y), 7 / 19, { rtol: 1e-12 });
  // The no-ties shortcut 1 - 6*12/(5*24) = 0.4 would be wrong here.
  assert.notEqual(Math.round(spearmanCorrelation(x, y) * 100), 40);
});

Deno.test("spearmanCorrelation is +/-1 for monotone data and NaN for constant data", () => {
  assert.equal(spearmanCorrelation([1, 2, 3, 4], [1, 4, 9, 16]), 1);
  assert.equal(spearmanCorrelation([1, 2, 3, 4], [9, 3, 2, -5]), -1);
  assert.ok(Number.isNaN(spearmanCorrelation([1, 2, 3], [5, 5, 5])));
});

Deno.test("correlations reject mismatched lengths and non-finite values", () => {
  assert.throws(() => spearmanCorrelation([1, 2], [1]), RangeError);
  assert.throws(() => pearsonCorrelation([1, NaN], [1, 2]), /index 1/);
});

Deno.test("pearsonCorrelation matches a hand computation", () => {
  // dx = [-1, 0, 1], dy = [-7/3, -1/3, 8/3]: sxy = 5, sxx = 2, syy = 38/3.
  assertClose(pearsonCorrelation([1, 2, 3], [2, 4, 7]), 5 / Math.sqrt(2 * 38 / 3), { rtol: 1e-12 });
});

Deno.test("smoothEma debiases like TensorBoard and lets gaps through", () => {
  // s1 = 0.5, reported 0.5/0.5 = 1; s2 = 0.25 + 1.5 = 1.75, reported 1.75/0.75 = 7/3.
  assertClose(smoothEma([1, 3], 0.5), [1, 7 / 3], { rtol: 1e-12 });
  const gappy = smoothEma([1, NaN, 3], 0.5);
  assert.ok(Number.isNaN(gappy[1]));
  assertClose([gappy[0], gappy[2]], [1, 7 / 3], { rtol: 1e-12 });
  assert.deepEqual(smoothEma([4, 5, 6], 0), [4, 5, 6]);
  assert.throws(() => smoothEma([1], 1), RangeError);
});
