/**
 * The option walk that `lab pretrain` and `lab sft` share.
 *
 * @module
 */

/**
 * Walks a command's arguments: {@link OptionCursor.next} gives the next option, `value` and
 * `num` read the one after it, with an error naming the option when it is missing or no number.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { OptionCursor } from "./options.ts";
 * const c = new OptionCursor(["--lr", "0.5", "--out", "x", "--steps"]);
 * assert.equal(c.next(), "--lr");
 * assert.equal(c.num(), 0.5);
 * assert.equal(c.next(), "--out");
 * assert.throws(() => c.num(), /option --out needs a number, got 'x'/);
 * assert.equal(c.next(), "--steps");
 * assert.throws(() => c.value(), /option --steps needs a value/);
 * assert.equal(c.next(), undefined);
 * ```
 */
export class OptionCursor {
  #i = -1;
  constructor(private readonly args: readonly string[]) {}

  /** The next argument, or undefined past the last. */
  next(): string | undefined {
    return this.args[++this.#i];
  }

  /** The argument after the current option, taken as its value. */
  value(): string {
    const a = this.args[this.#i];
    const v = this.args[++this.#i];
    if (v === undefined) throw new TypeError(`option ${a} needs a value`);
    return v;
  }

  /** {@link OptionCursor.value} as a finite number. */
  num(): number {
    const a = this.args[this.#i];
    const v = Number(this.value());
    if (!Number.isFinite(v)) {
      throw new TypeError(`option ${a} needs a number, got '${this.args[this.#i]}'`);
    }
    return v;
  }
}
