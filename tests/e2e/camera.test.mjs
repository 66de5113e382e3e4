// The live classifier with Chromium's fake camera playing cat.bmp: a cat class must be top-1 within
// 30 s with the smallest (0.25/128) and the largest (1.0/224, two chained files) model. Reports the
// measured inference time and frame rate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, CAT_CLASSES, fakeCameraFile, launch, session, topFive } from './helpers.mjs';

let base, b;

before(async () => {
  b = await session({ camera: { file: fakeCameraFile() } });
  base = b.url;
  await b.page.goto(base);
});

after(async () => {
  await b?.close();
});

// Waits until `frames` more frames were classified with a cat on top, then reads the page's numbers.
async function catOnTop(page, frames = 10) {
  const start = Number(await page.evaluate(() => document.body.dataset.classified ?? 0));
  await page.waitForFunction(([start, frames]) => {
    const top = document.querySelector('#predictions li.best .name')?.textContent ?? '';
    return Number(document.body.dataset.classified) >= start + frames && /^(tabby|tiger cat|egyptian cat)$/i.test(top);
  }, [start, frames], { timeout: 30_000, polling: 100 });
  return { top: await topFive(page), ms: await page.textContent('#ms'), fps: await page.textContent('#fps'), engine: await page.textContent('#engine') };
}

test('0.25/128: the camera shows a cat within 30 s', async (t) => {
  const { page } = b;
  await page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
  await page.click('#camera-toggle');
  await page.waitForSelector('body[data-camera="on"]');
  const seen = await catOnTop(page, 30);
  assert.match(seen.top[0].name, CAT_CLASSES);
  assert.equal(seen.top.length, 5);
  assert.match(seen.engine, /^(SIMD build, 1 thread|threads × \d+) · (relaxed SIMD · )?\S+ kernels$/);
  t.diagnostic(`0.25/128: ${seen.ms} per frame, ${seen.fps}; ${seen.engine}; top-1 ${seen.top[0].name}`);
  await page.screenshot({ path: join(ARTIFACTS, 'camera-0.25.png') });
});

test('1.0/224 (extractor + head): the camera shows a cat within 30 s', async (t) => {
  const { page } = b;
  await page.click('#model-1\\.0');
  await page.waitForSelector('body[data-model="1.0"]', { timeout: 30_000 });
  const seen = await catOnTop(page, 8);
  assert.match(seen.top[0].name, CAT_CLASSES);
  t.diagnostic(`1.0/224: ${seen.ms} per frame, ${seen.fps}; top-1 ${seen.top[0].name} ${seen.top[0].probability}`);
  await page.screenshot({ path: join(ARTIFACTS, 'camera-1.0.png') });
});

test('stopping the camera stops the loop', async () => {
  const { page } = b;
  await page.click('#camera-toggle');
  await page.waitForSelector('body[data-camera="off"]');
  const n = await page.evaluate(() => document.body.dataset.classified);
  await page.waitForTimeout(600);
  assert.equal(await page.evaluate(() => document.body.dataset.classified), n);
  assert.equal(await page.isVisible('#stage-empty'), true);
});

test('with two cameras a picker appears and switches between them', async () => {
  const two = await launch({ camera: { devices: 2 } });
  try {
    const { page } = two;
    await page.goto(base);
    await page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
    await page.click('#camera-toggle');
    await page.waitForSelector('#camera-select:not([hidden])', { timeout: 10_000 });
    const options = await page.$$eval('#camera-select option', (os) => os.map((o) => o.value));
    assert.equal(options.length, 2);
    const current = await page.inputValue('#camera-select');
    const next = options.find((o) => o !== current);
    await page.selectOption('#camera-select', next);
    // The camera restarts on that device and frames keep coming.
    const n = await page.evaluate(() => Number(document.body.dataset.classified ?? 0));
    await page.waitForFunction((n) => Number(document.body.dataset.classified) > n + 3, n, { timeout: 10_000 });
    assert.equal(await page.inputValue('#camera-select'), next);
    assert.equal(await page.getAttribute('body', 'data-camera'), 'on');
    assert.deepEqual(two.errors, []);
  } finally {
    await two.close();
  }
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});
