/**
 * A tiny matrix-product benchmark for set-up checks.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** One size's result. */
export interface MatmulResult {
  n: number;
  /** Median wall time of one n x n product, data read back included (ms). */
  medianMs: number;
  /** 2 n^3 / median time. */
  gflops: number;
}

/**
 * Times `n x n` float32 matrix products on the current backend. The first product of each size
 * is a warm-up (shader or kernel compilation) and is not counted.
 *
 * @example
 * ```ts
 * import { matmulBenchmark } from "./matmul_bench.ts";
 * import { initBackend } from "./backend.ts";
 * await initBackend({ backend: "cpu" });
 * const [r] = await matmulBenchmark({ sizes: [32], repeats: 2 });
 * console.log(r.n, r.medianMs);
 * ```
 */
export async function matmulBenchmark(
  opts: { sizes?: number[]; repeats?: number } = {},
): Promise<MatmulResult[]> {
  const sizes = opts.sizes ?? [64, 128, 256];
  const repeats = opts.repeats ?? 5;
  if (!Number.isInteger(repeats) || repeats < 1) {
    throw new RangeError(`matmulBenchmark: 'repeats' must be a positive integer, got ${repeats}`);
  }
  const out: MatmulResult[] = [];
  for (const n of sizes) {
    if (!Number.isInteger(n) || n < 1) {
      throw new RangeError(`matmulBenchmark: every size must be a positive integer, got ${n}`);
    }
    const a = tf.randomUniform([n, n], -1, 1, "float32", 1);
    const b = tf.randomUniform([n, n], -1, 1, "float32", 2);
    const times: number[] = [];
    for (let i = 0; i <= repeats; i++) {
      const t0 = performance.now();
      const c = tf.matMul(a, b);
      await c.data();
      c.dispose();
      if (i > 0) times.push(performance.now() - t0);
    }
    a.dispose();
    b.dispose();
    times.sort((x, y) => x - y);
    const mid = times.length >> 1;
    const medianMs = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
    out.push({ n, medianMs, gflops: (2 * n ** 3) / (medianMs * 1e6) });
  }
  return out;
}

/**
 * Median wall time of float32 products `[m, k] x [k, n]` on the current backend, after three
 * untimed ones; each timed product ends by reading back one element, so queued GPU work is
 * inside the time and the result is not copied out.
 *
 * @example
 * ```ts
 * import { productTimes } from "./matmul_bench.ts";
 * import { initBackend } from "./backend.ts";
 * await initBackend({ backend: "cpu" });
 * const [r] = await productTimes([[8, 4, 2]], 2);
 * console.log(r.shape, r.ms >= 0); // [8, 4, 2] true
 * ```
 */
export async function productTimes(
  shapes: readonly number[][],
  repeats: number,
): Promise<{ shape: number[]; ms: number }[]> {
  const out: { shape: number[]; ms: number }[] = [];
  for (const shape of shapes) {
    const [m, k, n] = shape;
    const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n]);
    const times: number[] = [];
    try {
      for (let i = 0; i < 3 + repeats; i++) {
        const t0 = performance.now();
        const y = tf.matMul(a, b);
        const first = tf.slice(y, [0, 0], [1, 1]);
        await first.data();
        tf.dispose([y, first]);
        if (i >= 3) times.push(performance.now() - t0);
      }
    } finally {
      tf.dispose([a, b]);
    }
    times.sort((x, y) => x - y);
    out.push({ shape: [...shape], ms: times[Math.floor(times.length / 2)] });
  }
  return out;
}
