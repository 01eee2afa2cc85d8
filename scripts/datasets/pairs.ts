/**
 * Writes `data/datasets/simple_pairs/pairs.jsonl`: multi-token preference pairs in TRL's
 * standard format whose rejected answer ranges from a near-paraphrase of the chosen one to an
 * unrelated sentence, labelled by `kind`. Deterministic from the seed.
 *
 * Run: `deno run -A scripts/datasets/pairs.ts [--seed 7] [--out PATH]`
 *
 * @module
 */
import { mulberry32, pick } from "../../lib/core/rng.ts";
import { type Instance, SCENARIOS } from "./scenarios.ts";
import { scriptArgs, toJsonl } from "./jsonl.ts";

/** How the rejected answer relates to the chosen one. */
export const KINDS = [
  "paraphrase",
  "minor_edit",
  "contradiction",
  "different_topic",
  "length_change",
] as const;

/** Seed and size of the shipped file. */
export const PAIRS_DEFAULTS = { seed: 7, count: 600 };

/** One row of the dataset. */
export interface PairRecord extends Record<string, unknown> {
  id: string;
  prompt: string;
  chosen: string;
  rejected: string;
  kind: (typeof KINDS)[number];
  scenario: string;
  /** A paraphrase of `chosen` other than `rejected`, for probing. */
  chosen_paraphrase: string;
}

function rejectedFor(
  kind: (typeof KINDS)[number],
  inst: Instance,
  u: () => number,
): { rejected: string; probe: string } {
  const paras = inst.paraphrases;
  switch (kind) {
    case "paraphrase": {
      const j = Math.floor(u() * paras.length);
      return { rejected: paras[j], probe: paras[(j + 1) % paras.length] };
    }
    case "minor_edit":
      return { rejected: inst.minorEdit, probe: pick(paras, u) };
    case "contradiction":
      return { rejected: inst.contradiction, probe: pick(paras, u) };
    case "length_change":
      return { rejected: u() < 0.5 ? inst.longer : inst.shorter, probe: pick(paras, u) };
    case "different_topic": {
      const names = Object.keys(SCENARIOS).filter((n) => n !== inst.scenario);
      return { rejected: SCENARIOS[pick(names, u)](u).answer, probe: pick(paras, u) };
    }
  }
}

/**
 * Generate the pairs: kinds in equal shares, scenarios drawn at random, duplicates redrawn.
 *
 * @example
 * ```ts
 * import { generatePairs } from "./pairs.ts";
 * console.log(generatePairs({ seed: 1, count: 5 }).map((r) => r.kind));
 * ```
 */
export function generatePairs(opts: { seed: number; count: number }): PairRecord[] {
  const u = mulberry32(opts.seed);
  const names = Object.keys(SCENARIOS);
  const seen = new Set<string>();
  const rows: PairRecord[] = [];
  while (rows.length < opts.count) {
    const kind = KINDS[rows.length % KINDS.length];
    const inst = SCENARIOS[pick(names, u)](u);
    const { rejected, probe } = rejectedFor(kind, inst, u);
    const key = `${inst.question}|${inst.answer}|${rejected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    rows.push({
      id: `pair-${String(rows.length).padStart(4, "0")}`,
      prompt: inst.question,
      chosen: " " + inst.answer,
      rejected: " " + rejected,
      kind,
      scenario: inst.scenario,
      chosen_paraphrase: " " + probe,
    });
  }
  return rows;
}

if (import.meta.main) {
  const { seed, out } = scriptArgs(Deno.args, {
    seed: PAIRS_DEFAULTS.seed,
    out: "data/datasets/simple_pairs/pairs.jsonl",
  });
  const rows = generatePairs({ seed, count: PAIRS_DEFAULTS.count });
  await Deno.writeTextFile(out, toJsonl(rows));
  console.log(`${out}: ${rows.length} pairs (seed ${seed})`);
}
