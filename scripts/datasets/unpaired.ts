/**
 * Writes `data/datasets/simple_unpaired/unpaired.jsonl`: unpaired (KTO) examples, half
 * desirable (a direct answer or a paraphrase of it) and half undesirable on their own, without
 * a reference answer: an unrelated sentence, a rude non-answer, or (for the advice and tool
 * questions, where the world fixes the answer) bad advice or a false claim. Deterministic from
 * the seed.
 *
 * Run: `deno run -A scripts/datasets/unpaired.ts [--seed 11] [--out PATH]`
 *
 * @module
 */
import { mulberry32, pick } from "../../lib/core/rng.ts";
import { SCENARIOS } from "./scenarios.ts";
import { scriptArgs, toJsonl } from "./jsonl.ts";

/** Seed and size of the shipped file. */
export const UNPAIRED_DEFAULTS = { seed: 11, count: 240 };

/** Replies that answer nothing. */
const UNHELPFUL = [
  "I do not know, and I do not care.",
  "That is not your business.",
  "Ask someone else, I am busy.",
  "Why would anyone want to know that?",
  "I will not answer that question.",
  "Stop asking me such silly things.",
  "Nobody knows, so do not ask.",
  "Go away and leave me alone.",
  "It does not matter at all.",
  "Find out for yourself.",
];

/** Scenarios whose contradiction is wrong in the world, not only against a reference. */
const WORLD_FACTS = new Set(["advice", "used"]);

/** One row of the dataset. */
export interface UnpairedRecord extends Record<string, unknown> {
  id: string;
  prompt: string;
  completion: string;
  label: boolean;
  kind: "answer" | "paraphrase" | "contradiction" | "unhelpful" | "different_topic";
  scenario: string;
}

/**
 * Generate the examples: labels alternate true/false, duplicates are redrawn.
 *
 * @example
 * ```ts
 * import { generateUnpaired } from "./unpaired.ts";
 * console.log(generateUnpaired({ seed: 1, count: 4 }).map((r) => r.label)); // [true, false, true, false]
 * ```
 */
export function generateUnpaired(opts: { seed: number; count: number }): UnpairedRecord[] {
  const u = mulberry32(opts.seed);
  const names = Object.keys(SCENARIOS);
  const seen = new Set<string>();
  const rows: UnpairedRecord[] = [];
  while (rows.length < opts.count) {
    const label = rows.length % 2 === 0;
    const inst = SCENARIOS[pick(names, u)](u);
    let kind: UnpairedRecord["kind"];
    let completion: string;
    if (label) {
      kind = u() < 0.5 ? "answer" : "paraphrase";
      completion = kind === "answer" ? inst.answer : pick(inst.paraphrases, u);
    } else {
      const kinds = WORLD_FACTS.has(inst.scenario)
        ? (["contradiction", "unhelpful", "different_topic"] as const)
        : (["unhelpful", "different_topic"] as const);
      kind = pick(kinds, u);
      const others = names.filter((n) => n !== inst.scenario);
      completion = kind === "contradiction"
        ? inst.contradiction
        : kind === "unhelpful"
        ? pick(UNHELPFUL, u)
        : SCENARIOS[pick(others, u)](u).answer;
    }
    const key = `${inst.question}|${completion}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      id: `kto-${String(rows.length).padStart(4, "0")}`,
      prompt: inst.question,
      completion: " " + completion,
      label,
      kind,
      scenario: inst.scenario,
    });
  }
  return rows;
}

if (import.meta.main) {
  const { seed, out } = scriptArgs(Deno.args, {
    seed: UNPAIRED_DEFAULTS.seed,
    out: "data/datasets/simple_unpaired/unpaired.jsonl",
  });
  const rows = generateUnpaired({ seed, count: UNPAIRED_DEFAULTS.count });
  await Deno.writeTextFile(out, toJsonl(rows));
  console.log(`${out}: ${rows.length} examples (seed ${seed})`);
}
