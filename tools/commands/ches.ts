/**
 * `lab ches`: score every pair of a preference JSONL file by CHES and length-normalised CHES
 * under a model, one JSON line per pair.
 *
 * ```sh
 * deno task lab ches --model data/models/tiny --data pairs.jsonl --out ches.jsonl \
 *   [--batch-size 8] [--max-length N] [--backend NAME] [--strict] [--per-token]
 * ```
 *
 * Each output line: `{"pair", "line", "ches", "ches_normalized", "prompt_length",
 * "chosen_length", "rejected_length"}` (`pair` = 0-based row, `line` = 1-based line of the
 * input file; lengths in tokens, completions counting their EOS). Invalid rows are skipped and
 * listed on stderr as `file:line: field 'x': problem` (with `--strict`, any invalid row is an
 * error), as are rows dropped by truncation and the throughput in pairs per second.
 *
 * With `--per-token` each line also has `chosen_tokens` and `rejected_tokens` (each completion
 * token's text, EOS included), `chosen_token_contributions` and `rejected_token_contributions`
 * (each token's share of `ches`, aligned with those tokens: `-<H+, h+_k>` and `<H+, h-_k>`, see
 * `ches_tokens.ts`) and the same shares of `ches_normalized` (`..._contributions_normalized`).
 * The shares sum to the line's `ches` and `ches_normalized` to float64 rounding; those two are
 * then computed in float64 from the states and agree with the plain run's to float32 rounding
 * (about 1e-7 of `||H+||^2`).
 *
 * @module
 */
import { formatBackendReport, initBackend } from "../../lib/backend.ts";
import type { BackendName } from "../../lib/backend.ts";
import { loadCausalLM } from "../../lib/models/mod.ts";
import { loadPreferenceFile } from "../../lib/data/mod.ts";
import { formatIssue } from "../../lib/data/mod.ts";
import { loadTokenizer } from "../../lib/data/mod.ts";
import { tokenizePairs } from "../../lib/data/mod.ts";
import { chesScores, chesThreads, releaseChesThreads } from "../../lib/analysis/mod.ts";
import { type ChesTokenContributions, chesTokenContributions } from "../../lib/analysis/mod.ts";
import type { TokenizedPair } from "../../lib/data/mod.ts";
import { prepareOutput, writeOutput } from "../../lib/output.ts";
import { parseFlags } from "./flags.ts";

/** The `--per-token` fields of one output line; each token decoded on its own. */
function perTokenFields(
  c: ChesTokenContributions,
  pair: TokenizedPair,
  tokenizer: { decode(ids: readonly number[]): string },
): Record<string, unknown> {
  const text = (ids: readonly number[]) => ids.map((id) => tokenizer.decode([id]));
  return {
    chosen_tokens: text(pair.chosenIds),
    rejected_tokens: text(pair.rejectedIds),
    chosen_token_contributions: Array.from(c.chosen),
    rejected_token_contributions: Array.from(c.rejected),
    chosen_token_contributions_normalized: Array.from(c.chosenNormalized),
    rejected_token_contributions_normalized: Array.from(c.rejectedNormalized),
  };
}

const USAGE = `usage: lab ches --model DIR --data FILE --out FILE [options]

Scores every preference pair by CHES (and length-normalised CHES) under a model and writes one
JSON line per pair.

options:
  --model DIR         Hugging Face checkpoint folder with its tokenizer (required)
  --data FILE         preference JSONL file, TRL formats (required)
  --out FILE          output JSONL (required)
  --batch-size N      pairs per forward pass (default 8)
  --threads N         1: this thread only; 2: a worker thread takes part of the batches
                      (default 2 on wasm with two or more cores, else 1)
  --max-length N      bound on prompt + completion tokens (default: the model's positions, or 1024)
  --backend NAME      tfjs backend: auto, tensorflow, webgpu, wasm, cpu (default auto)
  --strict            stop at the first invalid row (default: skip it and report it)
  --force             replace an existing --out file (default: refuse)
  --per-token         add each completion token's text and its share of CHES and of
                      length-normalised CHES (chosen_/rejected_token_contributions[_normalized])
  -h, --help          this text`;

const FLAGS = [
  "--model",
  "--data",
  "--out",
  "--batch-size",
  "--max-length",
  "--backend",
  "--threads",
];
const SWITCHES = ["--strict", "--per-token", "--force"];

/** Parsed arguments of `lab ches`. */
export interface ChesArgs {
  model: string;
  data: string;
  out: string;
  batchSize: number;
  /** Undefined: the model's position limit. */
  maxLength?: number;
  backend?: BackendName | "auto";
  /** Any invalid data row is an error (default: skipped and listed). */
  strict: boolean;
  /** Add each token's text and share of CHES to every line. */
  perToken: boolean;
  /** Replace an existing `--out` file (default: refuse). */
  force: boolean;
  /** Threads for the forward passes (undefined: the library's default). */
  threads?: number;
}

/**
 * Parse `lab ches` arguments; errors name the flag.
 *
 * @example
 * ```ts
 * import { parseChesArgs } from "./ches.ts";
 * const a = parseChesArgs(["--model", "m", "--data", "d.jsonl", "--out", "o.jsonl", "--batch-size", "4"]);
 * console.log(a.batchSize); // 4
 * ```
 */
export function parseChesArgs(args: readonly string[]): ChesArgs {
  const f = parseFlags(args, { flags: FLAGS, switches: SWITCHES, usage: USAGE });
  return {
    model: f.need("--model"),
    data: f.need("--data"),
    out: f.need("--out"),
    batchSize: f.int("--batch-size", 1) ?? 8,
    maxLength: f.int("--max-length", 2),
    backend: f.get("--backend") as BackendName | "auto" | undefined,
    strict: f.has("--strict"),
    perToken: f.has("--per-token"),
    force: f.has("--force"),
    threads: f.int("--threads", 1),
  };
}

function positionLimit(config: Readonly<Record<string, unknown>>): number | undefined {
  for (const k of ["n_positions", "max_position_embeddings"]) {
    const v = config[k];
    if (typeof v === "number" && Number.isInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** Entry point of `lab ches`. */
export async function chesCommand(args: string[]): Promise<number> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return 0;
  }
  const a = parseChesArgs(args);
  // Checked (and its folder created) before scoring, so the scores are never lost at the end.
  await prepareOutput(a.out, { force: a.force });
  const report = await initBackend(a.backend ? { backend: a.backend } : {});
  console.error(formatBackendReport(report));
  const loaded = await loadPreferenceFile(a.data, { onError: a.strict ? "throw" : "skip" });
  for (const issue of loaded.errors) console.error(`${formatIssue(issue)} (row skipped)`);
  const tokenizer = await loadTokenizer(a.model);
  const model = await loadCausalLM(a.model);
  try {
    const limit = positionLimit(model.config);
    if (a.maxLength !== undefined && limit !== undefined && a.maxLength > limit) {
      throw new RangeError(`--max-length ${a.maxLength} exceeds the model's ${limit} positions`);
    }
    const maxLength = a.maxLength ?? limit ?? 1024;
    const tok = tokenizePairs(loaded.rows, tokenizer, { maxLength });
    const lineOf = new Map(loaded.rows.map((r) => [r.index, r.line]));
    for (const s of tok.skippedRows) {
      console.error(`${a.data}:${lineOf.get(s.index)}: skipped: ${s.reason}`);
    }
    if (tok.truncated > 0) console.error(`${tok.truncated} pairs truncated to ${maxLength} tokens`);
    const t0 = performance.now();
    const opts = { batchSize: a.batchSize, padId: tokenizer.padId };
    const scores = await chesScores(model, tok.pairs, { ...opts, threads: a.threads });
    const perToken = a.perToken ? await chesTokenContributions(model, tok.pairs, opts) : undefined;
    const seconds = (performance.now() - t0) / 1000;
    const lines = scores.map((s, i) =>
      JSON.stringify({
        pair: s.index,
        line: lineOf.get(s.index),
        ches: perToken?.[i].ches ?? s.ches,
        ches_normalized: perToken?.[i].chesNormalized ?? s.chesNormalized,
        prompt_length: s.promptLength,
        chosen_length: s.chosenLength,
        rejected_length: s.rejectedLength,
        ...(perToken ? perTokenFields(perToken[i], tok.pairs[i], tokenizer) : {}),
      })
    );
    await writeOutput(a.out, lines.length ? lines.join("\n") + "\n" : "", { force: a.force });
    console.error(
      `scored ${scores.length} pairs (${loaded.skipped} invalid, ${tok.skipped} too long) in ${
        seconds.toFixed(2)
      } s: ` +
        `${(scores.length / seconds).toFixed(1)} pairs/s, batch ${a.batchSize}, ` +
        `threads ${chesThreads(model, { threads: a.threads }).threads}, ` +
        `backend ${report.name}; wrote ${a.out}`,
    );
  } finally {
    releaseChesThreads();
    model.dispose();
  }
  return 0;
}
