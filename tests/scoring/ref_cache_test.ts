import * as tf from "@tensorflow/tfjs-core";
import assert from "node:assert/strict";
import { assertClose, useCpu } from "../helpers.ts";
import { cachedReferenceLogps } from "../../lib/scoring/ref_cache.ts";
import { toyData } from "../../lib/train/train_data.ts";
import { logp, PAIRS, toyModel } from "../train/toy_setup.ts";

await useCpu();

Deno.test("ref cache: computed once, hit on the same weights and data, missed when either changes", async () => {
  const dir = await Deno.makeTempDir();
  const model = toyModel(1);
  const data = toyData(PAIRS);
  const first = await cachedReferenceLogps(model, data, { cacheDir: dir, batchSize: 3 });
  assert.equal(first.hit, false);
  // Values by hand from the model's distribution.
  assertClose(first.chosen, PAIRS.prompt.map((p, i) => logp(model, p, PAIRS.chosen[i])), {
    rtol: 1e-5,
  });
  assertClose(first.rejected, PAIRS.prompt.map((p, i) => logp(model, p, PAIRS.rejected[i])), {
    rtol: 1e-5,
  });
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  assert.deepEqual(files, [`${first.key}.safetensors`]);

  // Same content in a new model object and a new data object: a hit, same values.
  const twin = toyModel(1);
  const again = await cachedReferenceLogps(twin, toyData(PAIRS), { cacheDir: dir });
  assert.equal(again.hit, true);
  assert.equal(again.key, first.key);
  assert.deepEqual(Array.from(again.chosen), Array.from(first.chosen));

  // One weight changed by 1e-3: a miss with a new key.
  const w = twin.variables()[1];
  const vals = w.dataSync().slice();
  vals[4] += 1e-3;
  tf.tidy(() => w.assign(tf.tensor(vals, w.shape)));
  const changedWeight = await cachedReferenceLogps(twin, toyData(PAIRS), { cacheDir: dir });
  assert.equal(changedWeight.hit, false);
  assert.notEqual(changedWeight.key, first.key);

  // One token changed: a miss.
  const rejected = [...PAIRS.rejected];
  rejected[7] = 4;
  const changedData = await cachedReferenceLogps(model, toyData({ ...PAIRS, rejected }), {
    cacheDir: dir,
  });
  assert.equal(changedData.hit, false);
  assert.notEqual(changedData.key, first.key);
  assertClose(changedData.rejected[7], logp(model, PAIRS.prompt[7], 4), { rtol: 1e-5 });

  // The original combination is still cached.
  assert.equal((await cachedReferenceLogps(model, data, { cacheDir: dir })).hit, true);
  assert.equal([...Deno.readDirSync(dir)].length, 3);
  model.dispose();
  twin.dispose();
});

Deno.test("ref cache: a truncated cache file is recomputed, not trusted", async () => {
  const dir = await Deno.makeTempDir();
  const model = toyModel(2);
  const data = toyData(PAIRS);
  const first = await cachedReferenceLogps(model, data, { cacheDir: dir });
  const bytes = await Deno.readFile(first.path!);
  await Deno.writeFile(first.path!, bytes.slice(0, bytes.length - 8));
  const again = await cachedReferenceLogps(model, data, { cacheDir: dir });
  assert.equal(again.hit, false);
  assert.deepEqual(Array.from(again.rejected), Array.from(first.rejected));
  assert.equal((await cachedReferenceLogps(model, data, { cacheDir: dir })).hit, true);
  model.dispose();
});
