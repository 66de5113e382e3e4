// The threaded build in a cross-origin isolated page: its worker pool starts, layers split across the
// workers, and the output equals the single-thread SIMD build's on the same model and input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, session } from './helpers.mjs';

let b, base;

const PAGE = `<!doctype html><meta charset="utf-8"><script type="module" src="check.js"></script>`;
const SCRIPT = `
const input = new Float32Array(96 * 96 * 3).map((_, i) => Math.sin(i) * 0.9);
async function probabilities(dir, threads) {
  const m = await import('./' + dir + '/mobilenet_wasm.js');
  await m.default();
  if (threads) await m.initThreadPool(threads - 1); // the calling thread is the last one
  const model = m.Model.seeded(0.5, 96, 7);
  const out = Array.from(model.run(input));
  return { out, threads: m.threadCount(), kernels: m.kernelName() };
}
window.result = (async () => {
  const single = await probabilities('pkg', 0);
  const multi = await probabilities('pkg-threads', 2);
  return { isolated: self.crossOriginIsolated, single, multi };
})().catch((e) => ({ error: String(e) }));
`;

before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-threads-'));
  for (const dir of ['pkg', 'pkg-threads']) {
    assert.ok(existsSync(join(ROOT, 'www', dir)), `www/${dir} is missing: run scripts/build.sh`);
    cpSync(join(ROOT, 'www', dir), join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'index.html'), PAGE);
  writeFileSync(join(root, 'check.js'), SCRIPT);
  b = await session({ root });
  base = b.url;
});

after(async () => {
  await b?.close();
});

test('threaded build runs on 2 threads (caller + 1 worker) and matches the single-thread build', async () => {
  const { page } = b;
  await page.goto(base);
  const r = await page.evaluate(() => window.result);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.isolated, true);
  assert.equal(r.single.threads, 1);
  assert.equal(r.multi.threads, 2);
  assert.equal(r.multi.out.length, 1001);
  assert.deepEqual(r.multi.out, r.single.out);
});
