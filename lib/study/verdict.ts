/**
 * A study's final table in two parts: sanity checks (the code agrees with its own theory, or a
 * property that holds by construction; they test the machinery, not the papers) and findings
 * (a paper's claim measured on data, with mean, 95% interval, threshold and verdict). Only
 * findings count in the study's verdict.
 *
 * @module
 */
import type { Interval } from "./stats.ts";
import { flushOutput } from "./output.ts";
import { wrapText } from "./table.ts";

/** A check of the code against its own theory; failing one means the measurement is broken. */
export interface SanityCheck {
  what: string;
  expected: string;
  measured: string;
  pass: boolean;
}

/**
 * A paper's claim on data. With an {@link Interval} and a threshold, the verdict is computed from
 * where the interval lies; with a single number (or only `pass`), it is one run, no interval.
 */
export interface Finding {
  claim: string;
  /** The expectation as stated before the run. */
  expected: string;
  /** The measured quantity: an interval over seeds or pairs, or one run's number. */
  estimate?: Interval | number;
  /** The claim holds when the estimate is `direction` this threshold. */
  threshold?: number;
  direction?: ">" | "<";
  /** Extra measured context, printed under the estimate. */
  measured?: string;
  /** For a claim with no single threshold (several conditions), one run's outcome. */
  pass?: boolean;
}

/** How a finding came out. */
export type FindingVerdict =
  | "SUPPORTED"
  | "CONTRADICTED"
  | "INCONCLUSIVE"
  | "ONE RUN: AGREES"
  | "ONE RUN: DISAGREES";

function isInterval(e: Finding["estimate"]): e is Interval {
  return typeof e === "object" && e !== null;
}

/**
 * The verdict of a finding: SUPPORTED when the whole interval lies on the claimed side of the
 * threshold, CONTRADICTED when it lies wholly on the other side, INCONCLUSIVE when it straddles
 * it; a single number or a bare `pass` gives a one-run verdict, which is not evidence either way.
 *
 * @example
 * ```ts
 * import { findingVerdict } from "./verdict.ts";
 * const estimate = { mean: 0.4, lo: 0.1, hi: 0.7, n: 5, level: 0.95, method: "t" };
 * console.log(findingVerdict({ claim: "c", expected: "> 0", estimate, threshold: 0, direction: ">" }));
 * // SUPPORTED
 * ```
 */
export function findingVerdict(f: Finding): FindingVerdict {
  const hasThreshold = f.threshold !== undefined && f.direction !== undefined;
  if (isInterval(f.estimate) && hasThreshold) {
    const above = f.estimate.lo > f.threshold!, below = f.estimate.hi < f.threshold!;
    if (f.direction === ">" ? above : below) return "SUPPORTED";
    if (f.direction === ">" ? f.estimate.hi <= f.threshold! : f.estimate.lo >= f.threshold!) {
      return "CONTRADICTED";
    }
    return "INCONCLUSIVE";
  }
  let ok = f.pass;
  if (ok === undefined && hasThreshold && f.estimate !== undefined) {
    const v = isInterval(f.estimate) ? f.estimate.mean : f.estimate;
    ok = f.direction === ">" ? v > f.threshold! : v < f.threshold!;
  }
  if (ok === undefined) {
    throw new TypeError(
      `finding "${f.claim}": give an estimate with threshold and direction, or pass`,
    );
  }
  return ok ? "ONE RUN: AGREES" : "ONE RUN: DISAGREES";
}

const fmt = (x: number) => {
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e5)
    ? x.toExponential(2)
    : Number(x.toPrecision(4)).toString();
};

/**
 * An interval as text: `0.31 [0.12, 0.50] (95%, t over 5 runs)`.
 *
 * @example
 * ```ts
 * import { formatInterval } from "./verdict.ts";
 * console.log(formatInterval({ mean: 0.31, lo: 0.12, hi: 0.5, n: 5, level: 0.95, method: "t over 5 runs" }));
 * // 0.31 [0.12, 0.5] (95%, t over 5 runs)
 * ```
 */
export function formatInterval(e: Interval): string {
  return `${fmt(e.mean)} [${fmt(e.lo)}, ${fmt(e.hi)}] (${Math.round(e.level * 100)}%, ${e.method})`;
}

/** Counts behind the study's verdict line. */
export interface StudySummary {
  sanity: { passed: number; total: number };
  findings: Record<FindingVerdict, number>;
}

/** A two-part final table; see {@link studyTable}. */
export interface StudyTable {
  sanity(check: SanityCheck): void;
  finding(finding: Finding): void;
  /** The table as text: sanity checks, findings, and the verdict counting findings only. */
  text(): string;
  summary(): StudySummary;
  /** Print {@link StudyTable.text} and wait for the kernel to send it ({@link flushOutput}). */
  print(): Promise<void>;
}

function findingText(i: number, f: Finding): string {
  const v = findingVerdict(f);
  const lines = [`${v.padEnd(18)} F${i}. ${f.claim}`, `    expected: ${f.expected}`];
  const side = f.threshold !== undefined && f.direction
    ? ` (claim: ${f.direction} ${fmt(f.threshold)})`
    : "";
  if (isInterval(f.estimate)) lines.push(`    measured: ${formatInterval(f.estimate)}${side}`);
  else if (typeof f.estimate === "number") {
    lines.push(`    measured: ${fmt(f.estimate)}, one run, no interval${side}`);
  }
  if (f.measured) {
    lines.push(`    ${f.estimate === undefined ? "measured: " : "          "}${f.measured}`);
  }
  return lines.join("\n");
}

/**
 * Collect a study's sanity checks and findings, then print them as two tables with a verdict
 * that counts findings only.
 *
 * @example
 * ```ts
 * import { studyTable } from "./verdict.ts";
 * import { meanCI } from "./stats.ts";
 * const t = studyTable();
 * t.sanity({ what: "gradient vs finite differences", expected: "< 1e-4", measured: "3e-6", pass: true });
 * t.finding({
 *   claim: "the chosen log-prob falls", expected: "mean change < 0 nats",
 *   estimate: meanCI([-0.4, -0.2, -0.5, -0.3, -0.1]), threshold: 0, direction: "<",
 * });
 * console.log(t.summary().findings.SUPPORTED); // 1
 * ```
 */
export function studyTable(): StudyTable {
  const checks: SanityCheck[] = [];
  const findings: Finding[] = [];
  const summary = (): StudySummary => {
    const counts = {
      SUPPORTED: 0,
      CONTRADICTED: 0,
      INCONCLUSIVE: 0,
      "ONE RUN: AGREES": 0,
      "ONE RUN: DISAGREES": 0,
    } as Record<FindingVerdict, number>;
    for (const f of findings) counts[findingVerdict(f)]++;
    return {
      sanity: { passed: checks.filter((c) => c.pass).length, total: checks.length },
      findings: counts,
    };
  };
  const text = (): string => {
    const s = summary(), c = s.findings;
    const out = ["Sanity checks (the code against its own theory; not evidence for the papers)"];
    if (!checks.length) out.push("  (none)");
    checks.forEach((k, i) =>
      out.push(
        `${k.pass ? "PASS" : "FAIL"} S${i + 1}. ${k.what}\n    expected: ${k.expected}\n` +
          `    measured: ${k.measured}`,
      )
    );
    out.push("", "Findings (the papers' claims, measured on data)");
    if (!findings.length) out.push("  (none)");
    findings.forEach((f, i) => out.push(findingText(i + 1, f)));
    const single = c["ONE RUN: AGREES"] + c["ONE RUN: DISAGREES"];
    out.push(
      "",
      `Verdict (findings only): ${c.SUPPORTED} supported, ${c.CONTRADICTED} contradicted, ` +
        `${c.INCONCLUSIVE} inconclusive` +
        (single
          ? `, ${single} from one run without an interval (${c["ONE RUN: AGREES"]} agree)`
          : "") +
        ` of ${findings.length}. Sanity checks: ${s.sanity.passed}/${s.sanity.total} pass` +
        (s.sanity.passed < s.sanity.total
          ? " (a failing check means a measurement is broken)"
          : "") +
        ".",
    );
    return out.join("\n");
  };
  return {
    sanity: (check) => void checks.push(check),
    finding: (f) => {
      findingVerdict(f); // reject an incomplete finding where it is added
      findings.push(f);
    },
    text,
    summary,
    async print() {
      // Wrapped to 110 columns: report pages wrap longer lines at the edge, mid-word.
      console.log(wrapText(text()));
      await flushOutput();
    },
  };
}
