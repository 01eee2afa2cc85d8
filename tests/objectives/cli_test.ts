/** `lab objectives`: list, eval against float64 formulas, and errors that name row and field. */
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { objectivesCommand } from "../../tools/commands/objectives.ts";
import { sig, sp } from "./_reference.ts";

await useCpu();

/** Run the command in-process, capturing stdout and stderr. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const log = console.log, error = console.error;
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    const code = await objectivesCommand(args);
    return { code, out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

async function withInput(text: string, f: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(path, text);
    await f(path);
  } finally {
    await Deno.remove(path);
  }
}

const ROWS = [
  {
    policy_chosen: -10.5,
    policy_rejected: -12.25,
    ref_chosen: -11,
    ref_rejected: -11.5,
    chosen_length: 5,
    rejected_length: 6,
  },
  {
    policy_chosen: -30,
    policy_rejected: -2,
    ref_chosen: -1,
    ref_rejected: -1000,
    chosen_length: 50,
    rejected_length: 6,
  },
];

Deno.test("list prints every objective with defaults, flags and the reconstructed label", async () => {
  const r = await run(["list"]);
  assert.equal(r.code, 0);
  for (
    const s of [
      "dpo (alias sigmoid)",
      '"beta":0.1',
      "sgdpo",
      "RECONSTRUCTED",
      "needs token data",
      "batch-coupled",
    ]
  ) {
    assert.ok(r.out.includes(s), `list output lacks ${s}`);
  }
  const j = JSON.parse((await run(["list", "--json"])).out);
  assert.equal(j.find((e: { name: string }) => e.name === "simpo").defaults.beta, 2);
});

Deno.test("eval dpo: loss, g_w, g_l per row against float64; snake_case params and TRL names", async () => {
  await withInput(JSON.stringify(ROWS), async (path) => {
    const r = await run([
      "eval",
      "--objective",
      "sigmoid",
      "--params",
      '{"beta":0.3,"label_smoothing":0.1}',
      "--input",
      path,
    ]);
    assert.equal(r.code, 0, r.err);
    const got = JSON.parse(r.out) as { loss: number; g_w: number; g_l: number }[];
    assert.equal(got.length, 2);
    ROWS.forEach((row, i) => {
      const h = (row.policy_chosen - row.ref_chosen) - (row.policy_rejected - row.ref_rejected);
      const z = 0.3 * h;
      assertClose(got[i].loss, 0.9 * sp(-z) + 0.1 * sp(z), { rtol: 1e-5, atol: 1e-6 });
      const gw = -0.3 * (sig(-z) - 0.1);
      assertClose(got[i].g_w, gw, { rtol: 1e-5, atol: 1e-7 });
      assertClose(got[i].g_l, -gw, { rtol: 1e-5, atol: 1e-7 });
    });
  });
});

Deno.test("eval: reference-free objectives accept rows without ref fields; --batch pools SFT", async () => {
  const rows = ROWS.map(({ ref_chosen: _a, ref_rejected: _b, ...rest }) => rest);
  await withInput(JSON.stringify(rows), async (path) => {
    const r = await run(["eval", "--objective", "simpo", "--input", path]);
    assert.equal(r.code, 0, r.err);
    const got = JSON.parse(r.out);
    const m = 2 * (-10.5 / 5 - -12.25 / 6) - 0.5;
    assertClose(got[0].loss, sp(-m), { rtol: 1e-5 });
    const b = JSON.parse(
      (await run(["eval", "--objective", "sft", "--input", path, "--batch"])).out,
    );
    assertClose(b[1].loss, (10.5 + 30) / 55, { rtol: 1e-6 });
    assertClose(b[1].g_w, -2 / 55, { rtol: 1e-6 });
    const single = JSON.parse((await run(["eval", "--objective", "sft", "--input", path])).out);
    assertClose(single[1].loss, 30 / 50, { rtol: 1e-6 });
  });
});

Deno.test("eval errors name the row and field and exit non-zero", async () => {
  const cases: [string, string, RegExp, number][] = [
    ["not json", "dpo", /not valid JSON/, 1],
    ['{"a":1}', "dpo", /JSON array/, 1],
    [
      JSON.stringify([ROWS[0], { ...ROWS[1], ref_chosen: undefined }]),
      "dpo",
      /row\[1\].*'ref_chosen'.*missing/,
      1,
    ],
    [
      JSON.stringify([{ ...ROWS[0], policy_chosen: "abc" }]),
      "dpo",
      /row\[0\].*'policy_chosen'.*finite/,
      1,
    ],
    [
      '[{"policy_chosen":1e999,"policy_rejected":-1,"ref_chosen":-1,"ref_rejected":-1,"chosen_length":1,"rejected_length":1}]',
      "dpo",
      /row\[0\].*'policy_chosen'/,
      1,
    ],
    [JSON.stringify([{ ...ROWS[0], chosen_length: 0 }]), "dpo", /row\[0\].*'chosen_length'/, 1],
    [JSON.stringify(ROWS), "dpoo", /unknown objective 'dpoo'/, 2],
    [JSON.stringify(ROWS), "tdpo", /row\[0\].*'policy_chosen_tokens'.*per-token/, 1],
  ];
  for (const [text, name, re, code] of cases) {
    await withInput(text, async (path) => {
      const r = await run(["eval", "--objective", name, "--input", path]);
      assert.equal(r.code, code, `${name} on ${text.slice(0, 40)}: ${r.err}`);
      assert.match(r.err, re);
      assert.equal(r.out, "");
    });
  }
  await withInput(JSON.stringify(ROWS), async (path) => {
    const bad = await run([
      "eval",
      "--objective",
      "dpo",
      "--params",
      '{"betta":1}',
      "--input",
      path,
    ]);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /'betta'/);
    const range = await run([
      "eval",
      "--objective",
      "dpo",
      "--params",
      '{"beta":-1}',
      "--input",
      path,
    ]);
    assert.equal(range.code, 2);
    assert.match(range.err, /'beta'/);
    assert.equal(
      (await run(["eval", "--objective", "dpo", "--input", "/nonexistent.json"])).code,
      1,
    );
    assert.equal((await run(["eval", "--input", path])).code, 2);
    assert.equal((await run(["frobnicate"])).code, 2);
  });
});

Deno.test("the real entry point: deno run tools/cli.ts objectives eval prints JSON on stdout only", async () => {
  await withInput(JSON.stringify(ROWS.slice(0, 1)), async (path) => {
    const p = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "tools/cli.ts",
        "objectives",
        "eval",
        "--objective",
        "ipo",
        "--input",
        path,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(p.code, 0, new TextDecoder().decode(p.stderr));
    const got = JSON.parse(new TextDecoder().decode(p.stdout));
    const r = ROWS[0];
    const hbar = (r.policy_chosen - r.ref_chosen) / 5 - (r.policy_rejected - r.ref_rejected) / 6;
    assertClose(got[0].loss, (hbar - 5) ** 2, { rtol: 1e-5 });
    assertClose(got[0].g_w, 2 * (hbar - 5) / 5, { rtol: 1e-5 });
  });
});

/** Token rows: per-token log-probs of both completions under policy and reference. */
const TOKEN_ROWS = [
  {
    policy_chosen_tokens: [-1, -2, -3, -1.5, -0.5],
    ref_chosen_tokens: [-1.2, -1.9, -3.3, -1, -0.7],
    policy_rejected_tokens: [-2, -1, -1, -1, -3, -2, -1, -1],
    ref_rejected_tokens: [-1.5, -1.2, -0.9, -1.1, -2.5, -2.2, -1.3, -0.8],
  },
  {
    // Extreme margin, unequal lengths, lengths stated.
    policy_chosen_tokens: [-0.1, -0.2, -0.1, -0.3, -0.1, -0.2, -0.4],
    ref_chosen_tokens: [-90, -80, -85, -70, -95, -60, -100],
    policy_rejected_tokens: [-120, -110, -99],
    ref_rejected_tokens: [-2, -3, -1],
    chosen_length: 7,
    rejected_length: 3,
  },
  {
    policy_chosen_tokens: [-4, -1],
    ref_chosen_tokens: [-3, -1.5],
    policy_rejected_tokens: [-0.5, -0.25, -2, -1, -3, -0.75],
    ref_rejected_tokens: [-1, -1, -1, -1, -1, -1],
  },
];
const sum = (v: number[]) => v.reduce((a, b) => a + b, 0);

/** SGDPO in float64 from the formula, given the pilot sets (relative positions). */
function sgdpo64(r: (typeof TOKEN_ROWS)[number], sw: number[], sl: number[], beta: number) {
  const uw = sum(r.policy_chosen_tokens) - sum(r.ref_chosen_tokens);
  const ul = sum(r.policy_rejected_tokens) - sum(r.ref_rejected_tokens);
  const pw = sum(sw.map((q) => r.policy_chosen_tokens[q] - r.ref_chosen_tokens[q]));
  const pl = sum(sl.map((q) => r.policy_rejected_tokens[q] - r.ref_rejected_tokens[q]));
  const z1 = beta * (uw - pl), z2 = beta * (pw - ul);
  return {
    loss: 0.5 * sp(-z1) + 0.5 * sp(-z2),
    g_w: -0.5 * beta * sig(-z1),
    g_l: 0.5 * beta * sig(-z2),
  };
}

async function evalRows(rows: unknown[], args: string[]) {
  let r = { code: -1, out: "", err: "" };
  await withInput(JSON.stringify(rows), async (path) => {
    r = await run(["eval", ...args, "--input", path]);
  });
  return r;
}

Deno.test("eval sgdpo on token rows: loss and mean per-token weights against float64, --seed", async () => {
  const { pilotSets } = await import("../../lib/objectives/sgdpo.ts");
  const lengths = (side: "chosen" | "rejected") =>
    TOKEN_ROWS.map((r) => r[`policy_${side}_tokens`].length);
  for (const [beta, r1, r2, seed] of [[0.1, 0.6, 0.9, 0], [0.5, 0.3, 1, 4], [2, 1, 0.5, 9]]) {
    const params = JSON.stringify({ beta, r1, r2 });
    for (const batch of [false, true]) {
      const got = await evalRows(TOKEN_ROWS, [
        "--objective",
        "sgdpo",
        "--params",
        params,
        "--seed",
        String(seed),
        ...(batch ? ["--batch"] : []),
      ]);
      assert.equal(got.code, 0, got.err);
      const out = JSON.parse(got.out);
      // Each row alone is call 0, row 0 of a fresh objective; a batch is call 0, rows 0..B-1.
      TOKEN_ROWS.forEach((row, i) => {
        const sets = pilotSets(
          { seed, call: 0, r1, r2 },
          batch ? lengths("chosen") : [lengths("chosen")[i]],
          batch ? lengths("rejected") : [lengths("rejected")[i]],
        );
        const k = batch ? i : 0;
        const e = sgdpo64(row, sets.chosen[k], sets.rejected[k], beta);
        const at = `row ${i} β ${beta} batch ${batch}`;
        assertClose(out[i].loss, e.loss, { rtol: 1e-5, atol: 1e-5, msg: `${at} loss` });
        assertClose(out[i].g_w, e.g_w, { rtol: 1e-4, atol: 1e-7, msg: `${at} g_w` });
        assertClose(out[i].g_l, e.g_l, { rtol: 1e-4, atol: 1e-7, msg: `${at} g_l` });
      });
    }
  }
  // The same seed repeats; another seed draws other sets (row 0 has distinct token ratios).
  const a = await evalRows(TOKEN_ROWS, ["--objective", "sgdpo", "--seed", "3"]);
  const b = await evalRows(TOKEN_ROWS, ["--objective", "sgdpo", "--seed", "3"]);
  assert.equal(a.out, b.out);
  // One at a time: run() swaps console.log while a command runs.
  const others = [];
  for (const s of [4, 5, 6]) {
    others.push(await evalRows(TOKEN_ROWS, ["--objective", "sgdpo", "--seed", String(s)]));
  }
  assert.ok(others.some((o) => JSON.parse(o.out)[0].loss !== JSON.parse(a.out)[0].loss));
  // With r1 = r2 = 1 and equal lengths the sets are every position: DPO's value, half weights.
  const eq = [{ ...TOKEN_ROWS[0], policy_rejected_tokens: [-2, -1, -1, -1, -3] }];
  eq[0].ref_rejected_tokens = [-1.5, -1.2, -0.9, -1.1, -2.5];
  const full = JSON.parse(
    (await evalRows(eq, ["--objective", "sgdpo", "--params", '{"r1":1,"r2":1}'])).out,
  )[0];
  const h = sum(eq[0].policy_chosen_tokens) - sum(eq[0].ref_chosen_tokens) -
    (sum(eq[0].policy_rejected_tokens) - sum(eq[0].ref_rejected_tokens));
  assertClose(full.loss, sp(-0.1 * h), { rtol: 1e-5 });
  assertClose(full.g_w, -0.05 * sig(-0.1 * h), { rtol: 1e-4 });
  assertClose(full.g_l, 0.05 * sig(-0.1 * h), { rtol: 1e-4 });
});

Deno.test("eval on token rows: sequence objectives use the sums; TDPO and LD-DPO their tokens", async () => {
  const beta = 0.1;
  const dpoOut = JSON.parse((await evalRows(TOKEN_ROWS, ["--objective", "dpo"])).out);
  TOKEN_ROWS.forEach((r, i) => {
    const h = sum(r.policy_chosen_tokens) - sum(r.ref_chosen_tokens) -
      (sum(r.policy_rejected_tokens) - sum(r.ref_rejected_tokens));
    assertClose(dpoOut[i].loss, sp(-beta * h), { rtol: 1e-5, atol: 1e-6 });
    assertClose(dpoOut[i].g_w, -beta * sig(-beta * h), { rtol: 1e-4, atol: 1e-8 });
    assertClose(dpoOut[i].g_l, beta * sig(-beta * h), { rtol: 1e-4, atol: 1e-8 });
  });
  // TDPO2: softplus(−β(h − α(K_l − K_w))), K = Σ_t KL; the KL values are row inputs.
  const kl = [
    {
      kl_chosen_tokens: [0.1, 0.2, 0.05, 0, 0.3],
      kl_rejected_tokens: [0, 0.4, 0.1, 0, 0.2, 0.1, 0, 0.3],
    },
    { kl_chosen_tokens: [1, 1, 1, 1, 1, 1, 1], kl_rejected_tokens: [0.5, 0.5, 2] },
    { kl_chosen_tokens: [0.2, 0.1], kl_rejected_tokens: [0, 0, 0, 0, 0, 1] },
  ];
  const rows = TOKEN_ROWS.map((r, i) => ({ ...r, ...kl[i] }));
  const tdpoOut = JSON.parse((await evalRows(rows, ["--objective", "tdpo"])).out);
  rows.forEach((r, i) => {
    const h = sum(r.policy_chosen_tokens) - sum(r.ref_chosen_tokens) -
      (sum(r.policy_rejected_tokens) - sum(r.ref_rejected_tokens));
    const z = beta * (h - 0.5 * (sum(r.kl_rejected_tokens) - sum(r.kl_chosen_tokens)));
    assertClose(tdpoOut[i].loss, sp(-z), { rtol: 1e-5, atol: 1e-6 });
    assertClose(tdpoOut[i].g_w, -beta * sig(-z), { rtol: 1e-4, atol: 1e-8 });
    assertClose(tdpoOut[i].g_l, beta * sig(-z), { rtol: 1e-4, atol: 1e-8 });
  });
  // LD-DPO (α = 0.5): tokens past l_p = min(n_w, n_l) count α, so the mean per-token weight
  // of the longer side is g·(l_p + α(n − l_p))/n.
  const ld = JSON.parse((await evalRows(TOKEN_ROWS, ["--objective", "ld_dpo"])).out);
  TOKEN_ROWS.forEach((r, i) => {
    const nw = r.policy_chosen_tokens.length, nl = r.policy_rejected_tokens.length;
    const lp = Math.min(nw, nl);
    const agg = (pol: number[], ref: number[]) =>
      sum(pol.map((x, k) => (x - ref[k]) * (k < lp ? 1 : 0.5)));
    const h = agg(r.policy_chosen_tokens, r.ref_chosen_tokens) -
      agg(r.policy_rejected_tokens, r.ref_rejected_tokens);
    const g = beta * sig(-beta * h);
    assertClose(ld[i].loss, sp(-beta * h), { rtol: 1e-5, atol: 1e-6 });
    assertClose(ld[i].g_w, -g * (lp + 0.5 * (nw - lp)) / nw, { rtol: 1e-4, atol: 1e-8 });
    assertClose(ld[i].g_l, g * (lp + 0.5 * (nl - lp)) / nl, { rtol: 1e-4, atol: 1e-8 });
  });
  // No objective is refused any more.
  const list = await run(["list"]);
  assert.ok(!list.out.includes("not available to eval"));
});

Deno.test("eval token rows: bad rows exit 1 naming the row and field", async () => {
  const r0 = TOKEN_ROWS[0];
  const cases: [unknown[], string, RegExp][] = [
    [
      [r0, { ...r0, chosen_length: 4 }],
      "sgdpo",
      /row\[1\].*'policy_chosen_tokens' has 5 entries.*'chosen_length' is 4/,
    ],
    [[{ ...r0, ref_rejected_tokens: [-1, -2] }], "sgdpo", /row\[0\].*'ref_rejected_tokens' has 2/],
    [
      [{ ...r0, policy_rejected_tokens: [] }],
      "dpo",
      /row\[0\].*'policy_rejected_tokens'.*non-empty/,
    ],
    [
      [{ ...r0, ref_chosen_tokens: [-1, "a", -1, -1, -1] }],
      "sgdpo",
      /row\[0\].*'ref_chosen_tokens'\[1\]/,
    ],
    [
      [{ ...r0, policy_chosen_tokens: [-1, null, -1, -1, -1] }],
      "dpo",
      /row\[0\].*'policy_chosen_tokens'\[1\]/,
    ],
    [[{ ...r0, ref_chosen_tokens: "x" }], "sgdpo", /row\[0\].*'ref_chosen_tokens'/],
    [
      [r0, { ...r0, ref_rejected_tokens: undefined }],
      "sgdpo",
      /row\[1\].*'ref_rejected_tokens'.*missing/,
    ],
    [
      [{ ...r0, policy_chosen: -3 }],
      "dpo",
      /row\[0\].*'policy_chosen' is -3 but 'policy_chosen_tokens' sums/,
    ],
    [[r0], "tdpo", /row\[0\].*kl_chosen_tokens/],
    [[r0], "wpo", /row\[0\].*chosen_logsumsq_tokens/],
  ];
  for (const [rows, name, re] of cases) {
    const r = await evalRows(rows, ["--objective", name]);
    assert.equal(r.code, 1, `${name}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.out, "");
  }
  const bad = await evalRows([r0], ["--objective", "sgdpo", "--seed", "-2"]);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--seed/);
});
