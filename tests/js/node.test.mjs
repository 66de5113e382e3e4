// The npm package as a Node program uses it: no `wasm` option (the package finds its own .wasm on disk),
// models by file: URL or bytes read with fs, raw pixels of any size (resized in wasm, as Pillow does), and
// the notes that say why threads or a worker do not run here. Outputs are held against TFLite's reference
// kernels (../shared/reference), whose inputs were made with Pillow's bilinear resize of the same photos.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load, InputError, ModelLoadError } from '../../js/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
const MODEL = join(SHARED, 'models', 'mobilenet_v1_0.25_128_quant.tflite');
// TFLite's uint8 softmax output for cat.bmp (scale 1/256), and the exact input tensor it was given.
const REFERENCE = [...readFileSync(join(SHARED, 'reference/outputs/mobilenet_v1_0.25_128_quant_cat.u8'))];
const CAT_128 = new Uint8Array(readFileSync(join(SHARED, 'reference/inputs/cat_128.rgb')));
let model;

before(async () => {
  model = await load({ modelUrl: pathToFileURL(MODEL), warmup: false });
});
after(() => model?.dispose());

/** A 24-bit uncompressed BMP (the fixtures' kind) as top-down RGB rows. */
function readBmp(path) {
  const b = readFileSync(path);
  const [offset, width, rawHeight, bits, compression] =
    [b.readUInt32LE(10), b.readInt32LE(18), b.readInt32LE(22), b.readUInt16LE(28), b.readUInt32LE(30)];
  assert.ok(bits === 24 && compression === 0, `${path}: ${bits}-bit, compression ${compression}`);
  const height = Math.abs(rawHeight);
  const stride = Math.ceil((width * 3) / 4) * 4;
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = offset + (rawHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      const [bl, g, r] = b.subarray(row + 3 * x, row + 3 * x + 3);
      rgb.set([r, g, bl], (y * width + x) * 3);
    }
  }
  return { data: rgb, width, height };
}

const steps = (probs) => [...probs].map((p) => Math.round(p * 256));

test('finds its own .wasm and reads a file: URL model', () => {
  assert.deepEqual(model.resolution, [128, 128]);
  assert.equal(model.build.name, 'simd');
  assert.equal(model.build.threads, 1);
  assert.equal(model.build.note, '');
});

test('the exact input tensor gives the reference output', async () => {
  const probs = await model.infer({ data: CAT_128, width: 128, height: 128 });
  assert.deepEqual(steps(probs), REFERENCE);
  assert.equal((await model.classify({ data: CAT_128, width: 128, height: 128 }, 1))[0].className, 'Egyptian cat');
});

test('a photo of any size is resized as the reference inputs were (Pillow bilinear)', async () => {
  const photo = readBmp(join(SHARED, 'images', 'cat.bmp'));
  assert.deepEqual([photo.width, photo.height], [512, 341]);
  assert.deepEqual(steps(await model.infer(photo)), REFERENCE);
  // An ImageData-like object: RGBA, alpha ignored.
  const rgba = new Uint8ClampedArray(photo.width * photo.height * 4);
  for (let i = 0, j = 0; i < photo.data.length; i += 3, j += 4) rgba.set([...photo.data.subarray(i, i + 3), i % 7], j);
  assert.deepEqual(steps(await model.infer({ data: rgba, width: photo.width, height: photo.height })), REFERENCE);
});

test('modelBytes read with fs, and threads or a worker asked for: one thread, with a note', async () => {
  const m = await load({ modelBytes: readFileSync(MODEL), threads: 2, worker: true, warmup: false });
  try {
    assert.equal(m.build.threads, 1);
    assert.equal(m.build.worker, false);
    assert.match(m.build.note, /Node has no Web Workers.*running one thread/);
    assert.match(m.build.note, /no Web Worker here \(Node\); running on this thread/);
    assert.deepEqual(steps(await m.infer({ data: CAT_128, width: 128, height: 128 })), REFERENCE);
  } finally {
    m.dispose();
  }
});

test('bad files and pixels are typed errors', async () => {
  await assert.rejects(load({ modelUrl: pathToFileURL(join(SHARED, 'models', 'no-such.tflite')) }), ModelLoadError);
  await assert.rejects(load({ modelUrl: pathToFileURL(join(SHARED, 'images', 'cat.bmp')) }), ModelLoadError);
  await assert.rejects(model.infer({ data: new Uint8Array(10 * 7 * 3 + 1), width: 10, height: 7 }), InputError);
  await assert.rejects(model.infer({ data: new Uint8Array(0), width: 0, height: 0 }), InputError);
  // A single pixel is upscaled like any other size; the model still gives the reference afterwards.
  assert.equal((await model.infer({ data: new Uint8Array([200, 30, 30]), width: 1, height: 1 })).length, 1001);
  assert.deepEqual(steps(await model.infer({ data: CAT_128, width: 128, height: 128 })), REFERENCE);
});
