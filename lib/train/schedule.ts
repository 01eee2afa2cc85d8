/**
 * Learning-rate schedules, with the same formulas as Hugging Face `transformers`
 * (`get_constant_schedule_with_warmup`, `get_linear_schedule_with_warmup`,
 * `get_cosine_schedule_with_warmup`), so a run here and a TRL run with the same settings log the
 * same `learning_rate` curve.
 *
 * @module
 */

/** A schedule: the shape of the multiplier applied to the base learning rate. */
export interface ScheduleSpec {
  /** `constant` (default), `linear` decay to 0, or half-period `cosine` decay. */
  kind?: "constant" | "linear" | "cosine";
  /** Steps of linear warm-up from 0 (default 0). Overrides `warmupRatio`. */
  warmupSteps?: number;
  /** Warm-up as a fraction of the total steps (rounded up, as Hugging Face does). */
  warmupRatio?: number;
  /** Floor of the decay as a fraction of the base rate (default 0; linear and cosine only). */
  minLrRatio?: number;
}

/** The schedule kinds. */
export const SCHEDULE_KINDS: readonly NonNullable<ScheduleSpec["kind"]>[] = [
  "constant",
  "linear",
  "cosine",
];

/**
 * Check a schedule specification, naming the bad field.
 *
 * @example
 * ```ts
 * import { validateSchedule } from "./schedule.ts";
 * validateSchedule({ kind: "cosine", warmupSteps: 10 });
 * ```
 */
export function validateSchedule(spec: ScheduleSpec, where = "schedule"): void {
  if (!spec || typeof spec !== "object") throw new TypeError(`${where} must be an object`);
  for (const k of Object.keys(spec)) {
    if (!["kind", "warmupSteps", "warmupRatio", "minLrRatio"].includes(k)) {
      throw new TypeError(`${where}.${k} is not a schedule field`);
    }
  }
  if (spec.kind !== undefined && !SCHEDULE_KINDS.includes(spec.kind)) {
    throw new TypeError(
      `${where}.kind must be one of ${SCHEDULE_KINDS.join(", ")}, got ${JSON.stringify(spec.kind)}`,
    );
  }
  const ws = spec.warmupSteps;
  if (ws !== undefined && !(Number.isInteger(ws) && ws >= 0)) {
    throw new RangeError(`${where}.warmupSteps must be a non-negative integer, got ${ws}`);
  }
  const wr = spec.warmupRatio;
  if (wr !== undefined && !(typeof wr === "number" && wr >= 0 && wr <= 1)) {
    throw new RangeError(`${where}.warmupRatio must be in [0, 1], got ${wr}`);
  }
  const m = spec.minLrRatio;
  if (m !== undefined && !(typeof m === "number" && m >= 0 && m <= 1)) {
    throw new RangeError(`${where}.minLrRatio must be in [0, 1], got ${m}`);
  }
}

/**
 * The learning rate of update number `step` (0-based) out of `totalSteps`. With warm-up `w`,
 * update `s < w` uses `lr·s/w` (so the first update of a warm-up uses 0, as in Hugging Face);
 * afterwards `linear` falls as `(T − s)/(T − w)` and `cosine` as `½(1 + cos(π·(s − w)/(T − w)))`,
 * each mapped onto `[minLrRatio, 1]`.
 *
 * @example Linear decay over 10 steps with 2 warm-up steps
 * ```ts
 * import { learningRate } from "./schedule.ts";
 * const lrs = [0, 1, 2, 6].map((s) => learningRate(s, 10, { lr: 1, schedule: { kind: "linear", warmupSteps: 2 } }));
 * console.log(lrs); // [0, 0.5, 1, 0.5]
 * ```
 */
export function learningRate(
  step: number,
  totalSteps: number,
  opts: { lr: number; schedule?: ScheduleSpec },
): number {
  const spec = opts.schedule ?? {};
  const warm = warmupSteps(totalSteps, spec);
  if (step < warm) return opts.lr * step / Math.max(1, warm);
  const kind = spec.kind ?? "constant";
  if (kind === "constant") return opts.lr;
  const progress = (step - warm) / Math.max(1, totalSteps - warm);
  const shape = kind === "linear"
    ? Math.max(0, 1 - progress)
    : Math.max(0, 0.5 * (1 + Math.cos(Math.PI * progress)));
  const floor = spec.minLrRatio ?? 0;
  return opts.lr * (floor + (1 - floor) * shape);
}

/**
 * Warm-up steps of a schedule for a run of `totalSteps`.
 *
 * @example
 * ```ts
 * import { warmupSteps } from "./schedule.ts";
 * console.log(warmupSteps(95, { warmupRatio: 0.1 })); // 10
 * ```
 */
export function warmupSteps(totalSteps: number, spec: ScheduleSpec): number {
  if (spec.warmupSteps !== undefined) return spec.warmupSteps;
  return Math.ceil((spec.warmupRatio ?? 0) * totalSteps);
}
