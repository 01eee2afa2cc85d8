/**
 * `lab objectives`: list the objectives, or evaluate one on JSON rows of sequence scores.
 *
 * ```sh
 * lab objectives list [--json]
 * lab objectives eval --objective NAME [--params JSON] --input FILE|- [--batch] [--seed N]
 * ```
 *
 * `eval` reads a JSON array of rows `{policy_chosen, policy_rejected, ref_chosen, ref_rejected,
 * chosen_length, rejected_length}` (ref fields optional for reference-free objectives; KTO rows
 * may add `kl_policy`, `kl_ref`) and prints a JSON array of `{loss, g_w, g_l}`, one per row.
 * A row may give per-token log-probs instead of (or besides) the sums, in
 * `policy_chosen_tokens`, `policy_rejected_tokens`, `ref_chosen_tokens`, `ref_rejected_tokens`
 * (TDPO also `kl_chosen_tokens`, `kl_rejected_tokens`; WPO `chosen_logsumsq_tokens`,
 * `rejected_logsumsq_tokens`): sequence-level objectives use their sums, token-level ones the
 * tokens, and `g_w` (`g_l`) is then the mean over the chosen (rejected) tokens of
 * ∂loss/∂(token log-prob). `--seed N` seeds objectives that draw at random (SGDPO's pilots).
 * Each row is evaluated as its own batch of one (so a row's numbers depend on that row only);
 * `--batch` evaluates all rows as one batch (matters only for batch-coupled objectives, whose
 * g_w, g_l are then derivatives of the batch total). Computation is float32 on the tfjs `cpu`
 * backend. Exit codes: 0 ok, 1 bad input data, 2 bad usage (flags, objective, parameters).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { OBJECTIVES } from "../../lib/objectives/mod.ts";
import { UsageError } from "./objectives_errors.ts";
import { evalCommand } from "./objectives_eval.ts";

function parseFlags(args: string[]): { flags: Record<string, string | true>; rest: string[] } {
  const flags: Record<string, string | true> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith("--")) {
      rest.push(a);
      continue;
    }
    const eq = a.indexOf("=");
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (a === "--batch" || a === "--json") flags[a.slice(2)] = true;
    else if (i + 1 < args.length) flags[a.slice(2)] = args[++i];
    else throw new UsageError(`flag ${a} needs a value`);
  }
  return { flags, rest };
}

const USAGE = `usage: lab objectives list [--json]
       lab objectives eval --objective NAME [--params JSON] --input FILE|- [--batch] [--seed N]

list: every registered objective (name, aliases, arXiv id, defaults).
eval: loss and gradient weights g_w, g_l of one objective on JSON rows of sequence scores
{policy_chosen, policy_rejected, ref_chosen, ref_rejected, chosen_length, rejected_length}
(ref fields optional for reference-free objectives; KTO rows may add kl_policy, kl_ref).
A row may carry per-token log-probs instead of sums: policy_chosen_tokens,
policy_rejected_tokens, ref_chosen_tokens, ref_rejected_tokens (arrays of numbers; TDPO adds
kl_chosen_tokens, kl_rejected_tokens; WPO chosen_logsumsq_tokens, rejected_logsumsq_tokens).
Sequence-level objectives use the sums; token-level ones the tokens; g_w (g_l) is then the mean
over chosen (rejected) tokens of d loss / d token log-prob.

options:
  --json              list: print JSON instead of a table
  --objective NAME    eval: a name or alias from 'list' (required)
  --params JSON       eval: parameters as a JSON object (default: the objective's defaults)
  --input FILE|-      eval: the rows, a JSON array, from FILE or stdin (required)
  --batch             eval: all rows as one batch (default: each row its own batch)
  --seed N            eval: seed of random draws, e.g. SGDPO's pilot sets (default 0)
  -h, --help          this text`;

function listCommand(json: boolean): number {
  const rows = OBJECTIVES.map((e) => {
    const o = e.create();
    return {
      name: e.name,
      aliases: e.aliases,
      arxiv: e.arxiv,
      source: e.source,
      needsReference: o.needsReference,
      needsTokens: o.needsTokens,
      batchCoupled: o.batchCoupled,
      defaults: Object.fromEntries(Object.entries(o.params).filter(([, v]) => v !== undefined)),
      formula: e.formula,
    };
  });
  if (json) {
    console.log(JSON.stringify(rows, null, 2));
    return 0;
  }
  for (const r of rows) {
    const flags = [
      r.needsReference ? "reference" : "reference-free",
      r.needsTokens ? "needs token data (eval: *_tokens row fields)" : "",
      r.batchCoupled ? "batch-coupled" : "",
      r.source === "reconstructed" ? "RECONSTRUCTED" : `formula from ${r.source}`,
    ].filter(Boolean).join(", ");
    const alias = r.aliases.length ? ` (alias ${r.aliases.join(", ")})` : "";
    console.log(`${r.name}${alias}  arXiv ${r.arxiv}  [${flags}]`);
    console.log(`    ${r.formula}`);
    console.log(`    defaults ${JSON.stringify(r.defaults)}`);
  }
  console.log(
    'combine  weighted sum: --params \'{"parts":[{"objective":"dpo","weight":1},' +
      '{"objective":"sft","weight":1}]}\'',
  );
  return 0;
}

/**
 * Entry point of `lab objectives` (see the module doc). Returns the exit code; prints results
 * to stdout and one-line errors to stderr.
 *
 * @example
 * ```ts
 * import { objectivesCommand } from "./objectives.ts";
 * const code = await objectivesCommand(["list"]);
 * console.log(code); // 0
 * ```
 */
export async function objectivesCommand(args: string[]): Promise<number> {
  try {
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    await tf.ready();
    if (args.includes("-h") || args.includes("--help")) {
      console.log(USAGE);
      return 0;
    }
    const { flags, rest } = parseFlags(args);
    const [sub, ...extra] = rest;
    if (extra.length > 0) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === "list") return listCommand(flags.json === true);
    if (sub === "eval") return await evalCommand(flags);
    if (sub === undefined || sub === "help") {
      console.log(USAGE);
      return sub === undefined ? 2 : 0;
    }
    throw new UsageError(`unknown subcommand '${sub}'`);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    if (e instanceof UsageError) {
      console.error(`lab objectives: ${msg}\n${USAGE}`);
      return 2;
    }
    console.error(`lab objectives: ${msg}`);
    return 1;
  }
}
