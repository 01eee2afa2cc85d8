import assert from "node:assert/strict";
import { useCpu } from "../helpers.ts";
import { createObjective, OBJECTIVES, resolveParams } from "../../lib/objectives/mod.ts";

await useCpu();

function throwsNaming(f: () => unknown, kind: typeof TypeError | typeof RangeError, name: string) {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${e}`);
    assert.match((e as Error).message, new RegExp(`'${name}'`), (e as Error).message);
    return true;
  });
}

Deno.test("beta <= 0 is a RangeError naming 'beta', for every objective that has a beta", () => {
  let n = 0;
  for (const e of OBJECTIVES) {
    const o = e.create();
    if (!("beta" in o.params) && e.name !== "mpo") continue;
    for (const beta of [0, -0.1]) throwsNaming(() => e.create({ beta }), RangeError, "beta");
    n++;
  }
  assert.ok(n >= 25, `only ${n} objectives with beta`);
});

Deno.test("label smoothing outside [0, 0.5) is a RangeError naming 'labelSmoothing'", () => {
  for (
    const name of ["dpo", "robust", "aot", "aot_unpaired", "simpo", "cpo", "alphapo", "alpha_dpo"]
  ) {
    for (const eps of [-0.01, 0.5, 0.7]) {
      throwsNaming(
        () => createObjective(name, { labelSmoothing: eps }),
        RangeError,
        "labelSmoothing",
      );
    }
    createObjective(name, { labelSmoothing: 0.49 });
  }
  // EXO needs ε > 0: log ε appears in its loss.
  throwsNaming(
    () => createObjective("exo_pair", { labelSmoothing: 0 }),
    RangeError,
    "labelSmoothing",
  );
});

Deno.test("other ranges: ldAlpha, tau, r1, lambda, enum values, non-finite numbers", () => {
  throwsNaming(() => createObjective("dpo", { ldAlpha: 1.5 }), RangeError, "ldAlpha");
  throwsNaming(() => createObjective("discopop", { tau: 0 }), RangeError, "tau");
  throwsNaming(() => createObjective("sgdpo", { r1: 0 }), RangeError, "r1");
  throwsNaming(() => createObjective("sgdpo_multiplier", { mode: "both" }), RangeError, "mode");
  throwsNaming(() => createObjective("dpop", { lambda: -1 }), RangeError, "lambda");
  throwsNaming(
    () => createObjective("dpo", { fDivergence: "hellinger" }),
    RangeError,
    "fDivergence",
  );
  throwsNaming(() => createObjective("dpo", { beta: Infinity }), RangeError, "beta");
  throwsNaming(() => createObjective("alphapo", { alpha: 0 }), RangeError, "alpha");
  throwsNaming(() => createObjective("tdpo", { variant: 3 }), RangeError, "variant");
  throwsNaming(() => createObjective("spo", { lambda: -2 }), RangeError, "lambda");
});

Deno.test("unknown and mistyped parameters are TypeErrors naming them", () => {
  throwsNaming(() => createObjective("dpo", { betta: 0.1 }), TypeError, "betta");
  throwsNaming(() => createObjective("dpo", { beta: "0.1" }), TypeError, "beta");
  throwsNaming(() => createObjective("dpo", { referenceFree: 1 }), TypeError, "referenceFree");
  throwsNaming(() => createObjective("spo", { base: "simpo", alpha: 1 }), TypeError, "alpha");
  throwsNaming(() => createObjective("alpha_dpo", { mu: 1 }), TypeError, "mu");
  throwsNaming(() => createObjective("mpo", { tau: 1 }), TypeError, "tau");
});

Deno.test("TRL and snake_case spellings are accepted; giving a name twice is an error", () => {
  assert.equal(createObjective("dpo", { label_smoothing: 0.2 }).params.labelSmoothing, 0.2);
  assert.equal(
    createObjective("dpo", { f_divergence_type: "js_divergence" }).params.fDivergence,
    "js_divergence",
  );
  assert.equal(createObjective("simpo", { gamma_beta_ratio: 0.5 }).params.gammaBetaRatio, 0.5);
  assert.equal(
    createObjective("sgdpo_multiplier", { lambda_chosen: 0.3 }).params.lambdaChosen,
    0.3,
  );
  assert.equal(createObjective("cpo", { cpo_alpha: 0.4 }).params.alpha, 0.4);
  assert.throws(
    () => createObjective("dpo", { labelSmoothing: 0.1, label_smoothing: 0.2 }),
    TypeError,
  );
});

Deno.test("resolveParams fills defaults and checks interval ends", () => {
  const spec = {
    a: { default: 1, type: "number", range: "(0, 1]", about: "" },
    b: { default: undefined, type: "number", range: "[-1, inf)", about: "" },
  } as const;
  assert.deepEqual(resolveParams("t", {}, spec), { a: 1, b: undefined });
  assert.deepEqual(resolveParams("t", { a: 1, b: -1 }, spec), { a: 1, b: -1 });
  assert.throws(() => resolveParams("t", { a: 0 }, spec), RangeError);
  assert.throws(() => resolveParams("t", { b: -1.5 }, spec), RangeError);
  assert.throws(
    () => resolveParams("t", [] as unknown as Record<string, unknown>, spec),
    TypeError,
  );
});
