// The page as a person uses it without a camera: the server's headers, the layer inspector, keyboard
// use and a phone-sized viewport. Screenshots land in test-results/ for a human look.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, session } from './helpers.mjs';

let base, b;

before(async () => {
  b = await session();
  base = b.url;
  await b.page.goto(base);
  await b.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
});

after(async () => {
  await b?.close();
});

test('server sends isolation, CSP and wasm headers, and serves the models', async () => {
  const html = await fetch(base);
  assert.equal(html.headers.get('cross-origin-opener-policy'), 'same-origin');
  assert.equal(html.headers.get('cross-origin-embedder-policy'), 'require-corp');
  assert.match(html.headers.get('content-security-policy'), /default-src 'self'/);
  const wasm = await fetch(new URL('pkg/mobilenet_wasm_bg.wasm', base));
  assert.equal(wasm.status, 200);
  assert.equal(wasm.headers.get('content-type'), 'application/wasm');
  assert.equal((await fetch(new URL('models/imagenet_labels.txt', base))).status, 200);
  assert.equal((await fetch(new URL('pkg/../../Cargo.toml', base))).status, 404);
  assert.equal((await fetch(`${base}..%2f..%2fCargo.toml`)).status, 403);
});

test('inspector shows the paper totals', async () => {
  const { page } = b;
  assert.equal(await page.evaluate(() => self.crossOriginIsolated), true);
  await page.selectOption('#classes', '1000');
  assert.equal(await page.textContent('#total-macs'), '568,740,352');
  assert.equal(await page.textContent('#total-params'), '4,209,088');
  assert.match(await page.textContent('#paper-macs'), /569M/);
  assert.equal(await page.locator('#layers tbody tr').count(), 29);
  await page.locator('#inspector').screenshot({ path: join(ARTIFACTS, 'inspector-1.0-224.png') });

  await page.click('button[data-alpha="0.25"]');
  assert.equal(await page.textContent('#total-macs'), '41,030,272');
  assert.equal(await page.textContent('#total-params'), '463,600');
  assert.equal(await page.textContent('#foot-macs'), '41,030,272');

  await page.click('button[data-alpha="1"]');
  await page.selectOption('#resolution', '160');
  assert.equal(await page.textContent('#total-macs'), '290,675,200');
});

test('custom resolution and bad input', async () => {
  const { page } = b;
  await page.selectOption('#resolution', 'custom');
  await page.fill('#custom-resolution', '20');
  assert.equal(await page.isVisible('#error'), true);
  assert.match(await page.textContent('#error'), /resolution must be between 32/);
  await page.fill('#custom-resolution', '300');
  assert.equal(await page.isVisible('#error'), false);
  assert.equal(await page.textContent('#layers tbody tr:last-child td:nth-child(4)'), '1×1×1024 → 1×1×1000');
});

test('the loaded model can be shown in the inspector', async () => {
  const { page } = b;
  await page.waitForSelector('body[data-model="0.25"]', { timeout: 30_000 });
  assert.match(await page.textContent('#loaded-text'), /α 0\.25 · 128×128 px · 1001 classes · uint8/);
  await page.click('#inspect-loaded');
  await page.waitForFunction(() => document.getElementById('alpha').value === '0.25'); // asked of the worker

  assert.equal(await page.inputValue('#resolution'), '128');
  assert.equal(await page.textContent('#total-macs'), '13,570,304');
  // Per-layer time needs Model.profile in the engine; without it the page says so instead of a button.
  const canProfile = await page.isVisible('#profile-run');
  if (canProfile) {
    await page.click('#profile-run');
    await page.waitForSelector('#layers th.timing:not([hidden])');
  } else {
    assert.match(await page.textContent('#profile-note'), /not available in this engine build/);
  }
});

test('keyboard and a phone-sized viewport', async () => {
  const { page } = b;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.selectOption('#resolution', '224');
  await page.focus('button[data-alpha="0.5"]');
  await page.keyboard.press('Enter');
  await page.selectOption('#classes', '1000');
  assert.equal(await page.textContent('#total-macs'), '149,497,088');
  // The model picker is a radio group: arrow keys move the choice.
  await page.focus('#model-0\\.25');
  await page.keyboard.press('ArrowRight');
  assert.equal(await page.isChecked('#model-0\\.5'), true);
  await page.waitForSelector('body[data-model="0.5"]', { timeout: 30_000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(ARTIFACTS, 'phone.png') });
});

test('no request left 127.0.0.1 and no console errors', () => {
  assert.deepEqual(b.outside, []);
  assert.deepEqual(b.errors, []);
});
