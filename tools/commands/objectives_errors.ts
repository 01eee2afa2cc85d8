/**
 * The two kinds of failure of `lab objectives`: bad usage (flags, objective, parameters; exit 2)
 * and bad input data (exit 1).
 *
 * @module
 */

/**
 * Bad usage: an unknown flag, objective or parameter; `lab objectives` prints the usage and
 * exits 2.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UsageError } from "./objectives_errors.ts";
 * assert.ok(new UsageError("eval needs --objective NAME") instanceof Error);
 * ```
 */
export class UsageError extends Error {}

/**
 * Bad input data (a row's field, the input file); `lab objectives` exits 1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { InputError } from "./objectives_errors.ts";
 * assert.ok(new InputError("input 'x.json' row[0]: expected an object") instanceof Error);
 * ```
 */
export class InputError extends Error {}
