import assert from "node:assert/strict";
import {
  bootstrapCI,
  boundedMeanCI,
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

Deno.test("boundedMeanCI: shares keep a logit interval inside [0, 1], by hand", () => {
  // Five shares: mean 0.25, s = 0.37081, t(0.975, 4) = 2.776445; on the logit scale the half
  // width is t·s/√5 / (0.25·0.75) = 2.45566 around logit(0.25) = −1.09861; mapped back with
  // 1/(1 + e^−v): [0.027809, 0.795267] (computed in float64 with Python's math module).
  const shares = [0.1, 0.9, 0.05, 0.2, 0.0];
  const ci = boundedMeanCI(shares, { lower: 0, upper: 1 }, 0.95, "prompts");
  near(ci.mean, 0.25, 1e-12, "mean");
  near(ci.lo, 0.02780899581611453, 1e-9, "lo");
  near(ci.hi, 0.7952665016477409, 1e-9, "hi");
  assert.match(ci.method, /logit scale of \[0, 1\], over 5 prompts/);
  // The plain t interval of the same shares leaves [0, 1]: this is what the helper is for.
  assert.ok(meanCI(shares).lo < 0);
});

Deno.test("boundedMeanCI on [−1, 1] is Fisher's z of the mean: tanh(atanh(m) ± h)", () => {
  // ρ over 5 seeds: m = 0.668, s = 0.09418; h = t·s/√5 / (1 − m²); tanh(atanh(m) ± h) in
  // float64 (Python): [0.534164, 0.769170].
  const ci = boundedMeanCI([0.62, 0.55, 0.71, 0.8, 0.66], { lower: -1, upper: 1 });
  near(ci.lo, 0.5341635737639778, 1e-9, "lo");
  near(ci.hi, 0.769170182799559, 1e-9, "hi");
  assert.match(ci.method, /Fisher z/);
  // A per-seed ρ of −1 is allowed (Fisher z of each seed would be infinite); the t interval of
  // these values reaches −1.043, the bounded one stays inside: [−0.953924, −0.464179].
  const rho = [-0.9, -0.95, -0.6, -1.0, -0.7];
  assert.ok(meanCI(rho).lo < -1);
  const b = boundedMeanCI(rho, { lower: -1, upper: 1 });
  near(b.lo, -0.9539237369046786, 1e-9, "lo with a −1");
  near(b.hi, -0.4641785792096008, 1e-9, "hi with a −1");
});

Deno.test("boundedMeanCI: equal runs, bad input", () => {
  const all = boundedMeanCI([1, 1, 1, 1, 1], { lower: 0, upper: 1 }, 0.95, "seeds");
  assert.deepEqual([all.mean, all.lo, all.hi], [1, 1, 1]);
  assert.match(all.method, /all 5 seeds equal/);
  assert.throws(() => boundedMeanCI([0.2, 1.2], { lower: 0, upper: 1 }), /value 1 \(1.2\)/);
  assert.throws(() => boundedMeanCI([0.2, 0.3], { lower: 1, upper: 0 }), /lower < upper/);
  assert.throws(() => boundedMeanCI([0.2], { lower: 0, upper: 1 }), /at least 2/);
});
