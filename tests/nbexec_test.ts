import assert from "node:assert/strict";
import { executeNotebook } from "../scripts/nbexec.ts";

// A stand-in `jupyter` on PATH: it fails the first `failures` calls with `message` on stderr,
// then copies the notebook to nbconvert's output path; every call appends a line to `calls`.
async function fakeJupyter(failures: number, message: string) {
  const dir = await Deno.makeTempDir();
  const script = `#!/bin/bash
echo call >> "${dir}/calls"
n=$(wc -l < "${dir}/calls")
if [ "$n" -le ${failures} ]; then echo "${message}" >&2; exit 1; fi
while [ $# -gt 1 ]; do
  case "$1" in --output-dir) out="$2"; shift;; --output) name="$2"; shift;; esac
  shift
done
cp "$1" "$out/$name"
`;
  await Deno.writeTextFile(`${dir}/jupyter`, script, { mode: 0o755 });
  const notebook = `${dir}/nb.ipynb`;
  await Deno.writeTextFile(
    notebook,
    JSON.stringify({ cells: [{ cell_type: "code", source: "1", outputs: [] }] }),
  );
  const run = () =>
    executeNotebook(notebook, {
      outDir: `${dir}/out`,
      env: { PATH: `${dir}:${Deno.env.get("PATH")}` },
    });
  const calls = async () => (await Deno.readTextFile(`${dir}/calls`)).trim().split("\n").length;
  return { run, calls };
}

Deno.test("nbexec: a kernel transport fault (Invalid Signature) is run once more, and said", async () => {
  const f = await fakeJupyter(1, "ValueError: Invalid Signature: b'abc'");
  const r = await f.run();
  assert.equal(r.ok, true);
  assert.equal(r.retries, 1);
  assert.equal(await f.calls(), 2);
});

Deno.test("nbexec: a second transport fault fails the run; other failures are not retried", async () => {
  const twice = await fakeJupyter(2, "ValueError: Invalid Signature: b'abc'");
  const r = await twice.run();
  assert.equal(r.ok, false);
  assert.match(r.log, /Invalid Signature/);
  assert.equal(await twice.calls(), 2);
  const other = await fakeJupyter(1, "RuntimeError: Kernel died before replying");
  const r2 = await other.run();
  assert.equal(r2.ok, false);
  assert.equal(r2.error?.evalue, "nbconvert wrote no notebook");
  assert.equal(await other.calls(), 1);
});

Deno.test("nbexec: a report gets one plotly.js in its head, whichever output carried it", async () => {
  const { figureHtml, plotlyLoaderHtml } = await import("../lib/plot/html.ts");
  const { withPlotlyOnce } = await import("../scripts/nbexec.ts");
  const banner = "plotly.js v4.1.2";
  const count = (s: string) => s.split(banner).length - 1;
  const fig = figureHtml({ data: [], layout: {}, config: {} }, { fallback: false });
  // The output that carried plotly.js was lost: only the figure reached the report.
  const lost = `<html><head><title>r</title></head><body>${fig}</body></html>`;
  const fixed = withPlotlyOnce(lost);
  assert.equal(count(fixed), 1);
  assert.ok(fixed.indexOf(banner) < fixed.indexOf("</head>"));
  // Two outputs carried it: one copy is left, in the head.
  const twice = `<html><head></head><body>${plotlyLoaderHtml()}${fig}${plotlyLoaderHtml()}` +
    `</body></html>`;
  const once = withPlotlyOnce(twice);
  assert.equal(count(once), 1);
  assert.ok(once.indexOf(banner) < once.indexOf("<body>"));
  assert.ok(once.includes(fig));
  assert.throws(() => withPlotlyOnce(`<body>${fig}</body>`), /no <\/head>/);
});
