// The threaded build in a cross-origin isolated page: its worker pool starts, layers split across the
// workers, and the output equals the single-thread SIMD build's on the same model and input. Then the
// page's main thread, which Chromium forbids to block (Atomics.wait traps there), runs an inference whose
// workers finish long after it: it must wait for them by spinning.
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

// Workers linger (a hidden test hook: spins after their last layer) so that they report finished long
// after the main thread is done with its own share; the main thread must not block waiting for them.
const LATE_PAGE = `<!doctype html><meta charset="utf-8"><script type="module" src="late.js"></script>`;
const LATE_SCRIPT = `
const input = new Float32Array(96 * 96 * 3).map((_, i) => Math.sin(i) * 0.9);
const timed = (f) => { const t = performance.now(); const r = f(); return [r, performance.now() - t]; };
window.result = (async () => {
  const m = await import('./pkg-threads/mobilenet_wasm.js');
  await m.default();
  await m.initThreadPool(1);
  const model = m.Model.seeded(0.5, 96, 7);
  for (let i = 0; i < 3; i++) model.run(input); // compiled and warm before timing
  const [onTime, onTimeMs] = timed(() => Array.from(model.run(input)));
  m.__lingerParts(${1e9});
  let late, lateMs, error;
  try {
    [late, lateMs] = timed(() => Array.from(model.run(input)));
  } catch (e) {
    error = String(e);
  }
  m.__lingerParts(0);
  const [again] = timed(() => Array.from(model.run(input)));
  return { mainThread: typeof window === 'object', threads: m.threadCount(), onTime, onTimeMs, late, lateMs, again, error };
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
  writeFileSync(join(root, 'late.html'), LATE_PAGE);
  writeFileSync(join(root, 'late.js'), LATE_SCRIPT);
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

test('an inference on the main thread spins, not blocks, while its workers finish late', async () => {
  const { page } = b;
  await page.goto(base + 'late.html');
  const r = await page.evaluate(() => window.result);
  // A wait that blocks here fails with "RuntimeError: Atomics.wait cannot be called in this context".
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.mainThread, true);
  assert.equal(r.threads, 2);
  // The lingering workers really finished after the main thread's share: the run lasted much longer.
  console.log(`on time ${r.onTimeMs.toFixed(1)} ms, workers late ${r.lateMs.toFixed(1)} ms`);
  assert.ok(r.lateMs > r.onTimeMs + 200, `late run ${r.lateMs} ms vs ${r.onTimeMs} ms: the workers did not linger`);
  assert.equal(r.late.length, 1001);
  assert.deepEqual(r.late, r.onTime);
  assert.deepEqual(r.again, r.onTime);
});
