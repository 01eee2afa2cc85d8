/**
 * Up-front validation of objective parameters, TRL-style: unknown names and wrong types are
 * `TypeError`s, values out of range are `RangeError`s, and every message names the objective and
 * the parameter.
 *
 * @module
 */
import type { ParamValue } from "./types.ts";

/** How one parameter is checked. Intervals are written as in maths: "(0, inf)", "[0, 0.5)". */
export interface ParamSpec {
  /** Default value; `undefined` means "off" / "not set". */
  default: ParamValue;
  /** "number" (finite), "integer", "boolean", "string" (one of `values`), or "number|string". */
  type: "number" | "integer" | "boolean" | "string" | "number|string";
  /** Numeric range, e.g. "(0, inf)" or "[0, 0.5)". */
  range?: string;
  /** Allowed strings. */
  values?: readonly string[];
  /** Other accepted names (e.g. TRL's or the paper's). */
  aliases?: readonly string[];
  /** One line for `lab objectives list` and the docs. */
  about: string;
}

/** A parameter table: name → spec. */
export type ParamSpecs = Record<string, ParamSpec>;

function inRange(v: number, range: string): boolean {
  const m = /^([[(])\s*(-?inf|-?[\d.e+-]+)\s*,\s*(-?inf|-?[\d.e+-]+)\s*([\])])$/.exec(range);
  if (!m) throw new Error(`bad range spec ${range}`);
  const lo = m[2] === "-inf" ? -Infinity : Number(m[2]);
  const hi = m[3] === "inf" ? Infinity : Number(m[3]);
  const okLo = m[1] === "[" ? v >= lo : v > lo;
  const okHi = m[4] === "]" ? v <= hi : v < hi;
  return okLo && okHi;
}

function checkOne(objective: string, name: string, spec: ParamSpec, v: unknown): ParamValue {
  const where = `${objective}: parameter '${name}'`;
  if (v === undefined || v === null) return spec.default;
  const isNum = typeof v === "number";
  const wantsNum = spec.type === "number" || spec.type === "integer" ||
    (spec.type === "number|string" && isNum);
  if (wantsNum) {
    if (!isNum) throw new TypeError(`${where} must be a number, got ${JSON.stringify(v)}`);
    if (!Number.isFinite(v)) throw new RangeError(`${where} must be finite, got ${v}`);
    if (spec.type === "integer" && !Number.isInteger(v)) {
      throw new RangeError(`${where} must be an integer, got ${v}`);
    }
    if (spec.range && !inRange(v, spec.range)) {
      throw new RangeError(`${where} must be in ${spec.range}, got ${v}`);
    }
    return v;
  }
  if (spec.type === "boolean") {
    if (typeof v !== "boolean") {
      throw new TypeError(`${where} must be true or false, got ${JSON.stringify(v)}`);
    }
    return v;
  }
  if (typeof v !== "string") {
    throw new TypeError(`${where} must be one of ${spec.values?.join(", ")}, got ${v}`);
  }
  if (spec.values && !spec.values.includes(v)) {
    throw new RangeError(`${where} must be one of ${spec.values.join(", ")}, got '${v}'`);
  }
  return v;
}

/**
 * Fill defaults and validate `given` against `specs`. Accepts each parameter under its name or
 * an alias (not both).
 *
 * @example
 * ```ts
 * import { resolveParams } from "./params.ts";
 * const p = resolveParams("dpo", { beta: 0.2 }, {
 *   beta: { default: 0.1, type: "number", range: "(0, inf)", about: "temperature" },
 * });
 * console.log(p.beta); // 0.2
 * ```
 */
export function resolveParams(
  objective: string,
  given: Record<string, unknown> | undefined,
  specs: ParamSpecs,
): Record<string, ParamValue> {
  if (
    given !== undefined && (typeof given !== "object" || given === null || Array.isArray(given))
  ) {
    throw new TypeError(`${objective}: parameters must be an object, got ${JSON.stringify(given)}`);
  }
  const byName = new Map<string, string>();
  for (const [name, spec] of Object.entries(specs)) {
    byName.set(name, name);
    for (const a of spec.aliases ?? []) byName.set(a, name);
  }
  const raw: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(given ?? {})) {
    // snake_case spellings (TRL's, the CLI's) are accepted for every camelCase name.
    const name = byName.get(key) ?? byName.get(key.replace(/_([a-z])/g, (_, c) => c.toUpperCase()));
    if (!name) {
      throw new TypeError(
        `${objective}: unknown parameter '${key}' (known: ${Object.keys(specs).join(", ")})`,
      );
    }
    if (name in raw && value !== undefined) {
      throw new TypeError(`${objective}: parameter '${name}' given twice (as '${key}' too)`);
    }
    if (value !== undefined) raw[name] = value;
  }
  const out: Record<string, ParamValue> = {};
  for (const [name, spec] of Object.entries(specs)) {
    out[name] = checkOne(objective, name, spec, raw[name]);
  }
  return out;
}

/** Specs shared by many objectives. */
export const BETA = (def: number, about = "inverse temperature β of the implicit reward") => ({
  default: def,
  type: "number",
  range: "(0, inf)",
  about,
} as const satisfies ParamSpec);

/** Label smoothing ε (conservative DPO / robust DPO flip rate). */
export const LABEL_SMOOTHING = {
  default: 0,
  type: "number",
  range: "[0, 0.5)",
  aliases: ["label_smoothing", "epsilon"],
  about: "label smoothing ε: assumed probability that a preference label is flipped",
} as const satisfies ParamSpec;

/** How an NLL (SFT) term is normalised. */
export const NLL_MODE = {
  default: "token",
  type: "string",
  values: ["token", "sum", "batch"] as const,
  about: "NLL of y_w: 'token' = −ℓθ(y_w)/|y_w| per pair, 'sum' = −ℓθ(y_w), " +
    "'batch' = −Σℓθ(y_w)/Σ|y_w| over the batch (TRL's pooled cross-entropy)",
} as const satisfies ParamSpec;
