// The npm wrapper (js/) in Node, main-thread build: loading, classify/infer on model-sized raw pixels,
// and every error a caller can provoke, each an Error subclass that leaves the model usable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load, inspect, InputError, ModelLoadError, MobileNetError, UnsupportedError } from '../../js/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
const WASM = readFileSync(join(ROOT, 'pkg/mobilenet_wasm_bg.wasm'));
const modelFile = (name) => readFileSync(join(SHARED, 'models', name));
const cat = (r) => ({ data: new Uint8Array(readFileSync(join(SHARED, `reference/inputs/cat_${r}.rgb`))), width: r, height: r });
const CATS = ['Egyptian cat', 'tiger cat', 'tabby'];
let small;

before(async () => {
  small = await load({ modelBytes: modelFile('mobilenet_v1_0.25_128_quant.tflite'), wasm: WASM });
});
after(() => small?.dispose());

test('classify gives the tfjs-style answer', async () => {
  assert.deepEqual(small.resolution, [128, 128]);
  assert.equal(small.numClasses, 1001);
  assert.equal(small.quantized, true);
  assert.equal(small.build.name, 'simd');
  const top = await small.classify(cat(128));
  assert.equal(top.length, 3);
  assert.deepEqual(top[0], { className: 'Egyptian cat', probability: 0.125, index: 286 });
  for (const t of top) assert.ok(CATS.includes(t.className), t.className);
  const probs = await small.infer(cat(128));
  assert.ok(probs instanceof Float32Array);
  assert.equal(probs.length, 1001);
  assert.equal(probs[286], 0.125);
});

test('chained files with labels from a labels file', async () => {
  const big = await load({
    modelBytes: [modelFile('mobilenet_v1_1.0_224_quant_embedding_extractor.tflite'), modelFile('mobilenet_v1_1.0_224_quant_head.tflite')],
    labels: readFileSync(join(SHARED, 'models/imagenet_labels.txt'), 'utf8'),
    wasm: WASM,
    warmup: false,
  });
  try {
    assert.equal(big.hasLabels, true);
    const [best] = await big.classify(cat(224), 1);
    assert.equal(best.className, 'Egyptian cat');
    assert.equal(best.probability, 0.82421875);
    assert.equal((await big.inspect()).totals.macs, 568_741_376); // 1001 classes: the paper's 568,740,352 + 1024
  } finally {
    big.dispose();
  }
});

test('inspect without a model reproduces the paper totals', async () => {
  assert.equal((await inspect({ alpha: 1, resolution: 224, classes: 1000 })).totals.macs, 568_740_352);
  assert.equal((await inspect({ alpha: 0.25, resolution: 224, classes: 1000 })).totals.macs, 41_030_272);
  await assert.rejects(inspect({ alpha: 1, resolution: 20 }), InputError);
});

test('bad model files are ModelLoadErrors', async () => {
  await assert.rejects(load({ modelBytes: new Uint8Array(64), wasm: WASM }), (e) => e instanceof ModelLoadError && /malformed_model/.test(e.message));
  await assert.rejects(load({ wasm: WASM }), /needs modelUrl or modelBytes/);
  await assert.rejects(load({ modelBytes: 'x', wasm: WASM }), ModelLoadError);
  const labels = ['just one'];
  await assert.rejects(load({ modelBytes: modelFile('mobilenet_v1_0.25_128_quant.tflite'), labels, wasm: WASM }), /bad labels: .*1 labels for 1001 classes/);
});

test('bad inputs are InputErrors, the model stays usable, embeddings and per-layer times work', async () => {
  const wrong = [
    [undefined, /expected an image/],
    [{ data: new Uint8Array(10), width: 128, height: 128 }, /not 128×128 RGB/],
    [{ data: [1, 2, 3], width: 1, height: 1 }, /must be a Uint8Array/],
    [{ data: new Uint8Array(12), width: 0, height: 2 }, /must be positive integers/],
    [new Map(), /unsupported input Map/],
  ];
  for (const [input, message] of wrong) {
    await assert.rejects(small.classify(input), (e) => e instanceof InputError && e instanceof MobileNetError && message.test(e.message));
  }
  await assert.rejects(small.classify(cat(128), 0), InputError);
  const embedding = await small.infer(cat(128), { embedding: true });
  assert.equal(embedding.length, 256);
  const layers = await small.profile(cat(128));
  assert.equal(layers.length, 29);
  assert.equal(layers[2].name, 'Conv2d_1_pointwise');
  assert.ok(layers.every((l) => l.ms >= 0 && l.macs >= 0), JSON.stringify(layers[0]));
  assert.equal((await small.classify(cat(128), 1))[0].className, 'Egyptian cat');
});

test('a quantized model has embeddings: the pooled channels, finite, not all zero, as the float run has them', async () => {
  const embedding = await small.infer(cat(128), { embedding: true });
  assert.ok(embedding instanceof Float32Array);
  assert.equal(embedding.length, 256); // α 0.25: max(int(1024 · 0.25), 8) channels into the average pool
  assert.ok(embedding.every(Number.isFinite));
  assert.ok(embedding.some((v) => v !== 0), 'all zero');
  assert.ok(embedding.every((v) => v >= 0 && v <= 6), 'an average of ReLU6 outputs'); // dequantized
  // The same file run in float (dequantized weights, the model's own input scaling) pools nearly the same.
  const float = await load({ modelBytes: modelFile('mobilenet_v1_0.25_128_quant.tflite'), float: true, wasm: WASM, warmup: false });
  try {
    const f = await float.infer(cat(128), { embedding: true });
    assert.equal(f.length, 256);
    let dot = 0, ee = 0, ff = 0;
    for (let i = 0; i < 256; i++) [dot, ee, ff] = [dot + embedding[i] * f[i], ee + embedding[i] ** 2, ff + f[i] ** 2];
    const cosine = dot / Math.sqrt(ee * ff);
    assert.ok(cosine > 0.99, `cosine ${cosine}`); // measured 0.9991
  } finally {
    float.dispose();
  }
});

test('labels of the wrong type are InputErrors, not traps in the glue, and the model stays usable', async () => {
  const bytes = modelFile('mobilenet_v1_0.25_128_quant.tflite');
  for (const wrong of [5, true, {}, NaN, [1, 2], ['a', 5]]) {
    await assert.rejects(small.setLabels(wrong), InputError, String(wrong));
    await assert.rejects(load({ modelBytes: bytes, labels: wrong, wasm: WASM, warmup: false }), InputError, String(wrong));
  }
  await assert.rejects(small.setLabels(undefined), InputError);
  await assert.rejects(small.setLabels(['just one']), ModelLoadError); // the right type, the wrong count
  assert.equal(small.hasLabels, true);
  assert.equal((await small.classify(cat(128), 1))[0].className, 'Egyptian cat');
  const other = await load({ modelBytes: bytes, labels: null, wasm: WASM, warmup: false }); // null: none given
  try {
    await other.setLabels(Array.from({ length: 1001 }, (_, i) => `class ${i}`));
    assert.equal((await other.classify(cat(128), 1))[0].className, 'class 286');
  } finally {
    other.dispose();
  }
});

test('a disposed model says so', async () => {
  const m = await load({ modelBytes: modelFile('mobilenet_v1_0.25_128_quant.tflite'), wasm: WASM, warmup: false });
  m.dispose();
  await assert.rejects(m.classify(cat(128)), /disposed/);
});
