/**
 * Reads a `deno test --doc` log on stdin and prints how many JSDoc examples that passed only
 * print their values (no `assert` call in the example's code): those cannot fail on a wrong
 * value, so scripts/test.sh does not count them as passed tests. A failing example (asserting or
 * not) still counts as a failure.
 *
 * Prints one line: `<print-only passed> <asserting passed>`.
 *
 * @example
 * ```sh
 * deno test -A --doc lib/ 2>&1 | deno run -A scripts/doc_counts.ts
 * ```
 *
 * @module
 */

/** An example's code asserts a value when it calls an assert function. */
export const ASSERTS = /\bassert(?:\.\w+|[A-Z]\w*)?\s*\(/;

/**
 * Count the passed examples of a log, split by whether their code asserts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countDocExamples } from "./doc_counts.ts";
 * const fence = "`".repeat(3);
 * const src = ["/**", fence, " * console.log(1);", fence, fence, " * assert.equal(1, 1);", fence];
 * const log = "file:///x.ts#2-4.ts ... ok (1ms)\nfile:///x.ts#5-7.ts ... ok (1ms)\n";
 * assert.deepEqual(countDocExamples(log, () => src), { printOnly: 1, asserting: 1 });
 * ```
 */
export function countDocExamples(
  log: string,
  readLines: (path: string) => string[],
): { printOnly: number; asserting: number } {
  const cache = new Map<string, string[]>();
  let printOnly = 0, asserting = 0;
  for (const m of log.matchAll(/^file:\/\/(\S+?)#(\d+)-(\d+)\.\w+ \.\.\. ok/gm)) {
    const [, path, a, b] = m;
    if (!cache.has(path)) cache.set(path, readLines(path));
    const code = cache.get(path)!.slice(Number(a) - 1, Number(b)).join("\n");
    if (ASSERTS.test(code)) asserting++;
    else printOnly++;
  }
  return { printOnly, asserting };
}

if (import.meta.main) {
  const log = await new Response(Deno.stdin.readable).text();
  const c = countDocExamples(log, (p) => Deno.readTextFileSync(decodeURIComponent(p)).split("\n"));
  console.log(`${c.printOnly} ${c.asserting}`);
}
