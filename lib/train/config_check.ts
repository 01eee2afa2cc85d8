/**
 * The validators `parseTrainConfig` builds a config with: each bound to the config's source name,
 * so every error names the file and the field.
 *
 * @module
 */

/** A parsed JSON object. */
export type Obj = Record<string, unknown>;

/**
 * Validation helpers bound to a source name, so every error names file and field.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { Checker } from "./config_check.ts";
 * const c = new Checker("run.json");
 * assert.equal(c.int(3, "steps", 1), 3);
 * assert.throws(() => c.int(0, "steps", 1), /run.json: field 'steps' must be >= 1, got 0/);
 * assert.throws(() => c.keys({ lr: 1, bogus: 2 }, "", ["lr"]), /field 'bogus' is not a known field/);
 * ```
 */
export class Checker {
  constructor(readonly source: string) {}

  fail(field: string, why: string, Kind: typeof TypeError = TypeError): never {
    throw new Kind(`${this.source}: field '${field}' ${why}`);
  }

  obj(v: unknown, field: string): Obj {
    if (!v || typeof v !== "object" || Array.isArray(v)) this.fail(field, "must be an object");
    return v as Obj;
  }

  keys(o: Obj, field: string, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) {
        this.fail(
          field ? `${field}.${k}` : k,
          `is not a known field (known: ${allowed.join(", ")})`,
        );
      }
    }
  }

  str(v: unknown, field: string): string {
    if (typeof v !== "string" || v === "") this.fail(field, "must be a non-empty string");
    return v;
  }

  num(v: unknown, field: string, ok: (x: number) => boolean, why: string): number {
    if (typeof v !== "number" || !Number.isFinite(v)) {
      this.fail(field, `must be a number, got ${JSON.stringify(v)}`);
    }
    if (!ok(v)) this.fail(field, `must be ${why}, got ${v}`, RangeError);
    return v;
  }

  int(v: unknown, field: string, min: number): number {
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.fail(field, `must be an integer, got ${JSON.stringify(v)}`);
    }
    if (v < min) this.fail(field, `must be >= ${min}, got ${v}`, RangeError);
    return v;
  }

  bool(v: unknown, field: string): boolean {
    if (typeof v !== "boolean") this.fail(field, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  }

  ref(v: unknown, field: string): string | number {
    if (typeof v === "string" && v !== "") return v;
    if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
    return this.fail(field, `must be a name or a non-negative index, got ${JSON.stringify(v)}`);
  }

  /** Run a validator that throws field-less errors, prefixing the field. */
  wrap<T>(field: string, f: () => T): T {
    try {
      return f();
    } catch (e) {
      if (e instanceof RangeError) {
        throw new RangeError(`${this.source}: field '${field}': ${e.message}`);
      }
      if (e instanceof TypeError) {
        throw new TypeError(`${this.source}: field '${field}': ${e.message}`);
      }
      throw e;
    }
  }
}
