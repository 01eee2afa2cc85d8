import assert from "node:assert/strict";
import {
  FIGURE_LOG_ENV,
  FIGURE_MIME,
  JUPYTER_DISPLAY,
  lineFigure,
  liveFigure,
  makeFigure,
  mimeBundle,
  resetPlotlySession,
  show,
  summarize,
} from "../../lib/plot/mod.ts";
import { checkWellFormedXml } from "./xml_check.ts";

// The first line of plotly.min.js's banner: present exactly where plotly.js was inlined.
const PLOTLY_BANNER = "plotly.js v4.1.2";
const count = (s: string, sub: string) => s.split(sub).length - 1;

type Call = { obj: Record<string, unknown>; opts: Record<string, unknown> };

/** Run `fn` with a fake Deno.jupyter that records display calls. */
async function withKernel(fn: (calls: Call[]) => Promise<void>): Promise<void> {
  const calls: Call[] = [];
  const d = Deno as unknown as { jupyter: unknown };
  d.jupyter = {
    display: (obj: Record<string, unknown>, opts: Record<string, unknown>) => {
      calls.push({ obj, opts });
      return Promise.resolve();
    },
  };
  try {
    await fn(calls);
  } finally {
    d.jupyter = undefined;
  }
}

function fig(y: number[], title = "demo") {
  return lineFigure({ x: y.map((_, i) => i), y, name: "loss" }, {
    title,
    xTitle: "step",
    yTitle: "loss (nats)",
  });
}

Deno.test("a figure's MIME bundle has the four types, and plotly JSON equal to the figure", () => {
  resetPlotlySession();
  const f = fig([0.7, 0.5]);
  const b = mimeBundle(f, { plotly: "omit" });
  assert.deepEqual(Object.keys(b).sort(), [
    "application/vnd.plotly.v1+json",
    "image/svg+xml",
    "text/html",
    "text/plain",
  ]);
  assert.deepEqual(b["application/vnd.plotly.v1+json"], JSON.parse(JSON.stringify(f)));
  checkWellFormedXml(b["image/svg+xml"]);
  assert.match(
    b["text/plain"],
    /^Figure "demo" \(1 trace\)\n {2}- loss: scatter, 2 points, y 0\.5 \.\. 0\.7/,
  );
  // The HTML shows the static SVG (as an <img>, which survives sanitizers) until plotly draws.
  assert.match(b["text/html"], /<img src="data:image\/svg\+xml;base64,/);
  assert.equal(count(b["text/html"], PLOTLY_BANNER), 0);
});

Deno.test("bundles carry plotly.js until show() has sent it; building one marks nothing", async () => {
  resetPlotlySession();
  const first = mimeBundle(fig([1, 2]))["text/html"];
  const second = mimeBundle(fig([3, 4]))["text/html"];
  // Old behaviour marked plotly.js as sent while building `first`: when that output was lost
  // (a cell's late value), no later output carried plotly.js and every figure stayed static.
  assert.equal(count(first, PLOTLY_BANNER), 1);
  assert.equal(count(second, PLOTLY_BANNER), 1);
  const value = makeFigure({ data: [{ type: "scatter", x: [0], y: [1] }] });
  value[JUPYTER_DISPLAY]();
  assert.equal(count(mimeBundle(fig([5]))["text/html"], PLOTLY_BANNER), 1);
  assert.ok(first.indexOf(PLOTLY_BANNER) < first.indexOf('data-dpo-lab-figure="'));
  await withKernel(async () => await show(fig([6])));
  const after = mimeBundle(fig([7]))["text/html"];
  assert.equal(count(after, PLOTLY_BANNER), 0);
  assert.ok(after.includes("__dpoLabPlotlyQueue"));
  assert.equal(count(mimeBundle(fig([5]), { plotly: "inline" })["text/html"], PLOTLY_BANNER), 1);
  resetPlotlySession();
  assert.equal(count(mimeBundle(fig([5]))["text/html"], PLOTLY_BANNER), 1);
});

Deno.test("the census numbers every displayed figure, tags its bundle and logs it", async () => {
  resetPlotlySession();
  const log = await Deno.makeTempFile({ suffix: ".jsonl" });
  Deno.env.set(FIGURE_LOG_ENV, log);
  let n0 = 0;
  try {
    await withKernel(async (calls) => {
      await show(fig([1], "first"), { displayId: "a" });
      await show(fig([2], "first, updated"), { displayId: "a", update: true });
      const value = fig([3], "a cell's value")[JUPYTER_DISPLAY]();
      const live = liveFigure(fig([4], "live"), { minIntervalMs: 0 });
      await live.update(fig([4, 5], "live"));
      await live.flush();
      const tags = calls.map((c) => (c.obj[FIGURE_MIME] as { figure?: number })?.figure);
      n0 = tags[1]!; // the session's counter runs across tests
      // loader, shown, its update (same number), live initial, live update
      assert.deepEqual(tags, [undefined, n0, n0, n0 + 2, n0 + 2]);
      assert.deepEqual(value[FIGURE_MIME], { figure: n0 + 1 });
    });
    const lines = (await Deno.readTextFile(log)).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines, [
      { figure: n0, title: "first", via: "show" },
      { figure: n0 + 1, title: "a cell's value", via: "value" },
      { figure: n0 + 2, title: "live", via: "live" },
    ]);
  } finally {
    Deno.env.delete(FIGURE_LOG_ENV);
    await Deno.remove(log);
  }
});

Deno.test("inlined plotly.js and figure data cannot close their <script> early", () => {
  resetPlotlySession();
  const html = mimeBundle(fig([1], "</script><script>alert(1)</script>"))["text/html"];
  const opens = count(html.toLowerCase(), "<script");
  const closes = count(html.toLowerCase(), "</script");
  assert.equal(opens, closes);
  assert.equal(opens, 3); // plotly.js, the queue drain, the figure
  assert.ok(!html.includes("<!--"), "no comment opener inside scripts");
});

Deno.test("a figure that is a cell's value displays itself, also after spreading", () => {
  resetPlotlySession();
  const f = makeFigure({ data: [{ type: "scatter", x: [0, 1], y: [1, 2] }] });
  assert.equal(JUPYTER_DISPLAY, Symbol.for("Jupyter.display"));
  const b = f[JUPYTER_DISPLAY]() as Record<string, unknown>;
  assert.ok("application/vnd.plotly.v1+json" in b && "image/svg+xml" in b);
  const copy = { ...f, layout: { ...f.layout, title: { text: "copy" } } };
  const b2 = (copy as typeof f)[JUPYTER_DISPLAY]() as { "text/plain": string };
  assert.match(b2["text/plain"], /^Figure "copy"/);
  assert.ok(!JSON.stringify(f).includes("Jupyter"));
});

Deno.test("show prints a summary outside Jupyter", async () => {
  const logged: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void logged.push(a.join(" "));
  try {
    await show(fig([0.7, 0.6]));
  } finally {
    console.log = orig;
  }
  assert.equal(logged.length, 1);
  assert.equal(logged[0], summarize(fig([0.7, 0.6])));
});

Deno.test("show sends a raw bundle through Deno.jupyter.display", async () => {
  resetPlotlySession();
  await withKernel(async (calls) => {
    await show(fig([1, 2]), { displayId: "curves" });
    await show(fig([2, 3]), { displayId: "curves", update: true });
    // 0: plotly.js alone in its own output; 1: the figure; 2: its in-place update.
    assert.equal(calls.length, 3);
    assert.deepEqual(calls[0].opts, { raw: true });
    assert.equal(count(String(calls[0].obj["text/html"]), PLOTLY_BANNER), 1);
    assert.ok(!("application/vnd.plotly.v1+json" in calls[0].obj));
    assert.deepEqual(calls[1].opts, { raw: true, update: false, display_id: "curves" });
    assert.deepEqual(calls[2].opts, { raw: true, update: true, display_id: "curves" });
    assert.equal(count(String(calls[1].obj["text/html"]), PLOTLY_BANNER), 0);
    assert.equal(count(String(calls[2].obj["text/html"]), PLOTLY_BANNER), 0);
    assert.ok("application/vnd.plotly.v1+json" in calls[1].obj);
    await assert.rejects(() => show(fig([1]), { update: true }), TypeError);
  });
});

Deno.test("liveFigure: plotly.js in its own output, then in-place updates without it", async () => {
  resetPlotlySession();
  await withKernel(async (calls) => {
    const live = liveFigure(fig([1]), { displayId: "train", minIntervalMs: 0 });
    await live.update(fig([1, 2]));
    await live.update(fig([1, 2, 3]));
    await live.flush();
    assert.equal(calls.length, 4);
    // 0: the loader alone, not tied to the display id (updates would erase it).
    assert.equal(count(String(calls[0].obj["text/html"]), PLOTLY_BANNER), 1);
    assert.deepEqual(calls[0].opts, { raw: true });
    assert.deepEqual(calls[1].opts, { raw: true, display_id: "train" });
    for (const c of calls.slice(2)) {
      assert.deepEqual(c.opts, { raw: true, update: true, display_id: "train" });
      assert.equal(count(String(c.obj["text/html"]), PLOTLY_BANNER), 0);
      assert.ok("image/svg+xml" in c.obj && "application/vnd.plotly.v1+json" in c.obj);
    }
    const last = calls[3].obj["application/vnd.plotly.v1+json"] as { data: Array<{ y: number[] }> };
    assert.deepEqual(last.data[0].y, [1, 2, 3]);
  });
});

Deno.test("liveFigure throttles: updates inside the interval collapse to the newest on flush", async () => {
  resetPlotlySession();
  await withKernel(async (calls) => {
    const live = liveFigure(fig([0]), { minIntervalMs: 60_000 });
    for (let n = 2; n <= 6; n++) await live.update(fig(Array(n).fill(1)));
    assert.equal(calls.length, 2, "loader + initial display only, updates held back");
    await live.flush();
    assert.equal(calls.length, 3);
    const sent = calls[2].obj["application/vnd.plotly.v1+json"] as { data: Array<{ y: number[] }> };
    assert.equal(sent.data[0].y.length, 6);
    assert.equal(calls[2].opts.display_id, live.displayId);
    await live.flush(); // nothing pending: nothing sent
    assert.equal(calls.length, 3);
  });
  assert.throws(() => liveFigure(fig([0]), { minIntervalMs: -1 }), RangeError);
});

Deno.test("liveFigure sends a held-back update by itself once the interval has passed", async () => {
  resetPlotlySession();
  await withKernel(async (calls) => {
    const live = liveFigure(fig([0]), { minIntervalMs: 40 });
    await live.update(fig([0, 1]));
    assert.equal(calls.length, 2);
    await new Promise((r) => setTimeout(r, 120));
    await live.flush();
    assert.equal(calls.length, 3);
    assert.equal(calls[2].opts.update, true);
  });
});

Deno.test("liveFigure outside Jupyter prints the final summary on flush", async () => {
  const logged: string[] = [];
  const orig = console.log;
  console.log = (...a: unknown[]) => void logged.push(a.join(" "));
  try {
    const live = liveFigure(fig([1]));
    await live.update(fig([1, 2, 3]));
    assert.equal(logged.length, 0);
    await live.flush();
  } finally {
    console.log = orig;
  }
  assert.equal(logged.length, 1);
  assert.match(logged[0], /3 points/);
});
