/**
 * A mean-over-seeds curve with its 95% t-interval as thin dotted lines, the band the seed
 * studies draw for every method.
 *
 * @module
 */
import type { Series } from "../plot/generic.ts";
import { meanCI } from "./stats.ts";

/**
 * Three series for {@link lineFigure}: the mean over seeds at each step (`name`), and the lower
 * and upper ends of its 95% t-interval (`name lo`, `name hi`, dotted, width 1, out of the legend
 * and toggled with the mean's entry). `perSeed[s][i]` is seed s's value at `steps[i]`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { seedBand } from "./seed_band.ts";
 * // Values 1..5 at one step: mean 3, sd √2.5, t(0.975, 4) = 2.776 → half-width 1.963.
 * const [mean, lo, hi] = seedBand("DPO", [0], [[1], [2], [3], [4], [5]], "#1f77b4");
 * assert.equal(mean.y[0], 3);
 * assert.ok(Math.abs(hi.y[0] - 3 - 2.776 * Math.sqrt(2.5 / 5)) < 1e-3);
 * assert.equal(lo.name, "DPO lo");
 * assert.equal(hi.dash, "dot");
 * assert.equal(hi.hideInLegend, true);
 * ```
 */
export function seedBand(
  name: string,
  steps: readonly number[],
  perSeed: readonly (readonly number[])[],
  color?: string,
): Series[] {
  const x = [...steps];
  const cis = x.map((_, i) => meanCI(perSeed.map((s) => s[i]), 0.95, "seeds"));
  const end = (which: "lo" | "hi"): Series => ({
    x,
    y: cis.map((c) => c[which]),
    name: `${name} ${which}`,
    color,
    dash: "dot",
    width: 1,
    group: name,
    hideInLegend: true,
  });
  return [{ x, y: cis.map((c) => c.mean), name, color, group: name }, end("lo"), end("hi")];
}
