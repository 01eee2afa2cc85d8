/**
 * Load preference and unpaired JSONL files: one JSON object per line, blank lines ignored.
 * Every problem is reported as `file:line: field 'x': ...`. By default invalid rows are dropped,
 * counted in `skipped` and listed in `errors`, so one bad line does not stop a study; a file
 * with no valid row at all throws a {@link PreferenceDataError} listing every problem, and so
 * does any invalid row under `onError: "throw"`.
 *
 * @module
 */
import { type DataIssue, PreferenceDataError } from "./issues.ts";
import {
  checkPreferenceRecord,
  checkUnpairedRecord,
  type PreferenceFormat,
  type PreferenceRow,
  type RecordCheck,
  type RecordSource,
  type UnpairedFormat,
  type UnpairedRow,
} from "./rows.ts";

/** Options for the loaders. */
export interface LoadOptions {
  /**
   * `"skip"` (default): invalid rows are dropped, counted and listed in `errors`; only a file
   * without any valid row throws. `"throw"`: any invalid row throws.
   */
  onError?: "throw" | "skip";
  /** Name used in messages instead of the path (for in-memory data). */
  source?: string;
}

/** What a loader found. */
export interface LoadResult<R, F extends string> {
  /** The valid rows, in file order. */
  rows: R[];
  /** Layout of the rows: one format, `"mixed"`, or `"empty"` when no row is valid. */
  format: F | "mixed" | "empty";
  /** Number of valid rows of each format. */
  formats: Partial<Record<F, number>>;
  /** Problems that do not make a row invalid (chosen identical to rejected, ...). */
  warnings: DataIssue[];
  /** Problems that made rows invalid (those rows are not in `rows`). */
  errors: DataIssue[];
  /** Number of non-blank lines dropped because they were invalid. */
  skipped: number;
}

/** Preference rows loaded from a file. */
export type PreferenceLoad = LoadResult<PreferenceRow, PreferenceFormat>;
/** Unpaired rows loaded from a file. */
export type UnpairedLoad = LoadResult<UnpairedRow, UnpairedFormat>;

type Checker<R> = (record: unknown, src: RecordSource) => RecordCheck<R>;

/** Parse JSONL text into records with their 1-based line numbers; bad JSON becomes an issue. */
function parseLines(
  text: string,
  file: string,
): { records: { line: number; value: unknown }[]; issues: DataIssue[] } {
  const records: { line: number; value: unknown }[] = [];
  const issues: DataIssue[] = [];
  const lines = text.replace(/^\uFEFF/, "").split("\n");
  lines.forEach((raw, i) => {
    const s = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (s.trim().length === 0) return;
    try {
      records.push({ line: i + 1, value: JSON.parse(s) });
    } catch (e) {
      // V8 reports "position N (line 1 column M)"; inside one line only the column matters.
      const why = (e instanceof Error ? e.message : String(e)).replace(
        / (?:in JSON )?at position (\d+)(?: \(line \d+ column \d+\))?/,
        (_, pos) => ` at column ${Number(pos) + 1}`,
      );
      issues.push({ severity: "error", file, line: i + 1, message: `malformed JSON: ${why}` });
    }
  });
  return { records, issues };
}

function collect<
  R extends { format: F; line: number; index: number; extra: unknown },
  F extends string,
>(
  records: { line: number; value: unknown }[],
  parseIssues: DataIssue[],
  file: string,
  check: Checker<R>,
  opts: LoadOptions,
): LoadResult<R, F> {
  const rows: R[] = [];
  const issues = [...parseIssues];
  for (const { line, value } of records) {
    const r = check(value, { file, line });
    issues.push(...r.issues);
    if (r.row) rows.push(r.row);
  }
  issues.push(...duplicateWarnings(rows, file));
  issues.sort((a, b) => a.line - b.line);
  const errors = issues.filter((i) => i.severity === "error");
  if (rows.length === 0 && errors.length === 0) {
    errors.push({ severity: "error", file, line: 0, message: "no rows (the file is empty)" });
  }
  const strict = (opts.onError ?? "skip") === "throw";
  if (errors.length > 0 && (strict || rows.length === 0)) {
    throw new PreferenceDataError(file, errors);
  }
  const formats: Partial<Record<F, number>> = {};
  for (const r of rows) formats[r.format] = (formats[r.format] ?? 0) + 1;
  const kinds = Object.keys(formats) as F[];
  const badLines = new Set(errors.filter((e) => e.line > 0).map((e) => e.line));
  return {
    rows,
    format: kinds.length === 0 ? "empty" : kinds.length === 1 ? kinds[0] : "mixed",
    formats,
    warnings: issues.filter((i) => i.severity === "warning"),
    errors,
    skipped: badLines.size,
  };
}

/**
 * A row whose content (prompt and responses, or prompt, completion and label) repeats an earlier
 * row's is kept but named: a duplicated pair weighs twice in training and can sit on both sides
 * of a train/eval split.
 */
function duplicateWarnings(
  rows: { line: number; index: number; format: string; extra: unknown }[],
  file: string,
): DataIssue[] {
  const seen = new Map<string, number>();
  const out: DataIssue[] = [];
  for (const r of rows) {
    const { line: _l, index: _i, format: _f, extra: _e, ...content } = r;
    const key = JSON.stringify(content);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, r.line);
    else {
      out.push({
        severity: "warning",
        file,
        line: r.line,
        message: `duplicate of line ${first} (same prompt and responses)`,
      });
    }
  }
  return out;
}

async function readText(path: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(`${path}: no such file`);
    if (e instanceof Deno.errors.IsADirectory) {
      throw new TypeError(`${path}: is a directory, expected a JSONL file`);
    }
    throw e;
  }
}

/**
 * Parse preference pairs from JSONL text (see `rows.ts` for the accepted layouts).
 *
 * @example
 * ```ts
 * import { parsePreferenceJsonl } from "./load.ts";
 * const text = '{"prompt":"Is it cold?","chosen":" Yes.","rejected":" No."}\n';
 * const { rows, format } = parsePreferenceJsonl(text, { source: "inline" });
 * console.log(rows.length, format); // 1 standard
 * ```
 */
export function parsePreferenceJsonl(text: string, opts: LoadOptions = {}): PreferenceLoad {
  const file = opts.source ?? "<text>";
  const { records, issues } = parseLines(text, file);
  return collect(records, issues, file, checkPreferenceRecord, opts);
}

/**
 * Validate in-memory preference records (row i is reported as line i+1).
 *
 * @example
 * ```ts
 * import { preferenceRows } from "./load.ts";
 * const { rows } = preferenceRows([{ prompt: "Q", chosen: "A", rejected: "B" }]);
 * console.log(rows[0].chosen); // A
 * ```
 */
export function preferenceRows(
  records: readonly unknown[],
  opts: LoadOptions = {},
): PreferenceLoad {
  const file = opts.source ?? "<records>";
  const lines = records.map((value, i) => ({ line: i + 1, value }));
  return collect(lines, [], file, checkPreferenceRecord, opts);
}

/**
 * Load a preference JSONL file: TRL standard or conversational, Anthropic HH-RLHF, or
 * UltraFeedback-binarized rows.
 *
 * @example
 * ```ts ignore
 * import { loadPreferenceFile } from "./load.ts";
 * const { rows, warnings, skipped, format } = await loadPreferenceFile(
 *   "data/datasets/simple_pairs/pairs.jsonl",
 * );
 * console.log(rows.length, format, warnings.length, skipped);
 * ```
 */
export async function loadPreferenceFile(
  path: string,
  opts: LoadOptions = {},
): Promise<PreferenceLoad> {
  return parsePreferenceJsonl(await readText(path), { ...opts, source: opts.source ?? path });
}

/**
 * Parse unpaired (KTO) rows from JSONL text.
 *
 * @example
 * ```ts
 * import { parseUnpairedJsonl } from "./load.ts";
 * const { rows } = parseUnpairedJsonl('{"prompt":"Q","completion":"A","label":true}');
 * console.log(rows[0].label); // true
 * ```
 */
export function parseUnpairedJsonl(text: string, opts: LoadOptions = {}): UnpairedLoad {
  const file = opts.source ?? "<text>";
  const { records, issues } = parseLines(text, file);
  return collect(records, issues, file, checkUnpairedRecord, opts);
}

/**
 * Validate in-memory unpaired records (row i is reported as line i+1).
 *
 * @example
 * ```ts
 * import { unpairedRows } from "./load.ts";
 * console.log(unpairedRows([{ prompt: "Q", completion: "A", label: false }]).rows.length); // 1
 * ```
 */
export function unpairedRows(records: readonly unknown[], opts: LoadOptions = {}): UnpairedLoad {
  const file = opts.source ?? "<records>";
  const lines = records.map((value, i) => ({ line: i + 1, value }));
  return collect(lines, [], file, checkUnpairedRecord, opts);
}

/**
 * Load an unpaired (KTO) JSONL file: `prompt`, `completion`, boolean `label`.
 *
 * @example
 * ```ts ignore
 * import { loadUnpairedFile } from "./load.ts";
 * const { rows } = await loadUnpairedFile("data/datasets/simple_unpaired/unpaired.jsonl");
 * console.log(rows.filter((r) => r.label).length);
 * ```
 */
export async function loadUnpairedFile(
  path: string,
  opts: LoadOptions = {},
): Promise<UnpairedLoad> {
  return parseUnpairedJsonl(await readText(path), { ...opts, source: opts.source ?? path });
}

/**
 * Turn each preference pair into two unpaired rows (chosen labelled true, rejected false), as
 * TRL's `unpair_preference_dataset` does, so KTO can run on pair data.
 *
 * @example
 * ```ts
 * import { preferenceRows, unpairPreferences } from "./load.ts";
 * const u = unpairPreferences(preferenceRows([{ prompt: "Q", chosen: "A", rejected: "B" }]).rows);
 * console.log(u.map((r) => `${r.completion}:${r.label}`).join(" ")); // A:true B:false
 * ```
 */
export function unpairPreferences(rows: readonly PreferenceRow[]): UnpairedRow[] {
  return rows.flatMap((r) => {
    const format: UnpairedFormat = typeof r.prompt === "string"
      ? "unpaired"
      : "unpaired-conversational";
    const base = { index: r.index, line: r.line, format, prompt: r.prompt, extra: r.extra };
    return [
      { ...base, completion: r.chosen, label: true },
      { ...base, completion: r.rejected, label: false },
    ];
  });
}
