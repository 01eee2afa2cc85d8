/**
 * sgdpo_multiplier (our earlier SGDPO reconstruction): the pilot sampling, the loss value (= DPO), the gradient weights
 * against a float64 computation of the documented rule, and the design goal
 * g_w(SGDPO) <= g_w(DPO) < 0 < g_l(SGDPO) <= g_l(DPO) on a grid.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  dpo,
  gradientWeights,
  samplePilotMasks,
  type SequenceScores,
  sgdpoMultiplier,
} from "../../lib/objectives/mod.ts";
import { sig, sp } from "./_reference.ts";

await useCpu();

/** Deterministic pseudo-random numbers for building test data (not the library's stream). */
function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** B pairs with given summed log-ratios; per-token values sum exactly to them. */
function pairs(us: [number, number][], lens: [number, number][], seed = 7): SequenceScores {
  const rnd = lcg(seed);
  const T = Math.max(...lens.flat()) + 2;
  const side = (u: number, n: number) => {
    const ref = Array.from({ length: n }, () => -0.5 - 2 * rnd());
    const ratio = Array.from({ length: n }, () => rnd() - 0.5);
    const shift = (u - ratio.reduce((a, b) => a + b, 0)) / n;
    const pol = ref.map((r, k) => r + ratio[k] + shift);
    const pad = (v: number[]) => [0, 0, ...v, ...Array(T - 2 - n).fill(0)];
    return { pol: pad(pol), ref: pad(ref), mask: pad(Array(n).fill(1)) };
  };
  const w = us.map(([u], i) => side(u, lens[i][0]));
  const l = us.map(([, v], i) => side(v, lens[i][1]));
  const sum = (m: number[][]) => tf.tensor1d(m.map((r) => r.reduce((a, b) => a + b, 0)));
  return {
    policyChosen: sum(w.map((x) => x.pol)),
    policyRejected: sum(l.map((x) => x.pol)),
    refChosen: sum(w.map((x) => x.ref)),
    refRejected: sum(l.map((x) => x.ref)),
    chosenLength: tf.tensor1d(lens.map((x) => x[0])),
    rejectedLength: tf.tensor1d(lens.map((x) => x[1])),
    tokens: {
      policyChosen: tf.tensor2d(w.map((x) => x.pol)),
      policyRejected: tf.tensor2d(l.map((x) => x.pol)),
      refChosen: tf.tensor2d(w.map((x) => x.ref)),
      refRejected: tf.tensor2d(l.map((x) => x.ref)),
      chosenMask: tf.tensor2d(w.map((x) => x.mask)),
      rejectedMask: tf.tensor2d(l.map((x) => x.mask)),
    },
  };
}

Deno.test("pilot sampling: k = max(1, round(r·n)) completion positions, seeded, same vs different", () => {
  const m = tf.tensor2d([[0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0]]);
  const rng = () => lcg(5);
  const s = samplePilotMasks(m, m, { r1: 0.3, r2: 0.3, mode: "same", rng: rng() });
  const sel = s.chosen.arraySync(), mask = m.arraySync();
  assert.deepEqual(sel.map((r) => r.reduce((a, b) => a + b)), [3, 1]); // round(3.0), max(1, round(0.9))
  sel.forEach((r, i) =>
    r.forEach((v, j) => assert.ok(v <= mask[i][j], "sampled outside the completion"))
  );
  assert.deepEqual(s.rejected.arraySync(), sel, "same indices for equal masks and ratios");
  assertClose(s.scaleChosen.dataSync(), [10 / 3, 3], { rtol: 1e-6 });
  const d = samplePilotMasks(m, m, { r1: 0.5, r2: 0.5, mode: "different", rng: rng() });
  assert.notDeepEqual(d.chosen.arraySync(), d.rejected.arraySync());
});

Deno.test("SGDPO with r = 1: pilot = u exactly; value = DPO; g = DPO·(1 + λ_w σ(−βu_w)), DPO·(1 − λ_l σ(−βu_l))", () => {
  const us: [number, number][] = [[1.5, -2], [-3, 0.5], [0.2, 0.1], [-8, -9]];
  const s = pairs(us, [[5, 7], [3, 3], [8, 2], [4, 6]]);
  const beta = 0.3, lw = 0.7, ll = 0.4;
  const obj = sgdpoMultiplier({ beta, r1: 1, r2: 1, lambdaChosen: lw, lambdaRejected: ll });
  const g = gradientWeights(obj, s);
  const out = obj.loss(s);
  us.forEach(([u, v], i) => {
    const d = beta * sig(-beta * (u - v));
    assertClose(g.losses[i], sp(-beta * (u - v)), { rtol: 1e-5, msg: `loss ${i}` });
    assertClose(out.extras!.pilotChosen.dataSync()[i], u, { rtol: 1e-5, atol: 1e-5 });
    assertClose(g.gW[i], -d * (1 + lw * sig(-beta * u)), { rtol: 1e-5, msg: `g_w ${i}` });
    assertClose(g.gL[i], d * (1 - ll * sig(-beta * v)), { rtol: 1e-5, msg: `g_l ${i}` });
  });
});

Deno.test("SGDPO pilot with r < 1 is (n/k)·Σ over the sampled tokens of the log-ratio", () => {
  const s = pairs([[2, -1], [-1, 3]], [[6, 5], [9, 4]]);
  const out = sgdpoMultiplier({ r1: 0.5, r2: 0.25, seed: 3 }).loss(s);
  const pilot = out.extras!.pilotChosen.dataSync();
  // Re-draw with a fresh objective of the same seed: the same stream gives the same pilot.
  const again = sgdpoMultiplier({ r1: 0.5, r2: 0.25, seed: 3 }).loss(s).extras!.pilotChosen
    .dataSync();
  assert.deepEqual(Array.from(again), Array.from(pilot));
  // Each pilot is a scaled sum of per-token log-ratios over a subset of size round(n/2).
  const t = s.tokens!;
  const ratio = tf.sub(t.policyChosen, t.refChosen!).arraySync() as number[][];
  const mask = t.chosenMask.arraySync() as number[][];
  ratio.forEach((r, i) => {
    const vals = r.filter((_, j) => mask[i][j] === 1);
    const n = vals.length, k = Math.round(n / 2);
    // Some subset of k values times n/k must equal the pilot.
    const subsets = (a: number[], kk: number): number[][] =>
      kk === 0
        ? [[]]
        : a.flatMap((x, j) => subsets(a.slice(j + 1), kk - 1).map((rest) => [x, ...rest]));
    const ok = subsets(vals, k).some((sub) =>
      Math.abs(sub.reduce((a, b) => a + b, 0) * n / k - pilot[i]) < 1e-4
    );
    assert.ok(ok, `pilot ${pilot[i]} is not (n/k)·Σ of any ${k} of ${n} token log-ratios`);
  });
});

Deno.test("SGDPO design goal on a grid: g_w(SGDPO) <= g_w(DPO) < 0 < g_l(SGDPO) <= g_l(DPO)", () => {
  const us: [number, number][] = [];
  for (const u of [-40, -10, -2, 0, 2, 10, 40]) {
    for (const v of [-40, -10, -2, 0, 2, 10, 40]) us.push([u, v]);
  }
  const lens = us.map((_, i): [number, number] => [3 + (i % 5), 2 + (i % 7)]);
  const s = pairs(us, lens, 11);
  for (const mode of ["same", "different"] as const) {
    const sg = gradientWeights(
      sgdpoMultiplier({ r1: 0.5, r2: 0.3, mode, lambdaChosen: 1, lambdaRejected: 1 }),
      s,
    );
    const d = gradientWeights(dpo(), s);
    us.forEach(([u, v], i) => {
      const at = `${mode} (u_w ${u}, u_l ${v})`;
      assert.ok(sg.gW[i] <= d.gW[i] && d.gW[i] < 0, `${at}: g_w ${sg.gW[i]} vs DPO ${d.gW[i]}`);
      assert.ok(
        0 < d.gL[i] && sg.gL[i] <= d.gL[i] && sg.gL[i] >= 0,
        `${at}: g_l ${sg.gL[i]} vs DPO ${d.gL[i]}`,
      );
    });
  }
});

Deno.test("SGDPO raw interface: a user rule's multipliers scale DPO's gradient weights", () => {
  const us: [number, number][] = [[1, -1], [-2, 2]];
  const s = pairs(us, [[4, 4], [5, 3]]);
  const obj = sgdpoMultiplier({}, {
    rule: (p) => ({
      chosen: tf.fill(p.chosen.shape, 2) as tf.Tensor1D,
      rejected: tf.fill(p.rejected.shape, 0.5) as tf.Tensor1D,
    }),
  });
  assert.equal(obj.params.rule, "custom");
  const g = gradientWeights(obj, s);
  us.forEach(([u, v], i) => {
    const d = 0.1 * sig(-0.1 * (u - v));
    assertClose(g.gW[i], -2 * d, { rtol: 1e-5 });
    assertClose(g.gL[i], 0.5 * d, { rtol: 1e-5 });
  });
  assert.throws(
    () => sgdpoMultiplier().loss({ ...s, tokens: undefined }),
    (e) => e instanceof TypeError && /tokens/.test(String(e)),
  );
});
