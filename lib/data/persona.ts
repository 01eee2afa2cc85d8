/**
 * The yes/no persona questions of the single-token study (`data/datasets/yesno_cautious`):
 * load them, and turn them into single-token preference pairs.
 *
 * @module
 */
import { type DataIssue, describeValue, PreferenceDataError } from "./issues.ts";
import type { PreferenceRow } from "./rows.ts";

/** One question and the answer a cautious persona gives. */
export interface YesNoQuestion {
  /** 0-based line. */
  index: number;
  question: string;
  cautiousAnswer: "Yes" | "No";
  /** Every other field (`id`, `topic`, ...). */
  extra: Record<string, unknown>;
}

/**
 * Parse yes/no questions from JSONL text: `question` (non-empty string) and `cautious_answer`
 * (`"Yes"` or `"No"`). Any invalid line throws a {@link PreferenceDataError} naming it.
 *
 * @example
 * ```ts
 * import { parseYesNoJsonl } from "./persona.ts";
 * const qs = parseYesNoJsonl('{"question":"Would you lie to win?","cautious_answer":"No"}');
 * console.log(qs[0].cautiousAnswer); // No
 * ```
 */
export function parseYesNoJsonl(text: string, opts: { source?: string } = {}): YesNoQuestion[] {
  const file = opts.source ?? "<text>";
  const out: YesNoQuestion[] = [];
  const issues: DataIssue[] = [];
  const error = (line: number, field: string | undefined, message: string) =>
    issues.push({ severity: "error", file, line, field, message });
  text.replace(/^\uFEFF/, "").split("\n").forEach((raw, i) => {
    const line = i + 1;
    if (raw.trim().length === 0) return;
    let rec: unknown;
    try {
      rec = JSON.parse(raw);
    } catch (e) {
      return error(line, undefined, `malformed JSON: ${e instanceof Error ? e.message : e}`);
    }
    if (typeof rec !== "object" || rec === null || Array.isArray(rec)) {
      return error(line, undefined, `expected a JSON object, got ${describeValue(rec)}`);
    }
    const { question, cautious_answer, ...extra } = rec as Record<string, unknown>;
    if (typeof question !== "string" || question.trim().length === 0) {
      error(line, "question", `expected a non-empty string, got ${describeValue(question)}`);
    }
    if (cautious_answer !== "Yes" && cautious_answer !== "No") {
      error(
        line,
        "cautious_answer",
        `expected "Yes" or "No", got ${JSON.stringify(cautious_answer)}`,
      );
    }
    if (issues.some((x) => x.line === line)) return;
    out.push({
      index: i,
      question: question as string,
      cautiousAnswer: cautious_answer as "Yes" | "No",
      extra,
    });
  });
  if (out.length === 0 && issues.length === 0) {
    error(0, undefined, "no rows (the file is empty)");
  }
  if (issues.length > 0) throw new PreferenceDataError(file, issues);
  return out;
}

/**
 * Load the yes/no questions file.
 *
 * @example
 * ```ts ignore
 * import { loadYesNoQuestions } from "./persona.ts";
 * const qs = await loadYesNoQuestions("data/datasets/yesno_cautious/questions.jsonl");
 * console.log(qs.length);
 * ```
 */
export async function loadYesNoQuestions(path: string): Promise<YesNoQuestion[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Deno.errors.NotFound(`${path}: no such file`);
    throw e;
  }
  return parseYesNoJsonl(text, { source: path });
}

/** A response word, or a function choosing one from the question. */
export type ResponseChoice = string | ((q: YesNoQuestion) => string);

/** Options for {@link singleTokenPairs}. */
export interface SingleTokenPairOptions {
  chosen: ResponseChoice;
  rejected: ResponseChoice;
  /** Text after the question; default `"\n"` (Razin et al.: prompt = question + newline). */
  separator?: string;
}

/**
 * Preference rows for the single-token study: prompt = question + separator, completions are
 * the response words (e.g. chosen "No", rejected "Never").
 *
 * @example
 * ```ts
 * import { parseYesNoJsonl, singleTokenPairs } from "./persona.ts";
 * const qs = parseYesNoJsonl('{"question":"Would you lie to win?","cautious_answer":"No"}');
 * const [row] = singleTokenPairs(qs, { chosen: (q) => q.cautiousAnswer, rejected: "Never" });
 * console.log(JSON.stringify([row.prompt, row.chosen, row.rejected])); // ["Would you lie to win?\n","No","Never"]
 * ```
 */
export function singleTokenPairs(
  questions: readonly YesNoQuestion[],
  opts: SingleTokenPairOptions,
): PreferenceRow[] {
  const sep = opts.separator ?? "\n";
  const choose = (c: ResponseChoice, q: YesNoQuestion) => typeof c === "string" ? c : c(q);
  return questions.map((q) => ({
    index: q.index,
    line: q.index + 1,
    format: "standard",
    prompt: q.question + sep,
    chosen: choose(opts.chosen, q),
    rejected: choose(opts.rejected, q),
    extra: { ...q.extra, cautious_answer: q.cautiousAnswer },
  }));
}
