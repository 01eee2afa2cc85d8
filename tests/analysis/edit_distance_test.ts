/**
 * Token edit distance: hand-counted cases, the metric's axioms, and an independent
 * brute-force check (breadth-first search over single edits) on random short sequences.
 */
import assert from "node:assert/strict";
import { editDistance, normalizedEditDistance } from "../../lib/analysis/edit_distance.ts";

Deno.test("editDistance: hand-counted cases", () => {
  assert.equal(editDistance([], []), 0);
  assert.equal(editDistance([1, 2, 3], []), 3);
  assert.equal(editDistance([], [4, 5]), 2);
  assert.equal(editDistance([1, 2, 3], [1, 2, 3]), 0);
  assert.equal(editDistance([1, 2, 3], [1, 9, 3]), 1); // one substitution
  assert.equal(editDistance([1, 2, 3], [1, 3]), 1); // one deletion
  assert.equal(editDistance([1, 3], [1, 2, 3]), 1); // one insertion
  assert.equal(editDistance([1, 2], [2, 1]), 2); // a swap is two edits
  assert.equal(editDistance("kitten", "sitting"), 3);
  assert.equal(editDistance("flaw", "lawn"), 2);
  assert.equal(editDistance(["the", "cat", "sat"], ["a", "cat", "sat", "down"]), 2);
});

/** Shortest number of single edits over the alphabet of both sequences, by BFS. */
function bruteForce(a: number[], b: number[]): number {
  const alphabet = [...new Set([...a, ...b])];
  const key = (s: number[]) => s.join(",");
  const target = key(b);
  let frontier = [a];
  const seen = new Set([key(a)]);
  for (let d = 0;; d++) {
    if (frontier.some((s) => key(s) === target)) return d;
    const next: number[][] = [];
    const push = (s: number[]) => {
      const k = key(s);
      if (!seen.has(k) && s.length <= Math.max(a.length, b.length)) {
        seen.add(k);
        next.push(s);
      }
    };
    for (const s of frontier) {
      for (let i = 0; i < s.length; i++) {
        push([...s.slice(0, i), ...s.slice(i + 1)]);
        for (const c of alphabet) push([...s.slice(0, i), c, ...s.slice(i + 1)]);
      }
      for (let i = 0; i <= s.length; i++) {
        for (const c of alphabet) push([...s.slice(0, i), c, ...s.slice(i)]);
      }
    }
    frontier = next;
  }
}

Deno.test("editDistance equals a brute-force search and is a metric", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return (seed >>> 16) % n;
  };
  const seq = () => Array.from({ length: rand(5) }, () => rand(3));
  for (let trial = 0; trial < 60; trial++) {
    const a = seq(), b = seq(), c = seq();
    const ab = editDistance(a, b);
    assert.equal(ab, bruteForce(a, b), `${a} -> ${b}`);
    assert.equal(ab, editDistance(b, a), "symmetric");
    assert.ok(ab >= Math.abs(a.length - b.length) && ab <= Math.max(a.length, b.length));
    assert.ok(editDistance(a, c) <= ab + editDistance(b, c), "triangle inequality");
  }
});

Deno.test("normalizedEditDistance divides by the longer length", () => {
  assert.equal(normalizedEditDistance([], []), 0);
  assert.equal(normalizedEditDistance([1, 2, 3, 4], [1, 3, 4, 5]), 0.5);
  assert.equal(normalizedEditDistance([7, 8], [9]), 1);
  assert.equal(normalizedEditDistance([5, 6, 7, 0], [5, 6, 7, 8, 0]), 1 / 5);
  assert.equal(normalizedEditDistance(Int32Array.of(1, 2), Int32Array.of(1, 2)), 0);
});
