/**
 * Every `lab <command> --help` exits 0 and documents every option its parser knows: each flag
 * literal in the command's source must stand on an options line of the help text.
 */
import assert from "node:assert/strict";
import { COMMANDS, main } from "../tools/cli.ts";

/** Each command's source file (where its parser lives), and flags its parser builds by name. */
const SOURCES: Record<string, { file: URL; extra?: string[] }> = {
  "analyse-checkpoints": {
    file: new URL("../tools/commands/analyse_checkpoints.ts", import.meta.url),
  },
  backend: { file: new URL("../tools/commands/backend.ts", import.meta.url) },
  bench: { file: new URL("../tools/bench/cli.ts", import.meta.url) },
  ches: { file: new URL("../tools/commands/ches.ts", import.meta.url) },
  data: { file: new URL("../tools/commands/data.ts", import.meta.url) },
  "import-trl": {
    file: new URL("../tools/commands/import_trl.ts", import.meta.url),
    extra: ["--out"],
  },
  objectives: {
    file: new URL("../tools/commands/objectives.ts", import.meta.url),
    extra: ["--objective", "--params", "--input", "--batch", "--json", "--seed"],
  },
  pretrain: { file: new URL("../tools/pretrain/cli.ts", import.meta.url) },
  sft: { file: new URL("../tools/pretrain/sft.ts", import.meta.url) },
  train: { file: new URL("../tools/commands/train.ts", import.meta.url) },
};

async function helpOf(name: string): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const [log, err] = [console.log, console.error];
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  console.error = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    return { code: await main([name, "--help"]), text: lines.join("\n") };
  } finally {
    [console.log, console.error] = [log, err];
  }
}

Deno.test("every lab command's --help exits 0 and documents each of its options", async () => {
  assert.deepEqual(Object.keys(SOURCES).sort(), Object.keys(COMMANDS).sort());
  for (const [name, { file, extra }] of Object.entries(SOURCES)) {
    const { code, text } = await helpOf(name);
    assert.equal(code, 0, `lab ${name} --help exited ${code}:\n${text}`);
    const source = await Deno.readTextFile(file);
    const literal = [...source.matchAll(/"(--[a-z][a-z-]*)"/g)].map((m) => m[1]!);
    const flags = new Set([...literal, ...(extra ?? [])].filter((f) => f !== "--help"));
    // import-trl and train share one file: each checks only its own flags.
    if (name === "import-trl") {
      flags.forEach((f) => f !== "--out" && f !== "--force" && flags.delete(f));
    }
    if (name === "train") flags.delete("--force");
    const optionLines = text.split("\n").filter((l) => /^\s+(-h, )?--|^\s+FILE\b/.test(l));
    for (const f of flags) {
      const re = new RegExp(`(^|\\s)${f}(?![a-z-])`);
      assert.ok(optionLines.some((l) => re.test(l)), `lab ${name} --help: ${f} undocumented`);
    }
  }
});
