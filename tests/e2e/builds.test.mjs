// What the page does with engine builds made elsewhere: a cross-origin isolated page whose builds.json
// announces a threaded build must run it in a worker with a pool of hardwareConcurrency threads and
// say so; an engine with Model.profile gets ms and GMAC/s per layer in the inspector. A stand-in
// pkg-threads/ re-exports the single-thread glue with a no-op initThreadPool and a fake profile, which
// exercises exactly the page's and loader's paths (worker, glue by URL, initThreadPool, profile).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, CAT_BMP, CAT_CLASSES, ROOT, browser, startServer, topFive } from './helpers.mjs';

const STAND_IN = `export * from '../pkg/mobilenet_wasm.js';
export { default } from '../pkg/mobilenet_wasm.js';
import { Model } from '../pkg/mobilenet_wasm.js';
export async function initThreadPool() {}
// One time per layer, in layer order, as the engine's Plan::profile fills them.
Model.prototype.profile = function () { return new Float64Array(this.inspect().layers.length).fill(0.5); };
`;
let root, server, base, b;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'mnw-www-'));
  cpSync(join(ROOT, 'www'), root, { recursive: true });
  mkdirSync(join(root, 'pkg-threads'), { recursive: true });
  writeFileSync(join(root, 'pkg-threads', 'mobilenet_wasm.js'), STAND_IN);
  writeFileSync(join(root, 'builds.json'), '{"threads": true}');
  ({ child: server, url: base } = await startServer([join(ROOT, 'scripts/serve.mjs'), '--port', '0', '--root', root]));
  b = await browser();
});

after(async () => {
  await b?.context.close();
  server?.kill();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('an isolated page runs the threaded build with one thread per core', async () => {
  const { page } = b;
  await page.goto(base);
  await page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const engine = await page.textContent('#engine');
  if (cores > 1) assert.match(engine, new RegExp(`^threads × ${cores} · `));
  else assert.match(engine, /^SIMD build, 1 thread/);
  await page.setInputFiles('#file', CAT_BMP);
  await page.waitForFunction(() => Number(document.body.dataset.classified ?? 0) > 0, null, { timeout: 15_000 });
  assert.match((await topFive(page))[0].name, CAT_CLASSES);
});

test('an engine with Model.profile shows ms and GMAC/s per layer', async () => {
  const { page } = b;
  await page.click('#profile-run');
  await page.waitForSelector('#layers th.timing:not([hidden])');
  const first = await page.$$eval('#layers tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
  assert.deepEqual(first.slice(-2), ['0.50', (884_736 / 0.5 / 1e6).toFixed(2)]); // Conv2d_0 at 0.25/128
  assert.equal(await page.textContent('#total-macs'), '13,570,304');
  await page.locator('#inspector').screenshot({ path: join(ARTIFACTS, 'inspector-profile.png') });
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});
