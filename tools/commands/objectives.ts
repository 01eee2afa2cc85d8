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
import { gradientWeightsAsync } from "../../lib/objectives/mod.ts";
import { createObjective, findObjective, OBJECTIVES } from "../../lib/objectives/mod.ts";
import type { GradientWeights } from "../../lib/objectives/mod.ts";
import type { Objective } from "../../lib/objectives/mod.ts";
import type { SequenceScores, TokenScores } from "../../lib/core/mod.ts";

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

const REF = ["ref_chosen", "ref_rejected"] as const;
/** Per-token row fields and the `TokenScores` field each fills, by side. */
const TOKEN_FIELDS = {
  policy_chosen_tokens: ["chosen", "policyChosen"],
  ref_chosen_tokens: ["chosen", "refChosen"],
  kl_chosen_tokens: ["chosen", "klChosen"],
  chosen_logsumsq_tokens: ["chosen", "chosenLogSumSquares"],
  policy_rejected_tokens: ["rejected", "policyRejected"],
  ref_rejected_tokens: ["rejected", "refRejected"],
  kl_rejected_tokens: ["rejected", "klRejected"],
  rejected_logsumsq_tokens: ["rejected", "rejectedLogSumSquares"],
} as const;
type TokenField = keyof typeof TOKEN_FIELDS;
/** Each summed field and the token field it can be computed from. */
const SUMS = [
  ["policy_chosen", "policy_chosen_tokens"],
  ["policy_rejected", "policy_rejected_tokens"],
  ["ref_chosen", "ref_chosen_tokens"],
  ["ref_rejected", "ref_rejected_tokens"],
] as const;

/** One validated input row: sums and lengths always filled in, token arrays as given. */
interface Row {
  policy_chosen: number;
  policy_rejected: number;
  ref_chosen?: number;
  ref_rejected?: number;
  chosen_length: number;
  rejected_length: number;
  kl_policy?: number;
  kl_ref?: number;
  tokens: Partial<Record<TokenField, number[]>>;
}

function numberField(at: string, f: string, v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v)) {
    throw new InputError(`${at}: field '${f}' must be a finite number, got ${JSON.stringify(v)}`);
  }
  return v;
}

function tokenArray(at: string, f: string, v: unknown): number[] {
  if (!Array.isArray(v) || v.length === 0) {
    throw new InputError(`${at}: field '${f}' must be a non-empty array of numbers`);
  }
  v.forEach((x, k) => {
    if (typeof x !== "number" || !Number.isFinite(x)) {
      throw new InputError(
        `${at}: field '${f}'[${k}] must be a finite number, got ${JSON.stringify(x)}`,
      );
    }
  });
  return v as number[];
}

/** A side's length: the stated one, checked against every token array of that side. */
function sideLength(
  at: string,
  r: Record<string, unknown>,
  side: "chosen" | "rejected",
  tokens: Partial<Record<TokenField, number[]>>,
): number {
  const f = `${side}_length`;
  const stated = f in r && r[f] !== undefined ? numberField(at, f, r[f]) : undefined;
  if (stated !== undefined && !(stated > 0)) {
    throw new InputError(`${at}: field '${f}' must be a positive token count, got ${stated}`);
  }
  let n = stated;
  for (const [tf_, arr] of Object.entries(tokens)) {
    if (TOKEN_FIELDS[tf_ as TokenField][0] !== side) continue;
    if (n === undefined) n = arr.length;
    else if (arr.length !== n) {
      throw new InputError(
        `${at}: field '${tf_}' has ${arr.length} entries, but ${
          stated !== undefined ? `'${f}' is ${stated}` : `other ${side} token fields have ${n}`
        }`,
      );
    }
  }
  if (n === undefined) {
    throw new InputError(`${at}: field '${f}' is missing (or give ${side} token arrays)`);
  }
  return n;
}

function validateRow(row: unknown, at: string, obj: Objective): Row {
  if (typeof row !== "object" || row === null || Array.isArray(row)) {
    throw new InputError(`${at}: expected an object`);
  }
  const r = row as Record<string, unknown>;
  const tokens: Partial<Record<TokenField, number[]>> = {};
  for (const f of Object.keys(TOKEN_FIELDS) as TokenField[]) {
    if (f in r && r[f] !== undefined) tokens[f] = tokenArray(at, f, r[f]);
  }
  const out: Record<string, unknown> = {
    chosen_length: sideLength(at, r, "chosen", tokens),
    rejected_length: sideLength(at, r, "rejected", tokens),
    tokens,
  };
  const wantRef = obj.needsReference;
  for (const [f, tf_] of SUMS) {
    const given = f in r && r[f] !== undefined ? numberField(at, f, r[f]) : undefined;
    const arr = tokens[tf_];
    const sum = arr?.reduce((a, b) => a + b, 0);
    if (
      given !== undefined && sum !== undefined &&
      Math.abs(given - sum) > 1e-6 * Math.max(1, Math.abs(sum))
    ) {
      throw new InputError(`${at}: field '${f}' is ${given} but '${tf_}' sums to ${sum}`);
    }
    const v = given ?? sum;
    const isRef = (REF as readonly string[]).includes(f);
    if (v === undefined) {
      if (!isRef || wantRef) {
        throw new InputError(
          `${at}: field '${f}' (or '${tf_}') is missing (objective ${obj.name} needs it)`,
        );
      }
      continue;
    }
    out[f] = v;
  }
  for (const f of ["kl_policy", "kl_ref"]) {
    if (f in r && r[f] !== undefined) out[f] = numberField(at, f, r[f]);
  }
  if (("kl_policy" in out) !== ("kl_ref" in out)) {
    throw new InputError(`${at}: fields 'kl_policy' and 'kl_ref' must be given together`);
  }
  if (obj.needsTokens) {
    const need: TokenField[] = ["policy_chosen_tokens", "policy_rejected_tokens"];
    if (wantRef) need.push("ref_chosen_tokens", "ref_rejected_tokens");
    for (const f of need) {
      if (!tokens[f]) {
        throw new InputError(
          `${at}: field '${f}' is missing (objective ${obj.name} reads per-token log-probs)`,
        );
      }
    }
  }
  return out as unknown as Row;
}

function validateRows(data: unknown, where: string, obj: Objective): Row[] {
  if (!Array.isArray(data)) throw new InputError(`${where}: expected a JSON array of rows`);
  return data.map((row, i) => validateRow(row, `${where} row[${i}]`, obj));
}

/** `[B, T]` tensors of one token field, zero-padded, and the side's mask. */
function tokenMatrix(rows: Row[], f: TokenField, width: number): tf.Tensor2D {
  return tf.tensor2d(
    rows.map((r) => {
      const v = r.tokens[f]!;
      return [...v, ...Array(width - v.length).fill(0)];
    }),
    [rows.length, width],
  );
}

function tokenScores(rows: Row[], where: string): TokenScores {
  const tw = Math.max(...rows.map((r) => r.chosen_length));
  const tl = Math.max(...rows.map((r) => r.rejected_length));
  const mask = (len: (r: Row) => number, t: number) =>
    tf.tensor2d(rows.map((r) => Array.from({ length: t }, (_, k) => (k < len(r) ? 1 : 0))));
  const out: TokenScores = {
    policyChosen: tokenMatrix(rows, "policy_chosen_tokens", tw),
    policyRejected: tokenMatrix(rows, "policy_rejected_tokens", tl),
    chosenMask: mask((r) => r.chosen_length, tw),
    rejectedMask: mask((r) => r.rejected_length, tl),
  };
  for (
    const [f, [side, key]] of Object.entries(TOKEN_FIELDS) as [
      TokenField,
      readonly [string, string],
    ][]
  ) {
    if (key === "policyChosen" || key === "policyRejected") continue;
    const have = rows.filter((r) => r.tokens[f]).length;
    if (have === 0) continue;
    if (have < rows.length) {
      throw new InputError(
        `${where}: field '${f}' must be given in every row of the batch or none`,
      );
    }
    (out as unknown as Record<string, tf.Tensor2D>)[key] = tokenMatrix(
      rows,
      f,
      side === "chosen" ? tw : tl,
    );
  }
  return out;
}

function toScores(rows: Row[], obj: Objective, where: string): SequenceScores {
  const col = (
    f:
      | "policy_chosen"
      | "policy_rejected"
      | "ref_chosen"
      | "ref_rejected"
      | "chosen_length"
      | "rejected_length"
      | "kl_policy"
      | "kl_ref",
  ) => tf.tensor1d(rows.map((r) => r[f] as number));
  const s: SequenceScores = {
    policyChosen: col("policy_chosen"),
    policyRejected: col("policy_rejected"),
    chosenLength: col("chosen_length"),
    rejectedLength: col("rejected_length"),
  };
  if (rows.every((r) => r.ref_chosen !== undefined && r.ref_rejected !== undefined)) {
    s.refChosen = col("ref_chosen");
    s.refRejected = col("ref_rejected");
  }
  if (rows.every((r) => r.kl_policy !== undefined)) {
    s.kl = { policy: col("kl_policy"), ref: col("kl_ref") };
  }
  if (obj.needsTokens) {
    try {
      s.tokens = tokenScores(rows, where);
    } catch (e) {
      disposeScores(s);
      throw e;
    }
  }
  return s;
}

function disposeScores(s: SequenceScores): void {
  const ts: tf.Tensor[] = [s.policyChosen, s.policyRejected, s.chosenLength, s.rejectedLength];
  if (s.refChosen) ts.push(s.refChosen);
  if (s.refRejected) ts.push(s.refRejected);
  if (s.kl) ts.push(s.kl.policy, s.kl.ref);
  if (s.tokens) ts.push(...(Object.values(s.tokens) as tf.Tensor[]));
  tf.dispose(ts);
}

/** A missing `scores.tokens.X` in an objective's error, said as the row field that fills it. */
function withRowField(msg: string): string {
  for (const [f, [, key]] of Object.entries(TOKEN_FIELDS)) {
    if (msg.includes(`scores.tokens.${key} `) || msg.endsWith(`scores.tokens.${key}`)) {
      return `${msg} (row field '${f}')`;
    }
  }
  return msg;
}

/**
 * Per-row g_w, g_l: with token data, the mean over a side's tokens of ∂loss/∂(token log-prob),
 * which counts both the sums' and the tokens' own paths; without, the sums' weights.
 */
function rowWeights(g: GradientWeights, rows: Row[]): { gW: number[]; gL: number[] } {
  if (!g.tokens) return { gW: g.gW, gL: g.gL };
  const mean = (v: number[], n: number) => v.slice(0, n).reduce((a, b) => a + b, 0) / n;
  return {
    gW: rows.map((r, i) => g.gW[i] + mean(g.tokens!.chosen[i], r.chosen_length)),
    gL: rows.map((r, i) => g.gL[i] + mean(g.tokens!.rejected[i], r.rejected_length)),
  };
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

/**
 * Params with `seed` set wherever the objective (or a part of `combine`) takes one; an explicit
 * `seed` in --params wins.
 */
function withSeed(
  name: string,
  params: Record<string, unknown>,
  seed: number,
): Record<string, unknown> {
  if (name.trim().toLowerCase() === "combine" && Array.isArray(params.parts)) {
    return {
      ...params,
      parts: params.parts.map((part) => {
        const p = part as { objective?: unknown; params?: Record<string, unknown> };
        return typeof p?.objective === "string"
          ? { ...p, params: withSeed(p.objective, p.params ?? {}, seed) }
          : part;
      }),
    };
  }
  const entry = findObjective(name);
  if (!entry || "seed" in params) return params;
  return "seed" in entry.create().params ? { ...params, seed } : params;
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
  const known = new Set(["objective", "params", "input", "batch", "seed"]);
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
  if (flags.seed !== undefined) {
    const seed = Number(flags.seed);
    if (!Number.isInteger(seed) || seed < 0 || String(flags.seed).trim() === "") {
      throw new UsageError(`--seed must be a non-negative integer, got '${flags.seed}'`);
    }
    params = withSeed(name, params, seed);
  }
  let make: () => Objective;
  try {
    createObjective(name, params);
    make = () => createObjective(name, params);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  const probe = make();
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
    const at = flags.batch ? "the batch" : `row[${gi}]`;
    const scores = toScores(group, obj, `input '${input}' ${at}`);
    try {
      const g = await gradientWeightsAsync(obj, scores);
      const w = rowWeights(g, group);
      g.losses.forEach((l, i) =>
        out.push(
          finiteRow(
            { loss: l, g_w: w.gW[i], g_l: w.gL[i] },
            flags.batch ? `row[${i}]: ` : "",
          ),
        )
      );
    } catch (e) {
      const msg = withRowField(e instanceof Error ? e.message : String(e));
      throw new InputError(`input '${input}' ${at}: ${msg}`);
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
