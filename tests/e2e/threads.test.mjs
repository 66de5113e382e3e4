// The threaded-build plug: a page served cross-origin isolated whose builds.json announces a threaded
// build must run it in a worker with a pool of hardwareConcurrency threads and say so. The real build
// is made elsewhere; here a stand-in pkg-threads/ re-exports the single-thread glue with a no-op
// initThreadPool, which exercises exactly the loader's path (worker, glue by URL, initThreadPool).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CAT_BMP, CAT_CLASSES, ROOT, browser, startServer, topFive } from './helpers.mjs';

const STAND_IN = `export * from '../pkg/mobilenet_wasm.js';
export { default } from '../pkg/mobilenet_wasm.js';
export async function initThreadPool() {}
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
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});
