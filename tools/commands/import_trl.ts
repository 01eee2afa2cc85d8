/**
 * `lab import-trl FILE --out DIR`: convert a Hugging Face `trainer_state.json` into a run
 * directory.
 *
 * @example
 * ```sh
 * deno task lab import-trl data/runs/trl_sample/trainer_state.json --out out/runs/trl_sample
 * ```
 *
 * @module
 */
import { readRun, writeRun } from "../../lib/train/mod.ts";
import { checkFlags, flagValue } from "./flags.ts";

/**
 * `lab import-trl FILE --out DIR`: read a Hugging Face `trainer_state.json` (or an output
 * directory holding one) and write it as a run directory.
 *
 * @example
 * ```ts ignore
 * await importTrlCommand(["data/runs/trl_sample/trainer_state.json", "--out", "/tmp/trl"]);
 * ```
 */
export async function importTrlCommand(args: string[]): Promise<number> {
  const usage = `usage: lab import-trl FILE --out DIR [--force]

Converts a Hugging Face trainer's log (trainer_state.json, or an output folder holding one) into a
run directory that the analysis and plot functions read like one of lab train's.

options:
  FILE          trainer_state.json or the folder that holds it (required)
  --out DIR     run directory to write (required)
  --force       replace what is in --out (default: refuse a non-empty folder)
  -h, --help    this text`;
  if (args.includes("-h") || args.includes("--help")) {
    console.log(usage);
    return 0;
  }
  checkFlags(args, { "--out": true, "--force": false });
  const out = flagValue(args, "--out");
  const file = args.find((a, i) => !a.startsWith("--") && args[i - 1] !== "--out");
  if (!file || !out) throw new TypeError(usage);
  const run = await readRun(file);
  if (run.source !== "trl") throw new TypeError(`${file}: is already a run directory`);
  // A previous run there is replaced only with --force (only the files it wrote), and a folder of
  // other files never: a TRL import must not end up mixed with an earlier run's checkpoints.
  await writeRun(run, out, { overwrite: args.includes("--force"), flag: "--force" });
  console.log(
    `${out}: ${run.steps.length} train records, ${run.evals.length} eval records` +
      (Object.keys(run.summary).length ? ", summary" : ""),
  );
  return 0;
}
