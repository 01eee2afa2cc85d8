/**
 * Small statistics the figures annotate themselves with: average ranks (ties share the mean of
 * their positions), Pearson and Spearman correlation, exponential smoothing of curves.
 *
 * @module
 */

function checkPair(x: ArrayLike<number>, y: ArrayLike<number>, who: string): void {
  if (x.length !== y.length) {
    throw new RangeError(`${who}: x has ${x.length} values but y has ${y.length}`);
  }
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) {
      throw new RangeError(`${who}: non-finite value at index ${i} (x=${x[i]}, y=${y[i]})`);
    }
  }
}

/**
 * 1-based ranks, ties given the average of the positions they occupy.
 *
 * @example
 * ```ts
 * import { averageRanks } from "./stats.ts";
 * console.log(averageRanks([10, 20, 20, 5])); // [2, 3.5, 3.5, 1]
 * ```
 */
export function averageRanks(values: ArrayLike<number>): number[] {
  const idx = Array.from({ length: values.length }, (_, i) => i)
    .sort((a, b) => values[a] - values[b]);
  const ranks = new Array<number>(values.length);
  for (let i = 0; i < idx.length;) {
    let j = i;
    while (j + 1 < idx.length && values[idx[j + 1]] === values[idx[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]] = r;
    i = j + 1;
  }
  return ranks;
}

/**
 * Pearson's correlation coefficient; NaN when either input is constant or has < 2 values.
 *
 * @example
 * ```ts
 * import { pearsonCorrelation } from "./stats.ts";
 * console.log(pearsonCorrelation([1, 2, 3], [2, 4, 7]).toFixed(4)); // "0.9934"
 * ```
 */
export function pearsonCorrelation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, "pearsonCorrelation");
  const n = x.length;
  if (n < 2) return NaN;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) ** 2;
    syy += (y[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

/**
 * Spearman's rank correlation: Pearson's correlation of the average ranks (the tie-correct
 * definition; the `1 - 6 sum d^2 / (n (n^2 - 1))` shortcut is only exact without ties).
 *
 * @example
 * ```ts
 * import { spearmanCorrelation } from "./stats.ts";
 * console.log(spearmanCorrelation([1, 2, 3, 4], [1, 4, 9, 16])); // 1
 * ```
 */
export function spearmanCorrelation(x: ArrayLike<number>, y: ArrayLike<number>): number {
  checkPair(x, y, "spearmanCorrelation");
  return pearsonCorrelation(averageRanks(x), averageRanks(y));
}

/**
 * Exponential moving average with TensorBoard's debiasing, so early points are not pulled to 0:
 * `s_t = w s_{t-1} + (1 - w) y_t`, reported as `s_t / (1 - w^t)`. Non-finite values pass through
 * unsmoothed and do not disturb the average.
 *
 * @example
 * ```ts
 * import { smoothEma } from "./stats.ts";
 * console.log(smoothEma([1, 3], 0.5)); // [1, 2.333333333333333]
 * ```
 */
export function smoothEma(values: ArrayLike<number>, weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) {
    throw new RangeError(`smoothEma: weight must be in [0, 1), got ${weight}`);
  }
  const out: number[] = [];
  let acc = 0, count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out.push(v);
      continue;
    }
    count++;
    acc = weight * acc + (1 - weight) * v;
    out.push(acc / (1 - weight ** count));
  }
  return out;
}
