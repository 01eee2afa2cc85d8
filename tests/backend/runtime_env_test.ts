/**
 * Issue 12: Mesa prints `error: XDG_RUNTIME_DIR is invalid or not set` twice when a WebGPU adapter
 * is requested without that variable. `lab` and `initBackend` (so notebooks, tests and scripts)
 * point it at a private folder first. The control run shows the warning does occur here.
 */
import assert from "node:assert/strict";

const root = new URL("../../", import.meta.url).pathname;

async function stderrWithoutXdg(code: string): Promise<string> {
  const env = Deno.env.toObject();
  delete env.XDG_RUNTIME_DIR;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    cwd: root,
    env,
    clearEnv: true,
    stdout: "null",
    stderr: "piped",
  }).output();
  return new TextDecoder().decode(out.stderr);
}

const WARNING = /XDG_RUNTIME_DIR is invalid or not set/;

Deno.test("initBackend: no XDG_RUNTIME_DIR warning when the variable is unset", async () => {
  const control = await stderrWithoutXdg(
    "const g = (navigator as any).gpu; if (g) await g.requestAdapter();",
  );
  if (!WARNING.test(control)) {
    console.log("no Mesa WebGPU adapter that warns here: nothing to check");
    return;
  }
  const lib = await stderrWithoutXdg(
    'import { initBackend } from "./lib/backend.ts";\n' +
      'await initBackend({ backend: "webgpu" }).catch(() => {});',
  );
  assert.doesNotMatch(lib, WARNING, lib);
  const cli = await stderrWithoutXdg(
    'import { main } from "./tools/cli.ts"; await main(["backend", "--backend", "webgpu"]);',
  );
  assert.doesNotMatch(cli, WARNING, cli);
});
