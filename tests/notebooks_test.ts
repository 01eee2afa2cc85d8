/**
 * Executes every notebooks/*.ipynb headless with the Deno kernel (smoke mode unless
 * DPO_LAB_SMOKE=0) and fails on any cell error, naming the notebook and the cell.
 */
import { describeFailure, executeNotebook } from "../scripts/nbexec.ts";

const root = new URL("..", import.meta.url).pathname;
const notebooks = [...Deno.readDirSync(`${root}notebooks`)]
  .filter((e) => e.isFile && e.name.endsWith(".ipynb"))
  .map((e) => e.name)
  .sort();

for (const name of notebooks) {
  Deno.test({
    name: `notebook ${name} runs top to bottom (smoke mode)`,
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const run = await executeNotebook(`${root}notebooks/${name}`, {
        outDir: `${root}out/test-notebooks`,
        env: { DPO_LAB_SMOKE: Deno.env.get("DPO_LAB_SMOKE") ?? "1" },
        timeoutSeconds: 600,
      });
      const retried = run.retries ? ` (run again after a kernel transport fault)` : "";
      console.log(`${name}: ${run.seconds.toFixed(1)} s${retried}`);
      if (!run.ok) throw new Error(describeFailure(run));
    },
  });
}

Deno.test("notebooks are committed without outputs", () => {
  for (const name of notebooks) {
    const nb = JSON.parse(Deno.readTextFileSync(`${root}notebooks/${name}`));
    nb.cells.forEach((c: { cell_type: string; outputs?: unknown[] }, i: number) => {
      if (c.cell_type === "code" && (c.outputs?.length ?? 0) > 0) {
        throw new Error(`${name}: cell ${i + 1} has saved outputs; clear them before committing`);
      }
    });
  }
});

Deno.test("every notebook matches its source notebooks/NN_name.ts", async () => {
  const tmp = await Deno.makeTempDir();
  for (const name of notebooks) {
    const src = `${root}notebooks/${name.replace(/\.ipynb$/, ".ts")}`;
    const out = await new Deno.Command("python3", {
      args: [`${root}scripts/mknb.py`, src, `${tmp}/${name}`],
    }).output();
    if (!out.success) throw new Error(`${src}: ${new TextDecoder().decode(out.stderr)}`);
    if (
      Deno.readTextFileSync(`${tmp}/${name}`) !== Deno.readTextFileSync(`${root}notebooks/${name}`)
    ) {
      throw new Error(`notebooks/${name} differs from ${src}: run scripts/build_notebooks.sh`);
    }
  }
  await Deno.remove(tmp, { recursive: true });
});
