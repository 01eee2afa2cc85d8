/**
 * Issue 12 for `lab bench`: an earlier results file is refused before anything is measured, and
 * the markdown it writes is exactly what `deno fmt` leaves, hand-written text kept.
 */
import assert from "node:assert/strict";
import { benchCommand } from "../../tools/bench/cli.ts";
import { BEGIN_MARK, END_MARK } from "../../tools/bench/report.ts";
import { writeBenchOutputs } from "../../tools/bench/write.ts";

async function fmtCheck(path: string): Promise<boolean> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--check", path],
    stdout: "null",
    stderr: "null",
  }).output();
  return out.success;
}

Deno.test("lab bench: an existing --json results file is refused before measuring, unchanged", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/r.json`, '{"earlier": true}\n');
  const t0 = performance.now();
  // A model folder that does not exist: the old code got past the outputs and failed on it.
  await assert.rejects(
    benchCommand([
      ...["--quick", "--no-peer", "--no-large", "--backends", "cpu"],
      ...["--model", `${dir}/no-model`, "--json", `${dir}/r.json`, "--md", `${dir}/B.md`],
    ]),
    /r\.json: exists; pass --force to replace it/,
  );
  assert.ok(performance.now() - t0 < 30_000);
  assert.equal(await Deno.readTextFile(`${dir}/r.json`), '{"earlier": true}\n');
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["r.json"]);
});

Deno.test("lab bench: the generated block is written deno-fmt-clean, the hand text kept, atomically", async () => {
  const dir = await Deno.makeTempDir();
  const hand = "# Benchmarks\n\nHand-written: how to read the numbers.\n";
  await Deno.writeTextFile(
    `${dir}/B.md`,
    `${hand}\n${BEGIN_MARK}\nold\n${END_MARK}\n\n## After\n\nkept\n`,
  );
  // What renderResults emits: tables with unpadded cells, which deno fmt pads and aligns.
  const block = [
    BEGIN_MARK,
    "",
    "| task | backend | rate |",
    "| --- | --- | --- |",
    "| DPO step (tiny) | wasm | 2.6 steps/s |",
    "| CHES | webgpu | 85.4 pairs/s |",
    "",
    END_MARK,
  ].join("\n");
  await writeBenchOutputs(`${dir}/r.json`, "{}\n", `${dir}/B.md`, block);
  const md = await Deno.readTextFile(`${dir}/B.md`);
  assert.ok(md.startsWith(hand), md);
  assert.ok(md.endsWith("## After\n\nkept\n"), md);
  assert.doesNotMatch(md, /\nold\n/);
  assert.match(md, /\| DPO step \(tiny\) \| wasm {4}\| 2\.6 steps\/s {2}\|/);
  assert.ok(await fmtCheck(`${dir}/B.md`), md);
  assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["B.md", "r.json"]);
});
