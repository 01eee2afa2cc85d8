/**
 * The analysis trackers driven through their hooks by a hand-written DPO loop on the
 * unconstrained-features toy model, checked against quantities computed here from W and h.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../../lib/kernels/gradients.ts";
import { assertClose, NO_NEVER_YES_UNEMBEDDING, useCpu } from "../helpers.ts";
import {
  displacementTracker,
  distributionTracker,
  gradientAlignmentTracker,
} from "../../lib/analysis/trackers.ts";
import { ufmPredictedLogProbChange } from "../../lib/analysis/ufm_theory.ts";
import { createUnconstrainedFeatures, type UnconstrainedFeatures } from "../../lib/models/toy.ts";
import { toyData } from "../../lib/train/train_data.ts";
import type { RunContext, StepContext } from "../../lib/train/callbacks.ts";
import type { TrainObjective } from "../../lib/train/types.ts";
import type { SequenceScores, ToyBatch } from "../../lib/core/scores.ts";

await useCpu();

const NO = 0, NEVER = 1, YES = 2, OTHER = 3;
const TOKENS = ["No", "Never", "Yes", "t3", "t4", "t5", "t6", "t7"];
const d = 4;
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** No and Never nearly share an unembedding; Yes lies along W_No - W_Never (see ufm test). */
function weights(): { W: number[][]; h: number[][] } {
  const W = NO_NEVER_YES_UNEMBEDDING.map((row) => [...row]);
  return { W, h: [[0.3, 0, 0, 0], [0.1, 0.2, -0.1, 0.3]] };
}

function model(): UnconstrainedFeatures {
  const { W, h } = weights();
  return createUnconstrainedFeatures({
    tokens: TOKENS,
    prompts: 2,
    dim: d,
    hidden: h,
    unembedding: W,
  });
}

/** Distribution of prompt x by hand, float64, from the model's current W and h. */
function probs(m: UnconstrainedFeatures, x: number): number[] {
  const W = m.unembedding.arraySync() as number[][];
  const h = (m.hidden.arraySync() as number[][])[x];
  const z = W.map((w) => dot(w, h));
  const mx = Math.max(...z);
  const e = z.map((v) => Math.exp(v - mx));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

const beta = 1;
const dpo: TrainObjective = {
  name: "dpo",
  needsReference: true,
  params: { beta },
  loss: (s: SequenceScores) => ({
    losses: tf.softplus(
      tf.neg(
        tf.mul(
          beta,
          tf.sub(tf.sub(s.policyChosen, s.refChosen!), tf.sub(s.policyRejected, s.refRejected!)),
        ),
      ),
    ),
  }),
};

/** Pairs: prompt 0 (No > Never) twice-weighted by position 0, prompt 1 (t3 > t4). */
const data = toyData({ prompt: [0, 1], chosen: [NO, OTHER], rejected: [NEVER, 4] });

function context(m: UnconstrainedFeatures, step: number, totalSteps: number, rows: unknown[][]) {
  return {
    step,
    totalSteps,
    epoch: 0,
    policy: m,
    objective: dpo,
    beta,
    data,
    rows: { append: (file: string, r: Record<string, unknown>[]) => rows.push([file, step, r]) },
    resumed: false,
  } as unknown as RunContext<ToyBatch> & StepContext<ToyBatch> & { resumed: boolean };
}

/** One plain gradient-descent step of DPO on both pairs; reference = initial scores. */
function sgdStep(m: UnconstrainedFeatures, ref: { c: number[]; r: number[] }, lr: number): void {
  const batch = data.batch([0, 1]);
  const { grads, value } = tf.variableGrads(() => {
    const s = m.scores(batch);
    return tf.mean(
      dpo.loss({
        ...s,
        refChosen: tf.tensor1d(ref.c),
        refRejected: tf.tensor1d(ref.r),
      }).losses,
    ) as tf.Scalar;
  }, m.variables());
  tf.tidy(() => {
    for (const v of m.variables()) v.assign(tf.sub(v, tf.mul(grads[v.name], lr)));
  });
  tf.dispose([value, ...Object.values(grads)]);
}

function initialScores(m: UnconstrainedFeatures): { c: number[]; r: number[] } {
  return tf.tidy(() => {
    const s = m.scores(data.batch([0, 1]));
    return { c: Array.from(s.policyChosen.dataSync()), r: Array.from(s.policyRejected.dataSync()) };
  });
}

Deno.test("distributionTracker: mass, top gains, argmax and benign/catastrophic labels", async () => {
  const m = model();
  const rows: unknown[][] = [];
  const tracker = distributionTracker({
    source: m,
    prompts: [0, 0],
    chosen: [NO, NO],
    rejected: [NEVER, NEVER],
    good: [[YES], [OTHER]],
    k: 3,
    every: 5,
  });
  const p0 = probs(m, 0);
  const m0 = await tracker.onTrainBegin!(context(m, 0, 40, rows)) as Record<string, number>;
  assertClose(m0["dist/chosen"], p0[NO], { rtol: 1e-5 });
  assertClose(m0["dist/rejected"], p0[NEVER], { rtol: 1e-5 });
  assertClose(m0["dist/other"], 1 - p0[NO] - p0[NEVER], { rtol: 1e-5 });
  assertClose(m0["dist/argmax_mass"], Math.max(...p0), { rtol: 1e-5 });
  assertClose(m0["dist/greedy_logp"], Math.log(Math.max(...p0)), { rtol: 1e-5 });
  assert.equal(m0["dist/chosen_drop"], 0);
  const ref = initialScores(m);
  const tensors = tf.memory().numTensors;
  let last: Record<string, number> | undefined;
  for (let step = 1; step <= 40; step++) {
    sgdStep(m, ref, 0.1);
    const out = await tracker.onStepEnd!(context(m, step, 40, rows)) as
      | Record<string, number>
      | void;
    assert.equal(out === undefined, step % 5 !== 0, `step ${step}: measured iff due`);
    if (out) last = out;
  }
  assert.equal(tf.memory().numTensors, tensors, "tensor count flat across steps");
  const p1 = probs(m, 0);
  assert.ok(p1[NO] < p0[NO] && p1[YES] > p0[YES], "No displaced, Yes gained");
  assertClose(last!["dist/chosen"], p1[NO], { rtol: 1e-4 });
  assertClose(last!["dist/chosen_drop"], p0[NO] - p1[NO], { rtol: 1e-3 });
  assertClose(last!["dist/top_gain"], p1[YES] - p0[YES], { rtol: 1e-3 });
  assertClose(last!["dist/argmax_mass"], Math.max(...p1), { rtol: 1e-4 });
  // Prompt copy 0 counts Yes as good (it took most of No's mass): benign; copy 1 counts t3,
  // which did not gain: catastrophic.
  assert.equal(last!["dist/benign"], 0.5);
  assert.equal(last!["dist/catastrophic"], 0.5);
  const finalRows = rows.at(-1)![2] as Record<string, unknown>[];
  assert.equal(rows.at(-1)![0], "distribution");
  assert.deepEqual(finalRows.map((r) => r.kind), ["benign", "catastrophic"]);
  const top = finalRows[0].top_gains as { token: number; gain: number }[];
  assert.equal(top.length, 3);
  assert.equal(top[0].token, YES);
  assert.ok(!top.some((t) => t.token === NO || t.token === NEVER), "y+ and y- excluded");
  assert.equal((finalRows[0].probs as number[]).length, TOKENS.length);
  assert.equal(tracker.history.length, 2 * (1 + 8)); // two prompts, steps 0, 5, ..., 40
  // Resume: a fresh tracker loading the state keeps step-0 distributions as its baseline.
  const again = distributionTracker({ source: m, prompts: [0, 0], chosen: [NO, NO] });
  again.loadState!(JSON.parse(JSON.stringify(tracker.saveState!())));
  assert.equal(
    await again.onTrainBegin!({ ...context(m, 40, 40, rows), resumed: true }),
    undefined,
  );
  const resumed = await again.onStepEnd!(context(m, 40, 40, rows)) as Record<string, number>;
  assertClose(resumed["dist/chosen_drop"], last!["dist/chosen_drop"], { rtol: 1e-6 });
  m.dispose();
});

Deno.test("displacementTracker: Definition 1 per pair and labels from good probes", async () => {
  const m = model();
  const rows: unknown[][] = [];
  const tracker = displacementTracker<ToyBatch, { prompt: Int32Array; token: Int32Array }>({
    every: 10,
    good: (pair) =>
      pair === 0 ? { prompt: Int32Array.of(0), token: Int32Array.of(YES) } : undefined,
  });
  const lp = (x: number, y: number) => Math.log(probs(m, x)[y]);
  const init = [lp(0, NO), lp(1, OTHER)];
  await tracker.onTrainBegin!(context(m, 0, 30, rows));
  const ref = initialScores(m);
  let out: Record<string, number> | void = undefined;
  for (let step = 1; step <= 30; step++) {
    sgdStep(m, ref, 0.1);
    out = await tracker.onStepEnd!(context(m, step, 30, rows)) as Record<string, number> | void;
  }
  const now = [lp(0, NO), lp(1, OTHER)];
  const change = now.map((v, i) => v - init[i]);
  assert.ok(change[0] < 0, "No displaced");
  assert.ok(change[1] > 0, "t3 not displaced");
  const o = out as Record<string, number>;
  assertClose(o["displacement/mean_change"], (change[0] + change[1]) / 2, { rtol: 1e-4 });
  assertClose(o["displacement/min_change"], change[0], { rtol: 1e-4 });
  assert.equal(o["displacement/fraction"], 0.5);
  // Pair 0's good set {Yes}: Yes gained more than No lost -> benign; pair 1 has no good set.
  assert.equal(o["displacement/benign"], 0.5);
  assert.equal(o["displacement/catastrophic"], 0);
  const last = rows.at(-1)!;
  assert.equal(last[0], "displacement");
  const r = last[2] as Record<string, unknown>[];
  assert.deepEqual(r.map((x) => [x.pair, x.displaced, x.kind]), [[0, true, "benign"], [
    1,
    false,
    undefined,
  ]]);
  assert.deepEqual(tracker.last!.pairIndex, [0, 1]);
  m.dispose();
});

Deno.test("gradientAlignmentTracker matches the UFM closed form and Theorem 4", async () => {
  const m = model();
  const rows: unknown[][] = [];
  const tracker = gradientAlignmentTracker<ToyBatch>({ positions: [0], every: 1 });
  const metrics = await tracker.onTrainBegin!(context(m, 0, 1, rows)) as Record<string, number>;
  const { W, h: hs } = weights();
  const h = hs[0];
  const pi = probs(m, 0);
  const wbar = W[0].map((_, j) => W.reduce((s, w, k) => s + pi[k] * w[j], 0));
  const e = (y: number) => pi.map((p, k) => (k === y ? 1 : 0) - p);
  const centred = (y: number) => W[y].map((v, j) => v - wbar[j]);
  // grad_W l(y) = (e_y - pi) h^T, grad_h l(y) = W_y - Wbar (other prompts' h untouched).
  const h2 = dot(h, h);
  const inner = dot(e(NO), e(NEVER)) * h2 + dot(centred(NO), centred(NEVER));
  const sqW = dot(e(NO), e(NO)) * h2 + dot(centred(NO), centred(NO));
  const sqL = dot(e(NEVER), e(NEVER)) * h2 + dot(centred(NEVER), centred(NEVER));
  assertClose(metrics["grad/inner_wl"], inner, { rtol: 1e-4 });
  assertClose(metrics["grad/norm_chosen"], Math.sqrt(sqW), { rtol: 1e-4 });
  assertClose(metrics["grad/norm_rejected"], Math.sqrt(sqL), { rtol: 1e-4 });
  assertClose(metrics["grad/cos_wl"], inner / Math.sqrt(sqW * sqL), { rtol: 1e-4 });
  // DPO at the reference point: g_w = -beta sigma(0) = -beta/2, g_l = +beta/2.
  const row = tracker.last![0];
  assertClose([row.g_w, row.g_l], [-beta / 2, beta / 2], { rtol: 1e-6 });
  // The mean DPO loss over one pair has this gradient; its first-order change of ln pi(No)
  // is Theorem 4 with ell' = -beta/2.
  const thm = ufmPredictedLogProbChange(W, h, {
    yPlus: NO,
    yMinus: NEVER,
    lossDerivative: -beta / 2,
  });
  assertClose(row.pred_dlogp_chosen, thm.rate[NO], { rtol: 1e-4 });
  assertClose(row.pred_dlogp_rejected, thm.rate[NEVER], { rtol: 1e-4 });
  assert.equal(metrics["grad/chosen_can_fall"], row.pred_dlogp_chosen < 0 ? 1 : 0);
  m.dispose();
});
