/**
 * Short question-and-answer scenarios written for this project, in plain words a small model
 * pretrained on the Brown corpus has seen. Each scenario draws its slots from word lists with a
 * seeded generator and gives one question, its answer, and variants of that answer:
 * paraphrases, a one-word edit, a contradiction, a longer and a shorter form.
 *
 * Used by `pairs.ts` and `unpaired.ts`.
 *
 * @module
 */
import { pick } from "../../lib/core/rng.ts";

/** One drawn scenario: a question, its answer and variants of the answer. */
export interface Instance {
  scenario: string;
  question: string;
  answer: string;
  /** At least two, different from each other and from the answer. */
  paraphrases: string[];
  /** One or two words changed; the meaning changes a little. */
  minorEdit: string;
  /** Says the opposite of the answer. */
  contradiction: string;
  /** The answer with an added clause. */
  longer: string;
  /** A few words that still answer. */
  shorter: string;
}

interface Person {
  np: string;
  subj: string;
  obj: string;
}

const PEOPLE: Person[] = [
  { np: "the farmer", subj: "he", obj: "him" },
  { np: "the old doctor", subj: "he", obj: "him" },
  { np: "my sister", subj: "she", obj: "her" },
  { np: "the young teacher", subj: "she", obj: "her" },
  { np: "the captain", subj: "he", obj: "him" },
  { np: "our neighbor", subj: "she", obj: "her" },
  { np: "the little boy", subj: "he", obj: "him" },
  { np: "the girl", subj: "she", obj: "her" },
  { np: "the driver", subj: "he", obj: "him" },
  { np: "the nurse", subj: "she", obj: "her" },
  { np: "my uncle", subj: "he", obj: "him" },
  { np: "the mayor", subj: "she", obj: "her" },
  { np: "the painter", subj: "he", obj: "him" },
  { np: "my grandmother", subj: "she", obj: "her" },
];

const TIMES = [
  "on Monday",
  "last night",
  "in the morning",
  "after dinner",
  "on Sunday",
  "yesterday",
  "last week",
  "before noon",
];

const PLACES = [
  "market",
  "church",
  "river",
  "school",
  "bank",
  "library",
  "station",
  "park",
  "hospital",
  "office",
  "hotel",
  "old mill",
];

const ITEMS = [
  "bread",
  "milk",
  "a new hat",
  "a lamp",
  "some shoes",
  "a map",
  "coffee",
  "a book",
  "apples",
  "a chair",
  "a warm coat",
  "a box of nails",
];

const TOWNS = ["Boston", "Denver", "the city", "the village", "Chicago", "our town", "the valley"];

/** Weather words with their opposites. */
const WEATHER: [string, string][] = [
  ["cold", "warm"],
  ["wet", "dry"],
  ["windy", "calm"],
  ["sunny", "dark and cloudy"],
  ["hot", "cool"],
];

const EVENTS = [
  "game",
  "long trip",
  "meeting",
  "party",
  "test",
  "storm",
  "wedding",
  "trial",
  "concert",
];

/** Feelings with their opposites. */
const FEELINGS: [string, string][] = [
  ["happy", "sad"],
  ["tired", "rested"],
  ["calm", "nervous"],
  ["proud", "ashamed"],
  ["hopeful", "worried"],
];

const THINGS = ["horses", "boats", "birds", "cars", "trees", "houses", "soldiers", "dogs"];
const NUMBERS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve"];

/**
 * Advice: an action and the occasion it comes before. `{I}`/`{my}` become "I"/"my" in the
 * question and "you"/"your" in the answer.
 */
const ADVICE: [string, string][] = [
  ["rest", "a long trip"],
  ["eat something", "the race"],
  ["read the letter", "{I} answer it"],
  ["check the brakes", "{I} drive to the city"],
  ["ask the doctor", "{I} take the medicine"],
  ["lock the door", "{I} leave the house"],
  ["count the money", "{I} pay the bill"],
  ["call {my} mother", "{I} leave town"],
  ["study the map", "{I} start the walk"],
  ["clean the wound", "{I} put on a bandage"],
  ["look both ways", "{I} cross the street"],
  ["read the whole paper", "{I} sign it"],
];

/** Tools, what they are used for, and a use one word away. */
const TOOLS: [string, string, string][] = [
  ["hammer", "drive nails into wood", "pull nails out of wood"],
  ["knife", "cut bread and meat", "cut paper and string"],
  ["spoon", "eat soup", "stir paint"],
  ["key", "open a locked door", "open a locked box"],
  ["pen", "write letters", "draw pictures"],
  ["lamp", "give light at night", "give heat at night"],
  ["boat", "cross the water", "catch fish"],
  ["clock", "tell the time", "tell the date"],
  ["broom", "sweep the floor", "sweep the yard"],
  ["map", "find the way", "find the river"],
  ["ladder", "reach high places", "climb onto the roof"],
  ["bucket", "carry water", "carry sand"],
];

const GATHERINGS = ["meeting", "class", "dance", "game", "church service", "sale", "show"];
const HOURS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"];

/** Capitalize the first letter. */
export function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Pick an element different from `not`. */
function other<T>(items: readonly T[], not: T, u: () => number): T {
  const rest = items.filter((x) => x !== not);
  return pick(rest, u);
}

type Maker = (u: () => number) => Instance;

const went: Maker = (u) => {
  const p = pick(PEOPLE, u), place = pick(PLACES, u), time = pick(TIMES, u);
  const S = cap(p.np);
  return {
    scenario: "went",
    question: `Where did ${p.np} go ${time}?`,
    answer: `${S} went to the ${place} ${time}.`,
    paraphrases: [
      `${cap(time)}, ${p.np} went to the ${place}.`,
      `${S} made a trip to the ${place} ${time}.`,
      `${cap(p.subj)} went down to the ${place} ${time}.`,
    ],
    minorEdit: `${S} went to the ${other(PLACES, place, u)} ${time}.`,
    contradiction: `${S} did not go to the ${place} ${time}; ${p.subj} stayed at home.`,
    longer: `${S} went to the ${place} ${time}, because ${p.subj} had some work to do there.`,
    shorter: `To the ${place}.`,
  };
};

const bought: Maker = (u) => {
  const p = pick(PEOPLE, u), item = pick(ITEMS, u);
  const S = cap(p.np);
  return {
    scenario: "bought",
    question: `What did ${p.np} buy at the store?`,
    answer: `${S} bought ${item} at the store.`,
    paraphrases: [
      `At the store, ${p.np} bought ${item}.`,
      `${S} got ${item} at the store.`,
      `${cap(p.subj)} bought ${item} there.`,
    ],
    minorEdit: `${S} bought ${other(ITEMS, item, u)} at the store.`,
    contradiction: `${S} did not buy anything at the store.`,
    longer: `${S} bought ${item} at the store and paid for it with cash.`,
    shorter: `${cap(item)}.`,
  };
};

const weather: Maker = (u) => {
  const town = pick(TOWNS, u), [w, anti] = pick(WEATHER, u), time = pick(TIMES, u);
  const [w2] = other(WEATHER, WEATHER.find((x) => x[0] === w)!, u);
  return {
    scenario: "weather",
    question: `What was the weather like in ${town} ${time}?`,
    answer: `It was ${w} in ${town} ${time}.`,
    paraphrases: [
      `${cap(time)}, the weather in ${town} was ${w}.`,
      `The weather was ${w} in ${town} ${time}.`,
      `${cap(time)} it was ${w} in ${town}.`,
    ],
    minorEdit: `It was ${w2} in ${town} ${time}.`,
    contradiction: `It was ${anti} in ${town} ${time}, not ${w} at all.`,
    longer: `It was ${w} in ${town} ${time}, so most people stayed inside.`,
    shorter: `${cap(w)}.`,
  };
};

const felt: Maker = (u) => {
  const p = pick(PEOPLE, u), ev = pick(EVENTS, u), [f, anti] = pick(FEELINGS, u);
  const [f2] = other(FEELINGS, FEELINGS.find((x) => x[0] === f)!, u);
  const S = cap(p.np);
  return {
    scenario: "felt",
    question: `How did ${p.np} feel after the ${ev}?`,
    answer: `${S} felt ${f} after the ${ev}.`,
    paraphrases: [
      `After the ${ev}, ${p.np} felt ${f}.`,
      `The ${ev} left ${p.obj} feeling ${f}.`,
      `${cap(p.subj)} was ${f} after the ${ev}.`,
    ],
    minorEdit: `${S} felt ${f2} after the ${ev}.`,
    contradiction: `${S} felt ${anti} after the ${ev}, not ${f}.`,
    longer: `${S} felt ${f} after the ${ev} and talked about it for days.`,
    shorter: `${cap(f)}.`,
  };
};

const counted: Maker = (u) => {
  const p = pick(PEOPLE, u), things = pick(THINGS, u), n = pick(NUMBERS, u);
  const S = cap(p.np);
  return {
    scenario: "counted",
    question: `How many ${things} did ${p.np} see?`,
    answer: `${S} saw ${n} ${things}.`,
    paraphrases: [
      `${S} counted ${n} ${things}.`,
      `There were ${n} ${things} that ${p.np} saw.`,
      `${cap(p.subj)} saw ${n} of them.`,
    ],
    minorEdit: `${S} saw ${other(NUMBERS, n, u)} ${things}.`,
    contradiction: `${S} did not see any ${things} at all.`,
    longer: `${S} saw ${n} ${things} near the old road before it got dark.`,
    shorter: `${cap(n)}.`,
  };
};

const advice: Maker = (u) => {
  const [act0, occ0] = pick(ADVICE, u);
  const asked = (t: string) => t.replaceAll("{I}", "I").replaceAll("{my}", "my");
  const told = (t: string) => t.replaceAll("{I}", "you").replaceAll("{my}", "your");
  const [act, occasion] = [told(act0), told(occ0)];
  return {
    scenario: "advice",
    question: `Should I ${asked(act0)} before ${asked(occ0)}?`,
    answer: `Yes, it is a good idea to ${act} before ${occasion}.`,
    paraphrases: [
      `Yes, you should ${act} before ${occasion}.`,
      `Yes, it is wise to ${act} first.`,
      `Yes, ${act} before ${occasion}.`,
    ],
    minorEdit: `Yes, it is a good idea to ${act} after ${occasion}.`,
    contradiction: `No, you should not ${act} before ${occasion}.`,
    longer: `Yes, it is a good idea to ${act} before ${occasion}, and it takes only a few minutes.`,
    shorter: `Yes.`,
  };
};

const used: Maker = (u) => {
  const [tool, use, near] = pick(TOOLS, u);
  return {
    scenario: "used",
    question: `What is a ${tool} used for?`,
    answer: `A ${tool} is used to ${use}.`,
    paraphrases: [
      `People use a ${tool} to ${use}.`,
      `You can use a ${tool} to ${use}.`,
      `A ${tool} helps you ${use}.`,
    ],
    minorEdit: `A ${tool} is used to ${near}.`,
    contradiction: `A ${tool} is never used to ${use}.`,
    longer: `A ${tool} is used to ${use}, and most homes have one.`,
    shorter: `To ${use}.`,
  };
};

const started: Maker = (u) => {
  const g = pick(GATHERINGS, u), h = pick(HOURS, u);
  return {
    scenario: "started",
    question: `When did the ${g} start?`,
    answer: `The ${g} started at ${h} o'clock.`,
    paraphrases: [
      `At ${h} o'clock, the ${g} started.`,
      `The ${g} began at ${h} o'clock.`,
      `It started at ${h} o'clock.`,
    ],
    minorEdit: `The ${g} started at ${other(HOURS, h, u)} o'clock.`,
    contradiction: `The ${g} did not start at all; it was called off.`,
    longer: `The ${g} started at ${h} o'clock, a little later than planned.`,
    shorter: `At ${h}.`,
  };
};

/** Every scenario maker, by name. */
export const SCENARIOS: Record<string, Maker> = {
  went,
  bought,
  weather,
  felt,
  counted,
  advice,
  used,
  started,
};
