import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { assertClose, useCpu } from "../helpers.ts";
import { chesCommand, parseChesArgs } from "../../tools/commands/ches.ts";
import { chesScores } from "../../lib/analysis/ches.ts";
import { createGPT2 } from "../../lib/models/gpt2.ts";
import { loadCausalLM, saveCausalLM } from "../../lib/models/checkpoint.ts";
import { loadTokenizer } from "../../lib/data/tokenizer.ts";

const fixtures = new URL("../fixtures/data/", import.meta.url).pathname;

async function tinyModelDir(): Promise<string> {
  await useCpu();
  const dir = await Deno.makeTempDir({ prefix: "ches-cli-" });
  const model = createGPT2(
    { vocab_size: 294, n_positions: 64, n_embd: 16, n_layer: 2, n_head: 2 },
    { seed: 5 },
  );
  await saveCausalLM(model, `${dir}/model`, { tokenizerFrom: `${fixtures}tiny_tokenizer` });
  model.dispose();
  return dir;
}

/** {@link tinyModelDir} with `pairs.jsonl` beside the model: one JSON line per row, null a blank line. */
async function tinyModelWithPairs(
  rows: (Record<string, string> | null)[],
): Promise<{ dir: string; data: string }> {
  const dir = await tinyModelDir();
  const data = `${dir}/pairs.jsonl`;
  const lines = rows.map((r) => r === null ? "" : JSON.stringify(r));
  await Deno.writeTextFile(data, lines.join("\n") + "\n");
  return { dir, data };
}

Deno.test({
  name: "lab ches writes one line per pair with CHES, lengths and source lines",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rows = [
      { prompt: "Is it cold? ", chosen: "Yes", rejected: "No" },
      { prompt: "Where did the farmer go?", chosen: " He went home.", rejected: " To the market." },
      { prompt: "Say", chosen: " hello there", rejected: " bye" },
    ];
    // A blank line: the third pair sits on line 4 of the file.
    const { dir, data } = await tinyModelWithPairs([rows[0], rows[1], null, rows[2]]);
    const out = `${dir}/ches.jsonl`;
    const code = await chesCommand([
      "--model",
      `${dir}/model`,
      "--data",
      data,
      "--out",
      out,
      "--batch-size",
      "2",
      "--backend",
      "cpu",
    ]);
    assert.equal(code, 0);
    const lines = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.map((l) => [l.pair, l.line]), [[0, 1], [1, 2], [3, 4]]);
    // Independently: encode each part, append EOS, score one pair at a time.
    const tok = await loadTokenizer(`${dir}/model`);
    const model = await loadCausalLM(`${dir}/model`);
    for (const [i, r] of rows.entries()) {
      const promptIds = tok.encode(r.prompt, { addSpecialTokens: true });
      const chosenIds = [...tok.encode(r.chosen), tok.eosId];
      const rejectedIds = [...tok.encode(r.rejected), tok.eosId];
      const l = lines[i];
      assert.deepEqual(
        [l.prompt_length, l.chosen_length, l.rejected_length],
        [promptIds.length, chosenIds.length, rejectedIds.length],
      );
      const [s] = await chesScores(model, [{ index: i, promptIds, chosenIds, rejectedIds }]);
      const tol = { rtol: 1e-4, atol: 1e-3 };
      assertClose(l.ches, s.ches, { ...tol, msg: `pair ${i} ches` });
      assertClose(l.ches_normalized, s.chesNormalized, { ...tol, msg: `pair ${i} normalised` });
    }
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "lab ches errors name the file, line and field, or the flag",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tinyModelDir();
    const args = (data: string) => [
      "--model",
      `${dir}/model`,
      "--data",
      data,
      "--out",
      `${dir}/o.jsonl`,
      "--backend",
      "cpu",
      "--force", // o.jsonl is rewritten by each call below
    ];
    await assert.rejects(
      () => chesCommand([...args(`${fixtures}bad_pairs.jsonl`), "--strict"]),
      /bad_pairs\.jsonl:2: field 'chosen'/,
    );
    // Lenient by default: the two valid rows (lines 1 and 8) are scored, the rest skipped.
    assert.equal(await chesCommand(args(`${fixtures}bad_pairs.jsonl`)), 0);
    const scored = (await Deno.readTextFile(`${dir}/o.jsonl`)).trim().split("\n");
    assert.deepEqual(scored.map((l) => JSON.parse(l).line), [1, 8]);
    // A file with no valid row is an error naming the file.
    await Deno.writeTextFile(`${dir}/empty.jsonl`, "\n");
    await assert.rejects(() => chesCommand(args(`${dir}/empty.jsonl`)), /empty\.jsonl/);
    await assert.rejects(
      () => chesCommand([...args(`${fixtures}standard.jsonl`), "--max-length", "128"]),
      /--max-length 128 exceeds the model.s 64 positions/,
    );
    assert.throws(() => parseChesArgs(["--model", "m", "--data", "d"]), /--out is required/);
    assert.throws(() => parseChesArgs(["--modle", "m"]), /unknown argument '--modle'/);
    assert.equal(
      parseChesArgs(["--strict", "--model", "m", "--data", "d", "--out", "o"]).strict,
      true,
    );
    assert.throws(
      () => parseChesArgs(["--model", "m", "--data", "d", "--out", "o", "--batch-size", "0"]),
      /--batch-size must be an integer >= 1, got '0'/,
    );
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name:
    "lab ches --per-token: token texts and shares that sum to CHES and match a hand computation",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rows = [
      { prompt: "Where did the farmer go?", chosen: " He went home.", rejected: " To the market." },
      { prompt: "Say", chosen: " hello there", rejected: " hello there" },
    ];
    const { dir, data } = await tinyModelWithPairs(rows);
    const out = `${dir}/ches.jsonl`;
    const args = ["--model", `${dir}/model`, "--data", data, "--out", out, "--backend", "cpu"];
    assert.equal(await chesCommand([...args, "--per-token"]), 0);
    const lines = (await Deno.readTextFile(out)).trim().split("\n").map((l) => JSON.parse(l));
    const tok = await loadTokenizer(`${dir}/model`);
    const model = await loadCausalLM(`${dir}/model`);
    const dot = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j], 0);
    for (const [i, r] of rows.entries()) {
      const l = lines[i];
      const promptIds = tok.encode(r.prompt, { addSpecialTokens: true });
      const chosenIds = [...tok.encode(r.chosen), tok.eosId];
      const rejectedIds = [...tok.encode(r.rejected), tok.eosId];
      assert.deepEqual(l.chosen_tokens, chosenIds.map((id) => tok.decode([id])));
      assert.deepEqual(l.rejected_tokens, rejectedIds.map((id) => tok.decode([id])));
      assert.equal(l.chosen_token_contributions.length, l.chosen_length);
      assert.equal(l.rejected_token_contributions.length, l.rejected_length);
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      const total = sum(l.chosen_token_contributions) + sum(l.rejected_token_contributions);
      assertClose(total, l.ches, { rtol: 1e-12, atol: 1e-12, msg: `pair ${i} sum` });
      assertClose(
        sum(l.chosen_token_contributions_normalized) +
          sum(l.rejected_token_contributions_normalized),
        l.ches_normalized,
        { rtol: 1e-12, atol: 1e-12, msg: `pair ${i} normalised sum` },
      );
      // By hand: the unpadded rows' states, position P-1+k predicting completion token k.
      const states = (completion: number[]) => {
        const ids = [...promptIds, ...completion];
        const h = model.forward(tf.tensor2d([ids], [1, ids.length], "int32"), { hidden: true });
        const v = (h.hidden!.arraySync() as number[][][])[0];
        tf.dispose([h.logits, h.hidden!]);
        return completion.map((_, k) => v[promptIds.length - 1 + k]);
      };
      const hp = states(chosenIds), hm = states(rejectedIds);
      const H = hp.reduce((s, h) => s.map((v, j) => v + h[j]));
      const tol = { rtol: 1e-4, atol: 1e-5 * dot(H, H) };
      assertClose(l.chosen_token_contributions, hp.map((h) => -dot(H, h)), { ...tol, msg: "y+" });
      assertClose(l.rejected_token_contributions, hm.map((h) => dot(H, h)), { ...tol, msg: "y-" });
    }
    // Identical responses: the shares cancel token by token and CHES is exactly 0.
    assert.equal(lines[1].ches, 0);
    assert.deepEqual(
      lines[1].rejected_token_contributions,
      lines[1].chosen_token_contributions.map((v: number) => -v),
    );
    // Without the switch the lines carry no per-token fields.
    assert.equal(await chesCommand([...args, "--force"]), 0);
    const plain = JSON.parse((await Deno.readTextFile(out)).split("\n")[0]);
    assert.equal(plain.chosen_token_contributions, undefined);
    model.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});
