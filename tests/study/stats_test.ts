import assert from "node:assert/strict";
import {
  bootstrapCI,
  diffMeansCI,
  mean,
  meanCI,
  median,
  sampleSd,
  tQuantile,
} from "../../lib/study/mod.ts";

const near = (a: number, b: number, tol: number, what: string) =>
  assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

Deno.test("mean, median and sample sd against hand-computed values", () => {
  assert.equal(mean([1, 2, 6]), 3);
  assert.equal(median([7, 1, 3]), 3);
  assert.equal(median([5, 1, 4, 2]), 3);
  // sum of squares about 5 is 32, / 7
  near(sampleSd([2, 4, 4, 4, 5, 5, 7, 9]), Math.sqrt(32 / 7), 1e-12, "sd");
  assert.throws(() => mean([]), /at least 1/);
  assert.throws(() => median([1, NaN]), /value 1 is not a finite number/);
  assert.throws(() => sampleSd([1]), /at least 2/);
});

Deno.test("t quantiles match the printed table (two-sided 95% and 90%)", () => {
  // Student's t table, 3 decimals: df -> [t(0.975), t(0.95)]
  const table: [number, number, number][] = [
    [1, 12.706, 6.314],
    [2, 4.303, 2.92],
    [3, 3.182, 2.353],
    [4, 2.776, 2.132],
    [5, 2.571, 2.015],
    [9, 2.262, 1.833],
    [10, 2.228, 1.812],
    [20, 2.086, 1.725],
    [29, 2.045, 1.699],
    [120, 1.98, 1.658],
  ];
  for (const [df, t975, t95] of table) {
    near(tQuantile(0.975, df), t975, 6e-4, `t(0.975, ${df})`);
    near(tQuantile(0.95, df), t95, 6e-4, `t(0.95, ${df})`);
    near(tQuantile(0.025, df), -t975, 6e-4, `t(0.025, ${df})`);
  }
  near(tQuantile(0.975, 1e6), 1.96, 1e-3, "normal limit");
  assert.throws(() => tQuantile(1, 3), RangeError);
  assert.throws(() => tQuantile(0.5, 0), RangeError);
});

Deno.test("meanCI: mean ± t(0.975, n−1)·s/√n, by hand", () => {
  // [1..5]: mean 3, s = √2.5, t = 2.776 → half width 2.776·1.5811/2.2361 = 1.9630
  const ci = meanCI([1, 2, 3, 4, 5]);
  assert.equal(ci.mean, 3);
  near(ci.hi - ci.mean, 1.963, 1e-3, "half width");
  near(ci.mean - ci.lo, 1.963, 1e-3, "symmetric");
  assert.equal(ci.n, 5);
  // Five seeds with s = 0.1: 0.1·2.776/√5 = 0.1242
  const seeds = meanCI([0.4, 0.5, 0.6, 0.5, 0.5]);
  near(seeds.hi - seeds.mean, (Math.sqrt(0.02 / 4) * 2.7764) / Math.sqrt(5), 1e-4, "seeds");
  assert.throws(() => meanCI([1]), /at least 2/);
});

Deno.test("diffMeansCI: Welch's interval, by hand", () => {
  // [3,4,5] − [1,2,3]: diff 2, se = √(1/3 + 1/3) = 0.8165, df = 4, t = 2.776 → ±2.267
  const d = diffMeansCI([3, 4, 5], [1, 2, 3]);
  assert.equal(d.mean, 2);
  near(d.lo, 2 - 2.7764 * Math.sqrt(2 / 3), 1e-3, "lo");
  near(d.hi, 2 + 2.7764 * Math.sqrt(2 / 3), 1e-3, "hi");
  // Unequal variances: a = [0, 2] (var 2), b = [0, 0, 3, 3, 3, 3] (var 2.4): va = 1, vb = 0.4,
  // df = 1.96 / (1/1 + 0.16/5) = 1.8992; t(0.975, 1.8992) = 4.4566 (between 4.303 at 2 and 12.7 at 1)
  const w = diffMeansCI([0, 2], [0, 0, 3, 3, 3, 3]);
  near(w.mean, -1, 1e-12, "diff");
  near((w.hi - w.lo) / 2, tQuantile(0.975, 1.96 / 1.032) * Math.sqrt(1.4), 1e-9, "df");
  assert.ok(tQuantile(0.975, 1.96 / 1.032) > 4.303 && tQuantile(0.975, 1.96 / 1.032) < 4.6);
});

Deno.test("bootstrapCI: the exact resampling distribution's percentiles, and seeded", () => {
  // [0,0,0,1]: a resample's mean is k/4, k ~ Binomial(4, 1/4); P(k ≤ 2) = 0.949 < 0.975 ≤
  // P(k ≤ 3) = 0.996, and P(k = 0) = 0.316 > 0.025: the 95% interval is [0, 0.75].
  const ci = bootstrapCI([0, 0, 0, 1], mean);
  assert.deepEqual([ci.lo, ci.hi, ci.mean], [0, 0.75, 0.25]);
  // [0, 1]: means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4 → [0, 1].
  const two = bootstrapCI([0, 1], mean);
  assert.deepEqual([two.lo, two.hi], [0, 1]);
  // Over pairs: a statistic of (x, y) items, resampled together.
  const pairs = [[1, 2], [2, 4], [3, 6], [4, 8]];
  const ratio = bootstrapCI(pairs, (s) => mean(s.map((p) => p[1]!)) / mean(s.map((p) => p[0]!)));
  assert.deepEqual([ratio.lo, ratio.mean, ratio.hi], [2, 2, 2]);
  assert.deepEqual(
    bootstrapCI([1, 5, 2, 8, 3], median, { seed: 7 }),
    bootstrapCI([1, 5, 2, 8, 3], median, { seed: 7 }),
  );
  assert.throws(() => bootstrapCI([1], mean), /at least 2/);
});
