/**
 * Problems found in data files, reported as `file:line: field 'x': what was wrong`.
 *
 * @module
 */

/** One problem with one row of a data file. Errors make the row unusable; warnings do not. */
export interface DataIssue {
  severity: "error" | "warning";
  /** File (or source label) the row came from. */
  file: string;
  /** 1-based line of the row; 0 when the issue concerns the whole file. */
  line: number;
  /** Field path such as `chosen` or `chosen[1].content`, when one field is at fault. */
  field?: string;
  message: string;
}

/**
 * Render an issue the way compilers do, so editors can jump to it.
 *
 * @example
 * ```ts
 * import { formatIssue } from "./issues.ts";
 * const s = formatIssue({ severity: "error", file: "a.jsonl", line: 3, field: "chosen",
 *   message: "expected a non-empty string, got number" });
 * console.log(s); // a.jsonl:3: field 'chosen': expected a non-empty string, got number
 * ```
 */
export function formatIssue(issue: DataIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  const field = issue.field ? ` field '${issue.field}':` : "";
  return `${where}:${field} ${issue.message}`;
}

/**
 * Name the JSON type of a value for messages ("number", "null", "array", "empty string"...).
 *
 * @example
 * ```ts
 * import { describeValue } from "./issues.ts";
 * console.log(describeValue([]), describeValue(""), describeValue(3)); // array empty string number
 * ```
 */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing (field missing)";
  if (Array.isArray(value)) return value.length === 0 ? "empty array" : "array";
  if (typeof value === "string") {
    if (value.length === 0) return "empty string";
    if (value.trim().length === 0) return "blank string";
    return "string";
  }
  return typeof value;
}

/** How many issue lines an error message lists before it summarises the rest. */
const LISTED = 20;

/**
 * Thrown when a data file has invalid rows and the caller asked for strict loading. Carries
 * every issue; the message lists the first ones, one per line.
 *
 * @example
 * ```ts
 * import { PreferenceDataError } from "./issues.ts";
 * const e = new PreferenceDataError("a.jsonl", [{ severity: "error", file: "a.jsonl",
 *   line: 2, message: "malformed JSON" }]);
 * console.log(e.message); // a.jsonl:2: malformed JSON
 * ```
 */
export class PreferenceDataError extends TypeError {
  /** Every error found (warnings excluded). */
  readonly issues: DataIssue[];

  constructor(file: string, issues: DataIssue[]) {
    const lines = issues.slice(0, LISTED).map(formatIssue);
    const more = issues.length > LISTED ? [`... and ${issues.length - LISTED} more`] : [];
    const head = issues.length === 1
      ? lines[0]
      : `${file}: ${issues.length} invalid rows\n  ${[...lines, ...more].join("\n  ")}`;
    super(head);
    this.name = "PreferenceDataError";
    this.issues = issues;
  }
}
