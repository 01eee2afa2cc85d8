/**
 * `lab objectives eval`: one objective's loss and gradient weights g_w, g_l on JSON rows of
 * sequence (or per-token) scores; see `objectives.ts` for the row format.
 *
 * @module
 */
import { gradientWeightsAsync } from "../../lib/objectives/mod.ts";
import { createObjective, findObjective, OBJECTIVES } from "../../lib/objectives/mod.ts";
import type { GradientWeights } from "../../lib/objectives/mod.ts";
import type { Objective } from "../../lib/objectives/mod.ts";
import { InputError, UsageError } from "./objectives_errors.ts";
import { type Row, TOKEN_FIELDS, validateRows } from "./objectives_rows.ts";
import { disposeScores, toScores } from "./objectives_scores.ts";

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

/** The objective, parameters and input named by the flags, checked before any input is read. */
interface EvalRequest {
  name: string;
  input: string;
  make: () => Objective;
}

function evalRequest(flags: Record<string, string | true>): EvalRequest {
  const known = new Set(["objective", "params", "input", "batch", "seed"]);
  for (const k of Object.keys(flags)) {
    if (!known.has(k)) throw new UsageError(`unknown flag --${k}`);
  }
  const name = flags.objective;
  if (typeof name !== "string") throw new UsageError("eval needs --objective NAME");
  const input = flags.input;
  if (typeof input !== "string") throw new UsageError("eval needs --input FILE (or - for stdin)");
  let params = paramsFlag(flags);
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
  try {
    createObjective(name, params);
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message : String(e));
  }
  return { name, input, make: () => createObjective(name, params) };
}

/** `--params JSON` as an object (default `{}`). */
function paramsFlag(flags: Record<string, string | true>): Record<string, unknown> {
  if (flags.params === undefined) return {};
  let params: Record<string, unknown>;
  try {
    params = JSON.parse(String(flags.params));
  } catch (e) {
    throw new UsageError(`--params is not valid JSON: ${e instanceof Error ? e.message : e}`);
  }
  if (typeof params !== "object" || params === null || Array.isArray(params)) {
    throw new UsageError("--params must be a JSON object");
  }
  return params;
}

/** The input file's rows, parsed and checked for the objective. */
async function readRows(req: EvalRequest, probe: Objective): Promise<Row[]> {
  const { input } = req;
  const text = await readInput(input);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new InputError(
      `input '${input}' is not valid JSON: ${e instanceof Error ? e.message : e}`,
    );
  }
  return validateRows(data, `input '${input}'`, probe);
}

/** One batch's `{loss, g_w, g_l}` rows, appended to `out`; `at` names the batch in errors. */
async function evalGroup(
  req: EvalRequest,
  group: Row[],
  at: string,
  batch: boolean,
  out: Record<string, number>[],
): Promise<void> {
  const obj = req.make();
  const scores = toScores(group, obj, `input '${req.input}' ${at}`);
  try {
    const g = await gradientWeightsAsync(obj, scores);
    const w = rowWeights(g, group);
    g.losses.forEach((l, i) =>
      out.push(
        finiteRow(
          { loss: l, g_w: w.gW[i], g_l: w.gL[i] },
          batch ? `row[${i}]: ` : "",
        ),
      )
    );
  } catch (e) {
    const msg = withRowField(e instanceof Error ? e.message : String(e));
    throw new InputError(`input '${req.input}' ${at}: ${msg}`);
  } finally {
    disposeScores(scores);
  }
}

/**
 * `lab objectives eval` with the parsed `flags` (names without `--`): prints a JSON array of
 * `{loss, g_w, g_l}`, one per row, and returns 0; bad usage throws {@link UsageError}, bad input
 * {@link InputError}.
 *
 * @example
 * ```ts ignore
 * await evalCommand({ objective: "dpo", input: "rows.json" });
 * ```
 */
export async function evalCommand(flags: Record<string, string | true>): Promise<number> {
  const req = evalRequest(flags);
  const probe = req.make();
  const rows = await readRows(req, probe);
  const groups = flags.batch ? [rows] : rows.map((r) => [r]);
  const out: Record<string, number>[] = [];
  for (const [gi, group] of groups.entries()) {
    if (group.length === 0) continue;
    await evalGroup(req, group, flags.batch ? "the batch" : `row[${gi}]`, !!flags.batch, out);
  }
  console.log(JSON.stringify(out, null, 2));
  return 0;
}
