// The α × ρ explorer and the separable-vs-standard measurement, as a reader uses them: the 16 official
// configurations with the inspector's MACs, TF-slim's published top-1 and latency measured in the page;
// the Pareto front and the 30 fps verdict; one block's standard conv against its separable pair. Screenshots
// land in test-results/ (explorer.png, separable.png and their -phone twins) for a human look.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ARTIFACTS, session } from './helpers.mjs';

// TF-slim research/slim/nets/mobilenet_v1.md, float checkpoints of 2018-02-22: top-1 % and million MACs.
const PUBLISHED = {
  '1/224': [70.9, 569], '1/192': [70.0, 418], '1/160': [68.0, 291], '1/128': [65.2, 186],
  '0.75/224': [68.4, 317], '0.75/192': [67.2, 233], '0.75/160': [65.3, 162], '0.75/128': [62.1, 104],
  '0.5/224': [63.3, 150], '0.5/192': [61.7, 110], '0.5/160': [59.1, 77], '0.5/128': [56.3, 49],
  '0.25/224': [49.8, 41], '0.25/192': [47.7, 34], '0.25/160': [45.5, 21], '0.25/128': [41.5, 14],
};

let b;

before(async () => {
  b = await session();
  await b.page.goto(b.url);
  await b.page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
  // The classifier loads its model in a worker at start: let it finish before anything is timed.
  await b.page.waitForSelector('body[data-model]', { timeout: 60_000 });
});

after(async () => {
  await b?.close();
});

/** The table as the page shows it: {key: {macs, macsText, params, top1, ms, fps, pareto}}. */
const tableRows = (page) => page.$$eval('#explorer-table tbody tr', (rows) => Object.fromEntries(rows.map((tr) => {
  const cell = (cls) => tr.querySelector(`td.${cls}`);
  return [tr.dataset.key, {
    macs: Number(cell('macs').dataset.value),
    macsText: cell('macs').textContent,
    params: Number(cell('params').dataset.value),
    top1: Number(cell('top1').textContent),
    ms: cell('ms').dataset.ms === '' ? null : Number(cell('ms').dataset.ms),
    fps: cell('fps').textContent,
    pareto: tr.classList.contains('pareto'),
  }];
})));

/** A screenshot of one element, without the page's sticky header over it. */
async function screenshot(page, selector, file) {
  await page.evaluate(() => {
    document.querySelector('header.top').style.position = 'static';
  });
  await page.locator(selector).screenshot({ path: join(ARTIFACTS, file) });
}

/** The inspector's totals, asked of the wrapper in the page (not of the explorer's code). */
const inspectorTotals = (page) => page.evaluate(async (keys) => {
  const { loadInspector } = await import('/js/index.js');
  const inspector = await loadInspector();
  return Object.fromEntries(keys.map((key) => {
    const [alpha, resolution] = key.split('/').map(Number);
    return [key, inspector.inspect({ alpha, resolution }).totals];
  }));
}, Object.keys(PUBLISHED));

test('the 16 configurations: MACs from the inspector, top-1 from the cited table', async () => {
  const { page } = b;
  const rows = await tableRows(page);
  assert.deepEqual(Object.keys(rows).sort(), Object.keys(PUBLISHED).sort());
  const totals = await inspectorTotals(page);
  for (const [key, [top1, millions]] of Object.entries(PUBLISHED)) {
    assert.equal(rows[key].macs, totals[key].macs, `${key} MACs`);
    assert.equal(rows[key].params, totals[key].params, `${key} params`);
    // The MACs column shows the inspector's count in millions. TF-slim lists other MACs for α 0.75 (the paper's Table 6 gives 325M at 224, as the inspector
    // counts) and for 0.25/192 (30M: MACs scale with ρ²); the page marks those with a dagger.
    // Elsewhere they agree to within TF-slim's rounding (0.5/224 is 149.5M, which it lists as 150M).
    const ours = totals[key].macs / 1e6;
    const differs = key.startsWith('0.75/') || key === '0.25/192';
    assert.equal(Math.abs(ours - millions) >= 1, differs, `${key}: ${ours}M against TF-slim's ${millions}M`);
    assert.equal(rows[key].macsText, `${Math.round(ours)}M${differs ? '†' : ''}`, key);
    assert.equal(rows[key].top1, top1, `${key} top-1`);
    assert.equal(rows[key].ms, null, `${key}: no latency before measuring`);
  }
  // Two anchors independent of the page: the paper's 1.0/224 count plus the 1024 weights of the 1001st class.
  assert.equal(rows['1/224'].macs, 568_740_352 + 1024);
  assert.equal(rows['0.25/128'].macs, 13_570_304);
  const link = page.locator('#explorer-note a');
  assert.equal(await link.textContent(), 'TF-slim mobilenet_v1.md (float checkpoints, 2018-02-22)');
  assert.match(await link.getAttribute('href'), /tensorflow\/models\/.*research\/slim\/nets\/mobilenet_v1\.md$/);
  assert.match(await page.textContent('#explorer-note'), /seeded.*no kernel's time depends on the weights/);
  // Before measuring, the chart plots counted MACs.
  assert.equal(await page.locator('#explorer-chart .pt').count(), 16);
  assert.match(await page.textContent('#explorer-chart'), /million MACs/);
});

test('latency is measured in the page, with progress, and the Pareto front and 30 fps verdict follow', async () => {
  const { page } = b;
  const started = Date.now();
  await page.click('#explorer-run');
  await page.waitForSelector('#explorer-progress:not([hidden])');
  await page.waitForSelector('#explorer[data-state="done"]', { timeout: 120_000 });
  const seconds = (Date.now() - started) / 1000;
  assert.match(await page.textContent('#explorer-progress-text'), /^16 of 16 · Measured all 16/);

  const rows = await tableRows(page);
  const ms = Object.fromEntries(Object.entries(rows).map(([k, r]) => [k, r.ms]));
  for (const [key, value] of Object.entries(ms)) {
    assert.ok(Number.isFinite(value) && value > 0, `${key}: ${value} ms`);
    assert.equal(rows[key].fps, String(Math.round(1000 / value)), key);
  }
  // Measured, not a constant: the cells differ, and 42x the MACs take longer.
  assert.ok(new Set(Object.values(ms)).size >= 12, JSON.stringify(ms));
  assert.ok(ms['1/224'] > ms['0.25/128'], JSON.stringify(ms));

  // The front: exactly the configurations no other beats on both latency and accuracy.
  const keys = Object.keys(rows);
  const beaten = (k) => keys.some((o) => ms[o] <= ms[k] && rows[o].top1 >= rows[k].top1 && (ms[o] < ms[k] || rows[o].top1 > rows[k].top1));
  const front = keys.filter((k) => rows[k].pareto);
  assert.deepEqual(front.sort(), keys.filter((k) => !beaten(k)).sort());
  const fastest = keys.reduce((a, k) => (ms[k] < ms[a] ? k : a));
  assert.ok(front.includes(fastest), `fastest ${fastest} on the front`);
  assert.ok(front.includes('1/224'), 'most accurate on the front');
  assert.equal(await page.locator('#explorer-chart .pt.on-front').count(), front.length);
  assert.equal(await page.locator('#explorer-chart path.front').count(), 1);
  assert.equal(await page.locator('#explorer-chart line.budget').count(), 1);

  // The 30 fps verdict names the most accurate configuration within 33.3 ms.
  const fits = keys.filter((k) => ms[k] <= 1000 / 30).sort((a, c) => rows[c].top1 - rows[a].top1);
  const verdict = await page.textContent('#explorer-verdict');
  if (fits.length > 0) {
    const [alpha, resolution] = fits[0].split('/');
    const name = `α ${Number(alpha) === 1 ? '1.0' : alpha} ρ ${resolution}`;
    assert.match(verdict, new RegExp(`^Here, the most accurate configuration that fits a 30 fps camera is ${name} \\(`));
    assert.equal(await page.getAttribute('#explorer-pick', 'data-key'), fits[0]);
  } else {
    assert.match(verdict, /^None of the 16 fits a 30 fps camera here/);
  }

  // Points are keyboard-usable: focus shows the numbers, Enter picks the configuration for the block below.
  const point = page.locator('#explorer-chart .pt[data-key="0.5/160"]');
  assert.equal(await point.getAttribute('tabindex'), '0');
  assert.match(await point.getAttribute('aria-label'), /^α 0\.5, 160 px: 59\.1% top-1, [\d.]+ ms here/);
  await point.focus();
  assert.match(await page.textContent('#explorer-detail'), /α 0\.5, 160 px: 59\.1% top-1/);
  assert.equal(await page.locator('#explorer-table tr.hot').getAttribute('data-key'), '0.5/160');
  await page.keyboard.press('Enter');
  assert.equal(await page.inputValue('#sepm-alpha'), '0.5');
  assert.equal(await page.inputValue('#sepm-resolution'), '160');

  await screenshot(page, '#explorer', 'explorer.png');
  const sorted = Object.entries(ms).sort((a, c) => a[1] - c[1]).map(([k, v]) => `${k} ${v.toFixed(2)}`);
  console.log(`# measured in ${seconds.toFixed(1)} s: ${sorted.join(', ')}`);
  assert.deepEqual(b.problems(), []);
});

test('a block\'s standard conv against its separable pair, measured beside the MAC ratio', async () => {
  const { page } = b;
  await page.selectOption('#sepm-alpha', '1');
  await page.selectOption('#sepm-resolution', '224');
  await page.selectOption('#sepm-block', '7');
  assert.match(await page.textContent('#sepm-block option[value="7"]'), /^Conv2d_7: 14×14×512 → 14×14×512$/);
  assert.match(await page.textContent('#sepm-result'), /Measure to see the times/);
  await page.click('#sepm-run');
  await page.waitForSelector('#sepm[data-state="done"]', { timeout: 60_000 });

  const shown = await page.evaluate(() => Object.fromEntries(['sepm-measured', 'sepm-macs', 'sepm-predicted', 'sepm-standard-ms', 'sepm-separable-ms']
    .map((id) => [id, Number(document.getElementById(id).dataset.value)])));
  const row = await page.evaluate(async () => {
    const { loadInspector } = await import('/js/index.js');
    return (await loadInspector()).inspect({ alpha: 1, resolution: 224 }).separable[6];
  });
  assert.equal(row.block, 'Conv2d_7');
  assert.equal(shown['sepm-macs'], row.ratio);
  assert.equal(shown['sepm-predicted'], row.predicted_ratio);
  assert.ok(Math.abs(row.ratio - (1 / 512 + 1 / 9)) < 1e-12);
  assert.ok(shown['sepm-standard-ms'] > 0 && shown['sepm-separable-ms'] > 0, JSON.stringify(shown));
  assert.ok(Math.abs(shown['sepm-measured'] - shown['sepm-separable-ms'] / shown['sepm-standard-ms']) < 1e-9);
  assert.equal(await page.textContent('#sepm-macs'), row.ratio.toFixed(3));
  const explain = await page.textContent('#sepm-explain');
  assert.match(explain, /^Conv2d_7 of α 1\.0 · 224: 14×14×512 → 14×14×512\. Both sides ran the engine's own (relaxed-)?simd128 kernels/);
  await screenshot(page, '#sepm', 'separable.png');
  console.log(`# Conv2d_7 of 1.0/224: standard ${shown['sepm-standard-ms'].toFixed(2)} ms, separable ` +
    `${shown['sepm-separable-ms'].toFixed(2)} ms: measured ratio ${shown['sepm-measured'].toFixed(3)}, MAC ratio ${row.ratio.toFixed(3)}`);

  // Another block, through the wrapper's API: the stride-2 Conv2d_2, and an out-of-range block.
  const other = await page.evaluate(async () => {
    const { timeSeparable } = await import('/js/index.js');
    const t = await timeSeparable({ alpha: 0.5, resolution: 160, block: 2, runs: 3 });
    let error;
    try {
      await timeSeparable({ block: 14 });
    } catch (e) {
      error = { name: e.name, kind: e.kind, message: e.message };
    }
    return { ...t, error };
  });
  assert.deepEqual([other.block, other.input, other.output, other.stride], ['Conv2d_2', [80, 80, 32], [40, 40, 64], 2]);
  for (const key of ['standardMs', 'depthwiseMs', 'pointwiseMs']) {
    assert.equal(other[key].length, 3);
    assert.ok(other[key].every((v) => Number.isFinite(v) && v >= 0), `${key}: ${other[key]}`);
  }
  assert.ok(other.standardMedianMs > 0);
  assert.deepEqual(other.error, { name: 'InputError', kind: 'config', message: 'config: invalid configuration: block must be 1 to 13 (Conv2d_1 … Conv2d_13)' });
  assert.deepEqual(b.problems(), []);
});

test('on a phone the explorer fits the screen: the chart scales, the table scrolls', async () => {
  const { page } = b;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForFunction(() => document.getElementById('explorer-chart').getAttribute('viewBox').startsWith('0 0 3'));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `page wider than the phone by ${overflow}px`);
  const box = await page.locator('#explorer-chart').boundingBox();
  assert.ok(box.width <= 390 && box.width > 250, JSON.stringify(box));
  await screenshot(page, '#explorer', 'explorer-phone.png');
  await screenshot(page, '#sepm', 'separable-phone.png');
  await page.setViewportSize({ width: 1280, height: 900 });
  assert.deepEqual(b.problems(), []);
});
