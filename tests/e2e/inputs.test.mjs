// The npm wrapper's input conversion in Chromium (it needs a canvas): nothing of one input may show in the
// next one's result, and alpha means what the README says: raw bytes are read as RGB (alpha ignored), drawn
// sources are composited over opaque black. The model is the official 0.25/128 file, served with the page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { session } from './helpers.mjs';

let b;

before(async () => {
  b = await session();
  // Any same-origin document will do: a text file, with the favicon its tab would ask for answered.
  await b.page.route('**/favicon.ico', (r) => r.fulfill({ status: 204 }));
  await b.page.goto(new URL('models/imagenet_labels.txt', b.url).href);
  await b.page.evaluate(async () => {
    const { load } = await import('/js/index.js');
    window.model = await load({ modelUrl: '/models/mobilenet_v1_0.25_128_quant.tflite' });
  });
});

after(async () => {
  await b?.close();
});

// Top-1 index and probability of each step, run in order in one page on one model.
const run = (steps) => b.page.evaluate(async (steps) => {
  const solid = (w, h, rgba) => {
    const c = new OffscreenCanvas(w, h);
    const ctx = c.getContext('2d');
    ctx.fillStyle = `rgba(${rgba.join(',')})`;
    ctx.fillRect(0, 0, w, h);
    return c;
  };
  const raw = (w, h, pixel) => ({ data: new Uint8Array(w * h * pixel.length).map((_, i) => pixel[i % pixel.length]), width: w, height: h });
  const inputs = {
    red: () => solid(128, 128, [255, 0, 0, 1]),
    black: () => solid(200, 150, [0, 0, 0, 1]),
    transparent: () => solid(200, 150, [0, 0, 0, 0]),
    transparentRed: () => solid(200, 150, [255, 0, 0, 0]),
    rawBlack: () => raw(128, 128, [0, 0, 0]),
    rawRedAlpha0: () => raw(90, 70, [255, 0, 0, 0]),
    rawRed: () => raw(90, 70, [255, 0, 0]),
    rawRedAlpha0ModelSize: () => raw(128, 128, [255, 0, 0, 0]),
    closedBitmap: async () => {
      const bitmap = await createImageBitmap(solid(64, 64, [0, 255, 0, 1]));
      bitmap.close();
      return bitmap;
    },
  };
  const out = [];
  for (const step of steps) {
    try {
      const [top] = await window.model.classify(await inputs[step](), 1);
      out.push(`${step}: ${top.index} ${top.probability}`);
    } catch (e) {
      out.push(`${step}: ${e.name}`);
    }
  }
  return out;
}, steps);

const result = (line) => line.split(': ')[1];

test('a transparent canvas after a red one reads as black, not as the red one again', async () => {
  const [red, transparent, black, rawBlack] = await run(['red', 'transparent', 'black', 'rawBlack']);
  assert.notEqual(result(red), result(rawBlack), 'red and black must differ for this test to mean anything');
  assert.equal(result(transparent), result(rawBlack), `${red}; ${transparent}`);
  assert.equal(result(black), result(rawBlack));
  // Transparent red composites over black as black too.
  const [, transparentRed] = await run(['red', 'transparentRed']);
  assert.equal(result(transparentRed), result(rawBlack));
});

test('raw RGBA bytes are read as RGB, their alpha ignored, at any size', async () => {
  const [alpha0, opaque] = await run(['rawRedAlpha0', 'rawRed']);
  assert.equal(result(alpha0), result(opaque));
  const [black, modelSize] = await run(['rawBlack', 'rawRedAlpha0ModelSize']);
  assert.notEqual(result(modelSize), result(black));
  assert.equal(result(modelSize), result(opaque), 'the same red, resized or not');
});

test('an input that fails to draw is an InputError and leaves nothing behind', async () => {
  const [, closed, black] = await run(['red', 'closedBitmap', 'black']);
  assert.equal(result(closed), 'InputError');
  const [rawBlack] = await run(['rawBlack']);
  assert.equal(result(black), result(rawBlack));
});

test('no console errors', () => {
  b.check('inputs');
});
