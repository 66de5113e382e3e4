// Without camera access (the permission prompt is denied): the page says so, and a photo still gets
// classified through upload, drag-and-drop and paste.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, CAT_BMP, CAT_CLASSES, SHARED, handOver, session, topFive } from './helpers.mjs';

let base, b;

before(async () => {
  b = await session({ camera: { allow: false } });
  base = b.url;
  await b.page.goto(base);
  await b.page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
});

after(async () => {
  await b?.close();
});

// Classified-frame counter, to wait for the next result.
const count = (page) => page.evaluate(() => Number(document.body.dataset.classified ?? 0));
const nextResult = (page, n) => page.waitForFunction((n) => Number(document.body.dataset.classified ?? 0) > n, n, { timeout: 15_000 });

test('a denied camera shows a clear message', async () => {
  const { page } = b;
  await page.click('#camera-toggle');
  await page.waitForSelector('body[data-camera="blocked"]', { timeout: 10_000 });
  assert.match(await page.textContent('#camera-message'), /Camera access was blocked.*upload, drop or paste/);
  assert.equal(await page.textContent('#camera-toggle'), 'Start camera');
});

test('upload still classifies', async () => {
  const { page } = b;
  const n = await count(page);
  await page.setInputFiles('#file', CAT_BMP);
  await nextResult(page, n);
  const top = await topFive(page);
  assert.match(top[0].name, CAT_CLASSES);
  assert.equal(await page.isVisible('#still'), true);
  assert.match(await page.textContent('#camera-message'), /blocked/, 'the camera message stays up');
  await page.screenshot({ path: join(ARTIFACTS, 'camera-denied-upload.png') });
});

for (const how of ['drop', 'paste']) {
  test(`${how} classifies`, async () => {
    const { page } = b;
    await page.click('#model-0\\.5'); // a different model, so the answer is new
    await page.waitForSelector('body[data-model="0.5"]:not([data-loading])', { timeout: 30_000 });
    const n = await count(page);
    await handOver(page, how);
    await nextResult(page, n);
    assert.match((await topFive(page))[0].name, CAT_CLASSES);
    assert.equal(await page.isVisible('#drop-hint'), false);
    await page.click('#model-0\\.25');
    await page.waitForSelector('body[data-model="0.25"]:not([data-loading])', { timeout: 30_000 });
  });
}

test('your own Keras-made .tflite opens with its labels file and shows its Dense head in the inspector', async () => {
  const { page } = b;
  // Teachable Machine's head on α 0.25 at 224, full integer with uint8 edges; five classes named by a .txt.
  const name = 'tm_a0.25_r224_int8_uint8io.tflite';
  const model = { name, mimeType: 'application/octet-stream', buffer: readFileSync(join(SHARED, 'fixtures', 'user', name)) };
  const labels = { name: 'labels.txt', mimeType: 'text/plain', buffer: Buffer.from('red\ngreen\nblue\ncyan\nmagenta\n') };
  await page.setInputFiles('#model-file', [model, labels]);
  await page.waitForSelector('body[data-model="custom"]:not([data-loading])', { timeout: 30_000 });
  assert.match(await page.textContent('#model-desc'), /tm_a0\.25_r224_int8_uint8io\.tflite \+ labels\.txt/);
  assert.match(await page.textContent('#loaded-text'), /α 0\.25 · 224×224 px · 5 classes · int8/);
  const n = await count(page);
  await page.setInputFiles('#file', CAT_BMP);
  await nextResult(page, n);
  const top = await topFive(page);
  assert.equal(top.length, 5);
  assert.deepEqual(top.map((p) => p.name.toLowerCase()).sort(), ['blue', 'cyan', 'green', 'magenta', 'red']);
  await page.click('#inspect-loaded');
  await page.waitForFunction(() => [...document.querySelectorAll('#layers tbody tr th')].some((th) => th.textContent === 'Dense_1'));
  const names = await page.$$eval('#layers tbody tr th', (ths) => ths.map((th) => th.textContent));
  assert.deepEqual(names.slice(-3), ['AvgPool_1a', 'Dense_1', 'Logits']);
  await page.locator('#inspector').screenshot({ path: join(ARTIFACTS, 'inspector-own-model.png') });
  await page.click('#model-0\\.25');
  await page.waitForSelector('body[data-model="0.25"]:not([data-loading])', { timeout: 30_000 });
});

test('a file that is not an image is refused politely', async () => {
  const { page } = b;
  await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello') });
  assert.match(await page.textContent('#camera-message'), /“notes\.txt” is not an image/);
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});
