// %% [markdown]
// # 00 · Set-up check
//
// **Question.** Does the stack work on this machine: which TensorFlow.js backend runs, on what
// adapter, how fast is a small matrix product, and do plotly figures display from the Deno kernel?
//
// **Expected.** On a machine with a GPU: `webgpu` on a hardware adapter. On a CPU-only machine:
// the fastest backend that passed the conformance test, by measurement (`wasm` on the 2-core
// machine we measured; `webgpu` on Mesa's llvmpipe is the software fallback for WebGPU). The
// figure below renders as an interactive plot (plotly MIME bundle or offline HTML) or, where no
// JavaScript runs, as a static SVG.

// %%
import * as lab from "../lib/mod.ts";
const report = await lab.setupNotebook();

// %% [markdown]
// ## A tiny tensor benchmark
// Median time of an `n x n` matrix product on the chosen backend, for a few sizes (the first call
// of each size compiles kernels and is excluded).

// %%
const sizes = lab.bySmoke([64, 128, 256, 512], [64, 128]);
const bench = await lab.matmulBenchmark({ sizes, repeats: lab.bySmoke(5, 2) });
lab.printTable(
  bench.map((b) => ({ n: b.n, "median ms": b.medianMs.toFixed(2), GFLOP_s: b.gflops.toFixed(2) })),
);

// %%
await lab.show(lab.lineFigure(
  { x: bench.map((b) => b.n), y: bench.map((b) => b.gflops), name: report.name },
  {
    title: `matmul throughput on ${report.name}`,
    xTitle: "matrix size n (n x n)",
    yTitle: "throughput (GFLOP/s)",
  },
));

// %% [markdown]
// ## Measured
// The last cell prints what this run found, computed from the values above.

// %%
const best = bench.reduce((a, b) => (b.gflops > a.gflops ? b : a));
console.log(lab.wrapText(
  `backend: ${report.name} on ${report.adapter} (${report.hardware ? "hardware" : "CPU/software"})`,
));
console.log(
  `fastest matmul: n=${best.n}, ${best.gflops.toFixed(2)} GFLOP/s, ${best.medianMs.toFixed(2)} ms`,
);
console.log(
  report.hardware || report.softwareFallback || report.name !== "webgpu"
    ? "as expected: a backend started and computed"
    : "unexpected: webgpu reported neither hardware nor software",
);
