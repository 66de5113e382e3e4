// The page with both engine builds (scripts/build.sh makes www/pkg and www/pkg-threads and announces the
// threaded one in builds.json): a cross-origin isolated page must run the threaded build in a worker with
// a pool of hardwareConcurrency threads and say so, on the relaxed SIMD .wasm (Chromium has relaxed SIMD),
// falling back to the plain .wasm when the relaxed one is missing; Model.profile gives ms and GMAC/s per layer.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARTIFACTS, CAT_BMP, CAT_CLASSES, ROOT, launch, session, topFive } from './helpers.mjs';

let root, base, b;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'mnw-www-'));
  cpSync(join(ROOT, 'www'), root, { recursive: true });
  assert.ok(existsSync(join(root, 'pkg-threads', 'mobilenet_wasm.js')), 'run scripts/build.sh (both builds) first');
  writeFileSync(join(root, 'builds.json'), '{"threads": true}');
  b = await session({ root });
  base = b.url;
});

after(async () => {
  await b?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

test('an isolated page runs the threaded build with one thread per core', async () => {
  const { page } = b;
  await page.goto(base);
  await page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  const engine = await page.textContent('#engine');
  // Chromium has relaxed SIMD, so the relaxed .wasm of the build runs, and the page says so.
  if (cores > 1) assert.match(engine, new RegExp(`^threads × ${cores} · relaxed SIMD · simd128-u8 kernels$`));
  else assert.match(engine, /^SIMD build, 1 thread · relaxed SIMD · /);
  assert.match(await page.textContent('#build'), / · relaxed SIMD · /);
  await page.setInputFiles('#file', CAT_BMP);
  await page.waitForFunction(() => Number(document.body.dataset.classified ?? 0) > 0, null, { timeout: 15_000 });
  assert.match((await topFive(page))[0].name, CAT_CLASSES);
});

test('an engine with Model.profile shows ms and GMAC/s per layer', async () => {
  const { page } = b;
  await page.click('#profile-run');
  await page.waitForSelector('#layers th.timing:not([hidden])');
  const first = await page.$$eval('#layers tbody tr:first-child td', (tds) => tds.map((td) => td.textContent));
  const [ms, gmacs] = first.slice(-2).map(Number);
  assert.ok(ms > 0 && ms < 100, `Conv2d_0 took ${first.slice(-2)}`);
  // The rate comes from the unrounded time: it must fit the shown time ± half its last digit (0.25/128's stem).
  const half = 0.5 * 10 ** -(first.at(-2).split('.')[1]?.length ?? 0);
  const [lo, hi] = [884_736 / (ms + half) / 1e6 - 0.005, 884_736 / (ms - half) / 1e6 + 0.005];
  assert.ok(gmacs >= lo && gmacs <= hi, `GMAC/s ${gmacs} for ${first.at(-2)} ms (allowed ${lo.toFixed(2)}..${hi.toFixed(2)})`);
  assert.equal(await page.textContent('#total-macs'), '13,570,304');
  await page.locator('#inspector').screenshot({ path: join(ARTIFACTS, 'inspector-profile.png') });
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});

test('without its relaxed .wasm the page falls back to the plain build and says why', async () => {
  rmSync(join(root, 'pkg-threads', 'mobilenet_wasm_relaxed_bg.wasm'));
  rmSync(join(root, 'pkg', 'mobilenet_wasm_relaxed_bg.wasm'));
  const fresh = await launch(); // its console shows the 404s, which the test above forbids
  try {
    await fresh.page.goto(base);
    await fresh.page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
    const engine = await fresh.page.textContent('#engine');
    assert.doesNotMatch(engine, /relaxed/);
    assert.match(await fresh.page.getAttribute('#engine', 'title'), /relaxed SIMD build unavailable/);
    await fresh.page.setInputFiles('#file', CAT_BMP);
    await fresh.page.waitForFunction(() => Number(document.body.dataset.classified ?? 0) > 0, null, { timeout: 15_000 });
    assert.match((await topFive(fresh.page))[0].name, CAT_CLASSES);
  } finally {
    await fresh.close();
  }
});
