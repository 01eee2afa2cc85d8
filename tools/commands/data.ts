/**
 * `lab data check FILE [options]`: validate a preference or unpaired JSONL file and report
 * what loading and tokenizing it would do, without a stack trace on bad data.
 *
 * Options: `--unpaired` (KTO rows), `--tokenizer DIR` (also tokenize), `--max-length N`,
 * `--max-prompt-length N`, `--truncation-mode keep_start|keep_end`.
 *
 * @example
 * ```sh
 * deno task lab data check data/datasets/simple_pairs/pairs.jsonl
 * ```
 *
 * @module
 */
import { formatIssue } from "../../lib/data/mod.ts";
import { loadPreferenceFile, loadUnpairedFile } from "../../lib/data/mod.ts";
import { loadTokenizer } from "../../lib/data/mod.ts";
import { modelContext, rowLengths } from "../../lib/data/mod.ts";
import {
  type TokenizeOptions,
  tokenizePairs,
  tokenizeUnpaired,
  type TruncationMode,
} from "../../lib/data/mod.ts";

const USAGE = `usage: lab data check FILE [options]

Checks a preference JSONL file (TRL formats) row by row and prints every error and warning with
its line; exits 1 when a row is invalid.

options:
  --unpaired                 the file holds KTO rows {prompt, completion, label}
  --tokenizer DIR            also tokenize with this checkpoint's tokenizer and count truncations
  --max-length N             with --tokenizer: bound on prompt + completion tokens (default 1024)
  --max-prompt-length N      with --tokenizer: bound on prompt tokens (default none)
  --truncation-mode MODE     with --tokenizer: keep_start or keep_end (default keep_start)
  -h, --help                 this text`;

interface CheckArgs {
  file: string;
  unpaired: boolean;
  tokenizer?: string;
  tokenize: TokenizeOptions;
}

function parseArgs(args: string[]): CheckArgs {
  const out: CheckArgs = { file: "", unpaired: false, tokenize: {} };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n)) {
      throw new RangeError(`${flag}: expected an integer, got ${v}`);
    }
    return n;
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "--unpaired") out.unpaired = true;
    else if (a === "--tokenizer") out.tokenizer = args[++i];
    else if (a === "--max-length") out.tokenize.maxLength = num(a, args[++i]);
    else if (a === "--max-prompt-length") out.tokenize.maxPromptLength = num(a, args[++i]);
    else if (a === "--truncation-mode") out.tokenize.truncationMode = args[++i] as TruncationMode;
    else if (a.startsWith("--")) throw new TypeError(`unknown option '${a}'\n${USAGE}`);
    else if (out.file) throw new TypeError(`one file at a time\n${USAGE}`);
    else out.file = a;
  }
  if (!out.file) throw new TypeError(USAGE);
  return out;
}

/**
 * Run `data <subcommand>`; returns the exit code (1 when the file has invalid rows).
 *
 * @example
 * ```ts ignore
 * import { dataCommand } from "./data.ts";
 * Deno.exit(await dataCommand(["check", "data/datasets/simple_pairs/pairs.jsonl"]));
 * ```
 */
export async function dataCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === "-h" || sub === "--help" || rest.includes("-h") || rest.includes("--help")) {
    console.log(USAGE);
    return 0;
  }
  if (sub !== "check") {
    console.error(USAGE);
    return 2;
  }
  const a = parseArgs(rest);
  const loaded = a.unpaired
    ? await loadUnpairedFile(a.file, { onError: "skip" })
    : await loadPreferenceFile(a.file, { onError: "skip" });
  for (const issue of [...loaded.errors, ...loaded.warnings].sort((x, y) => x.line - y.line)) {
    console.log(`${issue.severity}: ${formatIssue(issue)}`);
  }
  console.log(
    `${a.file}: ${loaded.rows.length} valid rows (${loaded.format}), ${loaded.skipped} invalid, ` +
      `${loaded.warnings.length} warnings`,
  );
  if (a.tokenizer) {
    const tok = await loadTokenizer(a.tokenizer);
    const r = a.unpaired
      ? tokenizeUnpaired(loaded.rows as Parameters<typeof tokenizeUnpaired>[0], tok, a.tokenize)
      : tokenizePairs(loaded.rows as Parameters<typeof tokenizePairs>[0], tok, a.tokenize);
    for (const s of r.skippedRows) console.log(`skipped: ${a.file}:${s.index + 1}: ${s.reason}`);
    const context = await modelContext(a.tokenizer);
    const kept = "pairs" in r ? r.pairs : r.examples;
    const over = context === undefined ? [] : rowLengths(kept).filter((x) => x.tokens > context);
    for (const o of over.slice(0, 10)) {
      console.log(
        `too long: ${a.file}:${o.index + 1}: ${o.tokens} tokens > the model's context ${context}`,
      );
    }
    const overText = context === undefined
      ? ""
      : `, ${over.length} longer than the model's context (${context} tokens)` +
        (over.length ? `: training stops on them unless tokenize.maxLength <= ${context}` : "");
    console.log(
      `tokenized with ${a.tokenizer}: ${r.truncated} truncated, ${r.skipped} skipped${overText}`,
    );
  }
  return loaded.errors.length > 0 ? 1 : 0;
}
