/** The README's tour is code a reader will paste: it must type-check and run as written. */
const root = new URL("..", import.meta.url).pathname;

Deno.test({
  name: "README tour runs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const readme = await Deno.readTextFile(`${root}README.md`);
    const block = readme.match(/## A tour of the library\n\n```ts\n([\s\S]*?)```/)?.[1];
    if (!block) throw new Error("README.md: no ```ts block under '## A tour of the library'");
    const file = `${root}.readme_tour_test.ts`;
    await Deno.writeTextFile(file, block + "\nconsole.log(JSON.stringify(ches[0]));\n");
    try {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--check", file],
        cwd: root,
        env: { DPO_LAB_BACKEND: "wasm" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
      if (!out.success) throw new Error(`README tour failed:\n${text.slice(-2000)}`);
      const first = JSON.parse(text.trim().split("\n").filter((l) => l.startsWith("{")).pop()!);
      if (!Number.isFinite(first.ches) || first.chosenLength < 1) {
        throw new Error(`README tour: unexpected CHES row ${JSON.stringify(first)}`);
      }
    } finally {
      await Deno.remove(file);
    }
  },
});
