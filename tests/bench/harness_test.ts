/**
 * `lab bench` harness logic, with no timing assertions: medians and spreads worked by hand, the
 * results JSON and markdown shape, the peer's detection fallbacks and result checks, argument
 * parsing and the goal verdicts.
 */
import assert from "node:assert/strict";
import { assertClose } from "../helpers.ts";
import {
  formatNumber,
  median,
  quantileSorted,
  rateSummary,
  summarize,
} from "../../tools/bench/stats.ts";
import { cpuModel, parseLoadAverage } from "../../tools/bench/machine.ts";
import {
  detectPeer,
  parsePeerResult,
  peerSanity,
  peerSpec,
  type Runner,
} from "../../tools/bench/peer.ts";
import {
  BEGIN_MARK,
  type BenchResults,
  END_MARK,
  evaluateGoals,
  type Figure,
  machineSlug,
  peerRatios,
  renderResults,
  RESULTS_FORMAT,
  spliceResults,
} from "../../tools/bench/report.ts";
import { parseBenchArgs } from "../../tools/bench/cli.ts";
import { aggregateKernels } from "../../tools/bench/profile.ts";
import { planModels } from "../../tools/bench/run.ts";
import { DEFAULT_DPO_SETTINGS } from "../../tools/bench/steps.ts";
import { batchTokens, syntheticBatches, syntheticPairs } from "../../tools/bench/workload.ts";

Deno.test("stats: median, quartiles and relative spread by hand", () => {
  // Sorted: 1 2 4 8 10. Median 4; type-7 quartiles at positions 1 and 3: 2 and 8.
  const s = summarize([8, 1, 10, 4, 2]);
  assert.deepEqual(
    [s.n, s.median, s.min, s.max, s.q1, s.q3],
    [5, 4, 1, 10, 2, 8],
  );
  assert.equal(s.relIqr, (8 - 2) / 4);
  // Even count: the mean of the middle two; q1 at position 0.75 = 1 + 0.75 * (2 - 1).
  assert.equal(median([4, 1, 2, 3]), 2.5);
  assert.equal(quantileSorted([1, 2, 3, 4], 0.25), 1.75);
  const one = summarize([7]);
  assert.deepEqual([one.median, one.q1, one.q3, one.relIqr], [7, 7, 7, 0]);
});

Deno.test("stats: rates from durations, and failures are not numbers", () => {
  // 1024 tokens in 512, 256 and 1024 ms: 2000, 4000 and 1000 tokens/s; median 2000.
  const r = rateSummary([512, 256, 1024], 1024);
  assert.equal(r.median, 2000);
  assert.equal(r.min, 1000);
  assert.equal(r.max, 4000);
  assert.throws(() => summarize([]), /no measurements/);
  assert.throws(() => summarize([1, NaN]), /measurement 1 is NaN/);
  assert.throws(() => rateSummary([0], 1), /duration 0 is 0 ms/);
  assert.equal(formatNumber(0.000012345), "1.23e-5");
  assert.equal(formatNumber(2), "2.00");
});

Deno.test("machine: load average and processor model parsing", () => {
  assert.deepEqual(parseLoadAverage("0.52 1.25 3.00 1/123 999"), [0.52, 1.25, 3]);
  assert.throws(() => parseLoadAverage("garbage"), /loadavg/);
  assert.equal(cpuModel("processor\t: 0\nmodel name\t: Some CPU @ 2.0GHz\n"), "Some CPU @ 2.0GHz");
  assert.equal(cpuModel("no such line"), "unknown");
  assert.equal(
    machineSlug({
      os: "linux x86_64",
      cores: 16,
      cpu: "Intel(R) Xeon(R) CPU @ 2.2GHz",
      nvidiaGpu: true,
    }),
    "linux-x86_64-16c-intel-xeon",
  );
});

Deno.test("workload: synthetic batches have fixed lengths and count tokens as rows x length", () => {
  const shape = { pairs: 3, length: 10, promptLength: 4 };
  const [b] = syntheticBatches(50, shape, 1);
  assert.equal(b!.size, 3);
  assert.equal(b!.length, 10);
  assert.equal(b!.inputIds.length, 2 * 3 * 10);
  // Every row is prompt (4) + completion (6): no padding, so every attention entry is 1.
  assert.ok(b!.attentionMask.every((x) => x === 1));
  assert.equal(b!.completionMask.reduce((a, x) => a + x, 0), 6 * 6);
  assert.equal(batchTokens(shape), 60);
  // Seeded: the same seed gives the same ids; the chosen and rejected rows share the prompt.
  const [p] = syntheticPairs(50, shape, 1, 7), [q] = syntheticPairs(50, shape, 1, 7);
  assert.deepEqual(p, q);
  assert.throws(() => syntheticPairs(50, { ...shape, promptLength: 10 }, 1, 0), /no completion/);
});

const fakeRun =
  (answers: Record<string, { code: number; stdout: string; stderr?: string }>): Runner => (cmd) =>
    Promise.resolve({
      stderr: "",
      ...(answers[cmd] ?? { code: 127, stdout: "", stderr: `${cmd}: not found` }),
    });

Deno.test("peer detection: falls through missing and torch-less Pythons, says why", async () => {
  const none = await detectPeer({
    pythons: ["/missing/python3", "python-without-torch"],
    run: fakeRun({
      "python-without-torch": {
        code: 0,
        stdout: '{"ok": false, "error": "ModuleNotFoundError: No module named \'torch\'"}\n',
      },
    }),
  });
  assert.equal(none.available, false);
  assert.match(none.reason!, /\/missing\/python3: exit 127/);
  assert.match(none.reason!, /python-without-torch: ModuleNotFoundError/);
  const found = await detectPeer({
    pythons: ["/usr/bin/python3", "python3"],
    run: fakeRun({
      "python3": { code: 0, stdout: '{"ok": true, "torch": "2.1.0", "cuda": false}' },
    }),
  });
  assert.deepEqual([found.available, found.python, found.torch], [true, "python3", "2.1.0"]);
  const garbled = await detectPeer({
    pythons: ["p"],
    run: fakeRun({ p: { code: 0, stdout: "Traceback ..." } }),
  });
  assert.match(garbled.reason!, /printed no JSON/);
});

Deno.test("peer: spec carries the batches and AdamW settings; results are checked field by field", () => {
  const batches = syntheticBatches(20, { pairs: 1, length: 5, promptLength: 2 }, 2);
  const spec = peerSpec({
    config: { n_embd: 8 },
    weights: "/tmp/w.safetensors",
    batches,
    settings: DEFAULT_DPO_SETTINGS,
    dpoSteps: 4,
    dpoWarmup: 1,
    scoreRepeats: 3,
    threads: 2,
    chesPasses: { batches: batches.slice(0, 1), repeats: 2 },
  });
  assert.equal(spec.batches.length, 2);
  // CHES batches carry each row's prompt and completion lengths (2 + 3 tokens, both rows).
  assert.deepEqual(
    [spec.ches?.batches[0]?.prompt_length, spec.ches?.batches[0]?.completion_length],
    [[2, 2], [3, 3]],
  );
  assert.equal(spec.ches?.repeats, 2);
  assert.deepEqual(spec.batches[1]!.input_ids, Array.from(batches[1]!.inputIds));
  assert.deepEqual(
    [spec.dpo.lr, spec.dpo.beta, spec.dpo.weight_decay, spec.dpo.steps, spec.threads],
    [1e-4, 0.1, 0.01, 4, 2],
  );
  assert.throws(
    () =>
      peerSpec({
        ...spec,
        config: {},
        weights: "",
        batches,
        settings: { ...DEFAULT_DPO_SETTINGS, optimizer: { name: "sgd" } },
        dpoSteps: 1,
        dpoWarmup: 0,
        scoreRepeats: 1,
      }),
    /runs AdamW/,
  );
  const ok = parsePeerResult(
    'warning line\n{"torch":"1.13","device":"cpu","device_name":"cpu","threads":2,"blas":[],' +
      '"params":5,"first_batch_logps":[-1],"dpo":{"losses":[0.69],"times_ms":[10],"cpu_ms":[9]}}',
  );
  assert.deepEqual(ok.dpo!.times_ms, [10]);
  assert.throws(() => parsePeerResult("not json"), /not JSON/);
  assert.throws(() => parsePeerResult('{"torch":1}'), /'torch' is not a string/);
  assert.throws(
    () =>
      parsePeerResult(
        '{"torch":"1","device":"cpu","device_name":"cpu","threads":1,"params":1,"first_batch_logps":[],"dpo":{}}',
      ),
    /dpo.times_ms/,
  );
  assert.throws(
    () =>
      parsePeerResult(
        '{"torch":"1","device":"cpu","device_name":"cpu","threads":1,"params":1,"first_batch_logps":[],"matmul":[{"shape":[1,2,3]}]}',
      ),
    /'matmul' is not a list of \{shape, ms\}/,
  );
});

Deno.test("peer sanity: relative log-prob error and loss differences by hand", () => {
  // max |diff| = 0.02 (second entry), max |peer| = 40: 5e-4 > 1e-4 -> mismatch.
  const bad = peerSanity({ logps: [-10, -40.02], losses: [0.7] }, {
    logps: [-10, -40],
    losses: [0.7],
  });
  assertClose(bad.logpRelError, 0.02 / 40, { rtol: 1e-9 });
  assert.equal(bad.ok, false);
  const good = peerSanity(
    { logps: [-10, -40], losses: [0.6931, 0.65, 0.6] },
    { logps: [-10, -40.0001], losses: [0.6931, 0.6502] },
  );
  // Only the two steps both ran are compared.
  assertClose(good.lossAbsError, 0.0002, { atol: 1e-12 });
  assert.equal(good.ok, true);
  // No steps on our side: the log-probs decide.
  assert.equal(peerSanity({ logps: [-3], losses: [] }, { logps: [-3], losses: [0.69] }).ok, true);
  assert.throws(
    () => peerSanity({ logps: [1], losses: [] }, { logps: [1, 2], losses: [] }),
    /1 log-probs/,
  );
});

Deno.test("profile: kernel times summed by name, untimed kernels counted", () => {
  const k = aggregateKernels([
    { name: "Add", kernelTimeMs: 1 },
    { name: "BatchMatMul", kernelTimeMs: 4 },
    { name: "Add", kernelTimeMs: 2 },
    { name: "Exp", kernelTimeMs: { error: "no timestamps" } },
  ]);
  assert.deepEqual(k.kernels.map((x) => [x.name, x.ms, x.calls]), [
    ["BatchMatMul", 4, 1],
    ["Add", 3, 2],
    ["Exp", 0, 1],
  ]);
  assert.equal(k.kernelMs, 7);
  assert.equal(k.untimed, 1);
});

Deno.test("cli: arguments parsed, errors name the flag", () => {
  const a = parseBenchArgs([
    "--quick",
    "--backends",
    "wasm",
    "--python",
    "/opt/py",
    "--memory-steps",
    "50",
  ]);
  assert.deepEqual([a.quick, a.backends, a.python, a.memorySteps], [true, ["wasm"], "/opt/py", 50]);
  assert.throws(() => parseBenchArgs(["--backends", "tpu"]), /--backends: unknown backend 'tpu'/);
  assert.throws(
    () => parseBenchArgs(["--peer-threads", "0"]),
    /--peer-threads: expected a positive integer/,
  );
  assert.throws(() => parseBenchArgs(["--memory-steps", "5"]), /at least 11/);
  assert.throws(() => parseBenchArgs(["--skip", "peer"]), /--skip: unknown part 'peer'/);
  assert.throws(() => parseBenchArgs(["--json"]), /--json: missing value/);
  assert.throws(() => parseBenchArgs(["--fast"]), /unknown option '--fast'/);
});

Deno.test("plan: the quick run has one small model; the full run adds GPT-2 small without cpu", () => {
  const quick = planModels({ quick: true, tmpDir: "/tmp" }, "data/models/tiny", ["wasm", "cpu"]);
  assert.deepEqual(quick.map((p) => p.label), ["tiny (shipped)"]);
  const full = planModels({ quick: false, tmpDir: "/tmp" }, undefined, ["wasm", "webgpu", "cpu"]);
  assert.deepEqual(full.map((p) => p.label), [
    "tiny (random init)",
    "gpt2-small 124M (random init)",
  ]);
  // GPT-2 small: not on cpu; not on webgpu whose binding limit (128 MiB) is below its 147 MiB
  // embedding; its DPO step is not attempted on wasm (4 GiB heap).
  assert.deepEqual(full[1]!.backends, ["wasm"]);
  assert.deepEqual(Object.keys(full[1]!.excluded!).sort(), ["cpu", "webgpu"]);
  assert.match(full[1]!.excluded!.webgpu!, /147 MiB\) exceeds .* \(0 MiB\)/);
  assert.ok(full[1]!.noDpoStep!.wasm!.includes("4 GiB"));
  const gpu = planModels({ quick: false, tmpDir: "/tmp" }, undefined, ["webgpu", "wasm"], {
    webgpuMaxBinding: 2 ** 31,
  });
  assert.deepEqual(gpu[1]!.backends, ["webgpu", "wasm"]);
  assert.equal(gpu[1]!.excluded!.webgpu, undefined);
  assert.equal(full[1]!.config!.n_embd, 768);
  assert.equal(
    planModels({ quick: false, skipLarge: true, tmpDir: "/tmp" }, undefined, []).length,
    1,
  );
});

function summary(m: number) {
  return { n: 3, median: m, min: m, max: m, q1: m, q3: m, relIqr: 0 };
}

function fig(task: Figure["task"], backend: string, rate: number, model = "tiny"): Figure {
  return {
    task,
    model,
    backend,
    unit: "tokens/s",
    unitsPerRun: 1024,
    rate: summary(rate),
    wallMs: summary(1),
  };
}

function results(): BenchResults {
  const figures = [
    fig("dpo_step", "wasm", 900),
    fig("dpo_step", "webgpu", 300),
    fig("dpo_step", "torch-cpu-1t", 450),
    fig("dpo_step", "torch-cpu-2t", 600),
    fig("score", "wasm", 5000),
    fig("ches", "wasm", 20),
  ];
  const r: BenchResults = {
    format: RESULTS_FORMAT,
    startedAt: "2026-01-01T00:00:00.000Z",
    finishedAt: "2026-01-01T00:10:00.000Z",
    quick: false,
    machine: {
      cpu: "Test CPU",
      cores: 2,
      memoryGiB: 8,
      os: "linux x86_64",
      webgpuAdapter: "none",
      nvidiaGpu: false,
      deno: "2.0.0",
      v8: "1",
      typescript: "5",
      tfjs: "4.22.0",
      hostname: "h",
    },
    load: { start: [0.5, 0.4, 0.3], end: [1.5, 0.6, 0.4] },
    defaultBackend: "wasm",
    backends: [{
      name: "wasm",
      started: true,
      conformance: { ok: true, maxError: 1e-6, worst: "wte", tolerance: 1e-4 },
    }],
    models: [],
    figures,
    peer: {
      available: true,
      torch: "1.13",
      python: "/usr/bin/python3",
      device: "cpu",
      threads: [1, 2],
      blas: [],
    },
    trackers: {
      levels: [
        { level: "off", wallMs: [100, 110], cpuMs: [100, 100] },
        { level: "rewards", wallMs: [101, 111], cpuMs: [101, 101] },
        { level: "all", wallMs: [105, 115], cpuMs: [105, 105] },
      ],
      ratio: 1.05,
      cpuRatio: 1.05,
      rewardsRatio: 1.01,
      measurementMs: 40,
      steps: 20,
      setting: { every: 10, trackedPairs: 16, gradientPairs: 4 },
      backend: "wasm",
      model: "tiny",
    },
    memory: {
      points: [{ step: 10, tensors: 700, tensorBytes: 1 }, {
        step: 1000,
        tensors: 700,
        tensorBytes: 1,
      }],
      tensorGrowth: 0,
      stepsRun: 1000,
      seconds: 60,
      backend: "wasm",
      model: "tiny",
      batch: { pairs: 2, length: 64, promptLength: 32 },
    },
    matmul: { model: "tiny", shapes: [[100, 20, 30]], ms: { wasm: [0.5], "torch-cpu-1t": [0.2] } },
    goals: [],
    skipped: ["something"],
  };
  r.goals = evaluateGoals(r);
  return r;
}

Deno.test("goals: verdicts from the figures, and n/a where nothing was measured", () => {
  const r = results();
  const by = Object.fromEntries(r.goals.map((g) => [g.id, g]));
  // wasm 900 vs torch 600 tokens/s.
  assert.equal(by.cpu_vs_torch!.met, true);
  // Compared with the faster peer setting (2 threads: 600 tokens/s).
  assert.match(by.cpu_vs_torch!.measured, /^1\.50x \(wasm 900 vs torch-cpu-2t 600/);
  // Numeric value and target beside the text: 900 / 600 = 1.5 against 1.
  assert.deepEqual([by.cpu_vs_torch!.value, by.cpu_vs_torch!.target], [1.5, 1]);
  assert.equal(by.cpu_vs_torch!.comparison, ">=");
  assert.equal(by.cpu_vs_torch!.targetText, "ratio >= 1");
  assert.equal(by.gpu!.met, null);
  assert.equal(by.gpu!.value, null);
  assert.equal(by.gpu!.measured, "not measured: no GPU in this session");
  assert.deepEqual([by.trackers!.value, by.trackers!.target, by.trackers!.comparison], [
    1.05,
    1.1,
    "<=",
  ]);
  assert.equal(by.trackers!.targetText, "ratio <= 1.10");
  assert.deepEqual([by.leaks!.value, by.leaks!.target], [0, 0]);
  assert.equal(by.trackers!.met, true);
  assert.equal(by.leaks!.met, true);
  const ratios = peerRatios(r.figures);
  assert.deepEqual(ratios.map((x) => [x.backend, x.ratio]), [["wasm", 1.5], ["webgpu", 0.5]]);
  const none = evaluateGoals({ figures: [], defaultBackend: "wasm", machine: { nvidiaGpu: true } });
  assert.deepEqual(none.map((g) => g.id), [
    "cpu_vs_torch",
    "score_vs_torch",
    "ches_vs_torch",
    "gpu",
    "trackers",
    "leaks",
  ]);
  assert.deepEqual(none.map((g) => g.met), [null, null, null, null, null, null]);
  assert.deepEqual(none.map((g) => g.value), [null, null, null, null, null, null]);
  assert.match(none[3]!.measured, /no CUDA peer figure/);
});

Deno.test("goals: with a tracker-thread run the goal reads its ratio, and the text gives both", () => {
  const r = results();
  r.trackers = {
    ...r.trackers!,
    ratio: 1.24,
    levels: [...r.trackers!.levels, { level: "thread", wallMs: [102, 112], cpuMs: [130, 130] }],
    thread: { ratio: 102 / 100, cpuRatio: 1.3, endMs: 370 },
  };
  const g = evaluateGoals(r).find((x) => x.id === "trackers")!;
  assert.equal(g.value, 1.02);
  assert.equal(g.met, true);
  assert.match(
    g.measured,
    /^1\.02x wall .*worker thread.*1\.30x CPU.*1\.24x in the training thread/,
  );
  const md = renderResults(r, "bench/results.json");
  assert.match(md, /the run ends 370 ms later than with no tracker/);
});

Deno.test("report: the results survive a JSON round trip and render every section between the markers", () => {
  const r = results();
  assert.deepEqual(JSON.parse(JSON.stringify(r)), r);
  const md = renderResults(r, "bench/results-x.json");
  assert.ok(md.startsWith(BEGIN_MARK) && md.endsWith(END_MARK));
  for (
    const heading of [
      "#### Throughput",
      "#### Against PyTorch",
      "#### Tracker overhead",
      "#### Memory over a long run",
      "#### Matrix products at the step's shapes",
      "#### Goals",
      "Not measured in this run:",
    ]
  ) {
    assert.ok(md.includes(heading), heading);
  }
  assert.match(md, /load average \(1\/5\/15 min\) at the start 0\.50 \/ 0\.40 \/ 0\.30/i);
  // 2 * 100 * 20 * 30 = 120,000 FLOP: 0.24 GFLOPS in 0.5 ms, 0.6 in 0.2 ms.
  assert.match(md, /\| \[100, 20, 30\] \| 0\.240 \(0\.500\) \| 0\.600 \(0\.200\) \|/);
  assert.match(md, /\| DPO step .* \| tiny \| wasm \| 600 \| 1\.50x|\*\*1\.50x\*\*/);
  // Every table row has as many cells as its header.
  for (const block of md.split("\n\n").filter((b) => b.startsWith("| "))) {
    const rows = block.split("\n").map((l) => l.split(" | ").length);
    assert.ok(rows.every((n) => n === rows[0]), block.slice(0, 80));
  }
});

Deno.test("report: splicing replaces only the generated block, or appends one", () => {
  const doc = `# Benchmarks\n\nprose\n\n${BEGIN_MARK}\nold\n${END_MARK}\n\n## History\nkept\n`;
  const out = spliceResults(doc, `${BEGIN_MARK}\nnew\n${END_MARK}`);
  assert.equal(
    out,
    `# Benchmarks\n\nprose\n\n${BEGIN_MARK}\nnew\n${END_MARK}\n\n## History\nkept\n`,
  );
  assert.equal(spliceResults("# B\n", "X"), "# B\n\nX\n");
});
