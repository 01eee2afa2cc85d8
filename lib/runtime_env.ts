/**
 * Process environment fixes applied before any command runs.
 *
 * @module
 */

/**
 * Mesa's GPU drivers print `error: XDG_RUNTIME_DIR is invalid or not set` (twice) when the
 * variable is unset or not a writable folder, which happens under `deno task lab` outside a
 * login session; `scripts/setup.sh` fixes it for `./lab.sh`. This does the same for any entry
 * point: it points the variable at a private folder under the temporary directory (created with
 * mode 700), so the driver is quiet. `lab` calls it first, and `initBackend` before it asks for
 * a WebGPU adapter (so notebooks, tests and scripts are quiet too). Returns the folder set, or undefined when nothing changed
 * (or environment access is not permitted).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ensureRuntimeDir } from "./runtime_env.ts";
 * const dir = ensureRuntimeDir();
 * assert.ok(dir === undefined || Deno.statSync(dir).isDirectory);
 * ```
 */
export function ensureRuntimeDir(): string | undefined {
  try {
    const cur = Deno.env.get("XDG_RUNTIME_DIR");
    if (cur && isWritableDir(cur)) return undefined;
    const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
    const uid = Deno.uid() ?? "user";
    const dir = `${tmp}/dpo-lab-runtime-${uid}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
    return dir;
  } catch {
    return undefined;
  }
}

function isWritableDir(path: string): boolean {
  try {
    const probe = `${path}/.dpo-lab-probe-${Deno.pid}`;
    Deno.writeTextFileSync(probe, "");
    Deno.removeSync(probe);
    return true;
  } catch {
    return false;
  }
}
