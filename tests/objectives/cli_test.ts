/** `lab objectives`: list, eval against float64 formulas, and errors that name row and field. */
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { objectivesCommand } from "../../lib/objectives/cli.ts";
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
    [JSON.stringify(ROWS), "tdpo", /per-token/, 2],
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

Deno.test("the real entry point: deno run lib/cli.ts objectives eval prints JSON on stdout only", async () => {
  await withInput(JSON.stringify(ROWS.slice(0, 1)), async (path) => {
    const p = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "lib/cli.ts",
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
