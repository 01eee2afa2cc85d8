/**
 * The three analysis trackers inside the real trainer: DPO with plain SGD on the
 * unconstrained-features toy model (No preferred over Never), records checked against the
 * model's own distribution before and after, and the gradient tracker's first-order
 * prediction against the change the first step made.
 */
import assert from "node:assert/strict";
import { assertClose, NO_NEVER_YES_UNEMBEDDING, useCpu } from "../helpers.ts";
import {
  displacementTracker,
  distributionTracker,
  gradientAlignmentTracker,
} from "../../lib/analysis/trackers.ts";
import { createUnconstrainedFeatures } from "../../lib/models/toy.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import type { TrainCallback } from "../../lib/train/callbacks.ts";
import { dpo } from "../../lib/objectives/trl.ts";

await useCpu();

/** No and Never share most of their unembedding; Yes lies along W_No - W_Never. */
function model() {
  return createUnconstrainedFeatures({
    tokens: ["No", "Never", "Yes", "t3", "t4", "t5"],
    dim: 4,
    hidden: [[0.3, 0, 0, 0]],
    unembedding: NO_NEVER_YES_UNEMBEDDING.slice(0, 6).map((row) => [...row]),
  });
}

/** DPO (β = 1) with plain SGD on the one pair No ≻ Never of prompt 0, with the given trackers. */
function trainNoOverNever(
  m: ReturnType<typeof model>,
  lr: number,
  steps: number,
  callbacks: TrainCallback[],
) {
  const NO = m.tokenId("No"), NEVER = m.tokenId("Never");
  return train({
    policy: m,
    data: toyData({ prompt: [0], chosen: [NO], rejected: [NEVER] }),
    objective: dpo({ beta: 1 }),
    optimizer: { name: "sgd" },
    lr,
    batchSize: 1,
    maxSteps: steps,
    progress: false,
    callbacks,
  });
}

Deno.test({
  name: "trackers in train(): dist/*, displacement/* and grad/* records match the model",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const m = model();
    const NO = m.tokenId("No"), NEVER = m.tokenId("Never"), YES = m.tokenId("Yes");
    const p0 = m.distribution("x0");
    const dist = distributionTracker({
      source: m,
      chosen: [NO],
      rejected: [NEVER],
      good: [[YES]],
      k: 2,
    });
    const disp = displacementTracker({ every: 1 });
    const grad = gradientAlignmentTracker({ every: 1 });
    const lr = 0.05, steps = 20;
    const result = await trainNoOverNever(m, lr, steps, [dist, disp, grad]);
    const p1 = m.distribution("x0");
    const byStep = new Map(result.records.map((r) => [r.step, r as Record<string, number>]));
    const first = byStep.get(0)!, second = byStep.get(1)!, last = byStep.get(steps)!;
    assertClose(first["dist/chosen"], p0.No, { rtol: 1e-5 });
    assertClose(last["dist/chosen"], p1.No, { rtol: 1e-5 });
    assertClose(last["dist/rejected"], p1.Never, { rtol: 1e-5 });
    assertClose(last["displacement/mean_change"], Math.log(p1.No) - Math.log(p0.No), {
      rtol: 1e-4,
    });
    assert.equal(last["displacement/fraction"], p1.No < p0.No ? 1 : 0);
    // Yes took most of what No lost here: the displacement is benign w.r.t. the good set {Yes}.
    assert.ok(p1.No < p0.No && p1.Yes - p0.Yes > 0.5 * (p0.No - p1.No));
    assert.equal(last["dist/benign"], 1);
    assert.equal(first["grad/chosen_can_fall"], first["grad/pred_dlogp_chosen"] < 0 ? 1 : 0);
    assert.ok(second["grad/inner_wl"] !== first["grad/inner_wl"], "measured again after a step");
    // Rows kept in memory (no run directory): one per measured step.
    assert.equal(result.rows["distribution"].length, steps + 1);
    assert.equal(result.rows["displacement"].length, steps + 1);
    assert.equal(dist.history.length, steps + 1);
    const top = result.rows["distribution"].at(-1)!.top_gains as { token: number }[];
    assert.equal(top[0].token, YES);
    m.dispose();
  },
});

Deno.test({
  name: "gradient tracker in train(): first-order prediction matches one small SGD step",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const m = model();
    const NO = m.tokenId("No"), NEVER = m.tokenId("Never");
    const grad = gradientAlignmentTracker({ every: 1, positions: [0] });
    const dist = distributionTracker({ source: m, chosen: [NO], rejected: [NEVER] });
    const lr = 1e-3;
    const result = await trainNoOverNever(m, lr, 1, [grad, dist]);
    const [r0, r1] = [0, 1].map((s) => result.records.find((r) => r.step === s)!) as Record<
      string,
      number
    >[];
    const observed = Math.log(r1["dist/chosen"]) - Math.log(r0["dist/chosen"]);
    assertClose(r0["grad/pred_dlogp_chosen"] * lr, observed, { rtol: 0.02 });
    const rej = Math.log(r1["dist/rejected"]) - Math.log(r0["dist/rejected"]);
    assertClose(grad.last![0].pred_dlogp_rejected, rej / lr, { rtol: 0.05 });
    m.dispose();
  },
});
