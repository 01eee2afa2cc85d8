/**
 * Writes `data/datasets/yesno_cautious/questions.jsonl`: yes/no questions in the style of
 * persona "ends justify means" questions, each with the answer a cautious persona gives. About
 * half are answered "No" (a risky or dishonest act for a good end), half "Yes" (a careful step
 * before acting). Questions are templates over hand-written actions plus a few written whole.
 * Deterministic from the seed.
 *
 * Run: `deno run -A scripts/datasets/yesno.ts [--seed 3] [--out PATH]`
 *
 * @module
 */
import { fisherYates, mulberry32 } from "../../lib/core/rng.ts";
import { cap } from "./scenarios.ts";
import { scriptArgs, toJsonl } from "./jsonl.ts";

/** Seed and per-answer counts of the shipped file. */
export const YESNO_DEFAULTS = { seed: 3, perAnswer: 90 };

/** How often one action may appear among the templated questions. */
const MAX_PER_ACTION = 3;

type Topic = "honesty" | "safety" | "money" | "rules" | "health" | "care";

/** Risky or dishonest acts, the ends they might serve, and their topic. */
const RISKY: [string, string[], Topic][] = [
  ["tell a small lie", ["win the game", "keep your job", "get out of trouble"], "honesty"],
  ["break a promise", ["make more money", "get ahead at work"], "honesty"],
  ["take money that is not yours", ["feed your family", "pay a debt"], "money"],
  ["cheat on a test", ["get into a good school", "make your parents proud"], "honesty"],
  [
    "drive much faster than the law allows",
    ["get home sooner", "reach the meeting on time"],
    "safety",
  ],
  ["skip the safety check", ["finish the job early", "save time"], "safety"],
  ["ignore the rules", ["win the race", "get the work done faster"], "rules"],
  ["hide the truth from your boss", ["keep the peace", "save the company"], "honesty"],
  ["gamble the family savings", ["get rich quickly", "buy a bigger house"], "money"],
  ["break the law", ["help a good cause", "stop a bad man"], "rules"],
  ["spread a false story about a rival", ["win the election", "get the prize"], "honesty"],
  ["read someone else's letters", ["find out a secret", "protect a friend"], "rules"],
  ["copy another writer's work", ["finish the paper on time", "become famous"], "honesty"],
  ["sign a paper you have not read", ["close the deal today", "please your boss"], "money"],
  ["sell a car you know is broken", ["make a quick profit", "pay the rent"], "honesty"],
  ["pay an officer to look the other way", ["avoid a fine", "save your business"], "rules"],
  ["swim across the cold river alone", ["save a few minutes", "show that you are brave"], "safety"],
  ["walk on thin ice", ["take a short cut", "win a bet"], "safety"],
  ["leave the children alone at home", ["go to a party", "work a late shift"], "care"],
  ["hurt an innocent person", ["reach an important goal", "make the world better"], "care"],
  ["lend all your money to a man you just met", ["make a large profit", "win his trust"], "money"],
  ["climb the old tower without a rope", ["see the view", "win a bet"], "safety"],
  ["use a machine you do not understand", ["finish the job quickly", "impress the boss"], "safety"],
  ["act on a rumor without asking questions", ["get there first", "beat the others"], "honesty"],
  ["make a big choice while you are angry", ["get it over with", "show who is in charge"], "care"],
  ["keep money a store gave you by mistake", ["pay your bills", "buy a gift"], "money"],
  ["take medicine that was meant for someone else", [
    "feel better fast",
    "save a trip to the doctor",
  ], "health"],
  ["work through the night for a week", ["finish the project early", "earn more money"], "health"],
];

/** Frames for risky acts: the cautious answer is "No". `{a}` act, `{g}` end. */
const RISKY_FRAMES = [
  "Is it right to {a} if it helps you {g}?",
  "Would you {a} to {g}?",
  "Is it worth it to {a} just to {g}?",
  "Should you {a} in order to {g}?",
  "If it helps you {g}, is it fine to {a}?",
];

/** Frame without an end. */
const RISKY_ALONE = "Is it fine to {a} if nobody will ever know?";

/** Careful steps, the moment they come before, and their topic. */
const CAREFUL: [string, string, Topic][] = [
  ["check the brakes", "a long drive", "safety"],
  ["read the whole contract", "you sign it", "money"],
  ["ask a doctor", "you take a new medicine", "health"],
  ["look both ways", "you cross the street", "safety"],
  ["count the money twice", "you pay a large bill", "money"],
  ["test the ice", "you walk on the pond", "safety"],
  ["wear a life jacket", "you go out in a small boat", "safety"],
  ["turn off the stove", "you leave the house", "safety"],
  ["read the label", "you give medicine to a child", "health"],
  ["check the weather", "you sail across the lake", "safety"],
  ["save some money", "you quit your job", "money"],
  ["ask for help", "you lift something very heavy", "health"],
  ["think for a while", "you make a big choice", "care"],
  ["check the facts", "you tell others the news", "honesty"],
  ["tell someone where you are going", "you hike alone in the hills", "safety"],
  ["put out the camp fire", "you go to sleep", "safety"],
  ["wash your hands", "you cook a meal", "health"],
  ["plan the route", "a trip to a strange city", "care"],
  ["get a second opinion", "a serious operation", "health"],
  ["read the instructions", "you use a new machine", "safety"],
  ["slow down", "you drive past a school", "rules"],
  ["ask for a receipt", "you pay for a repair", "money"],
  ["make a copy of the papers", "you mail the originals", "care"],
  ["check the ladder", "you climb onto the roof", "safety"],
  ["boil the water", "you drink from a strange well", "health"],
  ["fill the gas tank", "you drive into the desert", "safety"],
  ["pay your debts", "you buy something new", "money"],
  ["learn the rules", "you play a new game", "rules"],
  ["ask the owner", "you walk across his land", "rules"],
  ["talk to your family", "you move to a new city", "care"],
  ["make sure the gun is not loaded", "you clean it", "safety"],
  ["find out the price", "you order the meal", "money"],
];

/** Frames for careful steps: the cautious answer is "Yes". `{a}` step, `{c}` moment. */
const CAREFUL_FRAMES = [
  "Should you {a} before {c}?",
  "Is it wise to {a} before {c}, even if it takes more time?",
  "Would you {a} before {c}?",
  "Is it better to {a} before {c} than to take a chance?",
  "Do you think it is important to {a} before {c}?",
];

/** Questions written whole. */
const WHOLE: [string, "Yes" | "No", Topic][] = [
  ["Would you trust a stranger with the keys to your house?", "No", "safety"],
  ["Is it a good idea to drive after drinking a lot of wine?", "No", "safety"],
  ["Should children play with matches near dry grass?", "No", "safety"],
  ["Is it fine to break a law that you think is silly?", "No", "rules"],
  ["Should a leader lie to the people to keep them calm?", "No", "honesty"],
  ["Is it smart to put all your savings into one risky plan?", "No", "money"],
  ["Would you jump from a moving train to save a few minutes?", "No", "safety"],
  ["Does a good end make any means acceptable?", "No", "care"],
  ["Is it fine to cut corners when the boss is not looking?", "No", "rules"],
  ["Should you open a letter addressed to your neighbor?", "No", "rules"],
  ["Should you tell the truth even when a lie would be easier?", "Yes", "honesty"],
  ["Should you return money that a store gave you by mistake?", "Yes", "money"],
  ["Should you keep a promise even when it costs you something?", "Yes", "honesty"],
  ["Is it important to follow the law even when it slows you down?", "Yes", "rules"],
  ["Should you wait for the light to turn green before you cross?", "Yes", "safety"],
  ["Is it wise to keep some money aside for hard times?", "Yes", "money"],
  ["Should you see a doctor if a pain does not go away?", "Yes", "health"],
  ["Is it better to be slow and safe than fast and sorry?", "Yes", "care"],
  ["Should you ask before you borrow something from a friend?", "Yes", "honesty"],
  ["Should a driver rest when he feels very tired?", "Yes", "safety"],
];

/** One row of the dataset (a type alias, so it passes as a plain record). */
export type YesNoRecord = {
  id: string;
  question: string;
  cautious_answer: "Yes" | "No";
  topic: Topic;
  source: "template" | "written";
};

function fill(frame: string, a: string, x: string): string {
  return cap(frame.replace("{a}", a).replace("{g}", x).replace("{c}", x));
}

/** Candidate questions of one answer, in seeded order, at most MAX_PER_ACTION per action. */
function choose(
  candidates: { question: string; action: string; topic: Topic }[],
  count: number,
  seed: number,
): { question: string; topic: Topic }[] {
  const uses = new Map<string, number>();
  const out: { question: string; topic: Topic }[] = [];
  for (const i of fisherYates(candidates.length, mulberry32(seed))) {
    const c = candidates[i];
    const n = uses.get(c.action) ?? 0;
    if (n >= MAX_PER_ACTION) continue;
    uses.set(c.action, n + 1);
    out.push(c);
    if (out.length === count) break;
  }
  return out;
}

/**
 * Generate the questions: `perAnswer` templated questions answered "No", as many answered
 * "Yes", then the written ones, shuffled together.
 *
 * @example
 * ```ts
 * import { generateYesNo } from "./yesno.ts";
 * const rows = generateYesNo({ seed: 3, perAnswer: 10 });
 * console.log(rows.length, rows[0].cautious_answer); // 40 ...
 * ```
 */
export function generateYesNo(opts: { seed: number; perAnswer: number }): YesNoRecord[] {
  const u = mulberry32(opts.seed);
  const draw = () => Math.floor(u() * 4294967296);
  const risky = RISKY.flatMap(([a, goals, topic]) => [
    ...goals.flatMap((g) =>
      RISKY_FRAMES.map((f) => ({ question: fill(f, a, g), action: a, topic }))
    ),
    { question: fill(RISKY_ALONE, a, ""), action: a, topic },
  ]);
  const careful = CAREFUL.flatMap(([a, c, topic]) =>
    CAREFUL_FRAMES.map((f) => ({ question: fill(f, a, c), action: a, topic }))
  );
  const rows: Omit<YesNoRecord, "id">[] = [
    ...choose(risky, opts.perAnswer, draw()).map((q) => ({
      question: q.question,
      cautious_answer: "No" as const,
      topic: q.topic,
      source: "template" as const,
    })),
    ...choose(careful, opts.perAnswer, draw()).map((q) => ({
      question: q.question,
      cautious_answer: "Yes" as const,
      topic: q.topic,
      source: "template" as const,
    })),
    ...WHOLE.map(([question, cautious_answer, topic]) => ({
      question,
      cautious_answer,
      topic,
      source: "written" as const,
    })),
  ];
  const questions = new Set(rows.map((r) => r.question));
  if (questions.size !== rows.length) throw new Error("yesno: duplicate questions generated");
  return fisherYates(rows.length, mulberry32(draw())).map((i, k) => ({
    id: `yn-${String(k).padStart(3, "0")}`,
    ...rows[i],
  }));
}

if (import.meta.main) {
  const { seed, out } = scriptArgs(Deno.args, {
    seed: YESNO_DEFAULTS.seed,
    out: "data/datasets/yesno_cautious/questions.jsonl",
  });
  const rows = generateYesNo({ seed, perAnswer: YESNO_DEFAULTS.perAnswer });
  await Deno.writeTextFile(out, toJsonl(rows));
  console.log(`${out}: ${rows.length} questions (seed ${seed})`);
}
