// End points through the npm package in Node: a layer's output from infer({endPoints}) equals what TFLite's
// reference interpreter wrote for that operator (../shared/reference/outputs/layers, dequantized with the
// dump's scale and zero point), and classify({endPoints}) gives the same classes as a plain classify.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, InputError } from '../../js/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
const NAME = 'mobilenet_v1_0.25_128_quant';
const LAYERS = join(SHARED, 'reference/outputs/layers', NAME);
const CAT = { data: new Uint8Array(readFileSync(join(SHARED, 'reference/inputs/cat_128.rgb'))), width: 128, height: 128 };
let model;

before(async () => {
  model = await load({ modelUrl: pathToFileURL(join(SHARED, 'models', `${NAME}.tflite`)), warmup: false });
});
after(() => model?.dispose());

/** TFLite's output of operator `op` for cat_128.rgb, as real values, and its [h, w, c]. */
function reference(op) {
  const entry = JSON.parse(readFileSync(join(LAYERS, 'manifest.json'), 'utf8')).ops[op];
  const bytes = readFileSync(join(LAYERS, entry.file));
  return { shape: entry.shape.slice(1), data: Float32Array.from(bytes, (q) => Math.fround(entry.scale) * (q - entry.zero_point)) };
}

test('infer({endPoints}) gives each layer as TFLite computed it', async () => {
  const maps = await model.infer(CAT, { endPoints: ['Conv2d_1_depthwise', 'Conv2d_1_pointwise'] });
  assert.deepEqual(Object.keys(maps).sort(), ['Conv2d_1_depthwise', 'Conv2d_1_pointwise']);
  for (const [name, op] of [['Conv2d_1_depthwise', 1], ['Conv2d_1_pointwise', 2]]) {
    const want = reference(op);
    assert.deepEqual(maps[name].shape, want.shape, name);
    assert.ok(maps[name].data instanceof Float32Array);
    // One channel, as the page shows it: channel 3 of every pixel.
    const channel = (d, c) => d.filter((_, i) => i % c === 3);
    assert.deepEqual(channel(maps[name].data, want.shape[2]), channel(want.data, want.shape[2]), `${name} channel 3`);
    assert.deepEqual(maps[name].data, want.data, name);
  }
});

test('classify({endPoints}) keeps them from the same run, with the same classes', async () => {
  const plain = await model.classify(CAT, 5);
  const kept = await model.classify(CAT, 5, { endPoints: ['Conv2d_0'] });
  assert.deepEqual([...kept], plain);
  assert.deepEqual(kept.endPoints.Conv2d_0.shape, [64, 64, 8]);
  assert.deepEqual(kept.endPoints.Conv2d_0.data, reference(0).data);
});

test('bad end point names are errors', async () => {
  await assert.rejects(model.infer(CAT, { endPoints: [] }), InputError);
  await assert.rejects(model.infer(CAT, { endPoints: 'Conv2d_0' }), InputError);
  await assert.rejects(model.infer(CAT, { endPoints: ['Conv2d_99'] }), (e) => e.kind === 'unknown_end_point');
});
