/**
 * Narrow printed tables for notebook outputs: `console.table` adds an index column, quotes every
 * string and prints numbers in full, so a table of eight columns already wraps in a report. This
 * prints the cells bare, numbers to a few significant digits, and splits a table too wide for
 * `maxWidth` columns into parts that each repeat the first (key) column.
 *
 * @module
 */

/** Options of {@link formatTable} and {@link printTable}. */
export interface TableOptions {
  /** Widest line, characters (default 110). */
  maxWidth?: number;
  /** Significant digits of number cells (default 3). */
  digits?: number;
}

/** A number to `digits` significant digits; integers below 1e6 in full, NaN as "—". */
function formatNumber(v: number, digits: number): string {
  if (!Number.isFinite(v)) return Number.isNaN(v) ? "—" : v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const a = Math.abs(v);
  const s = a !== 0 && (a < 1e-3 || a >= 1e6)
    ? v.toExponential(digits - 1).replace("e+", "e")
    : String(Number(v.toPrecision(digits)));
  return s;
}

function cellText(v: unknown, digits: number): string {
  if (v === undefined || v === null) return "";
  if (typeof v === "number") return formatNumber(v, digits);
  return String(v).replaceAll("\n", " ");
}

/** Columns that fit `maxWidth` together with the key column, in order. */
function columnGroups(widths: number[], maxWidth: number): number[][] {
  const groups: number[][] = [];
  let cur: number[] = [], used = widths[0];
  for (let c = 1; c < widths.length; c++) {
    if (cur.length > 0 && used + 3 + widths[c] > maxWidth) {
      groups.push(cur);
      cur = [];
      used = widths[0];
    }
    cur.push(c);
    used += 3 + widths[c];
  }
  if (cur.length > 0 || groups.length === 0) groups.push(cur);
  return groups;
}

/**
 * The rows as a text table: one column per key (in first-seen order), strings bare, numbers to
 * `digits` significant digits and right-aligned, cells longer than the line allows cut with "…".
 * A table wider than `maxWidth` becomes several parts, each starting with the first column.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatTable } from "./table.ts";
 * const t = formatTable([{ name: "dpo", lr: 0.000123456 }, { name: "ipo", lr: 0.05 }]);
 * assert.equal(t, "name │      lr\n─────┼────────\ndpo  │ 1.23e-4\nipo  │    0.05");
 * ```
 */
export function formatTable(
  rows: readonly Record<string, unknown>[],
  opts: TableOptions = {},
): string {
  const maxWidth = opts.maxWidth ?? 110, digits = opts.digits ?? 3;
  if (!(maxWidth >= 20)) throw new RangeError(`formatTable: maxWidth ${maxWidth} is under 20`);
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (keys.length === 0) return "";
  const numeric = keys.map((k) => rows.every((r) => r[k] == null || typeof r[k] === "number"));
  const cap = Math.max(8, Math.floor(maxWidth / 2));
  const cells = [keys, ...rows.map((r) => keys.map((k) => cellText(r[k], digits)))].map((row) =>
    row.map((s) => (s.length > cap ? `${s.slice(0, cap - 1)}…` : s))
  );
  const widths = keys.map((_, c) => Math.max(...cells.map((row) => row[c].length)));
  const pad = (s: string, c: number) => numeric[c] ? s.padStart(widths[c]) : s.padEnd(widths[c]);
  return columnGroups(widths, maxWidth).map((group) => {
    const cols = [0, ...group];
    const line = (row: string[]) => cols.map((c) => pad(row[c], c)).join(" │ ").trimEnd();
    const rule = cols.map((c) => "─".repeat(widths[c])).join("─┼─");
    return [line(cells[0]), rule, ...cells.slice(1).map(line)].join("\n");
  }).join("\n\n");
}

/**
 * Print {@link formatTable}'s table (a narrower `console.table`).
 *
 * @example
 * ```ts
 * import { printTable } from "./table.ts";
 * printTable([{ objective: "dpo", "margin gain": 2.913 }, { objective: "ipo", "margin gain": 3.02 }]);
 * ```
 */
export function printTable(
  rows: readonly Record<string, unknown>[],
  opts: TableOptions = {},
): void {
  console.log(formatTable(rows, opts));
}

/**
 * Wrap every line longer than `width` at spaces, continuing under its own indent plus two
 * spaces, so long printed verdicts read as paragraphs instead of wrapping at the page edge. A
 * single word longer than the line stays whole.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { wrapText } from "./table.ts";
 * assert.equal(wrapText("    measured: 1.2 [0.9, 1.5] (95%)", 24), "    measured: 1.2 [0.9,\n      1.5] (95%)");
 * ```
 */
export function wrapText(text: string, width = 110): string {
  if (!(width >= 20)) throw new RangeError(`wrapText: width ${width} is under 20`);
  return text.split("\n").flatMap((line) => {
    if (line.length <= width) return [line];
    const lead = line.slice(0, line.length - line.trimStart().length), indent = `${lead}  `;
    const out: string[] = [];
    let cur = "";
    // Each word with the spaces before it, so runs of spaces inside a line (aligned columns) stay.
    for (const [, gap, word] of line.trimStart().matchAll(/( *)(\S+)/g)) {
      if (cur === "") cur = (out.length === 0 ? lead : indent) + word;
      else if (cur.length + gap.length + word.length <= width) cur += gap + word;
      else {
        out.push(cur);
        cur = indent + word;
      }
    }
    if (cur) out.push(cur);
    return out;
  }).join("\n");
}
