// The benchmark's page still measures real work: ours, TensorFlow.js and ONNX Runtime Web, each in
// its own page of headless Chromium, compute the same α0.25/128 network from the same weights.
// A couple of runs only; `npm run bench` does the timing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ENGINES, agreement, floatConfig, openEngine, openSite, prepareSite } from '../../bench/harness.mjs';

const cfg = floatConfig(0.25, 128);
let site, browser;

before(async () => {
  site = prepareSite([cfg]);
  browser = await openSite(site);
});

after(async () => {
  await browser?.close();
  site?.remove();
});

test('ours, tfjs and ort agree on the α0.25/128 top-5 and can be timed', async () => {
  const outputs = {};
  for (const engine of ENGINES) {
    const page = await openEngine(browser.context, browser.url, engine, 1);
    await page.call('load', cfg);
    outputs[engine] = await page.call('output');
    const ms = await page.call('time', 1, 2);
    assert.equal(ms.length, 2);
    assert.ok(ms.every((t) => t > 0), `${engine}: ${ms}`);
    await page.close();
  }
  assert.equal(outputs.ours.length, 1001);
  for (const peer of ['tfjs', 'ort']) {
    const a = agreement(outputs.ours, outputs[peer]);
    assert.ok(a.ok, `${peer}: top-5 ${a.gotTop} vs ours ${a.wantTop}, max |prob diff| ${a.maxDiff}`);
  }
});
