/**
 * The gradient-alignment tracker's one-row `sides` path against an independent computation:
 * each response's log-prob written out here from the model's full logits (log-softmax, pick
 * the next token, sum over the completion), its gradient taken alone with `tf.grads`, and the
 * inner product, norms and cosine accumulated in float64. The tracker run with and without
 * `sides` must report the same rows.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/mod.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import { lmScorer } from "../../lib/scoring/mod.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import type { TrainOptions } from "../../lib/train/train_options.ts";
import type { PreferenceBatch } from "../../lib/data/mod.ts";
import {
  gradientInnerProducts,
  sideGradientInnerProducts,
} from "../../lib/analysis/gradient_alignment.ts";
import { gradientAlignmentTracker } from "../../lib/analysis/trackers.ts";
import { pairSides } from "../../lib/analysis/pair_sides.ts";
import { assertSteps, oldVsNew, TINY_GPT2, TINY_PAIRS, trainTiny } from "./fixtures.ts";

await useCpu();

/** Gradient of one response's summed log-prob, flattened in float64, by hand. */
function rowGradient(model: CausalLM, prompt: number[], completion: number[]): Float64Array {
  const ids = [...prompt, ...completion];
  const vars = model.variables();
  const f = () => {
    const logits = model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits;
    const lsm = tf.logSoftmax(tf.reshape(logits, [ids.length, model.vocabSize]));
    let s: tf.Tensor = tf.scalar(0);
    for (let t = prompt.length; t < ids.length; t++) {
      s = tf.add(s, tf.slice(lsm, [t - 1, ids[t]], [1, 1]).reshape([]));
    }
    return s as tf.Scalar;
  };
  const { grads } = tf.variableGrads(f, vars);
  const out: number[] = [];
  for (const v of vars) {
    out.push(...(grads[v.name] ? grads[v.name].dataSync() : new Float32Array(v.size)));
  }
  tf.dispose(grads);
  return Float64Array.from(out);
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

Deno.test("sideGradientInnerProducts and the pair path agree with per-row tf.grads in float64", async () => {
  const model = createGPT2(TINY_GPT2, { seed: 3 });
  try {
    const scorer = lmScorer(model);
    const data = preferenceData(TINY_PAIRS, { padId: 0 });
    const sides = pairSides(TINY_PAIRS, 0);
    for (const [i, p] of TINY_PAIRS.entries()) {
      const gw = rowGradient(model, p.promptIds, p.chosenIds);
      const gl = rowGradient(model, p.promptIds, p.rejectedIds);
      const want = {
        inner: dot(gw, gl),
        chosenSq: dot(gw, gw),
        rejectedSq: dot(gl, gl),
        cosine: dot(gw, gl) / Math.sqrt(dot(gw, gw) * dot(gl, gl)),
      };
      const side = await sideGradientInnerProducts(scorer, sides(i));
      const pair = await gradientInnerProducts(scorer, data.batch([i]));
      for (const k of ["inner", "chosenSq", "rejectedSq", "cosine"] as const) {
        assertClose(side[k], want[k], { rtol: 1e-5, atol: 0, msg: `pair ${i} ${k} (sides)` });
        assertClose(pair[k], want[k], { rtol: 1e-5, atol: 0, msg: `pair ${i} ${k} (pair)` });
        assertClose(side[k], pair[k], { rtol: 1e-6, atol: 0, msg: `pair ${i} ${k} (old/new)` });
      }
      // The cosine is not trivially ±1 here, so it checks the inner product's sign and size.
      assert.ok(Math.abs(want.cosine) < 0.99);
    }
  } finally {
    model.dispose();
  }
});

/** The fixtures' DPO run ({@link trainTiny}) on a fresh seed-5 model. */
async function trainToy(
  opts: Pick<TrainOptions<PreferenceBatch>, "maxSteps" | "seed" | "callbacks">,
) {
  const model = createGPT2(TINY_GPT2, { seed: 5 });
  try {
    await trainTiny(lmScorer(model), opts);
  } finally {
    model.dispose();
  }
}

async function runTracker(withSides: boolean): Promise<Record<string, number>[][]> {
  const seen: Record<string, number>[][] = [];
  const tracker = gradientAlignmentTracker({
    every: 1,
    positions: [0, 1, 2],
    file: false,
    ...(withSides ? { sides: pairSides(TINY_PAIRS, 0) } : {}),
  });
  const spy = { name: "spy", onStepEnd: () => void seen.push(tracker.last!) };
  await trainToy({ maxSteps: 3, seed: 1, callbacks: [tracker, spy] });
  return seen;
}

oldVsNew(
  "gradientAlignmentTracker reports the same rows with and without sides",
  runTracker,
  (old, now) => {
    assert.equal(now.length, 3);
    assertSteps(now, old, { rtol: 1e-6, atol: 1e-9 }, "row");
  },
);

Deno.test("gradientAlignmentTracker refuses sides that do not hold the pair", async () => {
  const swapped = pairSides([TINY_PAIRS[1], TINY_PAIRS[0], TINY_PAIRS[2]], 0);
  await assert.rejects(
    () =>
      trainToy({
        maxSteps: 1,
        callbacks: [gradientAlignmentTracker({ positions: [0], file: false, sides: swapped })],
      }),
    /position 0's chosen side scores .* the sides do not hold this pair/,
  );
});
