import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { chesCommand, parseChesArgs } from "../../lib/analysis/ches_cli.ts";
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

Deno.test({
  name: "lab ches writes one line per pair with CHES, lengths and source lines",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await tinyModelDir();
    const data = `${dir}/pairs.jsonl`;
    const rows = [
      { prompt: "Is it cold? ", chosen: "Yes", rejected: "No" },
      { prompt: "Where did the farmer go?", chosen: " He went home.", rejected: " To the market." },
      { prompt: "Say", chosen: " hello there", rejected: " bye" },
    ];
    // A blank line: the third pair sits on line 4 of the file.
    await Deno.writeTextFile(
      data,
      `${JSON.stringify(rows[0])}\n${JSON.stringify(rows[1])}\n\n${JSON.stringify(rows[2])}\n`,
    );
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
