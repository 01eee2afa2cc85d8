/**
 * The context length of a model folder, for checking rows against it before a run.
 *
 * @module
 */
import type { TokenizedExample } from "./tokenize.ts";
import type { TokenizedPair } from "./types.ts";

/**
 * The context length of a Hugging Face model folder, from its `config.json` (`n_positions`,
 * `max_position_embeddings` or `n_ctx`), or undefined when it states none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { modelContext } from "./context.ts";
 * const dir = await Deno.makeTempDir();
 * await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify({ n_positions: 128 }));
 * assert.equal(await modelContext(dir), 128);
 * ```
 */
export async function modelContext(dir: string): Promise<number | undefined> {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await Deno.readTextFile(`${dir.replace(/\/$/, "")}/config.json`));
  } catch {
    return undefined;
  }
  for (const k of ["n_positions", "max_position_embeddings", "n_ctx"]) {
    if (typeof cfg[k] === "number" && cfg[k] > 0) return cfg[k] as number;
  }
  return undefined;
}

/**
 * Token length of each tokenized row (prompt + its longest completion), with its source row.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rowLengths } from "./context.ts";
 * assert.deepEqual(
 *   rowLengths([{ index: 3, promptIds: [1, 2], chosenIds: [3], rejectedIds: [4, 5, 6] }]),
 *   [{ index: 3, tokens: 5 }],
 * );
 * ```
 */
export function rowLengths(
  rows: readonly (TokenizedPair | TokenizedExample)[],
): { index: number; tokens: number }[] {
  return rows.map((r) => {
    const longest = "completionIds" in r
      ? r.completionIds.length
      : Math.max(r.chosenIds.length, r.rejectedIds.length);
    return { index: r.index, tokens: r.promptIds.length + longest };
  });
}
