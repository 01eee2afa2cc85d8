import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { useCpu } from "../helpers.ts";
import { generate } from "../../tools/pretrain/sample.ts";
import type { CausalLM } from "../../lib/models/types.ts";

/** A bigram "model": the logits at each position depend only on the token there. */
function bigram(table: number[][]): CausalLM {
  const V = table.length;
  return {
    kind: "stub",
    config: { n_positions: 4 },
    vocabSize: V,
    hiddenSize: 1,
    forward(ids: tf.Tensor2D) {
      const [n, t] = ids.shape;
      // generate must cut the context to n_positions.
      if (t > 4) throw new RangeError(`context of ${t} tokens exceeds n_positions 4`);
      const rows = (ids.arraySync() as number[][]).flat().map((i) => table[i]);
      return { logits: tf.tensor3d(rows.flat(), [n, t, V]) };
    },
    variables: () => [],
    namedVariables: () => new Map(),
    dispose() {},
  };
}

const tok = {
  encode: (t: string) => Array.from(t, (c) => "abcd".indexOf(c)),
  decode: (ids: readonly number[]) => ids.map((i) => "abcd"[i]).join(""),
  eosId: 3,
};

Deno.test("generate: greedy follows the argmax chain and stops after end-of-text", async () => {
  await useCpu();
  // a -> b -> c -> d(EOS)
  const m = bigram([[0, 5, 1, 0], [0, 0, 5, 1], [1, 0, 0, 5], [5, 0, 0, 0]]);
  const out = await generate(m, tok, "a", { temperature: 0, maxNewTokens: 10 });
  assert.deepEqual(out.ids, [1, 2, 3]);
  assert.equal(out.text, "bcd");
  const capped = await generate(m, tok, "a", { temperature: 0, maxNewTokens: 2 });
  assert.equal(capped.text, "bc");
});

Deno.test("generate: top-k 1 is greedy; sampling is seeded; bad options are refused", async () => {
  await useCpu();
  // From a: b and c equally likely (and far above a, d); from b/c: back to a.
  const m = bigram([[0, 9, 9, 0], [9, 0, 0, 0], [9, 0, 0, 0], [9, 0, 0, 0]]);
  const k1 = await generate(m, tok, "b", { topK: 1, maxNewTokens: 3 });
  assert.equal(k1.text, "aba"); // ties resolved to the lower id, like argmax
  const runs = await Promise.all(
    [1, 2, 3, 4, 5, 6].map((seed) => generate(m, tok, "a", { seed, maxNewTokens: 7, topK: 2 })),
  );
  const texts = runs.map((r) => r.text);
  // Only b/c after a and a after b/c can occur with top-k 2.
  for (const t of texts) assert.match(t, /^[bc]a[bc]a[bc]a[bc]$/);
  assert.ok(new Set(texts).size > 1, "different seeds give different samples");
  const again = await generate(m, tok, "a", { seed: 1, maxNewTokens: 7, topK: 2 });
  assert.equal(again.text, texts[0]);
  await assert.rejects(() => generate(m, tok, "a", { temperature: -1 }), RangeError);
  await assert.rejects(() => generate(m, tok, "a", { topK: 1.5 }), RangeError);
});
