import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { batchOrder } from "../../lib/data/batches.ts";
import { train } from "../../lib/train/trainer.ts";
import { toyData } from "../../lib/train/train_data.ts";
import type { TrainCallback } from "../../lib/train/callbacks.ts";
import type { ToyBatch } from "../../lib/core/scores.ts";
import { dpoObjective, toyModel } from "./toy_setup.ts";

await useCpu();

Deno.test("batches({seed}) orders the pairs as train({seed}) does, epoch by epoch", async () => {
  const n = 7, batchSize = 2, seed = 5, epochs = 3;
  const pairs = {
    prompt: [0, 1, 2, 3, 0, 1, 2],
    chosen: [0, 1, 2, 3, 4, 0, 1],
    rejected: [1, 2, 3, 4, 0, 1, 2],
  };
  const seen: number[][] = [];
  const spy: TrainCallback<ToyBatch> = {
    name: "order-spy",
    onStepEnd(ctx) {
      seen.push([...ctx.pairs.pairIndex]);
    },
  };
  await train({
    policy: toyModel(1),
    data: toyData(pairs),
    objective: dpoObjective(0.1),
    optimizer: { name: "sgd" },
    lr: 0,
    batchSize,
    epochs,
    seed,
    callbacks: [spy],
    progress: false,
  });
  const expected: number[][] = [];
  for (let epoch = 0; epoch < epochs; epoch++) {
    expected.push(...batchOrder(n, { batchSize, padId: 0, seed, epoch }));
  }
  assert.deepEqual(seen, expected);
  // Not a fixed order: the epochs differ.
  assert.notDeepEqual(seen.slice(0, 4).flat(), seen.slice(4, 8).flat());
});
