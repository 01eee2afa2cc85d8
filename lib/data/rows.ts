/**
 * Validate one JSON record of a preference or unpaired file and bring it to a common shape.
 *
 * Accepted preference layouts (detected per row):
 * - `standard` (TRL): `prompt`, `chosen`, `rejected` strings.
 * - `conversational` (TRL): `prompt`, `chosen`, `rejected` lists of `{role, content}`; without
 *   `prompt`, the messages `chosen` and `rejected` share at the start become the prompt.
 * - `hh-rlhf` (Anthropic): `chosen`, `rejected` transcripts with `\n\nHuman:` /
 *   `\n\nAssistant:` turns; the prompt is the shared text up to and including the last
 *   `\n\nAssistant:` both share, the completions are what follows.
 * - `ultrafeedback` (binarized): `prompt` string, `chosen`/`rejected` message lists that repeat
 *   the user turn, optional `score_chosen`/`score_rejected`.
 *
 * Unpaired (KTO) rows: `prompt`, `completion` (both strings or both message lists), `label`.
 *
 * @module
 */
import { type DataIssue, describeValue } from "./issues.ts";

/** A chat message. */
export interface Message {
  role: string;
  content: string;
}

/** A prompt or completion: plain text, or a list of chat messages. */
export type Text = string | Message[];

/** Layout a preference row was written in. */
export type PreferenceFormat = "standard" | "conversational" | "hh-rlhf" | "ultrafeedback";

/** Layout an unpaired row was written in. */
export type UnpairedFormat = "unpaired" | "unpaired-conversational";

/**
 * A validated preference pair. `prompt`, `chosen` and `rejected` are either all strings or all
 * message lists (`prompt` = messages before the answer, completions = the answer messages).
 */
export interface PreferenceRow {
  /** 0-based line of the row in its source (line - 1). */
  index: number;
  /** 1-based line, for messages. */
  line: number;
  format: PreferenceFormat;
  prompt: Text;
  chosen: Text;
  rejected: Text;
  /** Every other field of the record (`kind`, `score_chosen`, ids...), untouched. */
  extra: Record<string, unknown>;
}

/** A validated unpaired (KTO) example: `label` true marks a desirable completion. */
export interface UnpairedRow {
  index: number;
  line: number;
  format: UnpairedFormat;
  prompt: Text;
  completion: Text;
  label: boolean;
  extra: Record<string, unknown>;
}

/** Where a record came from, for messages. */
export interface RecordSource {
  file: string;
  /** 1-based line. */
  line: number;
}

/** Result of checking one record: a row when it is usable, and what was found. */
export interface RecordCheck<R> {
  row?: R;
  issues: DataIssue[];
}

/** The turn marker that ends every HH-RLHF prompt. */
export const HH_ASSISTANT = "\n\nAssistant:";

const PAIR_FIELDS = new Set(["prompt", "chosen", "rejected"]);
const UNPAIRED_FIELDS = new Set(["prompt", "completion", "label"]);

class Collector {
  readonly issues: DataIssue[] = [];
  constructor(readonly src: RecordSource) {}
  error(field: string | undefined, message: string): void {
    this.issues.push({
      severity: "error",
      file: this.src.file,
      line: this.src.line,
      field,
      message,
    });
  }
  warn(field: string | undefined, message: string): void {
    this.issues.push({
      severity: "warning",
      file: this.src.file,
      line: this.src.line,
      field,
      message,
    });
  }
  get failed(): boolean {
    return this.issues.some((i) => i.severity === "error");
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function checkString(
  c: Collector,
  obj: Record<string, unknown>,
  field: string,
): string | undefined {
  const v = obj[field];
  if (typeof v === "string" && v.trim().length > 0) return v;
  c.error(field, `expected a non-empty string, got ${describeValue(v)}`);
  return undefined;
}

function checkMessages(c: Collector, value: unknown, field: string): Message[] | undefined {
  if (!Array.isArray(value) || value.length === 0) {
    c.error(
      field,
      `expected a non-empty list of {role, content} messages, got ${describeValue(value)}`,
    );
    return undefined;
  }
  const out: Message[] = [];
  let ok = true;
  value.forEach((m, i) => {
    const at = `${field}[${i}]`;
    if (!isObject(m)) {
      c.error(at, `expected a {role, content} message, got ${describeValue(m)}`);
      ok = false;
      return;
    }
    if (typeof m.role !== "string" || m.role.trim().length === 0) {
      c.error(`${at}.role`, `expected a non-empty string, got ${describeValue(m.role)}`);
      ok = false;
    }
    if (Array.isArray(m.content)) {
      c.error(
        `${at}.content`,
        "expected a non-empty string, got array (multimodal content parts are not supported)",
      );
      ok = false;
    } else if (typeof m.content !== "string" || m.content.trim().length === 0) {
      c.error(`${at}.content`, `expected a non-empty string, got ${describeValue(m.content)}`);
      ok = false;
    }
    if (ok) out.push({ role: m.role as string, content: m.content as string });
  });
  return ok ? out : undefined;
}

function sameMessage(a: Message, b: Message): boolean {
  return a.role === b.role && a.content === b.content;
}

/** Leading messages two conversations share, leaving at least one message in each. */
function sharedPrefix(a: Message[], b: Message[]): number {
  const max = Math.min(a.length, b.length) - 1;
  let k = 0;
  while (k < max && sameMessage(a[k], b[k])) k++;
  return k;
}

function sameText(a: Text, b: Text): boolean {
  return typeof a === "string" || typeof b === "string"
    ? a === b
    : JSON.stringify(a) === JSON.stringify(b);
}

function extraFields(obj: Record<string, unknown>, known: Set<string>): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (!known.has(k)) extra[k] = v;
  return extra;
}

/**
 * Split an HH-RLHF transcript pair into prompt and completions: the prompt is the text both
 * share up to and including the last shared `\n\nAssistant:` marker.
 *
 * @example
 * ```ts
 * import { splitHhPair } from "./rows.ts";
 * const s = splitHhPair("\n\nHuman: Hi?\n\nAssistant: Hello.", "\n\nHuman: Hi?\n\nAssistant: Go away.");
 * console.log(JSON.stringify(s)); // {"prompt":"\n\nHuman: Hi?\n\nAssistant:","chosen":" Hello.","rejected":" Go away."}
 * ```
 */
export function splitHhPair(
  chosen: string,
  rejected: string,
): { prompt: string; chosen: string; rejected: string } | undefined {
  let common = 0;
  const n = Math.min(chosen.length, rejected.length);
  while (common < n && chosen[common] === rejected[common]) common++;
  if (common < HH_ASSISTANT.length) return undefined;
  const at = chosen.lastIndexOf(HH_ASSISTANT, common - HH_ASSISTANT.length);
  if (at < 0) return undefined;
  const end = at + HH_ASSISTANT.length;
  return { prompt: chosen.slice(0, end), chosen: chosen.slice(end), rejected: rejected.slice(end) };
}

function detectFormat(obj: Record<string, unknown>): PreferenceFormat {
  const lists = Array.isArray(obj.chosen) || Array.isArray(obj.rejected) ||
    Array.isArray(obj.prompt);
  if (lists) return typeof obj.prompt === "string" ? "ultrafeedback" : "conversational";
  return "prompt" in obj ? "standard" : "hh-rlhf";
}

function checkScores(c: Collector, obj: Record<string, unknown>): void {
  for (const f of ["score_chosen", "score_rejected"]) {
    if (f in obj && !(typeof obj[f] === "number" && Number.isFinite(obj[f]))) {
      c.error(f, `expected a finite number, got ${describeValue(obj[f])}`);
    }
  }
  const sc = obj.score_chosen, sr = obj.score_rejected;
  if (typeof sc === "number" && typeof sr === "number" && sc < sr) {
    c.warn("score_chosen", `lower than 'score_rejected' (${sc} < ${sr})`);
  }
}

/**
 * Validate one preference record and normalise it to a {@link PreferenceRow}.
 *
 * @example
 * ```ts
 * import { checkPreferenceRecord } from "./rows.ts";
 * const bad = checkPreferenceRecord({ prompt: "Hi", chosen: 3, rejected: "No" }, { file: "f.jsonl", line: 4 });
 * console.log(bad.row, bad.issues[0].field); // undefined chosen
 * ```
 */
export function checkPreferenceRecord(
  record: unknown,
  src: RecordSource,
): RecordCheck<PreferenceRow> {
  const c = new Collector(src);
  if (!isObject(record)) {
    c.error(undefined, `expected a JSON object, got ${describeValue(record)}`);
    return { issues: c.issues };
  }
  if (!("chosen" in record) && !("rejected" in record) && "completion" in record) {
    c.error(
      undefined,
      "this is an unpaired (KTO) row ('prompt', 'completion', 'label'), not a preference pair; " +
        'check it with `lab data check --unpaired`, train on it with `"unpaired": true` in ' +
        "the config's data, or load it with loadUnpairedFile",
    );
    return { issues: c.issues };
  }
  const format = detectFormat(record);
  const base = { index: src.line - 1, line: src.line, extra: extraFields(record, PAIR_FIELDS) };
  let row: PreferenceRow | undefined;
  if (format === "standard") {
    const prompt = checkString(c, record, "prompt");
    const chosen = checkString(c, record, "chosen");
    const rejected = checkString(c, record, "rejected");
    if (prompt !== undefined && chosen !== undefined && rejected !== undefined) {
      row = { ...base, format, prompt, chosen, rejected };
    }
  } else if (format === "hh-rlhf") {
    row = checkHh(c, record, base);
  } else {
    row = checkConversation(c, record, format, base);
  }
  if (format === "ultrafeedback" || "score_chosen" in record || "score_rejected" in record) {
    checkScores(c, record);
  }
  if (c.failed) return { issues: c.issues };
  if (row && sameText(row.chosen, row.rejected)) c.warn("rejected", "identical to 'chosen'");
  return { row, issues: c.issues };
}

type RowBase = Pick<PreferenceRow, "index" | "line" | "extra">;

function checkHh(
  c: Collector,
  obj: Record<string, unknown>,
  base: RowBase,
): PreferenceRow | undefined {
  const chosen = checkString(c, obj, "chosen");
  const rejected = checkString(c, obj, "rejected");
  if (chosen === undefined || rejected === undefined) return undefined;
  if (!chosen.includes(HH_ASSISTANT) || !rejected.includes(HH_ASSISTANT)) {
    c.error(
      "prompt",
      "missing, and 'chosen'/'rejected' are not HH-RLHF transcripts " +
        "(no '\\n\\nAssistant:' turn) from which a prompt could be split",
    );
    return undefined;
  }
  const split = splitHhPair(chosen, rejected);
  if (!split) {
    c.error(
      "chosen",
      "shares no '\\n\\nAssistant:' turn with 'rejected', so no prompt can be split",
    );
    return undefined;
  }
  for (const f of ["chosen", "rejected"] as const) {
    if (split[f].trim().length === 0) {
      c.error(f, "empty answer after the last shared Assistant turn");
    }
  }
  if (c.failed) return undefined;
  return { ...base, format: "hh-rlhf", ...split };
}

function checkConversation(
  c: Collector,
  obj: Record<string, unknown>,
  format: "conversational" | "ultrafeedback",
  base: RowBase,
): PreferenceRow | undefined {
  const prompt = format === "ultrafeedback"
    ? checkString(c, obj, "prompt")
    : "prompt" in obj
    ? checkMessages(c, obj.prompt, "prompt")
    : undefined;
  let chosen = checkMessages(c, obj.chosen, "chosen");
  let rejected = checkMessages(c, obj.rejected, "rejected");
  if (c.failed || !chosen || !rejected) return undefined;
  if (Array.isArray(prompt)) return { ...base, format, prompt, chosen, rejected };
  // The prompt is whatever the two conversations share at the start.
  const k = sharedPrefix(chosen, rejected);
  let promptMessages = chosen.slice(0, k);
  chosen = chosen.slice(k);
  rejected = rejected.slice(k);
  if (format === "ultrafeedback") {
    if (k === 0) promptMessages = [{ role: "user", content: prompt as string }];
    else if (
      !promptMessages.some((m) => m.role === "user" && m.content.trim() === prompt!.trim())
    ) {
      c.warn("prompt", "differs from every user turn that 'chosen' and 'rejected' share");
    }
  } else if (k === 0) {
    c.error("prompt", "missing, and 'chosen' and 'rejected' share no leading messages");
    return undefined;
  }
  return { ...base, format, prompt: promptMessages, chosen, rejected };
}

/**
 * Validate one unpaired (KTO) record: `prompt`, `completion` and a boolean `label`.
 *
 * @example
 * ```ts
 * import { checkUnpairedRecord } from "./rows.ts";
 * const r = checkUnpairedRecord({ prompt: "Hi", completion: "Hello.", label: "yes" }, { file: "k.jsonl", line: 1 });
 * console.log(r.issues[0].message); // expected a boolean (true = desirable), got string
 * ```
 */
export function checkUnpairedRecord(
  record: unknown,
  src: RecordSource,
): RecordCheck<UnpairedRow> {
  const c = new Collector(src);
  if (!isObject(record)) {
    c.error(undefined, `expected a JSON object, got ${describeValue(record)}`);
    return { issues: c.issues };
  }
  if ("chosen" in record || "rejected" in record) {
    c.error(
      undefined,
      "this is a preference pair ('chosen', 'rejected'), not an unpaired row; " +
        "load it with loadPreferenceFile",
    );
    return { issues: c.issues };
  }
  const conversational = Array.isArray(record.prompt) || Array.isArray(record.completion);
  let prompt: Text | undefined, completion: Text | undefined;
  if (conversational) {
    prompt = checkMessages(c, record.prompt, "prompt");
    completion = checkMessages(c, record.completion, "completion");
  } else {
    prompt = checkString(c, record, "prompt");
    completion = checkString(c, record, "completion");
  }
  const label = record.label;
  if (typeof label !== "boolean") {
    c.error("label", `expected a boolean (true = desirable), got ${describeValue(label)}`);
  }
  if (c.failed) return { issues: c.issues };
  return {
    row: {
      index: src.line - 1,
      line: src.line,
      format: conversational ? "unpaired-conversational" : "unpaired",
      prompt: prompt!,
      completion: completion!,
      label: label as boolean,
      extra: extraFields(record, UNPAIRED_FIELDS),
    },
    issues: c.issues,
  };
}
