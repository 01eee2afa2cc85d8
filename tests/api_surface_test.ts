/**
 * The public API's rules (README "Layout"): lib/mod.ts re-exports by name what a notebook uses;
 * every exported name has JSDoc; internal entries (`lib/<area>/internal.ts`, `@internal` tags)
 * never reach a public entry; notebooks and tools/ import the library only through entry points.
 */
import assert from "node:assert/strict";
import {
  entryPoints,
  type ExportedName,
  exportedNames,
  importSpecifiers,
  ROOT,
  tsFiles,
} from "../scripts/api_surface.ts";

const entries = entryPoints();
const names = await exportedNames(entries);
const isPublic = (entry: string) => !entry.endsWith("/internal.ts");
const publicEntries = entries.filter(isPublic);
const internalEntries = entries.filter((e) => !isPublic(e));

/** Where `spec`, imported by `file` (both relative to the root), points, relative to the root. */
function resolve(file: string, spec: string): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  return new URL(spec, `file://${ROOT}${file}`).pathname.slice(ROOT.length);
}

/** Imports of `files` that point into lib/ at anything but one of `allowed`, as "file: target". */
function strayImports(files: string[], allowed: (target: string) => boolean): string[] {
  const stray: string[] = [];
  for (const file of files) {
    for (const spec of importSpecifiers(Deno.readTextFileSync(ROOT + file))) {
      const target = resolve(file, spec);
      if (target?.startsWith("lib/") && !allowed(target)) stray.push(`${file}: ${spec}`);
    }
  }
  return stray;
}

Deno.test("every lab.<name> a notebook uses is exported by lib/mod.ts", () => {
  const top = new Set(names.get("lib/mod.ts")!.map((n) => n.name));
  const missing: string[] = [];
  // `./lab.sh` in a markdown cell is the launcher, not a name: a path character before it says so.
  for (const file of tsFiles("notebooks")) {
    const code = Deno.readTextFileSync(ROOT + file);
    for (const m of code.matchAll(/(?<![\w$./-])lab\.([A-Za-z_$][\w$]*)/g)) {
      if (!top.has(m[1])) missing.push(`${file}: lab.${m[1]}`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});

Deno.test("lib/mod.ts re-exports by name, not with export *", () => {
  const text = Deno.readTextFileSync(`${ROOT}lib/mod.ts`);
  assert.deepEqual(text.match(/^export \*.*$/gm) ?? [], []);
});

Deno.test("every name an entry point exports has JSDoc", () => {
  const undocumented = [...names].flatMap(([entry, list]) =>
    list.filter((n) => n.doc.trim() === "").map((n) => `${entry}: ${n.name} (${n.file})`)
  );
  assert.deepEqual(undocumented, []);
});

Deno.test("internal names never reach a public entry point", () => {
  const internal = new Map<string, string>();
  for (const entry of internalEntries) {
    for (const n of names.get(entry)!) internal.set(`${n.file}#${n.name}`, entry);
  }
  const leaks: string[] = [];
  for (const entry of publicEntries) {
    for (const n of names.get(entry)! as ExportedName[]) {
      const from = internal.get(`${n.file}#${n.name}`);
      if (from) leaks.push(`${entry}: ${n.name} (internal, from ${from})`);
      if (n.tags.includes("internal")) leaks.push(`${entry}: ${n.name} (tagged @internal)`);
    }
  }
  assert.deepEqual(leaks, []);
});

Deno.test("tools/ imports the library only through its entry points", () => {
  const allowed = new Set(entries);
  assert.deepEqual(strayImports(tsFiles("tools"), (t) => allowed.has(t)), []);
});

Deno.test("notebooks import the library only through lib/mod.ts or an area's mod.ts", () => {
  const allowed = new Set(publicEntries.filter((e) => e.endsWith("mod.ts")));
  assert.deepEqual(strayImports(tsFiles("notebooks"), (t) => allowed.has(t)), []);
});

Deno.test("deno.json exports every area entry as a subpath, and nothing internal", async () => {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`));
  const targets = new Set(
    Object.values(config.exports as Record<string, string>).map((t) => t.replace(/^\.\//, "")),
  );
  const areaMods = publicEntries.filter((e) => /^lib\/[^/]+\/mod\.ts$/.test(e));
  assert.deepEqual(areaMods.filter((e) => !targets.has(e)), []);
  assert.deepEqual(internalEntries.filter((e) => targets.has(e)), []);
});
