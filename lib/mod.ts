/**
 * dpo-lab: a research workbench for the training dynamics of Direct Preference Optimization
 * and its variants, on TensorFlow.js under Deno.
 *
 * Notebooks import only this module.
 *
 * @example Pick a backend and see what was chosen
 * ```ts
 * import { initBackend } from "./mod.ts";
 * const report = await initBackend({ backend: "cpu" });
 * console.log(report.name, report.adapter, report.hardware);
 * ```
 *
 * @module
 */
export * from "./backend.ts";
export * from "./notebook.ts";
export * from "./matmul_bench.ts";
export * from "./objectives/mod.ts";
export * from "./models/mod.ts";
export * from "./data/mod.ts";
export * from "./train/mod.ts";
export * from "./analysis/mod.ts";
export * from "./plot/mod.ts";
export * from "./study/mod.ts";
export * from "./core/mod.ts";
export * from "./scoring/mod.ts";
