/**
 * Build probe rows from preference pairs: the responses whose probability a tracker follows
 * during training besides chosen and rejected (paraphrases shipped with the data, other prompts'
 * answers). Tokenize them with `tokenizeProbes` and collate with `collateProbes`.
 *
 * @module
 */
import type { PreferenceRow, Text } from "./rows.ts";
import type { ProbeRow } from "./tokenize.ts";
import { mulberry32 } from "../core/rng.ts";

/** Options for {@link probeRowsFromPairs}. */
export interface ProbeRowOptions {
  /** Include the pair's own chosen and rejected (as `chosen`, `rejected`). Default true. */
  ownPair?: boolean;
  /** Extra fields of each row that hold responses (e.g. `chosen_paraphrase`). Default none. */
  fields?: readonly string[];
  /** How many chosen answers of other prompts to add (`other_0`, ...). Default 0. */
  otherAnswers?: number;
  /** Seed for picking other prompts' answers. Default 0. */
  seed?: number;
}

function samePrompt(a: Text, b: Text): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * One probe row per pair. A named field that a row lacks (or that is not text of the row's
 * kind) is left out for that row; other answers come from rows with a different prompt.
 *
 * @example
 * ```ts
 * import { preferenceRows } from "./load.ts";
 * import { probeRowsFromPairs } from "./probes.ts";
 * const { rows } = preferenceRows([
 *   { prompt: "Q1", chosen: "A1", rejected: "B1", chosen_paraphrase: "A1'" },
 *   { prompt: "Q2", chosen: "A2", rejected: "B2" },
 * ]);
 * const [p] = probeRowsFromPairs(rows, { fields: ["chosen_paraphrase"], otherAnswers: 1 });
 * console.log(p.responses.map((r) => `${r.name}=${r.text}`).join(" "));
 * // chosen=A1 rejected=B1 chosen_paraphrase=A1' other_0=A2
 * ```
 */
export function probeRowsFromPairs(
  rows: readonly PreferenceRow[],
  opts: ProbeRowOptions = {},
): ProbeRow[] {
  const others = opts.otherAnswers ?? 0;
  if (!Number.isInteger(others) || others < 0) {
    throw new RangeError(`otherAnswers: expected a non-negative integer, got ${others}`);
  }
  const u = mulberry32(opts.seed ?? 0);
  return rows.map((row) => {
    const kindOf = (t: unknown) =>
      typeof t === "string" ? "string" : Array.isArray(t) ? "list" : "";
    const kind = kindOf(row.prompt);
    const responses: { name: string; text: Text }[] = [];
    if (opts.ownPair ?? true) {
      responses.push({ name: "chosen", text: row.chosen }, {
        name: "rejected",
        text: row.rejected,
      });
    }
    for (const f of opts.fields ?? []) {
      const v = row.extra[f];
      if (kindOf(v) === kind) responses.push({ name: f, text: v as Text });
    }
    const pool = rows.filter((r) => !samePrompt(r.prompt, row.prompt) && kindOf(r.chosen) === kind);
    for (let k = 0; k < others && pool.length > 0; k++) {
      const pickIt = pool.splice(Math.floor(u() * pool.length), 1)[0];
      responses.push({ name: `other_${k}`, text: pickIt.chosen });
    }
    return { index: row.index, prompt: row.prompt, responses };
  });
}
