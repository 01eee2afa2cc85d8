import assert from "node:assert/strict";
import { parseTrainConfig } from "../../lib/train/config.ts";
import { TRAIN_HELP } from "../../tools/commands/train_help.ts";
import { readJsonl } from "../../lib/train/records.ts";

const root = new URL("../../", import.meta.url).pathname;
const EXAMPLE = "examples/train_dpo.json";

Deno.test("lab train --help documents exactly the config fields parseTrainConfig accepts", () => {
  // The validator's own list of known fields, taken from its error for an unknown one.
  let message = "";
  try {
    parseTrainConfig({ zzz: 1 }, "x.json");
  } catch (e) {
    message = (e as Error).message;
  }
  const known = message.match(/known: ([^)]*)\)/)?.[1]?.split(", ");
  assert.ok(known && known.length > 10, `no field list in: ${message}`);
  // The help's field lines: two spaces, a name (or "a | b"), then its description.
  const config = TRAIN_HELP.slice(TRAIN_HELP.indexOf("\nconfig "));
  const documented = [...config.matchAll(/^ {2}(\w+)(?: \| (\w+))? {2,}/gm)]
    .flatMap((m) => m[2] ? [m[1]!, m[2]] : [m[1]!]);
  assert.deepEqual([...documented].sort(), [...known].sort());
  for (const flag of ["--config", "--out", "--steps", "--resume", "--backend", "--quiet"]) {
    assert.ok(TRAIN_HELP.includes(`  ${flag} `), `${flag} undocumented`);
  }
});

Deno.test({
  name: "the shipped example config runs as is through the CLI; step 1 loss is log 2",
  sanitizeResources: false,
  async fn() {
    const out = await Deno.makeTempDir({ prefix: "example_config_" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "-A",
          "tools/cli.ts",
          "train",
          "--config",
          EXAMPLE,
          "--steps",
          "2",
          "--out",
          out,
          "--backend",
          "wasm",
          "--quiet",
        ],
        cwd: root,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(run.stderr) + new TextDecoder().decode(run.stdout);
      assert.ok(run.success, `lab train failed:\n${text.slice(-2000)}`);
      const records = await readJsonl<{ step: number; loss?: number }>(`${out}/steps.jsonl`);
      const steps = records.filter((r) => r.loss !== undefined);
      assert.deepEqual(steps.map((r) => r.step), [1, 2]);
      // Before the first update the policy is its own reference: every margin is 0.
      assert.ok(Math.abs(steps[0]!.loss! - Math.LN2) < 1e-3, `step 1 loss ${steps[0]!.loss}`);
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
