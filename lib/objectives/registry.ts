/**
 * Every built-in objective by name, with its source and where its formula was read: what
 * `lab objectives list` prints and `docs/objectives.md` tabulates. The entries are written in
 * `registry_trl.ts` (TRL's loss types) and `registry_papers.ts` (the other papers).
 *
 * @module
 */
import { combine } from "./combine.ts";
import type { ObjectiveEntry } from "./registry_entry.ts";
import { PAPER_ENTRIES } from "./registry_papers.ts";
import { TRL_ENTRIES } from "./registry_trl.ts";
import type { Objective } from "./types.ts";

/** The registry, in documentation order. */
export const OBJECTIVES: readonly ObjectiveEntry[] = [...TRL_ENTRIES, ...PAPER_ENTRIES];

function key(name: string): string {
  return name.trim().toLowerCase().replaceAll("-", "_");
}

/**
 * Find an entry by name or alias (case-insensitive, `-` = `_`); `undefined` if unknown.
 *
 * @example
 * ```ts
 * import { findObjective } from "./registry.ts";
 * console.log(findObjective("sigmoid")?.name); // dpo
 * ```
 */
export function findObjective(name: string): ObjectiveEntry | undefined {
  const k = key(name);
  return OBJECTIVES.find((e) => key(e.name) === k || e.aliases.some((a) => key(a) === k));
}

/**
 * Build a registered objective by name with parameters; throws a `TypeError` naming the
 * unknown objective. The name `combine` takes `{ parts: [{ objective, weight, params }] }`.
 *
 * @example
 * ```ts
 * import { createObjective } from "./registry.ts";
 * const o = createObjective("combine", {
 *   parts: [{ objective: "dpo", weight: 1 }, { objective: "sft", weight: 0.5 }],
 * });
 * console.log(o.name); // dpo*1+sft*0.5
 * ```
 */
export function createObjective(name: string, params: Record<string, unknown> = {}): Objective {
  if (key(name) === "combine") return combineFromParams(params);
  const entry = findObjective(name);
  if (!entry) {
    throw new TypeError(
      `unknown objective '${name}' (known: ${OBJECTIVES.map((e) => e.name).join(", ")}, combine)`,
    );
  }
  return entry.create(params);
}

/** `combine` from `{ parts: [{ objective, weight, params }] }`, each part built by name. */
function combineFromParams(params: Record<string, unknown>): Objective {
  const { parts, ...rest } = params;
  if (Object.keys(rest).length > 0) {
    throw new TypeError(`combine: unknown parameter '${Object.keys(rest)[0]}' (known: parts)`);
  }
  if (!Array.isArray(parts) || parts.length === 0) {
    throw new TypeError(
      "combine: parameter 'parts' must be a non-empty list of {objective, weight, params}",
    );
  }
  return combine(parts.map((part, k) => {
    const p = part as { objective?: unknown; weight?: unknown; params?: unknown };
    if (typeof p?.objective !== "string") {
      throw new TypeError(`combine: parts[${k}].objective must be a name`);
    }
    const weight = p.weight === undefined ? 1 : p.weight;
    if (typeof weight !== "number") {
      throw new TypeError(`combine: parts[${k}].weight must be a number`);
    }
    return [
      createObjective(p.objective, (p.params ?? {}) as Record<string, unknown>),
      weight,
    ] as const;
  }));
}
