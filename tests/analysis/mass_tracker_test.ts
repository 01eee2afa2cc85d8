import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { train } from "../../lib/train/trainer.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { probabilityMassTracker } from "../../lib/analysis/mass_tracker.ts";
import { implicitRewardsTracker } from "../../lib/train/implicit_rewards.ts";
import { pairMetrics, pairRewards } from "../../lib/train/metrics.ts";
import type { ToyBatch, ToyProbes } from "../../lib/core/scores.ts";
import { dpoObjective, logp, PAIRS, toyModel } from "../train/toy_setup.ts";

await useCpu();

Deno.test("metrics: TRL definitions by hand, with and without a reference", () => {
  const values = {
    pairIndex: [0, 1, 2],
    policyChosen: [-1, -2, -3],
    policyRejected: [-2, -1, -3],
    refChosen: [-1.5, -1.5, -1.5],
    refRejected: [-1.5, -1.5, -1.5],
    chosenLength: [1, 1, 1],
    rejectedLength: [1, 1, 1],
    losses: [0.1, 0.2, 0.6],
  };
  // beta = 2: rewards chosen 2*[0.5, -0.5, -1.5], rejected 2*[-0.5, 0.5, -1.5].
  const m = pairMetrics(values, 2);
  assertClose(m["rewards/chosen"], (1 - 1 - 3) / 3);
  assertClose(m["rewards/rejected"], (-1 + 1 - 3) / 3);
  assertClose(m["rewards/margins"], (2 - 2 + 0) / 3);
  assertClose(m["rewards/accuracies"], 1 / 3); // strict >: the tie (pair 2) is not a win
  assertClose(m["logps/chosen"], -2);
  assertClose(m["logps/rejected"], -2);
  assertClose(m.loss, 0.3);
  // Reference-free: rewards are beta * policy log-prob (TRL's reference-free trainers).
  const free = pairRewards({ ...values, refChosen: undefined, refRejected: undefined }, 0.5);
  assertClose(free.chosen, [-0.5, -1, -1.5]);
  assertClose(free.margin, [0.5, -0.5, 0]);
});

Deno.test("trackers: probability mass of tracked pairs and probes, by hand before and after training", async () => {
  const policy = toyModel(8);
  const probes: ToyProbes = {
    prompt: Int32Array.from([0, 0, 1]),
    token: Int32Array.from([2, 3, 4]),
  };
  const init = {
    chosen: [logp(policy, 0, 0), logp(policy, 1, 0)], // pairs 0 and 5
    rejected: [logp(policy, 0, 1), logp(policy, 1, 1)],
    probes: [logp(policy, 0, 2), logp(policy, 0, 3), logp(policy, 1, 4)],
  };
  const result = await train({
    policy,
    data: toyData(PAIRS),
    objective: dpoObjective(0.5),
    optimizer: { name: "sgd" },
    lr: 0.5,
    batchSize: 4,
    maxSteps: 3,
    progress: false,
    callbacks: [
      probabilityMassTracker<ToyBatch, ToyProbes>({
        positions: [0, 5],
        probes: { batch: probes, prompts: [0, 0, 1], labels: ["p", "p", "q"] },
        every: 3,
      }),
      implicitRewardsTracker({ every: 2, file: "rewards" }),
    ],
  });
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const tol = { rtol: 1e-5, atol: 1e-6 };
  const step0 = result.records[0];
  assert.equal(step0.step, 0);
  assertClose(step0["mass/chosen"]!, mean(init.chosen), tol);
  assertClose(step0["mass/rejected"]!, mean(init.rejected), tol);
  assertClose(step0["mass/p"]!, mean(init.probes.slice(0, 2)), tol);
  assertClose(step0["mass/q"]!, init.probes[2], tol);
  assert.equal(step0["mass/chosen_delta"], 0);
  // After 3 steps: values from the trained model's distribution.
  const now = {
    chosen: [logp(policy, 0, 0), logp(policy, 1, 0)],
    probes: [logp(policy, 0, 2), logp(policy, 0, 3), logp(policy, 1, 4)],
  };
  const last = result.records.at(-1)!;
  assert.equal(last.step, 3);
  assertClose(last["mass/chosen"]!, mean(now.chosen), tol);
  assertClose(last["mass/chosen_delta"]!, mean(now.chosen) - mean(init.chosen), tol);
  assertClose(last["mass/q_delta"]!, now.probes[2] - init.probes[2], tol);
  const down = now.chosen.filter((x, i) => x < init.chosen[i]).length / 2;
  assert.equal(last["mass/chosen_down"], down);
  assert.equal(result.records[1]["mass/chosen"], undefined); // every 3
  // Rows: step 0 and step 3, 2 pairs x 2 sides + 3 probes each.
  const rows = result.rows.mass;
  assert.equal(rows.length, 2 * 7);
  assert.deepEqual(rows.filter((r) => r.step === 3 && r.label === "q").map((r) => r.prompt), [1]);
  // The rewards tracker wrote its rows every 2 steps only, to the file it was given.
  assert.deepEqual([...new Set(result.rows.rewards.map((r) => r.step))], [2]);
  assert.equal(result.rows.rewards.length, 4);
  // implicit/chosen_up is the fraction of the step's pairs with reward_chosen > 0.
  const r2 = result.rows.rewards;
  assert.equal(
    result.records[2]["implicit/chosen_up"],
    r2.filter((r) => (r.reward_chosen as number) > 0).length / r2.length,
  );
  policy.dispose();
});
