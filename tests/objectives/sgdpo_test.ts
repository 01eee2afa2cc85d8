/**
 * SGDPO as in the authors' code: the loss and both per-token gradient weights against a float64
 * computation of L = ½ℓ_ε(β(u_w − p_l)) + ½ℓ_ε(β(p_w − u_l)) over hand-picked pilot sets; the
 * drawn sets (sizes max(⌊r·min(n_w,n_l)⌋, 1), uniform, independent sides, seeded, fresh per
 * call, independent of padding); extreme margins; and a resumed training run that equals an
 * uninterrupted one.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import {
  dpo,
  gradientWeights,
  pilotSets,
  type SequenceScores,
  sgdpo,
} from "../../lib/objectives/mod.ts";
import {
  createToySequenceScorer,
  createUnconstrainedFeatures,
  toySequenceData,
} from "../../lib/models/mod.ts";
import { train } from "../../lib/train/mod.ts";
import { sig, sp } from "./_reference.ts";

await useCpu();

/** One pair in plain numbers: per-token log-probs of each completion. */
interface TokRow {
  pw: number[];
  rw: number[];
  pl: number[];
  rl: number[];
}

function lcg(seed: number) {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
}

/** Random per-token rows whose summed log-ratios are `u_w`, `u_l`. */
function row(nw: number, nl: number, uw: number, ul: number, rnd: () => number): TokRow {
  const side = (n: number, u: number) => {
    const ref = Array.from({ length: n }, () => -0.3 - 3 * rnd());
    const r = Array.from({ length: n }, () => 2 * rnd() - 1);
    const shift = (u - r.reduce((a, b) => a + b, 0)) / n;
    return { pol: ref.map((v, k) => v + r[k] + shift), ref };
  };
  const w = side(nw, uw), l = side(nl, ul);
  return { pw: w.pol, rw: w.ref, pl: l.pol, rl: l.ref };
}

/** Scores in the TRL layout: `lead` prompt positions (mask 0) before each completion, padding after. */
function scoresOf(rows: TokRow[], lead = 0, extra = 0): SequenceScores {
  const T = (f: (r: TokRow) => number[]) =>
    lead + extra + Math.max(...rows.map((r) => f(r).length));
  const tw = T((r) => r.pw), tl = T((r) => r.pl);
  const pad = (v: number[], t: number) => [
    ...Array(lead).fill(0),
    ...v,
    ...Array(t - lead - v.length).fill(0),
  ];
  const mat = (f: (r: TokRow) => number[], t: number) =>
    tf.tensor2d(rows.map((r) => pad(f(r), t)), [rows.length, t]);
  const sum = (f: (r: TokRow) => number[]) =>
    tf.tensor1d(rows.map((r) => f(r).reduce((a, b) => a + b, 0)));
  return {
    policyChosen: sum((r) => r.pw),
    policyRejected: sum((r) => r.pl),
    refChosen: sum((r) => r.rw),
    refRejected: sum((r) => r.rl),
    chosenLength: tf.tensor1d(rows.map((r) => r.pw.length)),
    rejectedLength: tf.tensor1d(rows.map((r) => r.pl.length)),
    tokens: {
      policyChosen: mat((r) => r.pw, tw),
      policyRejected: mat((r) => r.pl, tl),
      refChosen: mat((r) => r.rw, tw),
      refRejected: mat((r) => r.rl, tl),
      chosenMask: mat((r) => r.pw.map(() => 1), tw),
      rejectedMask: mat((r) => r.pl.map(() => 1), tl),
    },
  };
}

function dispose(s: SequenceScores): void {
  tf.dispose([
    ...(Object.values(s).filter((v) => v instanceof tf.Tensor) as tf.Tensor[]),
    ...(Object.values(s.tokens!) as tf.Tensor[]),
  ]);
}

/** The formula in float64: loss and ∂L/∂(every token log-prob) of each side. */
function reference(r: TokRow, sw: number[], sl: number[], beta: number, eps: number) {
  const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);
  const uw = sum(r.pw) - sum(r.rw), ul = sum(r.pl) - sum(r.rl);
  const pw = sum(sw.map((q) => r.pw[q] - r.rw[q])), pl = sum(sl.map((q) => r.pl[q] - r.rl[q]));
  const ell = (z: number) => (1 - eps) * sp(-z) + eps * sp(z);
  const dell = (z: number) => -(1 - eps) * sig(-z) + eps * sig(z);
  const z1 = beta * (uw - pl), z2 = beta * (pw - ul);
  return {
    loss: 0.5 * ell(z1) + 0.5 * ell(z2),
    gW: 0.5 * beta * dell(z1),
    gL: -0.5 * beta * dell(z2),
    pw,
    pl,
    lossOf: (duw: number, dul: number) =>
      0.5 * ell(beta * (uw + duw - pl)) + 0.5 * ell(beta * (pw - ul - dul)),
  };
}

/** Per-token total derivative: through the sums and the token inputs. */
function perToken(g: ReturnType<typeof gradientWeights>, i: number, nw: number, nl: number) {
  return {
    w: g.tokens!.chosen[i].slice(0, nw).map((t) => t + g.gW[i]),
    l: g.tokens!.rejected[i].slice(0, nl).map((t) => t + g.gL[i]),
  };
}

Deno.test("sgdpo over hand-picked pilot sets: loss and every token's weight match float64", () => {
  const rnd = lcg(5);
  const shapes: [number, number, number, number][] = [
    [5, 8, 2.5, -1.5],
    [7, 3, -4, 2],
    [1, 6, 0.7, 0.3],
    [9, 9, 12, -8],
  ];
  const rows = shapes.map(([nw, nl, uw, ul]) => row(nw, nl, uw, ul, rnd));
  // Arbitrary sets of arbitrary sizes: the formula must hold for any S_w, S_l.
  const sets = {
    chosen: [[0, 3], [1, 2, 6], [0], [8, 0, 4, 2]],
    rejected: [[7, 1, 4], [2], [5, 0, 3, 1], [0, 1, 2, 3, 4, 5, 6, 7, 8]],
  };
  for (const [beta, eps] of [[0.1, 0], [0.5, 0], [2, 0.2]]) {
    const obj = sgdpo({ beta, labelSmoothing: eps }, { pilots: () => sets });
    const s = scoresOf(rows, 2, 1);
    const g = gradientWeights(obj, s);
    dispose(s);
    rows.forEach((r, i) => {
      const ref = reference(r, sets.chosen[i], sets.rejected[i], beta, eps);
      const at = `row ${i}, β ${beta}, ε ${eps}`;
      assertClose(g.losses[i], ref.loss, { rtol: 2e-6, atol: 1e-6, msg: `${at} loss` });
      const tok = perToken(g, i, r.pw.length, r.pl.length);
      // Every token, pilot or not, carries the same weight: the pilots are constants.
      for (const x of tok.w) assertClose(x, ref.gW, { rtol: 1e-5, atol: 1e-7, msg: `${at} g_w` });
      for (const x of tok.l) assertClose(x, ref.gL, { rtol: 1e-5, atol: 1e-7, msg: `${at} g_l` });
      // The float64 weights are the derivatives of the float64 loss (central differences).
      const h = 1e-5;
      assertClose(ref.gW, (ref.lossOf(h, 0) - ref.lossOf(-h, 0)) / (2 * h), { rtol: 1e-6 });
      assertClose(ref.gL, (ref.lossOf(0, h) - ref.lossOf(0, -h)) / (2 * h), { rtol: 1e-6 });
    });
  }
});

Deno.test("sgdpo draws: sizes max(⌊r·min(n_w,n_l)⌋, 1), device sets = pilotSets, padding-free", () => {
  const rnd = lcg(11);
  const shapes: [number, number][] = [[5, 8], [8, 5], [1, 7], [10, 10], [3, 2], [13, 4]];
  const rows = shapes.map(([nw, nl]) => row(nw, nl, 1.5, -2, rnd));
  for (const [r1, r2] of [[0.6, 0.9], [0.7, 0.9], [1, 1], [0.25, 0.5]]) {
    const obj = sgdpo({ r1, r2, seed: 4 });
    for (let call = 0; call < 3; call++) {
      // Different prompt offsets and padding per call: the draws must not depend on them.
      const s = scoresOf(rows, call, 2 * call);
      const out = obj.loss(s);
      const sets = pilotSets(
        { seed: 4, call, r1, r2 },
        shapes.map((x) => x[0]),
        shapes.map((x) => x[1]),
      );
      const kW = Array.from(out.extras!.kChosen.dataSync());
      const kL = Array.from(out.extras!.kRejected.dataSync());
      const pW = Array.from(out.extras!.pilotChosen.dataSync());
      const pL = Array.from(out.extras!.pilotRejected.dataSync());
      rows.forEach((r, i) => {
        const [nw, nl] = shapes[i];
        const m = Math.min(nw, nl);
        // Sizes written out by hand from the authors' int(): e.g. 0.6·5 → 3, 0.9·5 → 4.
        assert.equal(kW[i], Math.max(Math.floor(r1 * m), 1), `k_w row ${i}`);
        assert.equal(kL[i], Math.max(Math.floor(r2 * m), 1), `k_l row ${i}`);
        assert.equal(sets.chosen[i].length, kW[i]);
        assert.equal(sets.rejected[i].length, kL[i]);
        assert.ok(sets.chosen[i].every((q) => q >= 0 && q < nw), "chosen positions in range");
        assert.ok(sets.rejected[i].every((q) => q >= 0 && q < nl), "rejected positions in range");
        assert.equal(new Set(sets.chosen[i]).size, kW[i], "without replacement");
        const ref = reference(r, sets.chosen[i], sets.rejected[i], 0.1, 0);
        assertClose(pW[i], ref.pw, { rtol: 1e-5, atol: 1e-5, msg: `p_w row ${i} call ${call}` });
        assertClose(pL[i], ref.pl, { rtol: 1e-5, atol: 1e-5, msg: `p_l row ${i} call ${call}` });
      });
      tf.dispose([out.losses, ...Object.values(out.extras!)]);
      dispose(s);
    }
  }
  // The spec's own example: n_w = 5, n_l = 8, defaults → 3 chosen and 4 rejected positions.
  const ex = pilotSets({ seed: 0, call: 0, r1: 0.6, r2: 0.9 }, [5], [8]);
  assert.deepEqual([ex.chosen[0].length, ex.rejected[0].length], [3, 4]);
});

Deno.test("sgdpo draws: uniform, sides independent, fresh every call, repeatable per seed", () => {
  const n = 10, calls = 3000, r = 0.5;
  const inW = new Array(n).fill(0), both = new Array(n).fill(0);
  let identical = 0;
  for (let call = 0; call < calls; call++) {
    const s = pilotSets({ seed: 1, call, r1: r, r2: r }, [n], [n]);
    const w = new Set(s.chosen[0]), l = new Set(s.rejected[0]);
    for (let q = 0; q < n; q++) {
      if (w.has(q)) inW[q]++;
      if (w.has(q) && l.has(q)) both[q]++;
    }
    if (s.chosen[0].join() === s.rejected[0].join()) identical++;
  }
  // Uniform: each position is in S_w with probability k/n = 0.5 (binomial sd ≈ 0.009).
  for (const c of inW) assert.ok(Math.abs(c / calls - 0.5) < 0.04, `inclusion ${c / calls}`);
  // Independent sides: P(q ∈ S_w and q ∈ S_l) = 0.25; identical sets have probability 1/252.
  for (const c of both) assert.ok(Math.abs(c / calls - 0.25) < 0.04, `joint ${c / calls}`);
  assert.ok(identical < 40, `identical sets in ${identical} of ${calls} calls`);
  // Seeded: the same seed repeats, another seed and another call differ.
  const a = pilotSets({ seed: 7, call: 2, r1: 0.6, r2: 0.9 }, [20, 9], [15, 30]);
  assert.deepEqual(pilotSets({ seed: 7, call: 2, r1: 0.6, r2: 0.9 }, [20, 9], [15, 30]), a);
  assert.notDeepEqual(pilotSets({ seed: 8, call: 2, r1: 0.6, r2: 0.9 }, [20, 9], [15, 30]), a);
  assert.notDeepEqual(pilotSets({ seed: 7, call: 3, r1: 0.6, r2: 0.9 }, [20, 9], [15, 30]), a);
  // The objective: reset() and a fresh instance repeat the stream; calls draw anew.
  const rows = [row(20, 15, 1, -1, lcg(3)), row(9, 30, -2, 1, lcg(4))];
  const pilots = (o: ReturnType<typeof sgdpo>) => {
    const s = scoresOf(rows);
    const out = o.loss(s);
    const v = Array.from(out.extras!.pilotRejected.dataSync());
    tf.dispose([out.losses, ...Object.values(out.extras!)]);
    dispose(s);
    return v;
  };
  const o = sgdpo({ seed: 7 });
  const first = pilots(o), second = pilots(o);
  assert.notDeepEqual(second, first, "a new draw at every call");
  o.reset!();
  assert.deepEqual(pilots(o), first, "reset restarts the draws");
  assert.deepEqual(pilots(sgdpo({ seed: 7 })), first, "a fresh instance draws the same");
});

Deno.test("sgdpo: r1 = r2 = 1, n_w = n_l: DPO's loss value, half its weights; extreme margins finite", () => {
  const rnd = lcg(9);
  const rows = [row(6, 6, 3, -2, rnd), row(4, 4, -5, 5, rnd)];
  const s = scoresOf(rows);
  const g = gradientWeights(sgdpo({ r1: 1, r2: 1 }), s);
  const d = gradientWeights(dpo({ beta: 0.1 }), s);
  dispose(s);
  assertClose(g.losses, d.losses, { rtol: 1e-6 });
  assertClose(g.gW, d.gW.map((x) => x / 2), { rtol: 1e-5, atol: 1e-8 });
  assertClose(g.gL, d.gL.map((x) => x / 2), { rtol: 1e-5, atol: 1e-8 });
  // |β·z| up to 150 at β = 0.5 and 1500 at β = 5: softplus form, no overflow.
  const ext = [row(5, 8, 300, -300, rnd), row(8, 5, -300, 300, rnd), row(3, 3, 0, 600, rnd)];
  for (const beta of [0.5, 5]) {
    const sets = { chosen: [[0, 1, 2], [0, 4, 7], [1]], rejected: [[0, 1, 2, 3], [4], [0, 2]] };
    const e = scoresOf(ext);
    const ge = gradientWeights(sgdpo({ beta }, { pilots: () => sets }), e);
    dispose(e);
    ext.forEach((r, i) => {
      const ref = reference(r, sets.chosen[i], sets.rejected[i], beta, 0);
      assertClose(ge.losses[i], ref.loss, { rtol: 1e-5, atol: 1e-4, msg: `loss ${i} β ${beta}` });
      assertClose(ge.gW[i], ref.gW, { rtol: 1e-5, atol: 1e-7, msg: `g_w ${i} β ${beta}` });
      assertClose(ge.gL[i], ref.gL, { rtol: 1e-5, atol: 1e-7, msg: `g_l ${i} β ${beta}` });
    });
  }
});

Deno.test("sgdpo: errors name the missing token field, a bad saved state, a bad r", () => {
  const s = scoresOf([row(3, 3, 1, 1, lcg(1))]);
  assert.throws(
    () => sgdpo().loss({ ...s, tokens: undefined }),
    /sgdpo: scores\.tokens is missing/,
  );
  assert.throws(
    () => sgdpo().loss({ ...s, tokens: { ...s.tokens!, refChosen: undefined } }),
    /scores\.tokens\.refChosen/,
  );
  dispose(s);
  assert.throws(() => sgdpo().loadState!({ calls: -1 }), /'calls'/);
  assert.throws(() => sgdpo({ r2: 1.5 }), /'r2'/);
  assert.equal(sgdpo({ sample_ratio_r1: 0.7 } as never).params.r1, 0.7);
});

Deno.test("sgdpo in train(): a run resumed from a checkpoint equals an uninterrupted one", async () => {
  const dir = await Deno.makeTempDir();
  const pairs = {
    prompt: [0, 1, 2],
    chosen: [[0, 1, 2, 3], [3, 2], [1, 1, 0]],
    rejected: [[0, 2, 2], [3, 1, 0, 2], [1, 3]],
  };
  const model = () =>
    createUnconstrainedFeatures({ tokens: ["a", "b", "c", "d"], prompts: 12, dim: 3, seed: 2 });
  const run = async (outDir: string, extra: Record<string, unknown>) => {
    const m = model();
    const scorer = createToySequenceScorer(m, { maxLength: 4 });
    try {
      return await train({
        policy: scorer,
        data: toySequenceData(pairs),
        objective: sgdpo({ r1: 0.5, r2: 0.7, seed: 3 }),
        optimizer: { name: "sgd" },
        lr: 0.5,
        batchSize: 2,
        maxSteps: 6,
        outDir,
        progress: false,
        examplesEvery: false,
        ...extra,
      });
    } finally {
      scorer.dispose();
      m.dispose();
    }
  };
  const controller = new AbortController();
  await run(`${dir}/cut`, {
    signal: controller.signal,
    callbacks: [{
      name: "stop",
      onStepEnd: (c: { step: number }) => c.step === 3 && controller.abort(),
    }],
  });
  const saved = JSON.parse(
    await Deno.readTextFile(`${dir}/cut/checkpoints/step-000003/state.json`),
  );
  assert.equal(saved.objective.calls, 3, "one draw per step in the checkpoint");
  await run(`${dir}/cut`, { resume: true });
  const full = await run(`${dir}/full`, {});
  const drop = (t: string) =>
    t.trim().split("\n").map((l) => {
      const r = JSON.parse(l);
      for (const k of Object.keys(r)) if (k.includes("time")) delete r[k];
      return r;
    });
  const resumed = drop(await Deno.readTextFile(`${dir}/cut/steps.jsonl`));
  assert.deepEqual(resumed.map((r) => r.step), [0, 1, 2, 3, 4, 5, 6].slice(-resumed.length));
  const whole = drop(await Deno.readTextFile(`${dir}/full/steps.jsonl`));
  // Steps 4-6 use draws 4-6: equal only if the counter came back from the checkpoint.
  assert.deepEqual(resumed, whole);
  assert.ok(full.records.some((r) => (r as Record<string, number>).pilotChosen !== 0));
});
