/**
 * `lab objectives`: list the objectives, or evaluate one on JSON rows of sequence scores.
 *
 * ```sh
 * lab objectives list [--json]
 * lab objectives eval --objective NAME [--params JSON] --input FILE|- [--batch]
 * ```
 *
 * `eval` reads a JSON array of rows `{policy_chosen, policy_rejected, ref_chosen, ref_rejected,
 * chosen_length, rejected_length}` (ref fields optional for reference-free objectives; KTO rows
 * may add `kl_policy`, `kl_ref`) and prints a JSON array of `{loss, g_w, g_l}`, one per row.
 * Each row is evaluated as its own batch of one (so a row's numbers depend on that row only);
 * `--batch` evaluates all rows as one batch (matters only for batch-coupled objectives, whose
 * g_w, g_l are then derivatives of the batch total). Computation is float32 on the tfjs `cpu`
 * backend. Exit codes: 0 ok, 1 bad input data, 2 bad usage (flags, objective, parameters).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { gradientWeightsAsync } from "./gradients.ts";
import { createObjective, findObjective, OBJECTIVES } from "./registry.ts";
import type { Objective, SequenceScores } from "./types.ts";

class UsageError extends Error {}
class InputError extends Error {}

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

const USAGE = "usage: lab objectives list [--json]\n" +
  "       lab objectives eval --objective NAME [--params JSON] --input FILE|- [--batch]";

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
      r.needsTokens ? "needs token data (not available to eval)" : "",
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

const REQUIRED = ["policy_chosen", "policy_rejected", "chosen_length", "rejected_length"] as const;
const REF = ["ref_chosen", "ref_rejected"] as const;

/** One validated input row. */
interface Row {
  policy_chosen: number;
  policy_rejected: number;
  ref_chosen?: number;
  ref_rejected?: number;
  chosen_length: number;
  rejected_length: number;
  kl_policy?: number;
  kl_ref?: number;
}

function validateRows(data: unknown, where: string, obj: Objective): Row[] {
  if (!Array.isArray(data)) throw new InputError(`${where}: expected a JSON array of rows`);
  return data.map((row, i) => {
    const at = `${where} row[${i}]`;
    if (typeof row !== "object" || row === null || Array.isArray(row)) {
      throw new InputError(`${at}: expected an object`);
    }
    const r = row as Record<string, unknown>;
    const need: string[] = [...REQUIRED, ...(obj.needsReference ? REF : [])];
    const optional = ["kl_policy", "kl_ref", ...(obj.needsReference ? [] : REF)];
    const out: Record<string, number> = {};
    for (const f of [...need, ...optional]) {
      if (!(f in r) || r[f] === undefined) {
        if (need.includes(f)) {
          throw new InputError(`${at}: field '${f}' is missing (objective ${obj.name} needs it)`);
        }
        continue;
      }
      const v = r[f];
      if (typeof v !== "number" || !Number.isFinite(v)) {
        throw new InputError(
          `${at}: field '${f}' must be a finite number, got ${JSON.stringify(v)}`,
        );
      }
      if ((f === "chosen_length" || f === "rejected_length") && !(v > 0)) {
        throw new InputError(`${at}: field '${f}' must be a positive token count, got ${v}`);
      }
      out[f] = v;
    }
    if (("kl_policy" in out) !== ("kl_ref" in out)) {
      throw new InputError(`${at}: fields 'kl_policy' and 'kl_ref' must be given together`);
    }
    return out as unknown as Row;
  });
}

function toScores(rows: Row[], obj: Objective): SequenceScores {
  const col = (f: keyof Row) => tf.tensor1d(rows.map((r) => r[f] as number));
  const s: SequenceScores = {
    policyChosen: col("policy_chosen"),
    policyRejected: col("policy_rejected"),
    chosenLength: col("chosen_length"),
    rejectedLength: col("rejected_length"),
  };
  const hasRef = rows.every((r) => r.ref_chosen !== undefined && r.ref_rejected !== undefined);
  if (obj.needsReference || hasRef) {
    if (hasRef) {
      s.refChosen = col("ref_chosen");
      s.refRejected = col("ref_rejected");
    }
  }
  if (rows.every((r) => r.kl_policy !== undefined)) {
    s.kl = { policy: col("kl_policy"), ref: col("kl_ref") };
  }
  return s;
}

function disposeScores(s: SequenceScores): void {
  const ts: tf.Tensor[] = [s.policyChosen, s.policyRejected, s.chosenLength, s.rejectedLength];
  if (s.refChosen) ts.push(s.refChosen);
  if (s.refRejected) ts.push(s.refRejected);
  if (s.kl) ts.push(s.kl.policy, s.kl.ref);
  tf.dispose(ts);
}

/** A non-finite loss or weight is an error naming the row, never a silent `null` in the output. */
function finiteRow(vals: Record<string, number>, where: string): Record<string, number> {
  const bad = Object.entries(vals).filter(([, v]) => !Number.isFinite(v));
  if (bad.length === 0) return vals;
  throw new RangeError(
    `${where}non-finite ${bad.map(([k, v]) => `${k} (${v})`).join(", ")}; the inputs overflow ` +
      `float32 or take the log of 0`,
  );
}

async function readInput(path: string): Promise<string> {
  try {
    if (path === "-") return await new Response(Deno.stdin.readable).text();
    return await Deno.readTextFile(path);
  } catch (e) {
    throw new InputError(`cannot read input '${path}': ${e instanceof Error ? e.message : e}`);
  }
}

async function evalCommand(flags: Record<string, string | true>): Promise<number> {
  const known = new Set(["objective", "params", "input", "batch"]);
  for (const k of Object.keys(flags)) {
    if (!known.has(k)) throw new UsageError(`unknown flag --${k}`);
  }
  const name = flags.objective;
  if (typeof name !== "string") throw new UsageError("eval needs --objective NAME");
  const input = flags.input;
  if (typeof input !== "string") throw new UsageError("eval needs --input FILE (or - for stdin)");
  let params: Record<string, unknown> = {};
  if (flags.params !== undefined) {
    try {
      params = JSON.parse(String(flags.params));
    } catch (e) {
      throw new UsageError(`--params is not valid JSON: ${e instanceof Error ? e.message : e}`);
    }
    if (typeof params !== "object" || params === null || Array.isArray(params)) {
      throw new UsageError("--params must be a JSON object");
    }
  }
  if (name !== "combine" && !findObjective(name)) {
    throw new UsageError(
      `unknown objective '${name}' (known: ${OBJECTIVES.map((e) => e.name).join(", ")}, combine)`,
    );
  }
  let make: () => Objective;
  try {
    createObjective(name, params);
    make = () => createObjective(name, params);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const probe = make();
  if (probe.needsTokens) {
    throw new UsageError(
      `objective '${probe.name}' (with these parameters) needs per-token log-probs ` +
        `(scores.tokens), which eval rows do not carry; use the library API`,
    );
  }
  const text = await readInput(input);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `input '${input}' is not valid JSON: ${e instanceof Error ? e.message : e}`,
    );
  }
  const rows = validateRows(data, `input '${input}'`, probe);
  const groups = flags.batch ? [rows] : rows.map((r) => [r]);
  const out: Record<string, number>[] = [];
  for (const [gi, group] of groups.entries()) {
    if (group.length === 0) continue;
    const obj = make();
    const scores = toScores(group, obj);
    try {
      const g = await gradientWeightsAsync(obj, scores);
      g.losses.forEach((l, i) =>
        out.push(
          finiteRow({ loss: l, g_w: g.gW[i], g_l: g.gL[i] }, flags.batch ? `row[${i}]: ` : ""),
        )
      );
    } catch (e) {
      const at = flags.batch ? "the batch" : `row[${gi}]`;
      throw new InputError(`input '${input}' ${at}: ${e instanceof Error ? e.message : e}`);
    } finally {
      disposeScores(scores);
    }
  }
  console.log(JSON.stringify(out, null, 2));
  return 0;
}

/**
 * Entry point of `lab objectives` (see the module doc). Returns the exit code; prints results
 * to stdout and one-line errors to stderr.
 *
 * @example
 * ```ts
 * import { objectivesCommand } from "./cli.ts";
 * const code = await objectivesCommand(["list"]);
 * console.log(code); // 0
 * ```
 */
export async function objectivesCommand(args: string[]): Promise<number> {
  try {
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    await tf.ready();
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
