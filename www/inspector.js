// The layer inspector: asks the engine for the per-layer report of the chosen α, resolution, class
// count and output stride, and draws the totals, shares, per-layer chart and tables. With a model
// loaded it can show that model's configuration and, where the engine can time layers, ms per layer.
import { $, el, grouped, say, short } from './dom.js';

// The paper's Tables 6 and 7 (1000 classes), keyed by "alpha/resolution".
const PAPER = {
  '1/224': { macs: '569M', params: '4.2M' },
  '0.75/224': { macs: '325M', params: '2.6M' },
  '0.5/224': { macs: '149M', params: '1.3M' },
  '0.25/224': { macs: '41M', params: '0.5M' },
  '1/192': { macs: '418M', params: '4.2M' },
  '1/160': { macs: '290M', params: '4.2M' },
  '1/128': { macs: '186M', params: '4.2M' },
};
const OP_LABEL = {
  conv: 'conv 3x3', depthwise: 'depthwise', pointwise: 'pointwise 1x1', avg_pool: 'avg pool', dense: 'dense (FC)', logits: 'logits (FC)',
};
const PRESET_RESOLUTIONS = ['128', '160', '192', '224'];
const shape = ([h, w, c]) => `${h}×${w}×${c}`;

let inspect; // ({alpha, resolution, classes, outputStride}) → report, as the wrapper's loadInspector() gives it
let timing = null; // {key, rows: [{name, ms}]} from the last profile, shown while the config matches
let modelReport = null; // the loaded model's own report (model.inspect()), used while the controls match it

export function initInspector(inspectFn) {
  inspect = inspectFn;
  wire();
  render();
}

/** Sets the controls to a report's config (e.g. the loaded model's) and redraws. */
export function showConfig({ alpha, resolution: [height], num_classes: classes, output_stride: stride }) {
  $('alpha').value = alpha;
  const preset = PRESET_RESOLUTIONS.includes(String(height));
  $('resolution').value = preset ? String(height) : 'custom';
  $('custom-resolution').value = height;
  $('custom-resolution').hidden = preset;
  // A loaded model's own class count joins the choices (1001 and 1000 are always there).
  const select = $('classes');
  if (![...select.options].some((o) => o.value === String(classes))) {
    select.append(el('option', { value: String(classes) }, `${classes} (the loaded model's classes)`));
  }
  select.value = String(classes);
  $('output-stride').value = String(stride);
  render();
}

/** Shows a loaded model's own report (its head's Dense layers included) while the controls match it. */
export function showModel(report) {
  modelReport = report;
  showConfig(report.config);
}

/** Per-layer times of a config (from model.profile), or null to clear them. */
export function showTiming(config, rows) {
  timing = rows && { key: configKey(config), rows };
  render();
}

const configKey = ({ alpha, resolution, num_classes, output_stride }) =>
  `${alpha}/${resolution[0]}/${num_classes}/${output_stride}`;

const asReportConfig = ({ alpha, resolution, classes, outputStride }) =>
  ({ alpha, resolution: [resolution], num_classes: classes, output_stride: outputStride });

function readConfig() {
  const alpha = Number($('alpha').value);
  const choice = $('resolution').value;
  const resolution = choice === 'custom' ? Number($('custom-resolution').value) : Number(choice);
  return { alpha, resolution, classes: Number($('classes').value), outputStride: Number($('output-stride').value) };
}

function render() {
  const cfg = readConfig();
  $('alpha-out').value = cfg.alpha.toFixed(2);
  for (const b of document.querySelectorAll('[data-alpha]')) {
    b.classList.toggle('active', Number(b.dataset.alpha) === cfg.alpha);
  }
  let report;
  try {
    const own = modelReport && configKey(modelReport.config) === configKey(asReportConfig(cfg));
    report = own ? modelReport : inspect(cfg);
  } catch (e) {
    say($('error'), e.message);
    return;
  }
  say($('error'), '');
  const times = timing?.key === configKey(report.config) ? timing.rows : null;
  renderTotals(report, cfg);
  renderShares(report);
  renderChart(report);
  renderLayers(report, times);
  renderSeparable(report);
  $('convention').textContent = `Counting convention: ${report.convention}`;
}

function renderTotals(report, cfg) {
  const { macs, params } = report.totals;
  $('total-macs').textContent = grouped(macs);
  $('total-params').textContent = grouped(params);
  const paper = cfg.outputStride === 32 ? PAPER[`${cfg.alpha}/${cfg.resolution}`] : undefined;
  const note = (fig, ours) => {
    if (!paper) return `${short(ours)} · no paper figure for this configuration`;
    if (cfg.classes === 1000) return `paper: ${fig} · ours, same counting: ${short(ours)}`;
    return `paper: ${fig} (1000 classes; these figures use ${cfg.classes})`;
  };
  $('paper-macs').textContent = note(paper?.macs, macs);
  $('paper-params').textContent = note(paper?.params, params);
  const total = report.separable.find((s) => s.block === 'total');
  $('saving').textContent = `${(1 / total.ratio).toFixed(1)}× fewer`;
  $('saving-sub').textContent =
    `13 separable blocks: ${short(total.separable.macs)} MACs; as standard 3x3 convs: ${short(total.standard.macs)}`;
}

function renderShares(report) {
  const bar = (pct, kind) => {
    const fill = el('span', { class: `fill ${kind}` });
    fill.style.width = `${pct}%`;
    return el('span', { class: 'bar' }, fill);
  };
  $('shares').replaceChildren(...report.shares.filter((s) => s.macs > 0 || s.params > 0).map((s) =>
    el('div', { class: 'share' },
      el('span', { class: 'label' }, OP_LABEL[s.op]),
      bar(s.macs_percent, 'macs'), el('span', { class: 'pct' }, `${s.macs_percent.toFixed(2)}% MACs`),
      bar(s.params_percent, 'params'), el('span', { class: 'pct' }, `${s.params_percent.toFixed(2)}% params`))));
}

function renderChart(report) {
  const svg = $('chart');
  const NS = 'http://www.w3.org/2000/svg';
  const rows = report.layers.filter((l) => l.op !== 'avg_pool');
  const rowH = 16, labelW = 150, width = 640, barW = (width - labelW - 10) / 2;
  svg.setAttribute('viewBox', `0 0 ${width} ${rows.length * rowH + 20}`);
  svg.replaceChildren();
  const maxMacs = Math.max(...rows.map((l) => l.macs));
  const maxParams = Math.max(...rows.map((l) => l.params));
  const add = (tag, attrs, text) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    svg.append(e);
    return e;
  };
  const titled = (rect, text) => rect.append(Object.assign(document.createElementNS(NS, 'title'), { textContent: text }));
  add('text', { x: labelW, y: 12, class: 'axis' }, 'MACs');
  add('text', { x: labelW + barW + 10, y: 12, class: 'axis' }, 'params');
  rows.forEach((l, i) => {
    const y = 20 + i * rowH;
    add('text', { x: labelW - 6, y: y + 11, class: 'name', 'text-anchor': 'end' }, l.name);
    titled(add('rect', { x: labelW, y: y + 2, height: rowH - 5, width: Math.max(1, (l.macs / maxMacs) * (barW - 4)), class: `macs ${l.op}` }),
      `${l.name}: ${grouped(l.macs)} MACs`);
    titled(add('rect', { x: labelW + barW + 10, y: y + 2, height: rowH - 5, width: Math.max(1, (l.params / maxParams) * (barW - 4)), class: `params ${l.op}` }),
      `${l.name}: ${grouped(l.params)} params`);
  });
}

function renderLayers(report, times) {
  for (const th of document.querySelectorAll('#layers th.timing')) th.hidden = !times;
  const timeCells = (l) => {
    if (!times) return [];
    const ms = times.find((t) => t.name === l.name)?.ms;
    const rate = ms > 0 && l.macs > 0 ? (l.macs / ms / 1e6).toFixed(2) : '–';
    // Sub-millisecond layers get a third decimal: 0.06 ms alone would hide ±8%.
    return [el('td', { class: 'num' }, ms == null ? '–' : ms.toFixed(ms < 1 ? 3 : 2)), el('td', { class: 'num' }, rate)];
  };
  $('layers').tBodies[0].replaceChildren(...report.layers.map((l) => {
    const pct = (100 * l.macs) / report.totals.macs;
    const bar = el('span', { class: 'inline-bar' });
    bar.style.width = `${Math.max(pct, 0.5)}%`;
    const rate = l.rate > 1 ? ` · rate ${l.rate}` : '';
    const row = el('tr', { class: l.op, 'data-layer': l.name, tabindex: '0', title: 'Show its feature maps' },
      el('th', { scope: 'row' }, l.name),
      el('td', {}, OP_LABEL[l.op]),
      el('td', {}, `${l.kernel[0]}×${l.kernel[1]} / ${l.stride}${rate}`),
      el('td', {}, `${shape(l.input)} → ${shape(l.output)}`),
      el('td', { class: 'num' }, grouped(l.params)),
      el('td', { class: 'num' }, grouped(l.macs)),
      el('td', { class: 'num pct-cell' }, bar, `${pct.toFixed(2)}%`),
      ...timeCells(l));
    // A row names a layer; the feature maps panel shows it for the loaded model (when it has that layer).
    const pickLayer = () => document.dispatchEvent(new CustomEvent('layer-pick', { detail: l.name }));
    row.addEventListener('click', pickLayer);
    row.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') pickLayer();
    });
    return row;
  }));
  const totalMs = times?.reduce((sum, t) => sum + (t.ms ?? 0), 0);
  $('layers').tFoot.replaceChildren(el('tr', {},
    el('th', { scope: 'row', colspan: '4' }, 'Total'),
    el('td', { class: 'num', id: 'foot-params' }, grouped(report.totals.params)),
    el('td', { class: 'num', id: 'foot-macs' }, grouped(report.totals.macs)),
    el('td', { class: 'num' }, '100%'),
    ...(times ? [el('td', { class: 'num' }, totalMs.toFixed(2)),
      el('td', { class: 'num' }, (report.totals.macs / totalMs / 1e6).toFixed(2))] : [])));
}

function renderSeparable(report) {
  $('separable').tBodies[0].replaceChildren(...report.separable.map((s) =>
    el('tr', { class: s.block === 'total' ? 'total' : '' },
      el('th', { scope: 'row' }, s.block),
      el('td', {}, `${s.in_channels} → ${s.out_channels}`),
      el('td', { class: 'num' }, grouped(s.separable.macs)),
      el('td', { class: 'num' }, grouped(s.standard.macs)),
      el('td', { class: 'num' }, s.ratio.toFixed(4)),
      el('td', { class: 'num' }, s.predicted_ratio == null ? '–' : s.predicted_ratio.toFixed(4)))));
  $('seed-example').textContent =
    'A 3x3 convolution from 3 to 256 channels has 3·3·3·256 = 6,912 weights; a depthwise 3x3 plus a 1x1 ' +
    'pointwise has 3·3·3 + 3·256 = 795. The cost ratio of a separable block is 1/N + 1/Dk², with N output ' +
    'channels and Dk = 3.';
}

function wire() {
  $('alpha').addEventListener('input', render);
  for (const b of document.querySelectorAll('[data-alpha]')) {
    b.addEventListener('click', () => {
      $('alpha').value = b.dataset.alpha;
      render();
    });
  }
  $('resolution').addEventListener('change', () => {
    $('custom-resolution').hidden = $('resolution').value !== 'custom';
    render();
  });
  for (const id of ['custom-resolution', 'classes', 'output-stride']) $(id).addEventListener('input', render);
}
