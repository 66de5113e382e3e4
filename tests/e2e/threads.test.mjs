// The threaded build in a cross-origin isolated page: its worker pool starts, layers split across the
// workers, and the output equals the single-thread SIMD build's on the same model and input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = new URL('../..', import.meta.url).pathname;
let server, context, page, base;

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

function startServer(root) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', '0', '--root', root], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (line) => {
      const m = line.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ child, url: m[0] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-threads-'));
  for (const dir of ['pkg', 'pkg-threads']) {
    assert.ok(existsSync(join(ROOT, 'www', dir)), `www/${dir} is missing: run scripts/build.sh`);
    cpSync(join(ROOT, 'www', dir), join(root, dir), { recursive: true });
  }
  writeFileSync(join(root, 'index.html'), PAGE);
  writeFileSync(join(root, 'check.js'), SCRIPT);
  ({ child: server, url: base } = await startServer(root));
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mnw-chrome-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  server?.kill();
});

test('threaded build runs on 2 threads (caller + 1 worker) and matches the single-thread build', async () => {
  await page.goto(base);
  const r = await page.evaluate(() => window.result);
  assert.equal(r.error, undefined, r.error);
  assert.equal(r.isolated, true);
  assert.equal(r.single.threads, 1);
  assert.equal(r.multi.threads, 2);
  assert.equal(r.multi.out.length, 1001);
  assert.deepEqual(r.multi.out, r.single.out);
});
