// The benchmark's page still measures real work: ours, TensorFlow.js, ONNX Runtime Web, TFLite's wasm
// runtime and MediaPipe, each in its own page of headless Chromium, compute the same α0.25/128 network
// from the same weights (the last two from the .tflite file our CLI writes); TFLite's runtime and
// MediaPipe run the official uint8 file too, near TFLite's reference output; the --kernels and --quant
// modes run every kernel family, the integer ones to TFLite's exact output.
// A couple of runs only; `npm run bench` does the timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ENGINES, ROOT, U8_CONFIGS, agreement, floatConfig, openEngine, openSite, openWebDriverSite, prepareSite } from '../../bench/harness.mjs';
import { kernelBuilds, measureKernels } from '../../bench/kernels.mjs';
import { measureQuant } from '../../bench/quant.mjs';
import { ENGINES as BROWSERS } from '../../scripts/lib/webdriver.mjs';

const cfg = floatConfig(0.25, 128);
const builds = kernelBuilds({ pkg: [join(ROOT, 'www/pkg')], wasm: ['plain', 'relaxed'] });
let site, browser;

before(async () => {
  site = prepareSite([cfg], { builds: builds.map((b) => b.dir) });
  browser = await openSite(site);
});

after(async () => {
  await browser?.close();
  site?.remove();
});

const outputs = {}; // each engine's α0.25/128 float output in Chromium

test('every engine agrees with ours on the α0.25/128 top-5 and can be timed', async () => {
  for (const engine of ENGINES) {
    const page = await openEngine(browser.context, browser.url, engine, 1);
    assert.equal(await page.call('load', cfg), true);
    outputs[engine] = (await page.call('output')).output;
    const ms = await page.call('time', 1, 2);
    assert.equal(ms.length, 2);
    assert.ok(ms.every((t) => t > 0), `${engine}: ${ms}`);
    await page.close();
  }
  assert.equal(outputs.ours.length, 1001);
  for (const peer of ENGINES.filter((e) => e !== 'ours')) {
    const a = agreement(outputs.ours, outputs[peer]);
    assert.ok(a.ok, `${peer}: top-5 ${a.gotTop} vs ours ${a.wantTop}, max |prob diff| ${a.maxDiff}`);
  }
});

test('uint8 0.25/128: ours equals TFLite\'s reference, TFLite\'s runtime and MediaPipe come within a few steps', async () => {
  const u8 = U8_CONFIGS.find((c) => c.alpha === 0.25);
  for (const engine of ['ours', 'tflite', 'mediapipe']) {
    const page = await openEngine(browser.context, browser.url, engine, 1);
    assert.equal(await page.call('load', u8), true);
    const { output, reference } = await page.call('output');
    // MediaPipe gives dequantized scores (q / 256), the others the output bytes.
    const steps = engine === 'mediapipe' ? output.map((p) => Math.round(p * 256)) : output;
    const maxDiff = Math.max(...reference.map((v, i) => Math.abs(v - steps[i])));
    // XNNPACK requantizes in float, not in TFLite's reference fixed point: a couple of steps apart.
    assert.ok(engine === 'ours' ? maxDiff === 0 : maxDiff <= 8, `${engine}: max |diff| ${maxDiff}`);
    await page.close();
  }
});

test('--kernels: every kernel family of the plain and the relaxed .wasm runs and is profiled per layer', async () => {
  const opts = { alpha: 0.25, resolution: 128, families: null, runs: 2, warmup: 1 };
  const r = await measureKernels(browser.context, browser.url, opts, builds);
  assert.equal(r.isolated, true);
  assert.deepEqual(Object.keys(r.runs), ['plain:scalar', 'plain:simd128', 'relaxed:scalar', 'relaxed:relaxed-simd128']);
  for (const [variant, run] of Object.entries(r.runs)) {
    assert.ok(run.min > 0 && run.median >= run.min && run.max >= run.median, `${variant}: ${JSON.stringify(run)}`);
    const layers = r.layers[variant];
    assert.equal(layers[0].name, 'Conv2d_0');
    assert.equal(layers.reduce((n, l) => n + l.macs, 0), 13_570_304);
    assert.ok(layers.every((l) => l.ms >= 0), variant);
  }
});

test('--quant: the SIMD integer kernels equal TFLite on both official models', async () => {
  const results = await measureQuant(browser.context, browser.url, { runs: 2, warmup: 1, simdOnly: true });
  assert.deepEqual(results.map((r) => r.model), ['0.25/128', '1.0/224']);
  for (const r of results) {
    assert.equal(r.kernels.length, 1);
    assert.equal(r.kernels[0].name, 'simd128-u8');
    assert.equal(r.kernels[0].exact, true, `${r.model}: output differs from the reference`);
    assert.ok(r.kernels[0].median > 0);
  }
});

// `npm run bench -- --browser firefox|webkit`: the bench page through WebDriver, our rows, outputs checked.
for (const name of BROWSERS) {
  test(`--browser ${name}: ours runs the float and the uint8 rows there, exact on uint8`, async () => {
    const browser = await openWebDriverSite(site, name);
    try {
      const page = await openEngine(browser.context, browser.url, 'ours', 1);
      assert.equal(await page.call('load', cfg), true);
      const a = agreement(outputs.ours, (await page.call('output')).output);
      assert.ok(a.ok, `float: top-5 ${a.gotTop} vs Chromium's ${a.wantTop}, max |prob diff| ${a.maxDiff}`);
      assert.equal(await page.call('load', U8_CONFIGS.find((c) => c.alpha === 0.25)), true);
      const { output, reference } = await page.call('output');
      assert.deepEqual(output, reference);
      const ms = await page.call('time', 1, 2, 0);
      assert.ok(ms.length === 2 && ms.every((t) => t > 0), String(ms));
      await page.close();
      // Threads where the engine has SharedArrayBuffer (Firefox), none in WebKitGTK.
      const threaded = await openEngine(browser.context, browser.url, 'ours', 2);
      assert.equal(threaded !== null, name === 'firefox');
      await threaded?.close();
    } finally {
      await browser.close();
    }
  });
}
