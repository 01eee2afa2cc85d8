/**
 * scripts/bench/torch_peer.py's OpenBLAS treatment: the core type chosen from CPU flags (same
 * rule as lib/kernels/blas.ts), a core type set in the environment respected, and the library,
 * core name and thread count the peer ran on reported from the loaded library.
 */
import assert from "node:assert/strict";
import { coreTypeForFlags } from "../../lib/kernels/blas.ts";

const SCRIPT = new URL("../../scripts/bench/torch_peer.py", import.meta.url).pathname;
const DIR = SCRIPT.slice(0, SCRIPT.lastIndexOf("/"));

async function python(args: string[]): Promise<{ ok: boolean; out: string }> {
  try {
    const r = await new Deno.Command("/usr/bin/python3", { args, stdout: "piped", stderr: "piped" })
      .output();
    return { ok: r.success, out: new TextDecoder().decode(r.stdout) };
  } catch {
    return { ok: false, out: "" };
  }
}

const hasPython = (await python(["-c", "pass"])).ok;
const probe = hasPython ? JSON.parse((await python([SCRIPT, "--probe"])).out) : { ok: false };

Deno.test({
  name: "torch_peer.py: core type from CPU flags, the same rule as the wasm side",
  ignore: !hasPython,
  fn: async () => {
    const sets = [
      ["avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512dq", "avx512cd"],
      ["avx", "avx2", "fma", "avx512f"],
      ["avx", "avx2"],
      ["sse4_2"],
    ];
    const code =
      `import sys; sys.path.insert(0, ${JSON.stringify(DIR)}); import json, torch_peer; ` +
      `print(json.dumps([torch_peer.core_type_for_flags(set(s)) for s in ${
        JSON.stringify(sets)
      }]))`;
    const r = await python(["-c", code]);
    assert.ok(r.ok);
    const fromTs = sets.map((s) => coreTypeForFlags(new Set(s)) ?? null);
    assert.deepEqual(JSON.parse(r.out), fromTs);
    assert.deepEqual(fromTs, ["SkylakeX", "Haswell", "Sandybridge", null]);
  },
});

Deno.test({
  name: "torch_peer.py --probe: names the OpenBLAS torch loaded and the core it runs",
  ignore: !probe.ok || !probe.openblas,
  fn: () => {
    const o = probe.openblas;
    assert.match(o.library, /openblas/i);
    assert.match(o.config, /^OpenBLAS \d+\.\d+/);
    assert.ok(o.threads >= 1);
    const set = Deno.env.get("OPENBLAS_CORETYPE");
    if (set) {
      assert.deepEqual(o.core_type, { value: set, source: "environment" });
      assert.equal(o.core_name.toLowerCase(), set.toLowerCase());
    } else {
      assert.notEqual(o.core_type.source, "environment");
    }
  },
});
