/**
 * What the analysis tests share: the tiny GPT-2 and pairs of the tests that compare a tracker's
 * fast path with its plain one, the short DPO run they train, their per-step comparison, and the
 * float64 log-prob and CHES that scores are checked against.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, type Tolerance } from "../helpers.ts";
import type { CausalLM } from "../../lib/models/mod.ts";
import type { PreferenceBatch, TokenizedPair } from "../../lib/data/mod.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { train } from "../../lib/train/trainer.ts";
import type { TrainOptions } from "../../lib/train/train_options.ts";
import { dpo } from "../../lib/objectives/trl.ts";

/** A 2-layer GPT-2 over 24 tokens, small enough for per-row float64 checks. */
export const TINY_GPT2 = { vocab_size: 24, n_positions: 16, n_embd: 8, n_layer: 2, n_head: 2 };

/**
 * Three pairs of different completion lengths, so a pair batch pads rows and one-row passes
 * do not.
 */
export const TINY_PAIRS: TokenizedPair[] = [
  { index: 0, promptIds: [1, 2, 3], chosenIds: [4, 5, 6, 7], rejectedIds: [8, 9] },
  { index: 1, promptIds: [10, 11], chosenIds: [12, 13], rejectedIds: [14, 15, 16, 17, 18] },
  { index: 2, promptIds: [19], chosenIds: [20, 21, 22], rejectedIds: [23, 1, 2] },
];

/** One response's summed log-prob in float64 from the model's logits of the unpadded row. */
export function handLogp(model: CausalLM, prompt: number[], completion: number[]): number {
  const ids = [...prompt, ...completion];
  const logits = model.forward(tf.tensor2d([ids], [1, ids.length], "int32")).logits;
  const z = logits.dataSync();
  logits.dispose();
  const v = model.vocabSize;
  let s = 0;
  for (let t = prompt.length; t < ids.length; t++) {
    const row = Array.from(z.subarray((t - 1) * v, t * v));
    const max = Math.max(...row);
    const lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    s += row[ids[t]] - lse;
  }
  return s;
}

/** DPO (β 0.5) by plain SGD (lr 0.5) over {@link TINY_PAIRS} in batches of 2. */
export function trainTiny(
  policy: TrainOptions<PreferenceBatch>["policy"],
  opts: Pick<TrainOptions<PreferenceBatch>, "maxSteps" | "seed" | "callbacks">,
): ReturnType<typeof train> {
  return train({
    policy,
    data: preferenceData(TINY_PAIRS, { padId: 0 }),
    objective: dpo({ beta: 0.5 }),
    optimizer: { name: "sgd" },
    lr: 0.5,
    batchSize: 2,
    progress: false,
    ...opts,
  });
}

/** Float64 CHES (arXiv 2410.08847 Def. 2): <S+, S-> - |S+|^2 from the states predicting y. */
export function handChes(model: CausalLM, p: TokenizedPair): number {
  const sum = (completion: number[]) => {
    const ids = [...p.promptIds, ...completion];
    const h = tf.tidy(() =>
      model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), { hidden: true }).hidden!
    );
    const d = h.shape[2], all = h.dataSync();
    h.dispose();
    const s = new Array(d).fill(0);
    for (let t = p.promptIds.length - 1; t <= ids.length - 2; t++) {
      for (let j = 0; j < d; j++) s[j] += all[t * d + j];
    }
    return s;
  };
  const sp = sum(p.chosenIds), sm = sum(p.rejectedIds);
  return sp.reduce((a, x, j) => a + x * sm[j] - x * x, 0);
}

/** A step's row: one number a pair, or a record of numbers. */
type Row = number | Record<string, number>;

/**
 * Asserts that each step's rows of `got` agree with `want`'s within `tol`, naming the step, the
 * row (`what` and its index) and, for records, the key.
 */
export function assertSteps(got: Row[][], want: Row[][], tol: Tolerance, what: string) {
  for (const [s, rows] of got.entries()) {
    for (const [i, row] of rows.entries()) {
      const at = `step ${s + 1} ${what} ${i}`;
      if (typeof row === "number") {
        assertClose(row, want[s][i] as number, { ...tol, msg: at });
        continue;
      }
      for (const [k, v] of Object.entries(row)) {
        const w = want[s][i] as Record<string, number>;
        assertClose(v, w[k], { ...tol, msg: `${at} ${k}` });
      }
    }
  }
}

/**
 * A test that runs `run` with the path under test off (`old`) and on (`now`), then `check`s the
 * two. Resource and op sanitizers are off, as for the other training runs in these tests.
 */
export function oldVsNew<R>(
  name: string,
  run: (on: boolean) => Promise<R>,
  check: (old: R, now: R) => void,
): void {
  Deno.test({
    name,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const old = await run(false), now = await run(true);
      check(old, now);
    },
  });
}
