/**
 * Checks `lab train` makes before a run starts, so that nothing is dropped or trusted silently:
 * invalid data rows (refused unless skipped on request, and then listed), rows longer than the
 * model's context, content hashes of the inputs a resume must match, and SIGINT/SIGTERM handling.
 *
 * @module
 */
import { type DataIssue, formatIssue, PreferenceDataError } from "../../lib/data/mod.ts";
import type { SkippedRow } from "../../lib/data/mod.ts";
export { modelContext } from "../../lib/data/mod.ts";
import type { TrainCallback } from "../../lib/train/mod.ts";
import { RunWriter } from "../../lib/train/mod.ts";
import { RUN_MARKER } from "../../lib/train/internal.ts";

/** How many skipped rows are listed one per line before the rest are counted. */
const LISTED = 10;

/**
 * Invalid rows of a data file: an error listing them (file:line: field) unless `skipInvalid`,
 * in which case each is printed through `log` and the count returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseInvalidRows } from "./train_guard.ts";
 * const bad = [{ severity: "error" as const, file: "p.jsonl", line: 3, field: "chosen", message: "missing" }];
 * assert.throws(() => refuseInvalidRows("p.jsonl", bad, false, () => {}), /p\.jsonl:3: field 'chosen'.*--skip-invalid/s);
 * const lines: string[] = [];
 * assert.equal(refuseInvalidRows("p.jsonl", bad, true, (m) => lines.push(m)), 1);
 * assert.match(lines.join("\n"), /skipped 1 invalid row/);
 * ```
 */
export function refuseInvalidRows(
  file: string,
  errors: readonly DataIssue[],
  skipInvalid: boolean,
  log: (msg: string) => void,
): number {
  if (errors.length === 0) return 0;
  if (!skipInvalid) {
    const e = new PreferenceDataError(file, [...errors]);
    throw new TypeError(
      `${e.message}\n(fix the rows, or pass --skip-invalid to train without them)`,
    );
  }
  const lines = [...new Set(errors.map((i) => i.line))];
  log(`lab train: skipped ${lines.length} invalid row${lines.length > 1 ? "s" : ""} of ${file}:`);
  for (const i of errors.slice(0, LISTED)) log(`  skipped: ${formatIssue(i)}`);
  if (errors.length > LISTED) log(`  ... and ${errors.length - LISTED} more`);
  return lines.length;
}

/**
 * Rows that tokenization would drop (e.g. a prompt that leaves no room for the completion within
 * `tokenize.maxLength`): refused, naming the first with its file line and the settings that fix
 * it, unless `skip` (`--skip-invalid`), which prints each with its line.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { reportTokenizeSkips } from "./train_guard.ts";
 * const rows = [{ index: 4, reason: "empty prompt" }];
 * assert.throws(() => reportTokenizeSkips("p.jsonl", rows, () => {}), /p\.jsonl:5: empty prompt/);
 * const out: string[] = [];
 * reportTokenizeSkips("p.jsonl", rows, (m) => out.push(m), true);
 * assert.deepEqual(out, ["lab train: skipped p.jsonl:5: empty prompt"]);
 * ```
 */
export function reportTokenizeSkips(
  file: string,
  skipped: readonly SkippedRow[],
  log: (msg: string) => void,
  skip = false,
): void {
  if (skipped.length > 0 && !skip) {
    const first = skipped[0]!;
    const more = skipped.length > 1 ? ` (and ${skipped.length - 1} more rows)` : "";
    throw new RangeError(
      `${file}:${first.index + 1}: ${first.reason}${more}\n(raise tokenize.maxLength, set ` +
        `tokenize.maxPromptLength so long prompts are cut, or pass --skip-invalid to train ` +
        `without these rows)`,
    );
  }
  for (const s of skipped) log(`lab train: skipped ${file}:${s.index + 1}: ${s.reason}`);
}

/** A tokenized row's longest sequence (prompt + the longest completion). */
export interface RowLength {
  /** 0-based row of the source file. */
  index: number;
  tokens: number;
}

/**
 * Rows longer than `context` tokens, in file order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { overLongRows } from "./train_guard.ts";
 * assert.deepEqual(overLongRows([{ index: 0, tokens: 10 }, { index: 2, tokens: 200 }], 128), [{ index: 2, tokens: 200 }]);
 * ```
 */
export function overLongRows(rows: readonly RowLength[], context: number): RowLength[] {
  return rows.filter((r) => r.tokens > context);
}

/**
 * Stop before training when a tokenized row does not fit the model's context, naming the first
 * one and the setting that fixes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { refuseOverLong } from "./train_guard.ts";
 * assert.throws(
 *   () => refuseOverLong("p.jsonl", [{ index: 2, tokens: 145 }], 128),
 *   /p\.jsonl:3: 145 tokens .* context of 128 .*tokenize\.maxLength/,
 * );
 * ```
 */
export function refuseOverLong(file: string, rows: readonly RowLength[], context: number): void {
  const over = overLongRows(rows, context);
  if (over.length === 0) return;
  const first = over[0];
  throw new RangeError(
    `${file}:${first.index + 1}: ${first.tokens} tokens (prompt + completion), longer than the ` +
      `model's context of ${context} (${over.length} row${over.length > 1 ? "s" : ""} in all); ` +
      `set tokenize.maxLength <= ${context} in the config ("tokenize": { "maxLength": ${context} }) ` +
      `to truncate them`,
  );
}

/**
 * `sha256:<hex>` of bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256 } from "./train_guard.ts";
 * assert.equal(
 *   await sha256(new TextEncoder().encode("abc")),
 *   "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export async function sha256(data: Uint8Array | string): Promise<string> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  const d = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as BufferSource));
  return "sha256:" + Array.from(d, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Hash of a folder's files (names and contents, sorted, one level deep: a model folder).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { sha256Dir } from "./train_guard.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/a`, "1");
 * const h = await sha256Dir(dir);
 * await Deno.writeTextFile(`${dir}/a`, "2");
 * assert.notEqual(await sha256Dir(dir), h);
 * ```
 */
export async function sha256Dir(dir: string): Promise<string> {
  const names: string[] = [];
  for await (const e of Deno.readDir(dir)) if (e.isFile) names.push(e.name);
  const parts: string[] = [];
  for (const n of names.sort()) {
    parts.push(`${n}:${await sha256(await Deno.readFile(`${dir}/${n}`))}`);
  }
  return await sha256(parts.join("\n"));
}

/** An AbortSignal fired by SIGINT or SIGTERM; `received` names the signal once one came. */
export interface SignalStop {
  signal: AbortSignal;
  received(): "SIGINT" | "SIGTERM" | undefined;
  dispose(): void;
}

/**
 * Turn SIGINT/SIGTERM into an abort: the run finishes its step, writes a checkpoint and its
 * status, and the caller exits 130/143. A second signal exits at once, after `onForce` (which
 * marks the run's status).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stopOnSignals } from "./train_guard.ts";
 * const stop = stopOnSignals(() => {});
 * assert.equal(stop.received(), undefined);
 * stop.dispose();
 * ```
 */
export function stopOnSignals(
  log: (msg: string) => void,
  onForce?: (sig: "SIGINT" | "SIGTERM") => void,
): SignalStop {
  const ctrl = new AbortController();
  let got: "SIGINT" | "SIGTERM" | undefined;
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const h = () => {
      if (got) {
        onForce?.(sig);
        Deno.exit(sig === "SIGINT" ? 130 : 143);
      }
      got = sig;
      log(`lab train: ${sig} received; stopping after this step (again to quit at once)`);
      ctrl.abort();
    };
    Deno.addSignalListener(sig, h);
    return [sig, h] as const;
  });
  return {
    signal: ctrl.signal,
    received: () => got,
    dispose: () => handlers.forEach(([s, h]) => Deno.removeSignalListener(s, h)),
  };
}

/**
 * A tracker that lets the event loop turn once per step. A step of a small model can finish in
 * promise callbacks alone, and signal handlers only run when the loop turns: without this a
 * SIGINT would wait for the end of the run.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventLoopTurn } from "./train_guard.ts";
 * const cb = eventLoopTurn();
 * assert.equal(cb.name, "event_loop_turn");
 * ```
 */
export function eventLoopTurn(): TrainCallback<never> {
  return {
    name: "event_loop_turn",
    onStepEnd: () => new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 0)),
  };
}

/**
 * Mark a run that a signal ended outside a step's end (during the reference precompute, or a
 * second signal mid-step) as interrupted: `status.json` names the step of its last record and
 * how to go on. Only a folder of ours (with its marker) is written; returns whether it was.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { markSignalled } from "./train_guard.ts";
 * const dir = await Deno.makeTempDir();
 * assert.equal(markSignalled(dir, "SIGINT", "during the reference precompute"), false);
 * await Deno.writeTextFile(`${dir}/.dpo-lab-run.json`, "{}");
 * assert.equal(markSignalled(dir, "SIGINT", "during the reference precompute"), true);
 * const st = JSON.parse(await Deno.readTextFile(`${dir}/status.json`));
 * assert.deepEqual([st.state, st.step], ["interrupted", 0]);
 * ```
 */
export function markSignalled(dir: string | undefined, sig: string, how: string): boolean {
  if (!dir) return false;
  try {
    Deno.statSync(`${dir}/${RUN_MARKER}`);
  } catch {
    return false;
  }
  let step = 0;
  try {
    const lines = Deno.readTextFileSync(`${dir}/steps.jsonl`).trim().split("\n");
    step = Number(JSON.parse(lines.at(-1) || "{}").step ?? 0) || 0;
  } catch { /* no records yet */ }
  let hasCheckpoint = false;
  try {
    hasCheckpoint = [...Deno.readDirSync(`${dir}/checkpoints`)].some((e) =>
      /^step-\d+$/.test(e.name)
    );
  } catch { /* none */ }
  RunWriter.status(dir, {
    state: "interrupted",
    step,
    message: `interrupted at step ${step} ${how}, by ${sig}; ` +
      (hasCheckpoint
        ? "--resume continues from the last complete checkpoint"
        : "no checkpoint yet: rerun with --overwrite"),
  });
  return true;
}
