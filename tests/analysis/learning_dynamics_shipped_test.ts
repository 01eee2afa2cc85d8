/**
 * The influence matrix on the shipped 1.33M-parameter model, on `wasm` (the `cpu` backend takes
 * minutes for its backward passes): at lr 1e-5 with SGD, the first-order prediction is within 5%
 * (Frobenius norm) of the change after a real step on each pair. Below about 1e-6 the float32
 * rounding of the summed log-probs (values near -60, spacing ~4e-6) dominates the observed change.
 */
import assert from "node:assert/strict";
import { startBackend } from "../../lib/backend.ts";
import { influenceMatrix } from "../../lib/analysis/learning_dynamics.ts";
import { loadCausalLM } from "../../lib/models/checkpoint.ts";
import { loadTokenizer } from "../../lib/data/tokenizer.ts";
import { loadPreferenceFile } from "../../lib/data/load.ts";
import { tokenizePairs } from "../../lib/data/tokenize.ts";
import { collateProbes } from "../../lib/data/collate.ts";
import { lmScorer } from "../../lib/scoring/lm.ts";
import { preferenceData } from "../../lib/train/train_data.ts";
import { dpo } from "../../lib/objectives/trl.ts";
import "../../lib/kernels/gradients.ts";

const root = new URL("../..", import.meta.url).pathname;

Deno.test({
  name:
    "influence matrix on the shipped model at lr 1e-5 (SGD, DPO β 0.1) within 5% of a real step",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    await startBackend("wasm");
    const dir = `${root}data/models/tiny`;
    const tok = await loadTokenizer(dir);
    const model = await loadCausalLM(dir);
    try {
      const { rows } = await loadPreferenceFile(`${root}data/datasets/simple_pairs/pairs.jsonl`);
      // One minor edit and one contradiction: close responses, where the parts compete.
      const pick = [rows[120], rows[240]];
      const { pairs } = tokenizePairs(pick, tok, { maxLength: 64 });
      const data = preferenceData(pairs, { padId: tok.padId });
      const probes = collateProbes(
        pairs.flatMap((p) => [
          { index: p.index, name: "chosen", promptIds: p.promptIds, completionIds: p.chosenIds },
          {
            index: p.index,
            name: "rejected",
            promptIds: p.promptIds,
            completionIds: p.rejectedIds,
          },
        ]),
        tok.padId,
      );
      const inf = await influenceMatrix(
        lmScorer(model),
        [data.batch([0]), data.batch([1])],
        probes,
        {
          objective: dpo({ beta: 0.1 }),
          lr: 1e-5,
        },
      );
      console.log(`shipped model, lr 1e-5: relative error ${inf.relativeError!.toExponential(2)}`);
      assert.ok(inf.relativeError! < 0.05, `relative error ${inf.relativeError}`);
      // DPO at step 0: g_w = -beta/2, g_l = +beta/2 for every pair.
      assert.deepEqual(inf.weights.chosen.map((w) => w.toFixed(6)), ["-0.050000", "-0.050000"]);
      // Each pair's own step lowers its rejected response.
      assert.ok(inf.observed![1][0] < 0 && inf.observed![3][1] < 0);
    } finally {
      model.dispose();
    }
  },
});
