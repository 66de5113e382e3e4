// The α × ρ explorer: the 16 official MobileNet v1 configurations with their published ImageNet top-1,
// our MACs and params, and latency measured in this tab; a scatter of accuracy against latency with the
// Pareto front and the 30 fps budget. Below it, one separable block run against the standard 3x3
// convolution of the same shape: the article's cost claim checked on the reader's machine.
import { timeConfiguration, timeSeparable } from './js/index.js';
import { $, el, grouped, short } from './dom.js';

const ALPHAS = [1, 0.75, 0.5, 0.25];
const RESOLUTIONS = [224, 192, 160, 128];
// TF-slim's table of the float checkpoints of 2018-02-22: top-1 % (ImageNet ILSVRC-2012 validation,
// single crop) and the million MACs it lists.
const PUBLISHED = {
  '1/224': [70.9, 569], '1/192': [70.0, 418], '1/160': [68.0, 291], '1/128': [65.2, 186],
  '0.75/224': [68.4, 317], '0.75/192': [67.2, 233], '0.75/160': [65.3, 162], '0.75/128': [62.1, 104],
  '0.5/224': [63.3, 150], '0.5/192': [61.7, 110], '0.5/160': [59.1, 77], '0.5/128': [56.3, 49],
  '0.25/224': [49.8, 41], '0.25/192': [47.7, 34], '0.25/160': [45.5, 21], '0.25/128': [41.5, 14],
};
const SOURCE_URL = 'https://github.com/tensorflow/models/blob/master/research/slim/nets/mobilenet_v1.md';
const SOURCE_TEXT = 'TF-slim mobilenet_v1.md (float checkpoints, 2018-02-22)';
const BUDGET_MS = 1000 / 30;
const SVG = 'http://www.w3.org/2000/svg';

const alphaText = (a) => (Number.isInteger(a) ? a.toFixed(1) : String(a));
const keyOf = (alpha, resolution) => `${alpha}/${resolution}`;
const nameOf = (c) => `α ${alphaText(c.alpha)} · ${c.resolution}`;
const msText = (ms) => ms.toFixed(ms < 10 ? 2 : 1);
const shape = ([h, w, c]) => `${h}×${w}×${c}`;
const ratio = (x) => x.toFixed(3);

let inspect; // the page's synchronous inspector
let configs = []; // the 16 rows: {alpha, resolution, key, macs, params, top1}
const latency = new Map(); // key → {medianMs, times, kernels}: measured this session, kept for it
const blocks = new Map(); // "α/ρ/block" → timeSeparable's result, kept for the session
let measuring = false;
let hot = null; // the key whose details are shown

export function initExplorer({ inspect: inspectFn }) {
  inspect = inspectFn;
  configs = ALPHAS.flatMap((alpha) => RESOLUTIONS.map((resolution) => {
    const { totals } = inspect({ alpha, resolution });
    const key = keyOf(alpha, resolution);
    const [top1, listed] = PUBLISHED[key];
    return { alpha, resolution, key, macs: totals.macs, params: totals.params, top1, listed };
  }));
  $('explorer-root').replaceChildren(explorerPanel(), separablePanel());
  $('explorer-run').addEventListener('click', measureAll);
  for (const id of ['sepm-alpha', 'sepm-resolution']) $(id).addEventListener('change', fillBlocks);
  $('sepm-block').addEventListener('change', showBlock);
  $('sepm-run').addEventListener('click', measureBlock);
  fillBlocks();
  renderTable();
  renderChart();
  renderVerdict();
  // The chart is drawn at its on-screen width, so its text stays readable on a phone.
  let width = 0;
  new ResizeObserver(() => {
    const w = $('explorer-chart').clientWidth;
    if (Math.abs(w - width) > 8) {
      width = w;
      renderChart();
    }
  }).observe($('explorer-chart'));
}

// ---- α × ρ

function explorerPanel() {
  const source = el('a', { href: SOURCE_URL, target: '_blank', rel: 'noopener' }, SOURCE_TEXT);
  return el('div', { class: 'panel explorer', id: 'explorer', 'data-state': 'idle' },
    el('h3', { id: 'explorer-title' }, 'α × ρ: accuracy against speed, on this device'),
    el('p', { class: 'explorer-lede' },
      'MobileNet v1 has two knobs: the width multiplier α thins every layer, the resolution ρ shrinks the ',
      'input. Both cut MACs roughly quadratically and cost accuracy. Which of the 16 official configurations ',
      'is worth running depends on how fast it runs here, so measure them.'),
    el('div', { class: 'explorer-bar' },
      el('button', { class: 'primary', id: 'explorer-run', type: 'button' }, 'Measure on this device'),
      el('div', { class: 'progress', id: 'explorer-progress', hidden: '' },
        el('div', { class: 'progress-track', role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '16',
          'aria-valuenow': '0', 'aria-label': 'configurations measured' }, el('span')),
        el('p', { id: 'explorer-progress-text' }))),
    el('p', { class: 'explorer-verdict', id: 'explorer-verdict', 'aria-live': 'polite' }),
    el('div', { class: 'explorer-grid' },
      el('figure', { class: 'explorer-figure' },
        el('div', { class: 'explorer-legend', 'aria-hidden': 'true' },
          ...ALPHAS.map((a) => el('span', {}, el('i', { class: `dot a${a * 100}` }), `α ${alphaText(a)}`)),
          el('span', {}, el('i', { class: 'front-key' }), 'Pareto front')),
        svgEl('svg', { id: 'explorer-chart', class: 'explorer-chart', role: 'group', 'aria-labelledby': 'explorer-title' }),
        el('figcaption', { id: 'explorer-detail', class: 'explorer-detail', 'aria-live': 'polite' })),
      el('div', { class: 'scroll explorer-scroll', tabindex: '0', 'aria-label': 'the 16 configurations' },
        el('table', { id: 'explorer-table' },
          el('thead', {}, el('tr', {},
            el('th', { scope: 'col' }, 'α · ρ'),
            el('th', { scope: 'col', class: 'num' }, 'Top-1 %'),
            el('th', { scope: 'col', class: 'num' }, 'ms here'),
            el('th', { scope: 'col', class: 'num' }, 'fps'),
            el('th', { scope: 'col', class: 'num' }, 'MACs'),
            el('th', { scope: 'col', class: 'num' }, 'Params'),
            el('th', { scope: 'col', title: 'on the Pareto front' }, 'Front'))),
          el('tbody')),
        el('p', { class: 'explorer-key' }, el('span', { class: 'fits' }, 'green ms'), ': fits a 30 fps frame (33.3 ms). ',
          '★: on the Pareto front. †: see below.'))),
    el('p', { class: 'note', id: 'explorer-note' },
      'Top-1: ImageNet (ILSVRC-2012 validation, single crop) as published in ', source,
      '. MACs and params (weights only): this page\'s inspector, 1001 classes. † Where TF-slim\'s table lists other ',
      'MACs: 317, 233, 162 and 104M for α 0.75, and 34M for α 0.25 at 192. The paper\'s Table 6 gives 325M for α 0.75 ',
      'at 224, as counted here, and MACs scale with ρ²: 41M at 224 makes 30M at 192. ',
      'ms here: the whole float network run in this tab on one thread with the engine\'s own kernels, the ',
      'median of several runs after a warm-up; the weights are seeded, not the trained ones, because no ',
      'kernel\'s time depends on the weights\' values. Other work on the device (the camera\'s classifier, other ',
      'tabs) slows the runs down: measure with the camera off. The Pareto front joins the configurations that no ',
      'other beats on both speed and accuracy: any point below it is slower and less accurate than one on it.'));
}

async function measureAll() {
  if (measuring) return;
  measuring = true;
  const button = $('explorer-run');
  button.disabled = true;
  $('explorer').dataset.state = 'measuring';
  const progress = $('explorer-progress');
  progress.hidden = false;
  const order = [...configs].sort((a, b) => a.macs - b.macs); // smallest first: the first dots come fast
  let rate = null; // MACs per ms so far, to give each configuration about the same measuring time
  try {
    // The browser compiles hot wasm code a second time, optimized, while it runs: run the smallest network
    // untimed first, so the first configuration timed does not pay for that.
    showProgress(0, 'Warming up the engine…');
    await new Promise((r) => setTimeout(r, 0));
    await timeConfiguration({ alpha: 0.25, resolution: 128, runs: 20, warmup: 0 });
    await new Promise((r) => setTimeout(r, 50));
    for (const [i, c] of order.entries()) {
      showProgress(i, `Measuring ${nameOf(c)}…`);
      await new Promise((r) => setTimeout(r, 0)); // let the page paint and answer between configurations
      const estimate = rate ? c.macs / rate : 20;
      const runs = Math.max(5, Math.min(15, Math.round(400 / estimate))); // about 0.4 s each, 5 runs at least
      const t = await timeConfiguration({ alpha: c.alpha, resolution: c.resolution, runs, warmup: 1 });
      latency.set(c.key, { medianMs: t.medianMs, times: t.times, kernels: t.kernels });
      rate = c.macs / t.medianMs;
      renderTable();
      renderChart();
    }
    showProgress(order.length, `Measured all 16 on this device (${latency.get(order[0].key).kernels} kernels, one thread).`);
    $('explorer').dataset.state = 'done';
  } catch (e) {
    $('explorer-progress-text').textContent = `Measuring failed: ${e.message}`;
    $('explorer').dataset.state = 'error';
  } finally {
    measuring = false;
    button.disabled = false;
    button.textContent = 'Measure again';
    renderVerdict();
  }
}

function showProgress(done, text) {
  const track = $('explorer-progress').querySelector('.progress-track');
  track.setAttribute('aria-valuenow', String(done));
  track.firstChild.style.width = `${(100 * done) / 16}%`;
  $('explorer-progress-text').textContent = `${done} of 16 · ${text}`;
}

/** Configurations not beaten on both axes by another: `x` smaller is better, top-1 larger is better. */
function paretoKeys(points) {
  const beats = (o, p) => o.x <= p.x && o.top1 >= p.top1 && (o.x < p.x || o.top1 > p.top1);
  return new Set(points.filter((p) => !points.some((o) => beats(o, p))).map((p) => p.key));
}

/** The plotted points: measured latency where every configuration has one, else counted MACs. */
function points() {
  const measured = configs.filter((c) => latency.has(c.key));
  if (measured.length > 0) return { unit: 'ms', list: measured.map((c) => ({ ...c, x: latency.get(c.key).medianMs })) };
  return { unit: 'macs', list: configs.map((c) => ({ ...c, x: c.macs / 1e6 })) };
}

function renderTable() {
  const { unit, list } = points();
  const front = unit === 'ms' ? paretoKeys(list) : new Set();
  $('explorer-table').tBodies[0].replaceChildren(...configs.map((c) => {
    const t = latency.get(c.key);
    const onFront = front.has(c.key);
    const fits = t && t.medianMs <= BUDGET_MS;
    const millions = Math.round(c.macs / 1e6);
    // Marked where TF-slim's figure is off by more than its rounding (0.5/224 is 149.5M: it lists 150M).
    const dagger = Math.abs(c.macs / 1e6 - c.listed) < 1 ? [] : [el('sup', { title: `TF-slim's table lists ${c.listed}M` }, '†')];
    const row = el('tr', { 'data-key': c.key, class: [onFront ? 'pareto' : '', c.key === hot ? 'hot' : ''].join(' ').trim() },
      el('th', { scope: 'row' }, el('i', { class: `dot a${c.alpha * 100}` }), nameOf(c)),
      el('td', { class: 'num top1' }, c.top1.toFixed(1)),
      el('td', { class: `num ms${fits ? ' fits' : ''}`, 'data-ms': t ? String(t.medianMs) : '' }, t ? msText(t.medianMs) : '–'),
      el('td', { class: 'num fps' }, t ? String(Math.round(1000 / t.medianMs)) : '–'),
      el('td', { class: 'num macs', 'data-value': String(c.macs), title: `${grouped(c.macs)} MACs` }, `${millions}M`, ...dagger),
      el('td', { class: 'num params', 'data-value': String(c.params), title: `${grouped(c.params)} params` }, `${(c.params / 1e6).toFixed(2)}M`),
      el('td', { class: 'front' }, onFront ? '★' : ''));
    row.addEventListener('mouseenter', () => showDetail(c.key));
    return row;
  }));
}

/** The sentence that answers the question: which configuration fits a 30 fps camera here. */
function renderVerdict() {
  const verdict = $('explorer-verdict');
  const measured = configs.filter((c) => latency.has(c.key)).map((c) => ({ ...c, ms: latency.get(c.key).medianMs }));
  if (measured.length < configs.length) {
    verdict.textContent = 'Which one fits a 30 fps camera here? Measure to find out: each configuration runs a few ' +
      'times in this tab, smallest first (a few seconds in all).';
    return;
  }
  const fits = measured.filter((c) => c.ms <= BUDGET_MS).sort((a, b) => b.top1 - a.top1 || a.ms - b.ms);
  const fastest = [...measured].sort((a, b) => a.ms - b.ms)[0];
  if (fits.length === 0) {
    verdict.replaceChildren('None of the 16 fits a 30 fps camera here (33.3 ms a frame): the fastest, ',
      el('strong', {}, nameOf(fastest)), `, takes ${msText(fastest.ms)} ms (${Math.round(1000 / fastest.ms)} fps).`);
    return;
  }
  const best = fits[0];
  verdict.replaceChildren('Here, the most accurate configuration that fits a 30 fps camera is ',
    el('strong', { id: 'explorer-pick', 'data-key': best.key }, `α ${alphaText(best.alpha)} ρ ${best.resolution}`),
    ` (${msText(best.ms)} ms, ${best.top1.toFixed(1)}% top-1): ${Math.round((100 * best.ms) / BUDGET_MS)}% of the 33.3 ms ` +
    'a frame allows. Only the network is timed: reading and resizing the frame come on top.');
}

function svgEl(tag, attrs = {}, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** Log-axis ticks (1, 2, 5 × 10^k) inside [lo, hi]. */
function logTicks(lo, hi) {
  const ticks = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e += 1) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

function renderChart() {
  const svg = $('explorer-chart');
  const width = Math.max(300, Math.min(820, Math.round(svg.clientWidth || 640)));
  const narrow = width < 480;
  const height = narrow ? 400 : 380;
  const m = { left: 46, right: 14, top: 26, bottom: 46 };
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const { unit, list } = points();
  const xs = list.map((p) => p.x);
  const [lo, hi] = unit === 'ms'
    ? [Math.min(...xs) / 1.35, Math.max(Math.max(...xs) * 1.35, BUDGET_MS * 1.4)]
    : [Math.min(...xs) / 1.35, Math.max(...xs) * 1.35];
  const [yLo, yHi] = [38, 74];
  const X = (v) => m.left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (width - m.left - m.right);
  const Y = (v) => m.top + ((yHi - v) / (yHi - yLo)) * (height - m.top - m.bottom);
  const plotBottom = height - m.bottom;

  // The budget: the part of the plot slower than a 30 fps frame is shaded.
  if (unit === 'ms') {
    const bx = X(BUDGET_MS);
    svg.append(svgEl('rect', { class: 'over-budget', x: bx, y: m.top, width: width - m.right - bx, height: plotBottom - m.top }));
  }
  // Axes and grid.
  for (let v = 40; v <= 70; v += 5) {
    svg.append(svgEl('line', { class: 'grid', x1: m.left, x2: width - m.right, y1: Y(v), y2: Y(v) }));
    svg.append(svgEl('text', { class: 'tick', x: m.left - 6, y: Y(v) + 4, 'text-anchor': 'end' }, `${v}%`));
  }
  for (const v of logTicks(lo, hi)) {
    svg.append(svgEl('line', { class: 'grid', x1: X(v), x2: X(v), y1: m.top, y2: plotBottom }));
    svg.append(svgEl('text', { class: 'tick', x: X(v), y: plotBottom + 15, 'text-anchor': 'middle' },
      unit === 'ms' ? `${v} ms` : `${v}M`));
  }
  svg.append(svgEl('text', { class: 'axis', x: m.left + (width - m.left - m.right) / 2, y: height - 8, 'text-anchor': 'middle' },
    unit === 'ms' ? 'latency measured here (ms, log scale) →' : 'million MACs (counted, log scale) → measure for ms here'));
  svg.append(svgEl('text', { class: 'axis', x: 4, y: 14 }, '↑ ImageNet top-1'));
  const placed = []; // boxes that point labels must not cover
  if (unit === 'ms') {
    const bx = X(BUDGET_MS);
    svg.append(svgEl('line', { class: 'budget', x1: bx, x2: bx, y1: m.top, y2: plotBottom }));
    // Low on the line, left of it, where no configuration is (slow and inaccurate); "too slow" right of it.
    const at = { x: bx - 5, 'text-anchor': 'end' };
    svg.append(svgEl('text', { class: 'budget-label', ...at, y: plotBottom - 21 }, '30 fps budget:'));
    svg.append(svgEl('text', { class: 'budget-label', ...at, y: plotBottom - 8 }, '33.3 ms a frame'));
    placed.push({ x: bx - 100, y: plotBottom - 33, w: 100, h: 33 });
    if (width - m.right - bx > 54) svg.append(svgEl('text', { class: 'budget-label', x: bx + 5, y: plotBottom - 8 }, 'too slow'));
  }

  // The Pareto front as a staircase: the best accuracy to be had within each latency.
  const front = paretoKeys(list);
  const steps = list.filter((p) => front.has(p.key)).sort((a, b) => a.x - b.x);
  if (steps.length > 0) {
    let d = `M${X(steps[0].x)},${plotBottom}`;
    for (const [i, p] of steps.entries()) {
      d += `V${Y(p.top1)}`;
      d += `H${i + 1 < steps.length ? X(steps[i + 1].x) : width - m.right}`;
    }
    svg.append(svgEl('path', { class: 'front', d }));
  }

  // Points, labelled where a label fits without covering another.
  const overlaps = (b) => placed.some((o) => b.x < o.x + o.w && o.x < b.x + b.w && b.y < o.y + o.h && o.y < b.y + b.h);
  const byTop = [...list].sort((a, b) => b.top1 - a.top1);
  for (const p of byTop) placed.push({ x: X(p.x) - 6, y: Y(p.top1) - 6, w: 12, h: 12 });
  for (const p of byTop) {
    const [px, py] = [X(p.x), Y(p.top1)];
    const g = svgEl('g', {
      class: `pt a${p.alpha * 100}${front.has(p.key) ? ' on-front' : ''}${p.key === hot ? ' hot' : ''}`,
      tabindex: '0', 'data-key': p.key, role: 'button', 'aria-label': describe(p, unit),
    });
    g.append(svgEl('title', {}, describe(p, unit)));
    g.append(svgEl('circle', { cx: px, cy: py, r: front.has(p.key) ? 7 : 5.5 }));
    const label = `${alphaText(p.alpha)}/${p.resolution}`;
    const w = label.length * 6.4 + 2;
    const spots = [[px + 9, py - 6], [px - 9 - w, py - 6], [px - w / 2, py - 22], [px - w / 2, py + 9],
      [px + 7, py - 18], [px - 7 - w, py - 18], [px + 7, py + 5], [px - 7 - w, py + 5]];
    const spot = spots.map(([x, y]) => ({ x, y, w, h: 13 }))
      .find((b) => !overlaps(b) && b.x >= m.left && b.x + b.w <= width - m.right && b.y >= m.top - 14 && b.y + b.h <= plotBottom);
    if (spot) {
      placed.push(spot);
      g.append(svgEl('text', { class: 'pt-label', x: spot.x + 1, y: spot.y + 10 }, label));
    }
    g.addEventListener('mouseenter', () => showDetail(p.key));
    g.addEventListener('focus', () => showDetail(p.key));
    g.addEventListener('click', () => pickForBlock(p));
    g.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        pickForBlock(p);
      }
    });
    svg.append(g);
  }
  if (!hot) showDetail(null);
}

function describe(c, unit) {
  const t = latency.get(c.key);
  const time = t ? `${msText(t.medianMs)} ms here (${Math.round(1000 / t.medianMs)} fps)` : 'not measured yet';
  return `α ${alphaText(c.alpha)}, ${c.resolution} px: ${c.top1.toFixed(1)}% top-1, ${time}, ${Math.round(c.macs / 1e6)}M MACs, ` +
    `${short(c.params)} params${unit === 'ms' && t && t.medianMs <= BUDGET_MS ? ', fits 30 fps' : ''}`;
}

function showDetail(key) {
  hot = key;
  for (const e of document.querySelectorAll('#explorer [data-key]')) e.classList.toggle('hot', e.dataset.key === key);
  const c = configs.find((x) => x.key === key);
  $('explorer-detail').textContent = c
    ? `${describe(c, points().unit)}. Enter or click picks it for the block measurement below.`
    : 'Hover or tab to a point for its numbers; Enter picks it for the block measurement below.';
}

function pickForBlock(c) {
  $('sepm-alpha').value = String(c.alpha);
  $('sepm-resolution').value = String(c.resolution);
  fillBlocks();
  $('sepm-alpha').scrollIntoView?.({ block: 'nearest' });
}

// ---- separable against standard, measured

function separablePanel() {
  const select = (id, label, options) => el('label', { class: 'sepm-field' }, label,
    el('select', { id }, ...options.map(([value, text]) => el('option', { value }, text))));
  return el('div', { class: 'panel sepm', id: 'sepm', 'data-state': 'idle' },
    el('h3', { id: 'sepm-title' }, 'Separable against standard, measured'),
    el('p', { class: 'explorer-lede' },
      'The inspector above counts what a separable block saves: a depthwise 3x3 plus a pointwise 1x1 cost 1/N + 1/9 of a ',
      'standard 3x3 convolution from the same input to the same output (N output channels). Here both are run, on ',
      'this device, and their times compared with that count.'),
    el('div', { class: 'sepm-controls' },
      select('sepm-alpha', 'α', ALPHAS.map((a) => [String(a), alphaText(a)])),
      select('sepm-resolution', 'ρ', RESOLUTIONS.map((r) => [String(r), `${r} px`])),
      select('sepm-block', 'Block', []),
      el('button', { class: 'primary', id: 'sepm-run', type: 'button' }, 'Measure')),
    el('div', { id: 'sepm-result', class: 'sepm-result', 'aria-live': 'polite' }));
}

const blockConfig = () => ({ alpha: Number($('sepm-alpha').value), resolution: Number($('sepm-resolution').value) });
const blockKey = () => {
  const { alpha, resolution } = blockConfig();
  return `${alpha}/${resolution}/${$('sepm-block').value}`;
};

/** The block choices of the chosen α and ρ, each with its shapes. */
function fillBlocks() {
  const select = $('sepm-block');
  const keep = select.value || '7';
  const report = inspect(blockConfig());
  select.replaceChildren(...report.separable.filter((s) => s.block !== 'total').map((s, i) => {
    const dw = report.layers.find((l) => l.name === `${s.block}_depthwise`);
    const stride = dw.stride > 1 ? `, stride ${dw.stride}` : '';
    return el('option', { value: String(i + 1) }, `${s.block}: ${shape(dw.input)} → ${shape([...dw.output.slice(0, 2), s.out_channels])}${stride}`);
  }));
  select.value = keep;
  showBlock();
}

/** The inspector's row for the chosen block: its counted MACs both ways. */
function countedRow() {
  return inspect(blockConfig()).separable[Number($('sepm-block').value) - 1];
}

async function measureBlock() {
  const button = $('sepm-run');
  const { alpha, resolution } = blockConfig();
  const block = Number($('sepm-block').value);
  const key = blockKey();
  button.disabled = true;
  $('sepm').dataset.state = 'measuring';
  $('sepm-result').replaceChildren(el('p', { class: 'note' }, 'Measuring: the standard conv, the depthwise and the pointwise, in turn…'));
  await new Promise((r) => setTimeout(r, 30)); // paint the message first
  try {
    blocks.set(key, await timeSeparable({ alpha, resolution, block, runs: 7, warmup: 2 }));
    $('sepm').dataset.state = 'done';
  } catch (e) {
    $('sepm').dataset.state = 'error';
    $('sepm-result').replaceChildren(el('p', { class: 'error' }, `Measuring failed: ${e.message}`));
    return;
  } finally {
    button.disabled = false;
  }
  if (blockKey() === key) showBlock();
}

function showBlock() {
  const t = blocks.get(blockKey());
  const row = countedRow();
  const result = $('sepm-result');
  if (!t) {
    result.replaceChildren(el('p', { class: 'note' },
      `Counted: ${row.block} separable does ${short(row.separable.macs)} MACs against ${short(row.standard.macs)} for a `,
      `standard 3x3 conv (ratio ${ratio(row.ratio)}; 1/N + 1/9 = ${ratio(row.predicted_ratio)}). Measure to see the times.`));
    $('sepm').dataset.state = 'idle';
    return;
  }
  const rate = (macs, ms) => (macs / ms / 1e6).toFixed(1);
  const bar = (parts, scale) => el('div', { class: 'sepm-track' }, ...parts.map(([cls, value]) => {
    const fill = el('span', { class: `sepm-fill ${cls}` });
    fill.style.width = `${Math.max(0.4, (100 * value) / scale)}%`;
    return fill;
  }));
  const faster = 1 / t.measuredRatio;
  const bars = el('div', { class: 'sepm-bars' },
    el('span', { class: 'sepm-head' }), el('span', { class: 'sepm-head' }, `Time here (median of ${t.runs})`),
    el('span', { class: 'sepm-head' }, 'MACs (counted)'),
    el('span', { class: 'sepm-name' }, 'Standard 3x3'),
    el('div', {}, bar([['conv', t.standardMedianMs]], t.standardMedianMs), el('span', { class: 'sepm-val', id: 'sepm-standard-ms', 'data-value': String(t.standardMedianMs) }, `${msText(t.standardMedianMs)} ms`)),
    el('div', {}, bar([['conv', t.macsStandard]], t.macsStandard), el('span', { class: 'sepm-val' }, short(t.macsStandard))),
    el('span', { class: 'sepm-name' }, 'Depthwise + 1x1'),
    el('div', {}, bar([['depthwise', t.depthwiseMedianMs], ['pointwise', t.pointwiseMedianMs]], t.standardMedianMs),
      el('span', { class: 'sepm-val', id: 'sepm-separable-ms', 'data-value': String(t.separableMedianMs) },
        `${msText(t.separableMedianMs)} ms (depthwise ${msText(t.depthwiseMedianMs)} + 1x1 ${msText(t.pointwiseMedianMs)})`)),
    el('div', {}, bar([['depthwise', t.macsDepthwise], ['pointwise', t.macsPointwise]], t.macsStandard),
      el('span', { class: 'sepm-val' }, `${short(t.macsSeparable)} (depthwise ${short(t.macsDepthwise)} + 1x1 ${short(t.macsPointwise)})`)));
  const figure = (id, label, value, sub) => el('div', { class: 'sepm-figure' },
    el('span', { class: 'sepm-label' }, label), el('span', { class: 'sepm-big', id, 'data-value': String(value) }, ratio(value)),
    el('span', { class: 'sepm-sub' }, sub));
  const figures = el('div', { class: 'sepm-figures' },
    figure('sepm-measured', 'measured time ratio', t.measuredRatio, `separable ÷ standard: ${faster.toFixed(1)}× faster`),
    figure('sepm-macs', 'MAC ratio', t.macRatio, `${grouped(t.macsSeparable)} ÷ ${grouped(t.macsStandard)}`),
    figure('sepm-predicted', '1/N + 1/9', t.predictedRatio, `N = ${t.output[2]} output channels`));
  const speeds = `The standard conv ran at ${rate(t.macsStandard, t.standardMedianMs)} GMAC/s, the depthwise at ` +
    `${rate(t.macsDepthwise, t.depthwiseMedianMs)} and the pointwise at ${rate(t.macsPointwise, t.pointwiseMedianMs)}`;
  const off = t.measuredRatio / t.macRatio;
  const why = off > 1.15
    ? `so the pair saves less time than it saves MACs: the depthwise does only 9 multiply-adds per value it reads, ` +
      'so memory, not arithmetic, sets its pace.'
    : off < 1 / 1.15 ? 'so the pair saves even more time than MACs here: the standard conv runs on the stem\'s kernel, which ' +
      `reads all 9·${t.input[2]}·${t.output[2]} weights again for every 4 output pixels, and weights that many do not stay in cache.`
      : 'so time follows the MAC count closely here.';
  const stride = t.stride > 1 ? `, stride ${t.stride}` : '';
  const headline = el('p', { class: 'sepm-headline' }, `${t.block}: the separable pair ran `,
    el('strong', {}, `${faster.toFixed(1)}× faster`), ' than the standard conv here, for ',
    el('strong', {}, `${(1 / t.macRatio).toFixed(1)}× fewer MACs`), '.');
  result.replaceChildren(headline, bars, figures,
    el('p', { class: 'note sepm-explain', id: 'sepm-explain' },
      `${t.block} of α ${alphaText(t.alpha)} · ${t.resolution}: ${shape(t.input)} → ${shape(t.output)}${stride}. `,
      `Both sides ran the engine's own ${t.kernels} kernels, the ones the classifier runs (the standard conv on the `,
      'kernel of the 3x3 stem conv, which takes any number of input channels), on one thread in this tab, with seeded ',
      `weights, ${t.runs} runs each after a warm-up, interleaved. ${speeds}, ${why}`));
}
