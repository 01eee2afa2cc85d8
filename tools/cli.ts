/**
 * `deno task lab <command> [...args]`: the headless entry point.
 *
 * Each command lives beside the code it drives (`lib/<area>/cli.ts`) and is listed in
 * {@link COMMANDS}. A command returns its exit code; errors it throws are printed as one
 * line naming what was wrong, and the process exits non-zero.
 *
 * @example
 * ```sh
 * deno task lab objectives list
 * ```
 *
 * @module
 */
import { ensureRuntimeDir } from "../lib/runtime_env.ts";

/** A command: takes the arguments after its name, returns the process exit code. */
export type Command = (args: string[]) => Promise<number>;

/** The commands, by name, with a one-line description and a lazy loader. */
export const COMMANDS: Record<string, { about: string; load: () => Promise<Command> }> = {
  "analyse-checkpoints": {
    about:
      "re-score a run's checkpoints (TRL checkpoint-N/ or ours): log-probs, displacement, CHES",
    load: async () => (await import("./commands/analyse_checkpoints.ts")).analyseCheckpointsCommand,
  },
  backend: {
    about: "print the tfjs backend report (--backend NAME to force one)",
    load: async () => (await import("./commands/backend.ts")).backendCommand,
  },
  bench: {
    about: "measure training/scoring throughput on every backend; writes BENCHMARKS.md",
    load: async () => (await import("./bench/cli.ts")).benchCommand,
  },
  ches: {
    about: "score preference pairs by CHES (and length-normalised CHES)",
    load: async () => (await import("./commands/ches.ts")).chesCommand,
  },
  data: {
    about: "check a preference/unpaired JSONL file (and its tokenization)",
    load: async () => (await import("./commands/data.ts")).dataCommand,
  },
  "import-trl": {
    about: "convert a Hugging Face trainer_state.json into a run directory",
    load: async () => (await import("./commands/import_trl.ts")).importTrlCommand,
  },
  objectives: {
    about: "list objectives, or evaluate one on JSON rows (loss, g_w, g_l)",
    load: async () => (await import("./commands/objectives.ts")).objectivesCommand,
  },
  pretrain: {
    about: "pretrain the tiny GPT-2 on the Brown corpus (reproducible from --seed)",
    load: async () => (await import("./pretrain/cli.ts")).pretrainCommand,
  },
  sft: {
    about: "SFT the tiny GPT-2 on the yes/no questions, measure it, write it with its card",
    load: async () => (await import("./pretrain/sft.ts")).sftCommand,
  },
  train: {
    about: "run a configured training to a run directory",
    load: async () => (await import("./commands/train.ts")).trainCommand,
  },
};

function usage(): string {
  const rows = Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(14)} ${v.about}`);
  return `usage: lab <command> [args]\n\ncommands:\n${rows.join("\n")}`;
}

/** Run the CLI with the given arguments; resolves to the exit code. */
export async function main(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (!name || name === "-h" || name === "--help" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = COMMANDS[name];
  if (!cmd) {
    console.error(`lab: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  // Before any GPU driver loads: quiets Mesa's XDG_RUNTIME_DIR warning (see runtime_env.ts).
  ensureRuntimeDir();
  try {
    return await (await cmd.load())(rest);
  } catch (e) {
    console.error(`lab ${name}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
