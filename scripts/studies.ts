/**
 * The main job: executes the flagship studies headless (full mode unless --smoke) on the default
 * backend and writes executed notebooks, HTML reports and an index page to out/studies/.
 *
 * Usage: deno run -A scripts/studies.ts [--smoke] [--out DIR] [NN ...]   (NN selects studies)
 *
 * @module
 */
import { resolve } from "node:path";
import {
  checkFigures,
  describeFailure,
  executeNotebook,
  exportHtml,
  type NotebookRun,
} from "./nbexec.ts";

const root = new URL("..", import.meta.url).pathname;
const args = [...Deno.args];
const outAt = args.indexOf("--out");
if (outAt >= 0 && !args[outAt + 1]) throw new TypeError("--out needs a directory");
// Absolute: the kernels run in notebooks/, and the figure log they write is found through it.
const outDir = outAt >= 0
  ? resolve(args.splice(outAt, 2)[1]!).replace(/\/$/, "")
  : `${root}out/studies`;
const smoke = args.includes("--smoke");
const only = args.filter((a) => /^\d+$/.test(a)).map((a) => a.padStart(2, "0"));

const notebooks = [...Deno.readDirSync(`${root}notebooks`)]
  .map((e) => e.name)
  .filter((n) => /^\d\d_.*\.ipynb$/.test(n))
  .filter((n) => only.length === 0 || only.includes(n.slice(0, 2)))
  .sort();

function title(path: string): string {
  const nb = JSON.parse(Deno.readTextFileSync(path));
  const md = nb.cells.find((c: { cell_type: string }) => c.cell_type === "markdown");
  const src: string = md ? [md.source].flat().join("") : "";
  return src.match(/^#\s+(.+)$/m)?.[1]?.trim() ?? path.split("/").pop()!;
}

function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"]/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]!,
  );
}

const rows: { name: string; title: string; run: NotebookRun; html?: string; figures: string }[] =
  [];
console.log(
  `running ${notebooks.length} studies (${smoke ? "smoke" : "full"} mode) into ${outDir}`,
);
for (const name of notebooks) {
  const path = `${root}notebooks/${name}`;
  // The library logs every figure shown (the census), to check each one reached the notebook.
  const census = `${outDir}/${name.replace(/\.ipynb$/, "")}.figures.jsonl`;
  await Deno.remove(census).catch(() => {});
  const run = await executeNotebook(path, {
    outDir,
    env: { DPO_LAB_SMOKE: smoke ? "1" : "0", DPO_LAB_FIGURE_LOG: census },
  });
  const check = await checkFigures(run.executed, census).catch(() => undefined);
  const figures = check
    ? `${check.created.length - check.missing.length} of ${check.created.length}` +
      (check.missing.length ? ` (missing: ${check.missing.map((f) => f.title).join("; ")})` : "")
    : "?";
  let html: string | undefined;
  try {
    html = await exportHtml(run.executed);
  } catch (e) {
    console.error(String(e));
  }
  rows.push({ name, title: title(path), run, html, figures });
  console.log(
    `${run.ok ? "ok  " : "FAIL"} ${name} ${run.seconds.toFixed(0)} s, figures ${figures}`,
  );
  if (!run.ok) console.error(describeFailure(run));
}

const index = `<!doctype html><html><head><meta charset="utf-8"><title>dpo-lab studies</title>
<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.4rem;text-align:left}
.fail{color:#b00}</style></head><body>
<h1>dpo-lab studies</h1>
<p>${smoke ? "Smoke" : "Full"} mode, ${new Date().toISOString()}, ${
  escapeHtml(Deno.build.target)
}.</p>
<table><tr><th>study</th><th>status</th><th>wall time</th><th>figures shown</th><th>files</th></tr>
${
  rows.map((r) =>
    `<tr><td>${escapeHtml(r.title)}</td><td${r.run.ok ? "" : ' class="fail"'}>${
      r.run.ok ? "ok" : escapeHtml(describeFailure(r.run).split("\n")[0]!)
    }</td><td>${r.run.seconds.toFixed(0)} s</td><td>${escapeHtml(r.figures)}</td><td>${
      r.html ? `<a href="${r.name.replace(/\.ipynb$/, ".html")}">report</a> · ` : ""
    }<a href="${r.name}">notebook</a></td></tr>`
  ).join("\n")
}
</table></body></html>
`;
await Deno.writeTextFile(`${outDir}/index.html`, index);
const failed = rows.filter((r) => !r.run.ok).length;
console.log(`\nreports: ${outDir}/index.html (${rows.length - failed} ok, ${failed} failed)`);
Deno.exit(failed === 0 ? 0 : 1);
