import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { chesScores } from "../../lib/analysis/ches.ts";
import {
  chesContributionsFromStates,
  chesTokenContributions,
  topChesTokens,
} from "../../lib/analysis/ches_tokens.ts";
import { loadCausalLM } from "../../lib/models/checkpoint.ts";
import { loadTokenizer } from "../../lib/data/tokenizer.ts";
import { loadPreferenceFile } from "../../lib/data/load.ts";
import { tokenizePairs } from "../../lib/data/tokenize.ts";
import type { CausalLM } from "../../lib/models/types.ts";
import type { TokenizedPair } from "../../lib/data/types.ts";

await useCpu();

const root = new URL("../..", import.meta.url).pathname;
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
};

Deno.test("per-token CHES by hand: two chosen states, one rejected", () => {
  // H+ = (1, 2) + (3, -1) = (4, 1); h- = (2, 5): CHES = <H+,h-> - ||H+||^2 = 13 - 17 = -4.
  const c = chesContributionsFromStates([[1, 2], [3, -1]], [[2, 5]]);
  assert.deepEqual(Array.from(c.chosen), [-6, -11]);
  assert.deepEqual(Array.from(c.rejected), [13]);
  assert.equal(c.ches, -4);
  // Normalised: 13/(2*1) - 17/4 = 2.25, split as -6/4, -11/4, 13/2.
  assert.deepEqual(Array.from(c.chosenNormalized), [-1.5, -2.75]);
  assert.deepEqual(Array.from(c.rejectedNormalized), [6.5]);
  assert.equal(c.chesNormalized, 2.25);
  assert.throws(() => chesContributionsFromStates([[1, 2]], [[1]]), /differ in width/);
  assert.throws(() => chesContributionsFromStates([], [[1]]), /at least one state/);
});

Deno.test("topChesTokens ranks the largest contributions first", () => {
  const c = { index: 1, chosen: Float64Array.of(-2, 0.5), rejected: Float64Array.of(4, -1, 3) };
  const top = topChesTokens(c, 3);
  assert.deepEqual(top.map((t) => [t.side, t.position, t.contribution]), [
    ["rejected", 0, 4],
    ["rejected", 2, 3],
    ["chosen", 1, 0.5],
  ]);
});

async function shipped(): Promise<{ model: CausalLM; pairs: TokenizedPair[]; padId: number }> {
  const dir = `${root}data/models/tiny`;
  const tok = await loadTokenizer(dir);
  const model = await loadCausalLM(dir);
  const { rows } = await loadPreferenceFile(`${root}data/datasets/simple_pairs/pairs.jsonl`);
  // Two pairs of each of the five kinds (rows are grouped by kind in blocks of 120).
  const pick = rows.filter((_, i) => i % 120 < 2);
  const { pairs } = tokenizePairs(pick, tok, { maxLength: 128 });
  return { model, pairs, padId: tok.padId };
}

/** Float64 states that predict each completion token, from an unpadded single-row pass. */
function statesByHand(model: CausalLM, prompt: number[], completion: number[]): number[][] {
  const ids = [...prompt, ...completion];
  const h = tf.tidy(() =>
    model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), { hidden: true }).hidden!
  );
  const v = h.arraySync()[0];
  h.dispose();
  return completion.map((_, k) => v[prompt.length - 1 + k]);
}

Deno.test("per-token CHES on the shipped model: sums to CHES, matches a hand computation", async () => {
  const { model, pairs, padId } = await shipped();
  try {
    assert.equal(pairs.length, 10);
    const got = await chesTokenContributions(model, pairs, { batchSize: 4, padId });
    const plain = await chesScores(model, pairs, { batchSize: 4, padId });
    const before = tf.memory().numTensors;
    await chesTokenContributions(model, pairs, { batchSize: 4, padId });
    assert.equal(tf.memory().numTensors, before, "no tensor leaked");
    for (let i = 0; i < pairs.length; i++) {
      const p = pairs[i], c = got[i];
      assert.equal(c.index, p.index);
      assert.equal(c.chosen.length, p.chosenIds.length);
      assert.equal(c.rejected.length, p.rejectedIds.length);
      const total = [...c.chosen, ...c.rejected].reduce((a, b) => a + b, 0);
      const totalN = [...c.chosenNormalized, ...c.rejectedNormalized].reduce((a, b) => a + b, 0);
      const scale = Math.max(...[...c.chosen, ...c.rejected].map(Math.abs));
      // The identity in float64: sums agree to rounding of the summands.
      assertClose(total, c.ches, { rtol: 0, atol: 1e-12 * scale * 64, msg: `pair ${i} sum` });
      assertClose(totalN, c.chesNormalized, {
        rtol: 0,
        atol: 1e-12 * scale,
        msg: `pair ${i} sumN`,
      });
      // chesScores sums the states in float32 on the backend: float32 rounding apart.
      assertClose(c.ches, plain[i].ches, {
        rtol: 1e-4,
        atol: 1e-5 * scale,
        msg: `pair ${i} vs chesScores`,
      });
      // Independent: states of each unpadded row pulled out here, products written in the test.
      const hp = statesByHand(model, p.promptIds, p.chosenIds);
      const hm = statesByHand(model, p.promptIds, p.rejectedIds);
      const H = hp.reduce((s, h) => s.map((v, j) => v + h[j]), new Array(hp[0].length).fill(0));
      const tol = { rtol: 1e-4, atol: 1e-5 * dot(H, H) };
      assertClose(c.chosen, hp.map((h) => -dot(H, h)), { ...tol, msg: `pair ${i} chosen` });
      assertClose(c.rejected, hm.map((h) => dot(H, h)), { ...tol, msg: `pair ${i} rejected` });
      const n = p.chosenIds.length, m = p.rejectedIds.length;
      assertClose(c.rejectedNormalized, hm.map((h) => dot(H, h) / (n * m)), {
        rtol: 1e-4,
        atol: 1e-5 * dot(H, H) / (n * m),
        msg: `pair ${i} rejected normalised`,
      });
    }
    // Identical responses: every rejected token cancels its chosen twin; the total is 0.
    const same = pairs.map((p) => ({ ...p, rejectedIds: p.chosenIds }));
    for (const c of await chesTokenContributions(model, same, { batchSize: 3, padId })) {
      c.chosen.forEach((v, k) => assert.equal(c.rejected[k], -v));
      assert.equal(c.ches, 0);
      assert.equal(c.chesNormalized, 0);
    }
  } finally {
    model.dispose();
  }
});
