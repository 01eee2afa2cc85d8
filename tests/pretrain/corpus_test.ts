import assert from "node:assert/strict";
import {
  detokenize,
  splitDocuments,
  splitTagged,
  untagDocument,
  untagLine,
} from "../../tools/pretrain/corpus.ts";

Deno.test("splitTagged: the tag follows the last slash", () => {
  assert.deepEqual(splitTagged("The/at"), { word: "The", tag: "at" });
  assert.deepEqual(splitTagged("1-1/2/cd"), { word: "1-1/2", tag: "cd" });
  assert.deepEqual(splitTagged("Atlanta's/np$"), { word: "Atlanta's", tag: "np$" });
  assert.deepEqual(splitTagged("./."), { word: ".", tag: "." });
});

Deno.test("untagLine: real Brown lines become prose", () => {
  // ca01, first sentence (cut short).
  assert.equal(
    untagLine(
      "\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at " +
        "investigation/nn of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd " +
        "``/`` no/at evidence/nn ''/'' that/cs any/dti irregularities/nns took/vbd place/nn ./.",
    ),
    "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary " +
      'election produced "no evidence" that any irregularities took place.',
  );
  // cn01: contractions stay whole, commas attach.
  assert.equal(
    untagLine("If/cs he/pps had/hvd married/vbn her/ppo ,/, he'd/pps+md have/hv been/ben ./."),
    "If he had married her, he'd have been.",
  );
});

Deno.test("detokenize: brackets, colons, dashes, single quotes, doubled periods", () => {
  assert.equal(detokenize(["a", "(", "b", ")", ":", "c", "--", "d", "?"]), "a (b): c -- d?");
  assert.equal(
    detokenize(["say", ",", "'", "Don't", "worry", "'", "!"]),
    "say, 'Don't worry'!",
  );
  assert.equal(detokenize(["Ivan", "Allen", "Jr.", "."]), "Ivan Allen Jr.");
  assert.equal(detokenize(["``", "Yes", "''", ",", "he", "said"]), '"Yes", he said');
});

Deno.test("untagDocument: tab lines start paragraphs, blank lines are ignored", () => {
  const raw = "\n\n\tA/at dog/nn ./.\nIt/pps ran/vbd ./.\n\n\n\tThe/at end/nn ./.\n";
  assert.equal(untagDocument(raw), "A dog. It ran.\nThe end.");
});

Deno.test("splitDocuments: disjoint, complete, sized by the fraction, seeded", () => {
  const docs = Array.from({ length: 500 }, (_, i) => ({ id: `d${i}` }));
  const a = splitDocuments(docs, { seed: 0 });
  assert.equal(a.heldOut.length, 25);
  assert.equal(a.train.length, 475);
  const ids = new Set([...a.train, ...a.heldOut].map((d) => d.id));
  assert.equal(ids.size, 500);
  // Both sets keep corpus order.
  const idx = (d: { id: string }) => Number(d.id.slice(1));
  assert.ok(a.heldOut.every((d, i) => i === 0 || idx(a.heldOut[i - 1]) < idx(d)));
  assert.deepEqual(splitDocuments(docs, { seed: 0 }).heldOut, a.heldOut);
  assert.notDeepEqual(splitDocuments(docs, { seed: 1 }).heldOut, a.heldOut);
  assert.equal(splitDocuments(docs, { seed: 0, heldOutFraction: 0.1 }).heldOut.length, 50);
  assert.throws(() => splitDocuments(docs, { seed: 0, heldOutFraction: 1 }), RangeError);
});
