import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import type { CausalLM } from "../../lib/models/types.ts";
import { loadTokenizer } from "../../lib/data/tokenizer.ts";
import { loadYesNoQuestions } from "../../lib/data/persona.ts";
import {
  ANSWER_WORDS,
  answerShare,
  answerWordIds,
  splitQuestions,
  yesNoSft,
} from "../../lib/study/yesno_sft.ts";

/** A model whose logits are fixed by hand: position t of a prompt gets row t of `rows`. */
function fixedLogits(rows: number[][]): CausalLM {
  const V = rows[0].length;
  return {
    kind: "fixed",
    config: {},
    vocabSize: V,
    hiddenSize: 1,
    forward: (ids: tf.Tensor2D) => {
      const T = ids.shape[1];
      return { logits: tf.tensor3d([rows.slice(0, T)], [1, T, V]) };
    },
    variables: () => [],
    namedVariables: () => new Map(),
    dispose: () => {},
  };
}

Deno.test("answerShare reads the last position's softmax: share, No-side part and top word by hand", async () => {
  await useCpu();
  // Last position: logits ln(1..5) -> probabilities 1/15 .. 5/15. An earlier position puts all
  // mass on token 0, so reading the wrong position would give share 0.
  const model = fixedLogits([[50, 0, 0, 0, 0], [1, 2, 3, 4, 5].map(Math.log)]);
  const words = {
    ids: [1, 2, 4],
    noSide: new Set([2, 4]),
    form: new Map([[1, "Yes"], [2, "No"], [4, " No"]]),
  };
  const s = await answerShare(model, [[7, 8], [9, 9]], words);
  assertClose(s.share, (2 + 3 + 5) / 15, { rtol: 1e-6 });
  assertClose(s.perPrompt, [10 / 15, 10 / 15], { rtol: 1e-6 });
  assertClose(s.noSideFraction, [0.8, 0.8], { rtol: 1e-6 });
  assert.deepEqual(s.topForm, [" No", " No"]);
  assert.deepEqual(s.topCounts, { " No": 2 });
});

Deno.test("answerWordIds: both forms of every word, a multi-token word is an error", () => {
  const vocab = new Map<string, number>();
  const one = { encode: (t: string) => [vocab.get(t) ?? vocab.set(t, vocab.size).get(t)!] };
  const w = answerWordIds(one);
  assert.equal(w.ids.length, 2 * ANSWER_WORDS.length);
  assert.deepEqual(
    [...w.noSide].map((id) => w.form.get(id)).sort(),
    [" Maybe", " Never", " No", " Perhaps", " no", "Maybe", "Never", "No", "Perhaps", "no"],
  );
  const split = { encode: (t: string) => (t === " Certainly" ? [1, 2] : [0]) };
  assert.throws(() => answerWordIds(split), /" Certainly" is 2 tokens/);
});

Deno.test("splitQuestions: a seeded partition of the requested size", () => {
  const xs = Array.from({ length: 50 }, (_, i) => i);
  const a = splitQuestions(xs, { heldOutFraction: 0.2, seed: 3 });
  const b = splitQuestions(xs, { heldOutFraction: 0.2, seed: 3 });
  assert.equal(a.heldOut.length, 10);
  assert.deepEqual([...a.train, ...a.heldOut].sort((x, y) => x - y), xs);
  assert.deepEqual(a, b);
  assert.notDeepEqual(splitQuestions(xs, { heldOutFraction: 0.2, seed: 4 }).heldOut, a.heldOut);
  assert.throws(() => splitQuestions(xs, { heldOutFraction: 1 }), /not in \[0, 1\)/);
});

Deno.test("yesNoSft moves a random GPT-2's next-token mass onto the answer words", async () => {
  await useCpu();
  const tok = await loadTokenizer("data/models/tiny");
  const qs = (await loadYesNoQuestions("data/datasets/yesno_cautious/questions.jsonl")).slice(
    0,
    8,
  );
  const model = createGPT2(
    { vocab_size: tok.vocabSize, n_positions: 32, n_embd: 8, n_layer: 1, n_head: 2 },
    { seed: 1 },
  );
  const words = answerWordIds(tok);
  const prompts = qs.map((q) => tok.encode(q.question + "\n"));
  const before = await answerShare(model, prompts, words);
  // 20 of 4096 ids under a near-uniform initial distribution.
  assert.ok(before.share < 0.02, `before: ${before.share}`);
  const r = await yesNoSft(model, tok, qs, { lr: 3e-2, epochs: 10 });
  assert.equal(r.steps, 10);
  const after = await answerShare(model, prompts, words);
  assert.ok(after.share > 0.5, `after: ${after.share}`);
  model.dispose();
});
