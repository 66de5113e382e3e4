// Teaching new classes through the npm package in Node: examples from the exact input tensors of three
// photos, nearest neighbours before training, a trained head, the exported .tflite loaded back with its
// labels, save/load of the examples, and the errors a caller can make.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, InputError, MobileNetError } from '../../js/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
const MODEL = join(SHARED, 'models', 'mobilenet_v1_0.25_128_quant.tflite');
const photo = (name) => ({ data: new Uint8Array(readFileSync(join(SHARED, `reference/inputs/${name}_128.rgb`))), width: 128, height: 128 });
const [CAT, DRAGONFLY, PARROT] = ['cat', 'dragonfly', 'parrot'].map(photo);
let model;

before(async () => {
  model = await load({ modelUrl: pathToFileURL(MODEL), warmup: false });
});
after(() => model?.dispose());

async function taught(options) {
  const teach = model.teach(options);
  await teach.addExample(CAT, 'cat');
  await teach.addExample(DRAGONFLY, 'dragonfly');
  await teach.addExample(PARROT, 'parrot');
  return teach;
}

test('one example per class: nearest neighbours name each photo', async () => {
  const teach = await taught({ k: 1 });
  assert.deepEqual(teach.classes, [{ label: 'cat', examples: 1 }, { label: 'dragonfly', examples: 1 }, { label: 'parrot', examples: 1 }]);
  assert.equal(teach.trained, false);
  for (const [input, label] of [[CAT, 'cat'], [DRAGONFLY, 'dragonfly'], [PARROT, 'parrot']]) {
    const [best] = await teach.classify(input, 1);
    assert.deepEqual(best, { className: label, probability: 1, index: best.index });
  }
});

test('a trained head, with progress, exported as a .tflite that loads with its labels', async () => {
  const teach = await taught();
  const steps = [];
  const report = await teach.train({ onProgress: (p) => steps.push(p) });
  assert.equal(report.accuracy, 1);
  assert.ok(steps.length >= 1 && steps.length === report.iterations, `${steps.length} progress calls, ${report.iterations} iterations`);
  assert.ok(steps.at(-1).loss <= steps[0].loss);
  const [best] = await teach.classify(PARROT, 1);
  assert.equal(best.className, 'parrot');
  const bytes = await teach.toTflite();
  assert.ok(bytes instanceof Uint8Array && bytes.length > 200_000);
  const exported = await load({ modelBytes: bytes, warmup: false });
  try {
    assert.equal(exported.numClasses, 3);
    assert.equal(exported.numberType, 'uint8');
    for (const [input, label] of [[CAT, 'cat'], [DRAGONFLY, 'dragonfly'], [PARROT, 'parrot']]) {
      const [mine] = await exported.classify(input, 1);
      const [head] = await teach.classify(input, 1);
      assert.equal(mine.className, label);
      // The file runs the head in uint8: within a few steps of the float head's probability.
      assert.ok(Math.abs(mine.probability - head.probability) < 0.05, `${label}: ${mine.probability} vs ${head.probability}`);
    }
  } finally {
    exported.dispose();
  }
});

test('saved examples resume, and train to the same head', async () => {
  const teach = await taught({ seed: 3 });
  const first = await teach.train();
  const text = JSON.stringify(teach.save());
  assert.ok(text.length < 20_000, `${text.length} characters of JSON`);
  const again = model.teach({ seed: 3 });
  again.load(text);
  assert.deepEqual(again.classes, teach.classes);
  assert.deepEqual(await again.train(), first);
  assert.deepEqual(await again.toTflite(), await teach.toTflite());
});

test('what a caller can get wrong is a typed error', async () => {
  const teach = model.teach();
  await teach.addExample(CAT, 'cat');
  await assert.rejects(teach.train(), (e) => e instanceof InputError && /at least 2 classes/.test(e.message));
  teach.addClass('dog');
  await assert.rejects(teach.train(), (e) => e instanceof InputError && /"dog" has no examples/.test(e.message));
  await assert.rejects(teach.addExample(CAT, ''), InputError);
  await assert.rejects(teach.addExample(CAT, 'two\nlines'), InputError);
  await assert.rejects(teach.addExample(42, 'cat'), InputError);
  assert.throws(() => teach.removeClass('no such class'), InputError);
  await assert.rejects(teach.toTflite(), MobileNetError);
  await assert.rejects(teach.classify(CAT, 0), InputError);
  await assert.rejects(teach.classify(CAT, 1, { method: 'magic' }), InputError);
  assert.throws(() => teach.load('{"format": "something else"}'), InputError);
  assert.throws(() => model.teach({ k: 0 }), InputError);
});
