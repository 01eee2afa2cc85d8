import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { kto } from "../../lib/objectives/kto.ts";
import { tokenLogps } from "../../lib/scoring/logps.ts";
import { lmUnpairedScorer } from "../../lib/scoring/lm.ts";
import { train } from "../../lib/train/trainer.ts";
import { unpairedData } from "../../lib/train/train_data.ts";
import type { CausalLM } from "../../lib/models/types.ts";

await useCpu();

const EXAMPLES = [
  { index: 0, promptIds: [1, 2], completionIds: [5, 6, 0], label: true },
  { index: 1, promptIds: [3], completionIds: [7, 0], label: false },
  { index: 2, promptIds: [4, 2, 1], completionIds: [8, 9, 10, 0], label: true },
  { index: 3, promptIds: [2], completionIds: [11, 0], label: false },
];

/** Summed completion log-prob of one prompt+completion row, scored alone (no batching). */
function rowLogp(model: CausalLM, prompt: number[], completion: number[]): number {
  const ids = [...prompt, ...completion];
  const out = tokenLogps(model, {
    length: ids.length,
    inputIds: Int32Array.from(ids),
    attentionMask: new Float32Array(ids.length).fill(1),
    completionMask: Float32Array.from(ids, (_, t) => (t >= prompt.length ? 1 : 0)),
  });
  const v = out.summed.dataSync()[0];
  Object.values(out).forEach((t) => t?.dispose());
  return v;
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

Deno.test("trainer: KTO on unpaired batches matches a hand computation (present sides, z0 from mismatched rows)", async () => {
  const cfg = { vocab_size: 16, n_positions: 16, n_embd: 8, n_layer: 1, n_head: 2 };
  const policy = createGPT2(cfg, { seed: 0 }), reference = createGPT2(cfg, { seed: 1 });
  const beta = 0.5;
  // By hand: u_i on own rows, kl_i on mismatched rows (prompt i, completion of i+1).
  const u = EXAMPLES.map((e) =>
    rowLogp(policy, e.promptIds, e.completionIds) - rowLogp(reference, e.promptIds, e.completionIds)
  );
  const kl = EXAMPLES.map((e, i) => {
    const c = EXAMPLES[(i + 1) % 4].completionIds;
    return rowLogp(policy, e.promptIds, c) - rowLogp(reference, e.promptIds, c);
  });
  const z0 = Math.max(0, kl.reduce((a, b) => a + b, 0) / 4);
  assert.ok(z0 > 0.01, "the data must make z0 matter");
  const perExample = EXAMPLES.map((e, i) =>
    e.label ? 1 - sigmoid(beta * (u[i] - z0)) : 1 - sigmoid(beta * (z0 - u[i]))
  );
  const expectedLoss = perExample.reduce((a, b) => a + b, 0) / 4;
  const des = [0, 2], und = [1, 3];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

  for (const kind of ["model", "precompute"] as const) {
    const scorer = lmUnpairedScorer(policy);
    const refScorer = lmUnpairedScorer(reference);
    const result = await train({
      policy: scorer,
      data: unpairedData(EXAMPLES, { padId: 0 }),
      objective: kto({ beta }),
      reference: kind === "model" ? { kind, scorer: refScorer } : { kind, scorer: refScorer },
      optimizer: { name: "sgd" },
      lr: 0,
      batchSize: 4,
      maxSteps: 1,
      progress: false,
    });
    const rec = result.records[0];
    const tol = { rtol: 1e-4, atol: 1e-5, msg: kind };
    assertClose(rec.loss!, expectedLoss, tol);
    assertClose(rec["rewards/chosen"]!, mean(des.map((i) => beta * u[i])), tol);
    assertClose(rec["rewards/rejected"]!, mean(und.map((i) => beta * u[i])), tol);
    assertClose(
      rec["rewards/margins"]!,
      mean(des.map((i) => beta * u[i])) - mean(und.map((i) => beta * u[i])),
      tol,
    );
    assertClose(rec.kl!, mean(kl), tol);
    assert.ok(Number.isNaN(rec["rewards/accuracies"] ?? NaN)); // no row holds both sides
    // Per-pair rows hold only the side each example has.
    const rows = [...result.rows.examples].sort((a, b) => (a.pair as number) - (b.pair as number));
    assert.deepEqual(rows.map((r) => r.pair), [0, 1, 2, 3]);
    assertClose(rows[0].reward_chosen as number, beta * u[0], tol);
    assert.equal(rows[0].reward_rejected, undefined); // desirable example: no rejected side
    assertClose(rows[1].reward_rejected as number, beta * u[1], tol);
    assert.equal(rows[1].logp_chosen, undefined);
    assert.equal(rec["implicit/chosen_up"], des.filter((i) => u[i] > 0).length / 2);
  }
  policy.dispose();
  reference.dispose();
});
