// The inspector page as a person uses it: served by scripts/serve.mjs, opened in headless Debian
// Chromium through playwright-core. Screenshots land in test-results/ for a human look.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const ROOT = new URL('../..', import.meta.url).pathname;
const ARTIFACTS = join(ROOT, 'test-results');
let server, context, page, base;
const outside = [];
const consoleErrors = [];

function startServer() {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (line) => {
      const m = line.match(/http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) resolve({ child, url: m[0] });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  ({ child: server, url: base } = await startServer());
  context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'mnw-chrome-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && !['data:', 'blob:'].includes(u.protocol)) outside.push(r.url());
  });
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await context?.close();
  server?.kill();
});

test('server sends isolation, CSP and wasm headers', async () => {
  const html = await fetch(base);
  assert.equal(html.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(html.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(html.headers.get('content-security-policy'), /default-src 'self'/);
  const wasm = await fetch(new URL('pkg/mobilenet_wasm_bg.wasm', base));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(new URL('pkg/../../Cargo.toml', base))).status, 404);
  assert.equal((await fetch(`${base}..%2f..%2fCargo.toml`)).status, 403);
});

test('inspector shows the paper totals', async () => {
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  assert.match(await page.textContent('#build'), /kernels: /);

  await page.selectOption('#classes', '1000');
  assert.equal(await page.textContent('#total-macs'), '568,740,352');
  assert.equal(await page.textContent('#total-params'), '4,209,088');
  assert.match(await page.textContent('#paper-macs'), /569M/);
  assert.equal(await page.locator('#layers tbody tr').count(), 29);
  await page.screenshot({ path: join(ARTIFACTS, 'inspector-1.0-224.png'), fullPage: true });

  await page.click('button[data-alpha="0.25"]');
  assert.equal(await page.textContent('#total-macs'), '41,030,272');
  assert.equal(await page.textContent('#total-params'), '463,600');
  assert.equal(await page.textContent('#foot-macs'), '41,030,272');

  await page.click('button[data-alpha="1"]');
  await page.selectOption('#resolution', '160');
  assert.equal(await page.textContent('#total-macs'), '290,675,200');
});

test('custom resolution and bad input', async () => {
  await page.selectOption('#resolution', 'custom');
  await page.fill('#custom-resolution', '20');
  assert.equal(await page.isVisible('#error'), true);
  assert.match(await page.textContent('#error'), /resolution must be between 32/);
  await page.fill('#custom-resolution', '300');
  assert.equal(await page.isVisible('#error'), false);
  assert.equal(await page.textContent('#layers tbody tr:last-child td:nth-child(4)'), '1×1×1024 → 1×1×1000');
});

test('keyboard and a phone-sized viewport', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.selectOption('#resolution', '224');
  await page.focus('button[data-alpha="0.5"]');
  await page.keyboard.press('Enter');
  assert.equal(await page.textContent('#total-macs'), '149,497,088');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  await page.screenshot({ path: join(ARTIFACTS, 'inspector-phone.png'), fullPage: false });
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(outside, []);
  assert.deepEqual(consoleErrors, []);
});
