// The page in Firefox and WebKitGTK (Safari's engine), through WebDriver (scripts/lib/webdriver.mjs), as a
// person uses it: what runs and why, the inspector's totals, a photo by upload, drop and paste, the model
// picker, the camera (Firefox's fake one; WebKitGTK has none, so its fallback message), and nothing logged
// as an error or fetched off this machine. Chromium runs the fuller suites beside this file.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, CAT_BMP, CAT_CLASSES, handOver } from './helpers.mjs';
import { serve } from '../../scripts/lib/browser.mjs';
import { ENGINES, launchEngine } from '../../scripts/lib/webdriver.mjs';

const LOAD = 60_000; // JavaScriptCore compiles late: the first inferences there take about a second each

const count = (page) => page.evaluate(() => Number(document.body.dataset.classified ?? 0));
const nextResult = (page, n) =>
  page.waitForFunction((n) => Number(document.body.dataset.classified ?? 0) > n, n, { timeout: LOAD });
const topName = (page) => page.evaluate(() => document.querySelector('#predictions li:not(.empty) .name')?.textContent);

/**
 * Picks a model as a person does (the radio itself is hidden under its label) and waits until it is
 * loaded; returns what the progress bar said meanwhile: [{text, value}] (value: aria-valuenow).
 */
async function pickModel(page, key) {
  await page.evaluate(() => {
    const seen = (window.__progress = []);
    const bar = document.getElementById('progress-bar');
    const text = document.getElementById('progress-text');
    const note = () => seen.push({ text: text.textContent, value: bar.getAttribute('aria-valuenow') });
    new MutationObserver(note).observe(document.getElementById('progress'), { subtree: true, childList: true, attributes: true, characterData: true });
  });
  await page.click(`label[for="model-${key}"]`);
  await page.waitForFunction((k) => document.body.dataset.model === k && !document.body.dataset.loading, key, { timeout: LOAD });
  return page.evaluate(() => window.__progress);
}

/** The page served here, open in `engine` with `camera` ({allow}), its first model loaded: launchEngine()'s result. */
async function openThePage(engine, camera) {
  const server = await serve();
  let b;
  const close = async () => {
    await b?.close();
    await server.close();
  };
  try {
    b = await launchEngine(engine, { camera });
    await b.page.goto(server.url);
    await b.page.waitForSelector('body[data-ready="true"][data-model="0.25"]:not([data-loading])', { timeout: LOAD });
    return { ...b, close };
  } catch (e) {
    await close();
    throw e;
  }
}

// What each engine can do here: Firefox has SharedArrayBuffer and relaxed SIMD, whose multiply-add it runs
// slower than a multiply then an add on some CPUs (AMD Zen) and faster on others (Intel Xeon), so the
// wrapper times the two (js/peak.js) and the test holds the build to that verdict; WebKitGTK is
// cross-origin isolated without SharedArrayBuffer, and has SIMD but not relaxed SIMD.
const EXPECT = {
  firefox: { build: /^threads × 2 · (relaxed SIMD · )?simd128/, sharedArrayBuffer: true },
  webkit: { build: /^single thread · simd128/, sharedArrayBuffer: false },
};

/** What the build's title must say: why one thread (WebKitGTK), or why not relaxed SIMD where it did not pay. */
function why(engine, verdict) {
  if (engine === 'webkit') return /SharedArrayBuffer.*running one thread/;
  return verdict.pays ? /^(?!.*relaxed)/ : /relaxed SIMD's multiply-add ran slower/;
}

for (const engine of ENGINES) {
  describe(engine, () => {
    let b;
    before(async () => {
      b = await openThePage(engine, { allow: false });
    });
    after(() => b?.close());

    test('the page says which build runs, and why', async () => {
      const { page } = b;
      assert.equal(await page.evaluate(() => crossOriginIsolated), true);
      assert.equal(await page.evaluate(() => typeof SharedArrayBuffer === 'function'), EXPECT[engine].sharedArrayBuffer);
      const build = await page.textContent('#build');
      assert.match(build, EXPECT[engine].build);
      // The page's verdict, measured once by the wrapper's own module instance: the build must follow it.
      const verdict = await page.evaluate(async () => (await import('./js/peak.js')).relaxedVerdict());
      assert.equal(build.includes('relaxed SIMD'), verdict.pays, JSON.stringify(verdict));
      assert.match(await page.evaluate(() => document.getElementById('build').title), why(engine, verdict));
    });

    test('the inspector shows the paper totals', async () => {
      const { page } = b;
      await page.selectOption('#classes', '1000');
      assert.equal(await page.textContent('#total-macs'), '568,740,352');
      assert.equal(await page.textContent('#total-params'), '4,209,088');
      await page.click('button[data-alpha="0.25"]');
      assert.equal(await page.textContent('#total-macs'), '41,030,272');
      await page.click('button[data-alpha="1"]');
    });

    test('a photo by upload is labelled a cat', async () => {
      const { page } = b;
      const n = await count(page);
      await page.setInputFiles('#file', CAT_BMP);
      await nextResult(page, n);
      assert.match(await topName(page), CAT_CLASSES);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(ARTIFACTS, `${engine}-upload.png`) });
    });

    for (const how of ['drop', 'paste']) {
      test(`a photo by ${how}, on another model from the picker, is labelled a cat`, async () => {
        const { page } = b;
        const progress = await pickModel(page, how === 'drop' ? '0.5' : '0.75');
        // The download showed its bytes, up to 100% of the file's size (1.4 MB or 2.7 MB).
        assert.ok(progress.some((p) => /^Downloading [0-9.]+ MB of (1\.4|2\.7) MB$/.test(p.text)), JSON.stringify(progress));
        assert.equal(progress.filter((p) => p.value !== null).at(-1)?.value, '100', JSON.stringify(progress));
        const n = await count(page);
        await handOver(page, how);
        await nextResult(page, n);
        assert.match(await topName(page), CAT_CLASSES);
      });
    }

    test('the camera: blocked (Firefox) or absent (WebKitGTK) gives a clear message', async () => {
      const { page } = b;
      await page.click('#camera-toggle');
      await page.waitForSelector('body[data-camera="blocked"]', { timeout: 15_000 });
      const message = await page.textContent('#camera-message');
      assert.match(message, engine === 'firefox' ? /Camera access was blocked/ : /camera/i);
      assert.match(message, /upload, drop or paste a photo/i);
      assert.equal(await page.textContent('#camera-toggle'), 'Start camera');
    });

    test("the inspector's four views: feature maps, the worked example, the explorer, separable vs standard", async () => {
      const { page } = b;
      // Feature maps of the photo on the stage (α 0.75 by now: 24 channels, 16 a page).
      const maps = await page.evaluate(() => Number(document.body.dataset.maps ?? 0));
      await page.selectOption('#maps-layer', 'Conv2d_1_depthwise');
      await page.waitForFunction((n) => Number(document.body.dataset.maps ?? 0) > n, maps, { timeout: LOAD });
      assert.equal(await page.$$eval('#maps-grid canvas', (c) => c.length), 16);
      assert.equal(await page.textContent('#maps-page'), 'channels 0–15 of 24');
      // The worked example, from the teaching module's reference ops.
      await page.waitForFunction(() => document.getElementById('worked-conv2d-array')?.textContent.startsWith('[[[['), null, { timeout: LOAD });
      assert.equal(await page.textContent('#worked-conv2d-array'), '[[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]');
      assert.equal(await page.textContent('#worked-depthwise-array'), '[[[[0, 36, 9, 27], [0, 54, 9, 27]], [[0, 36, 9, 27], [0, 54, 9, 27]]]]');
      // Latency of the 16 configurations and of one block, measured in this engine.
      await page.click('#explorer-run');
      await page.waitForSelector('#explorer[data-state="done"]', { timeout: 180_000 });
      assert.match(await page.textContent('#explorer-verdict'), /^Here, /);
      await page.click('#sepm-run');
      await page.waitForSelector('#sepm[data-state="done"]', { timeout: LOAD });
      assert.match(await page.textContent('#sepm-macs'), /^0\.\d{3}$/);
      await page.evaluate(() => document.getElementById('explorer').scrollIntoView());
      await page.screenshot({ path: join(ARTIFACTS, `${engine}-explorer.png`) });
    });

    test('nothing logged as an error, nothing fetched off this machine', async () => {
      // Firefox's BiDi listener saw the loads it judges (the worker's .wasm and models included).
      if (b.page.bidi) assert.ok(b.page.requests.some((u) => u.endsWith('.tflite')), b.page.requests.join(' '));
      await b.check('the page');
    });
  });
}

describe('firefox fake camera', () => {
  let b;
  before(async () => {
    b = await openThePage('firefox', { allow: true });
  });
  after(() => b?.close());

  test('frames from the camera are classified one after another', async () => {
    const { page } = b;
    await page.click('#camera-toggle');
    await page.waitForSelector('body[data-camera="on"]', { timeout: 15_000 });
    const n = await count(page);
    await page.waitForFunction((n) => Number(document.body.dataset.classified ?? 0) > n + 10, n, { timeout: LOAD });
    assert.equal(await page.textContent('#camera-toggle'), 'Stop camera');
    await page.click('#camera-toggle');
    await b.check('the camera page');
  });
});
