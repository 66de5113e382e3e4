// Feature maps on the page: with the 0.25/128 model and cat.bmp's exact input tensor (cat_128.rgb, uploaded as
// a 128×128 BMP so nothing resizes it), the values the page reads out for channel 3 of Conv2d_1_depthwise equal
// TFLite's reference dump of that layer (dequantized); picking a layer shows its maps and what it does; a wide
// layer pages; the camera keeps them coming while it classifies.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, SHARED, fakeCameraFile, session } from './helpers.mjs';

const LAYERS = join(SHARED, 'reference/outputs/layers/mobilenet_v1_0.25_128_quant');
let b;

/** A 24-bit bottom-up BMP of raw RGB rows. */
function bmp(rgb, width, height) {
  const stride = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + stride * height);
  out.write('BM', 0);
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, bl] = rgb.subarray((y * width + x) * 3, (y * width + x) * 3 + 3);
      out.set([bl, g, r], 54 + (height - 1 - y) * stride + x * 3);
    }
  }
  return out;
}

/** TFLite's output of operator `op` for cat_128.rgb as real values, and its [h, w, c]. */
function reference(op) {
  const entry = JSON.parse(readFileSync(join(LAYERS, 'manifest.json'), 'utf8')).ops[op];
  const bytes = readFileSync(join(LAYERS, entry.file));
  return { shape: entry.shape.slice(1), value: (y, x, c) => Math.fround(entry.scale) * (bytes[(y * entry.shape[2] + x) * entry.shape[3] + c] - entry.zero_point) };
}

before(async () => {
  b = await session({ camera: { file: fakeCameraFile() } });
  await b.page.goto(b.url);
  await b.page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
});

after(async () => {
  await b?.close();
});

const maps = (page) => page.evaluate(() => Number(document.body.dataset.maps ?? 0));
const nextMaps = (page, n) => page.waitForFunction((n) => Number(document.body.dataset.maps ?? 0) > n, n, { timeout: 15_000 });

test('the page reads out the reference values of a depthwise layer', async () => {
  const { page } = b;
  const file = join(ARTIFACTS, 'cat_128.bmp');
  writeFileSync(file, bmp(readFileSync(join(SHARED, 'reference/inputs/cat_128.rgb')), 128, 128));
  await page.setInputFiles('#file', file);
  await page.waitForFunction(() => Number(document.body.dataset.classified ?? 0) > 0);
  let n = await maps(page);
  await page.selectOption('#maps-layer', 'Conv2d_1_depthwise');
  await nextMaps(page, n);
  assert.equal(await page.locator('#maps-grid canvas').count(), 8, 'α 0.25: 8 channels, one map each');
  assert.match(await page.textContent('#maps-what'), /^Depthwise 3×3: map c is input channel c filtered by its own 3×3 kernel.*no mixing/);
  assert.equal(await page.isHidden('#maps-pager'), true);
  const want = reference(1);
  const canvas = page.locator('#maps-grid canvas[data-channel="3"]');
  await canvas.scrollIntoViewIfNeeded();
  const box = await canvas.boundingBox();
  for (const [y, x] of [[0, 0], [10, 37], [32, 32], [63, 63], [50, 5]]) {
    // The canvas has a 1 px border around its 64×64 cells.
    await page.mouse.move(box.x + 1 + ((x + 0.5) / 64) * (box.width - 2), box.y + 1 + ((y + 0.5) / 64) * (box.height - 2), { steps: 2 });
    const text = await page.textContent('#maps-readout');
    const m = text.match(/^#3 at \(y (\d+), x (\d+)\): (-?[\d.e-]+)$/);
    assert.ok(m, text);
    assert.deepEqual([Number(m[1]), Number(m[2])], [y, x]);
    const expected = want.value(y, x, 3);
    assert.ok(Math.abs(Number(m[3]) - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `(${y}, ${x}): ${m[3]} vs ${expected}`);
  }
  await page.locator('#maps').screenshot({ path: join(ARTIFACTS, 'maps-depthwise.png') });

  // A pointwise layer, picked by its row in the layer table (after "Show this model").
  await page.click('#inspect-loaded');
  n = await maps(page);
  await page.click('#layers tr[data-layer="Conv2d_1_pointwise"]');
  await nextMaps(page, n);
  assert.equal(await page.inputValue('#maps-layer'), 'Conv2d_1_pointwise');
  assert.equal(await page.locator('#maps-grid canvas').count(), 16);
  assert.match(await page.textContent('#maps-what'), /^Pointwise 1×1: each map is a weighted sum of all 8 input channels.*channel mixing/);

  // A wide layer pages through its channels.
  n = await maps(page);
  await page.selectOption('#maps-layer', 'Conv2d_13_pointwise');
  await nextMaps(page, n);
  assert.equal(await page.textContent('#maps-page'), 'channels 0–15 of 256');
  await page.click('#maps-next');
  assert.equal(await page.textContent('#maps-page'), 'channels 16–31 of 256');
  assert.equal(await page.getAttribute('#maps-grid canvas >> nth=0', 'data-channel'), '16');
  n = await maps(page);
  await page.selectOption('#maps-layer', 'Conv2d_0');
  await nextMaps(page, n);
  assert.match(await page.textContent('#maps-what'), /^The stem: 8 filters of 3×3×3/);
  await page.locator('#maps').screenshot({ path: join(ARTIFACTS, 'maps-stem.png') });
  assert.deepEqual(b.problems(), []);
});

test('the camera keeps the maps coming while it classifies', async (t) => {
  const { page } = b;
  await page.selectOption('#maps-layer', 'Conv2d_1_depthwise');
  await page.click('#camera-toggle');
  await page.waitForSelector('body[data-camera="on"]');
  const [maps0, frames0] = [await maps(page), await page.evaluate(() => Number(document.body.dataset.classified))];
  const t0 = Date.now();
  await page.waitForFunction((n) => Number(document.body.dataset.maps) >= n + 5, maps0, { timeout: 20_000 });
  await page.waitForTimeout(1500);
  const [maps1, frames1] = [await maps(page), await page.evaluate(() => Number(document.body.dataset.classified))];
  const s = (Date.now() - t0) / 1000;
  assert.match(await page.textContent('#maps-status'), /^live camera · 64×64×8/);
  t.diagnostic(`camera with maps: ${((frames1 - frames0) / s).toFixed(1)} classifications/s, ${((maps1 - maps0) / s).toFixed(1)} map updates/s; fps shown ${await page.textContent('#fps')}`);
  assert.ok(frames1 - frames0 > maps1 - maps0, 'maps are kept from some runs, not every one');
  await page.click('#camera-toggle');
});
