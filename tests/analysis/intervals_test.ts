/** t-intervals over seeds: quantiles against published table values, one interval by hand. */
import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import { formatInterval, tInterval, tQuantile975 } from "../../lib/analysis/intervals.ts";

Deno.test("tQuantile975 matches published t-table values, table and expansion", () => {
  // Standard two-sided 95% values (e.g. NIST/SEMATECH e-Handbook, table 1.3.6.7.2).
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [5, 2.571], [9, 2.262], [30, 2.042]];
  for (const [df, t] of table) assertClose(tQuantile975(df), t, { atol: 1e-3 });
  for (const [df, t] of [[40, 2.021], [60, 2.0], [100, 1.984]] as const) {
    assertClose(tQuantile975(df), t, { atol: 1.5e-3 });
  }
  assert.throws(() => tQuantile975(0), RangeError);
});

Deno.test("tInterval: mean ± t·sd/√n by hand; errors on too few or non-finite values", () => {
  // Values 2, 4, 4, 6: mean 4, sd = √(8/3), t(3) = 3.182, half-width 3.182·√(8/3)/2.
  const ci = tInterval([2, 4, 4, 6]);
  const half = 3.182 * Math.sqrt(8 / 3) / 2;
  assertClose([ci.mean, ci.lo, ci.hi, ci.sd], [4, 4 - half, 4 + half, Math.sqrt(8 / 3)]);
  assert.equal(ci.n, 4);
  assert.equal(formatInterval(tInterval([1, 1, 1])), "1.00 [1.00, 1.00]");
  assert.throws(() => tInterval([1]), /at least 2/);
  assert.throws(() => tInterval([1, NaN]), /\[1\]/);
});
