/**
 * The library's public surface, measured: the names each entry point exports (`lib/mod.ts`, every
 * area's `mod.ts`, the internal entries `lib/<area>/internal.ts`, `lib/backend.ts`,
 * `lib/output.ts`, `lib/runtime_env.ts`), read with `deno doc --json`, and the import specifiers a file uses. Run it to
 * print the counts (`deno run -A scripts/api_surface.ts`); tests/api_surface_test.ts checks the
 * rules with the same functions.
 *
 * @module
 */

/** The repository root, as a path ending in `/`. */
export const ROOT: string = new URL("..", import.meta.url).pathname;

/** One exported name of an entry point, with the JSDoc of its declaration. */
export interface ExportedName {
  name: string;
  /** `function`, `interface`, `typeAlias`, `variable`, `class`, `namespace`, ... */
  kind: string;
  /** The declaring file, relative to the repository root. */
  file: string;
  /** The JSDoc text ("" when the declaration has none). */
  doc: string;
  /** The JSDoc tag kinds (`internal`, `example`, ...). */
  tags: string[];
}

/**
 * The library's entry points, relative to the root: `lib/mod.ts`, `lib/backend.ts`,
 * `lib/output.ts`, `lib/runtime_env.ts` (light modules a command needs before any tfjs loads), and
 * every `lib/<area>/mod.ts` and `lib/<area>/internal.ts` that exists.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { entryPoints } from "./api_surface.ts";
 * const entries = entryPoints();
 * assert.ok(entries.includes("lib/mod.ts") && entries.includes("lib/train/mod.ts"));
 * ```
 */
export function entryPoints(): string[] {
  const out = ["lib/mod.ts", "lib/backend.ts", "lib/output.ts", "lib/runtime_env.ts"];
  const areas = [...Deno.readDirSync(`${ROOT}lib`)].filter((e) => e.isDirectory).map((e) => e.name);
  for (const area of areas.sort()) {
    for (const file of ["mod.ts", "internal.ts"]) {
      const path = `lib/${area}/${file}`;
      try {
        Deno.statSync(ROOT + path);
        out.push(path);
      } catch {
        // An area without an internal entry (or without a mod.ts, like kernels/) has none.
      }
    }
  }
  return out;
}

interface DocSymbol {
  name: string;
  declarations: {
    kind: string;
    declarationKind: string;
    location: { filename: string };
    jsDoc?: { doc?: string; tags?: { kind: string }[] };
  }[];
}

/**
 * The names each of `files` exports, by `deno doc --json` (one run per file: a run over several
 * files reports a name one of them re-exports from another as a bare reference, without docs).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { exportedNames } from "./api_surface.ts";
 * const names = await exportedNames(["lib/core/mod.ts"]);
 * const rng = names.get("lib/core/mod.ts")!.find((n) => n.name === "Rng")!;
 * assert.equal(rng.file, "lib/core/rng.ts");
 * assert.ok(rng.doc.length > 0);
 * ```
 */
export async function exportedNames(files: string[]): Promise<Map<string, ExportedName[]>> {
  const lists = await Promise.all(files.map(exportedNamesOf));
  return new Map(files.map((f, i) => [f, lists[i]]));
}

async function exportedNamesOf(file: string): Promise<ExportedName[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["doc", "--json", file],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`deno doc --json ${file}:\n${new TextDecoder().decode(out.stderr)}`);
  }
  const nodes = JSON.parse(new TextDecoder().decode(out.stdout)).nodes as Record<
    string,
    { symbols: DocSymbol[] }
  >;
  const node = nodes[new URL(file, `file://${ROOT}`).href];
  if (!node) throw new Error(`deno doc --json: no output for ${file}`);
  return node.symbols.map(toExported);
}

function toExported(s: DocSymbol): ExportedName {
  const declarations = s.declarations.filter((d) => d.declarationKind === "export");
  const first = declarations[0] ?? s.declarations[0];
  const doc = declarations.map((d) => d.jsDoc?.doc ?? "").find((d) => d.trim() !== "") ?? "";
  return {
    name: s.name,
    kind: first.kind,
    file: first.location.filename.replace(`file://${ROOT}`, ""),
    doc,
    tags: declarations.flatMap((d) => (d.jsDoc?.tags ?? []).map((t) => t.kind)),
  };
}

/**
 * The module specifiers `text` imports or re-exports, in code and in JSDoc examples alike:
 * `import ... from "x"`, `export ... from "x"`, `import "x"`, `import("x")`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { importSpecifiers } from "./api_surface.ts";
 * const text = 'import { a } from "./a.ts";\n * import "../b.ts";\ntype T = import("./c.ts").T;';
 * assert.deepEqual(importSpecifiers(text), ["./a.ts", "../b.ts", "./c.ts"]);
 * ```
 */
export function importSpecifiers(text: string): string[] {
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|^[\s*]*import\s+)"([^"]+)"/gm;
  return [...text.matchAll(re)].map((m) => m[1]);
}

/** Every `.ts` file under `dir` (relative to the root), recursively, sorted. */
export function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(ROOT + dir)) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...tsFiles(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out.sort();
}

if (import.meta.main) {
  const entries = entryPoints();
  const names = await exportedNames(entries);
  for (const entry of entries) {
    console.log(`${String(names.get(entry)!.length).padStart(4)} ${entry}`);
  }
}
