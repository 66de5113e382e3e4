// The worked example on the page: the article's numbers through tf.nn.conv2d, depthwise_conv2d and
// separable_conv2d (the engine's reference ops), the shapes (1,2,2,2) vs (1,2,2,4), 72/90, an edit that
// changes them (held against a convolution written out here, not the engine), bad entries, the keyboard
// and a phone-sized viewport. Screenshots go to test-results/worked*.png for a human look.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, session } from './helpers.mjs';

// The seed: input [4, 4, 2], channel 0 = column + 1, channel 1 = 1; filter [3, 3, 2, 2] with every tap
// [.., .., in, out] = 0 (0, 0), 2 (0, 1), 1 (1, 0), 3 (1, 1); pointwise ones [1, 1, 4, 4]; VALID, stride 1.
const SEED_INPUT = Array.from({ length: 16 }, (_, p) => [(p % 4) + 1, 1]).flat();
const SEED_FILTER = Array.from({ length: 9 }, () => [0, 2, 1, 3]).flat();

/** conv2d, depthwise_conv2d and separable_conv2d (pointwise ones), VALID, stride 1, as plain loops. */
function reference(input, filter, [h, w, c] = [4, 4, 2], [kh, kw, , m] = [3, 3, 2, 2]) {
  const [oh, ow] = [h - kh + 1, w - kw + 1];
  const x = (y, xx, ci) => input[(y * w + xx) * c + ci];
  const f = (ky, kx, ci, o) => filter[((ky * kw + kx) * c + ci) * m + o];
  const conv2d = [], depthwise = [], separable = [];
  for (let y = 0; y < oh; y++) {
    for (let xx = 0; xx < ow; xx++) {
      const dw = [];
      for (let ci = 0; ci < c; ci++) {
        for (let o = 0; o < m; o++) {
          let acc = 0;
          for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) acc += x(y + ky, xx + kx, ci) * f(ky, kx, ci, o);
          dw.push(acc);
        }
      }
      for (let o = 0; o < m; o++) conv2d.push(dw.filter((_, k) => k % m === o).reduce((a, b) => a + b, 0));
      depthwise.push(...dw);
      separable.push(...dw.map(() => dw.reduce((a, b) => a + b, 0)));
    }
  }
  return { conv2d: [1, oh, ow, m, conv2d], depthwise: [1, oh, ow, c * m, depthwise], separable: [1, oh, ow, c * m, separable] };
}

/** Nested as tf.nn prints a tensor's list: [[[[9, 63], [9, 81]], …]]. */
function printed([n, h, w, c, data]) {
  const shape = [n, h, w, c];
  let i = 0;
  const build = (axis) => (axis === 4 ? String(data[i++]) : `[${Array.from({ length: shape[axis] }, () => build(axis + 1)).join(', ')}]`);
  return build(0);
}

let b;

before(async () => {
  b = await session();
  await b.page.goto(b.url);
  await b.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  await b.page.waitForSelector('#worked-root[data-state="ok"]', { timeout: 30_000 });
});

after(async () => {
  await b?.close();
});

const text = (selector) => b.page.textContent(selector);
/** A screenshot of the panel, without the page's sticky header drawn over it. */
async function screenshot(name) {
  await b.page.evaluate(() => { document.querySelector('header.top').style.position = 'static'; });
  await b.page.locator('#worked-root').screenshot({ path: join(ARTIFACTS, name) });
  await b.page.evaluate(() => { document.querySelector('header.top').style.position = ''; });
}
const arrays = async () => ({
  conv2d: await text('#worked-conv2d-array'),
  depthwise: await text('#worked-depthwise-array'),
  separable: await text('#worked-separable-array'),
});
/** Waits for the page to show a result other than `old` (the recompute is asynchronous). */
const changed = (old) => b.page.waitForFunction((old) => document.getElementById('worked-conv2d-array').textContent !== old, old);

test("the article's numbers: (1,2,2,2) vs (1,2,2,4), 72 and 90", async () => {
  const { page } = b;
  assert.equal(await text('#worked-title'), 'Depthwise separable convolution, worked by hand');
  assert.deepEqual(await arrays(), {
    conv2d: '[[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]',
    depthwise: '[[[[0, 36, 9, 27], [0, 54, 9, 27]], [[0, 36, 9, 27], [0, 54, 9, 27]]]]',
    separable: '[[[[72, 72, 72, 72], [90, 90, 90, 90]], [[72, 72, 72, 72], [90, 90, 90, 90]]]]',
  });
  // The loops above agree with the article, so they can judge the edits below.
  const seed = reference(SEED_INPUT, SEED_FILTER);
  assert.deepEqual(await arrays(), { conv2d: printed(seed.conv2d), depthwise: printed(seed.depthwise), separable: printed(seed.separable) });
  assert.equal(await text('#worked-conv2d-shape'), '(1, 2, 2, 2)');
  assert.equal(await text('#worked-depthwise-shape'), '(1, 2, 2, 4)');
  assert.equal(await text('#worked-separable-shape'), '(1, 2, 2, 4)');
  // The separable tables: one per output channel, 72 in column 0 and 90 in column 1.
  assert.equal(await page.locator('#worked-separable-channels table').count(), 4);
  for (let y = 0; y < 2; y++) {
    for (let c = 0; c < 4; c++) {
      assert.equal(await text(`#worked-separable-${y}-0-${c}`), '72');
      assert.equal(await text(`#worked-separable-${y}-1-${c}`), '90');
    }
  }
  assert.equal(await page.locator('#worked-conv2d-channels table').count(), 2);
  assert.equal(await page.locator('#worked-depthwise-channels table').count(), 4);
  assert.equal(await text('#worked-depthwise-0-1-1'), '54');
  // Which input channel each depthwise channel comes out of, and the sums that tie the ops together.
  const map = await page.locator('.worked-map li').allTextContents();
  assert.deepEqual(map, [0, 1, 2, 3].map((k) =>
    `depthwise ch ${k} = ${k >> 1}·2 + ${k & 1}: input channel ${k >> 1}, filter w[:,:,${k >> 1},${k & 1}]`));
  assert.match(await text('#worked-conv2d-why'), /9 = 0 \+ 9, 63 = 36 \+ 27/);
  assert.match(await text('#worked-separable-why'), /72 = 0 \+ 36 \+ 9 \+ 27/);
  assert.match(await text('#worked-explain'), /Why \(1, 2, 2, 2\) and \(1, 2, 2, 4\)\?/);
  // Multiply-adds: 2·2 positions × 3·3·2·2, the 1x1 step 2·2 × 4·4, and a standard 3x3 conv to 4 channels.
  const macs = {};
  for (const k of ['conv2d', 'depthwise', 'pointwise', 'separable', 'standard']) macs[k] = await text(`#worked-macs-${k}`);
  assert.deepEqual(macs, { conv2d: '144', depthwise: '144', pointwise: '64', separable: '208', standard: '288' });
  assert.match(await text('#worked-ratio'), /208 \/ 288 = 0\.722/);
  assert.equal(await page.isVisible('#worked-error'), false);
  await screenshot('worked.png');
});

test('an edited number recomputes all three ops', async () => {
  const { page } = b;
  // Input channel 1 at (0, 0): 1 → 2. Its flat NHWC index is (0·4 + 0)·2 + 1.
  const input = [...SEED_INPUT];
  input[1] = 2;
  let before = await text('#worked-conv2d-array');
  await page.fill('#worked-input-1', '2');
  await changed(before);
  let want = reference(input, SEED_FILTER);
  assert.deepEqual(await arrays(), { conv2d: printed(want.conv2d), depthwise: printed(want.depthwise), separable: printed(want.separable) });
  assert.equal(await text('#worked-conv2d-array'), '[[[[10, 66], [9, 81]], [[9, 63], [9, 81]]]]');
  assert.equal(await text('#worked-separable-0-0-3'), '76');

  // The filter's centre tap of in 0 → out 0: 0 → 0.5. Index ((1·3 + 1)·2 + 0)·2 + 0.
  const filter = [...SEED_FILTER];
  filter[16] = 0.5;
  before = await text('#worked-conv2d-array');
  await page.fill('#worked-filter-16', '0.5');
  await changed(before);
  want = reference(input, filter);
  assert.deepEqual(await arrays(), { conv2d: printed(want.conv2d), depthwise: printed(want.depthwise), separable: printed(want.separable) });
  assert.equal(await text('#worked-depthwise-1-1-0'), '1.5'); // 0.5 × input channel 0 at (2, 2) = 3

  // Back to the article.
  before = await text('#worked-conv2d-array');
  await page.click('#worked-reset');
  await changed(before);
  assert.equal(await text('#worked-conv2d-array'), '[[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]');
  assert.equal(await page.inputValue('#worked-input-1'), '1');
  assert.equal(await page.inputValue('#worked-filter-16'), '0');
});

test('a cleared field or a number float32 cannot hold is an error, and no stale result stays', async () => {
  const { page } = b;
  await page.fill('#worked-input-6', '');
  await page.waitForSelector('#worked-root[data-state="error"]');
  assert.equal(await page.isVisible('#worked-error'), true);
  assert.equal(await page.getAttribute('#worked-error', 'role'), 'alert');
  assert.match(await text('#worked-error'), /x channel 0, row 0, column 3: empty/);
  assert.equal(await page.getAttribute('#worked-input-6', 'aria-invalid'), 'true');
  assert.deepEqual(await arrays(), { conv2d: '', depthwise: '', separable: '' });
  assert.equal(await page.locator('#worked-root td.worked-cell').count(), 0);
  assert.equal(await page.locator('#worked-explain > *').count(), 0);
  await screenshot('worked-error.png');

  // 1e39 is a number to JS but infinity in float32: the engine says so.
  await page.fill('#worked-input-6', '1e39');
  await page.waitForFunction(() => /non_finite/.test(document.getElementById('worked-error').textContent));
  assert.match(await text('#worked-error'), /input value 6 is inf/);
  assert.equal(await page.getAttribute('#worked-input-6', 'aria-invalid'), null);
  assert.equal(await text('#worked-conv2d-array'), '');

  await page.fill('#worked-input-6', '4');
  await page.waitForSelector('#worked-root[data-state="ok"]');
  assert.equal(await page.isVisible('#worked-error'), false);
  assert.equal(await text('#worked-conv2d-array'), '[[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]');
});

test('SAME padding and stride 2 change the shapes', async () => {
  const { page } = b;
  await page.selectOption('#worked-padding', 'SAME');
  await page.waitForFunction(() => document.getElementById('worked-depthwise-shape').textContent === '(1, 4, 4, 4)');
  assert.equal(await text('#worked-conv2d-shape'), '(1, 4, 4, 2)');
  // The corner sees 2x2 of the 3x3 window: channel 0 there is 1 + 2, twice, times tap 2 for out 1.
  assert.equal(await text('#worked-depthwise-0-0-1'), '12');
  await page.selectOption('#worked-stride', '2');
  await page.waitForFunction(() => document.getElementById('worked-depthwise-shape').textContent === '(1, 2, 2, 4)');
  assert.match(await text('#worked-ratio'), /= 0\.722/);
  await page.click('#worked-reset');
  await page.waitForFunction(() => document.getElementById('worked-conv2d-array').textContent === '[[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]');
  assert.equal(await page.inputValue('#worked-padding'), 'VALID');
});

test('keyboard: Tab walks into and through the grids, arrow keys change a number', async () => {
  const { page } = b;
  const focused = () => page.evaluate(() => document.activeElement?.id);
  // From the panel's title (the point just before the grids), Tab lands on the first input number.
  await page.evaluate(() => {
    const title = document.getElementById('worked-title');
    title.tabIndex = -1;
    title.focus();
  });
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'worked-input-0');
  assert.equal(await page.getAttribute('#worked-input-0', 'aria-label'), 'x channel 0, row 0, column 0');
  // Row by row through channel 0 (NHWC index (y·4 + x)·2), then channel 1.
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'worked-input-2');
  for (let i = 0; i < 15; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'worked-input-1');
  for (let i = 0; i < 15; i++) await page.keyboard.press('Tab');
  assert.equal(await focused(), 'worked-input-31');
  // The controls under the input, then the filter's four 3x3 grids.
  for (const id of ['worked-padding', 'worked-stride', 'worked-reset', 'worked-filter-0']) {
    await page.keyboard.press('Tab');
    assert.equal(await focused(), id);
  }
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'worked-filter-4'); // w[0, 1, 0, 0], index ((0·3 + 1)·2 + 0)·2 + 0
  await page.keyboard.press('Shift+Tab');
  await page.keyboard.press('Shift+Tab');
  assert.equal(await focused(), 'worked-reset');

  // ArrowUp on channel 1 at (0, 0): 1 → 2, the same edit as typing it.
  await page.focus('#worked-input-1');
  const before = await text('#worked-conv2d-array');
  await page.keyboard.press('ArrowUp');
  await changed(before);
  assert.equal(await page.inputValue('#worked-input-1'), '2');
  assert.equal(await text('#worked-conv2d-array'), '[[[[10, 66], [9, 81]], [[9, 63], [9, 81]]]]');
  await page.focus('#worked-reset');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('worked-conv2d-array').textContent.startsWith('[[[[9, 63]'));
});

test('readable on a phone: nothing scrolls sideways', async () => {
  const { page } = b;
  await page.setViewportSize({ width: 390, height: 844 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `page scrolls sideways by ${overflow}px`);
  const wide = await page.evaluate(() => [...document.querySelectorAll('#worked-root *')]
    .filter((e) => e.getBoundingClientRect().right > window.innerWidth + 0.5).map((e) => e.id || e.className));
  assert.deepEqual(wide, []);
  await screenshot('worked-phone.png');
  await page.setViewportSize({ width: 1280, height: 900 });
});

test('no console errors and no request left the machine', () => {
  assert.deepEqual(b.problems(), []);
});
