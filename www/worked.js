// The worked example, interactive: the article's 4x4x2 input and 3x3x2x2 filter as editable numbers, and
// what tf.nn.conv2d, depthwise_conv2d and separable_conv2d make of them, computed by the engine's reference
// ops on every edit. It shows why the same filter gives 2 channels to conv2d and 4 to depthwise_conv2d,
// which input channel each depthwise channel comes out of, and what each op costs.
import { SEED_EXAMPLE, nestedArray, separableExample } from './js/index.js';
import { $, el, grouped, say } from './dom.js';

const OPS = [
  { key: 'conv2d', call: 'tf.nn.conv2d(x, w, strides=1, padding)' },
  { key: 'depthwise', call: 'tf.nn.depthwise_conv2d(x, w, strides=[1,1,1,1], padding)' },
  { key: 'separable', call: 'tf.nn.separable_conv2d(x, w, ones, strides=[1,1,1,1], padding)' },
];
const [H, W, C] = SEED_EXAMPLE.inputShape;
const [KH, KW, , M] = SEED_EXAMPLE.filterShape;
const OUT = SEED_EXAMPLE.pointwiseShape[3];

let root, fields = [], seq = 0;

/** A float32 as short as it can be written and still read back as the same float32. */
function num(v) {
  if (Object.is(v, -0)) return '0';
  for (let p = 1; p <= 9; p++) {
    const s = Number(v.toPrecision(p));
    if (Math.fround(s) === v) return String(s);
  }
  return String(v);
}
const nestedText = (a) => (Array.isArray(a) ? `[${a.map(nestedText).join(', ')}]` : num(a));
const shapeText = (s) => `(${s.join(', ')})`;

/** One editable number; `at` describes it for screen readers and error messages. */
function field(kind, index, at, value) {
  const input = el('input', {
    type: 'number', step: 'any', inputmode: 'decimal', class: 'worked-num', 'aria-label': at,
    id: `worked-${kind}-${index}`, 'data-kind': kind, 'data-index': String(index),
  });
  input.value = String(value);
  input.addEventListener('input', recompute);
  fields.push(input);
  return input;
}

/** A rows x cols grid of inputs for the flat indices `index(y, x)`. */
function grid(kind, rows, cols, index, describe, values, className) {
  const g = el('div', { class: `worked-grid ${className}` });
  g.style.setProperty('--cols', cols); // through the CSSOM: the page's CSP allows no style attributes
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      const i = index(y, x);
      g.append(field(kind, i, describe(y, x), values[i]));
    }
  }
  return g;
}

function inputGrids() {
  const box = el('div', { class: 'worked-tensor' },
    el('h4', {}, 'Input x ', el('span', { class: 'worked-shape' }, shapeText([1, H, W, C]))));
  const row = el('div', { class: 'worked-grids' });
  for (let c = 0; c < C; c++) {
    const describe = (y, x) => `x channel ${c}, row ${y}, column ${x}`;
    const figure = el('figure', { class: `worked-figure ch${c}`, role: 'group', 'aria-label': `Input channel ${c}` },
      el('figcaption', {}, el('span', { class: `dot ch${c}` }), `channel ${c}`, el('code', {}, `x[0,:,:,${c}]`)),
      grid('input', H, W, (y, x) => (y * W + x) * C + c, describe, SEED_EXAMPLE.input, `ch${c}`));
    row.append(figure);
  }
  box.append(row);
  return box;
}

function filterGrids() {
  const box = el('div', { class: 'worked-tensor' },
    el('h4', {}, 'Filter w ', el('span', { class: 'worked-shape' }, shapeText(SEED_EXAMPLE.filterShape)),
      el('span', { class: 'worked-axes' }, ' [kh, kw, in, out]')));
  const table = el('div', { class: 'worked-filters' });
  table.style.setProperty('--cols', M);
  for (let i = 0; i < C; i++) {
    for (let o = 0; o < M; o++) {
      const describe = (y, x) => `w in ${i}, out ${o}, row ${y}, column ${x}`;
      table.append(el('figure', { class: `worked-figure ch${i}`, role: 'group', 'aria-label': `Filter w[:,:,${i},${o}]` },
        el('figcaption', {}, el('span', { class: `dot ch${i}` }), `in ${i} → out ${o}`, el('code', {}, `w[:,:,${i},${o}]`)),
        grid('filter', KH, KW, (y, x) => ((y * KW + x) * C + i) * M + o, describe, SEED_EXAMPLE.filter, 'small')));
    }
  }
  box.append(table,
    el('p', { class: 'worked-hint' }, 'conv2d reads the last axis as output channels; depthwise_conv2d reads ' +
      `it as a depth multiplier (${M} filters for each input channel). The pointwise 1x1 filter of ` +
      `separable_conv2d is all ones, (1, 1, ${C * M}, ${OUT}).`));
  return box;
}

function opBlock({ key, call }) {
  return el('article', { class: `worked-op ${key}`, id: `worked-${key}` },
    el('h4', {}, el('code', {}, call), ' → ', el('span', { class: 'worked-shape', id: `worked-${key}-shape` }, '')),
    el('p', { class: 'worked-why', id: `worked-${key}-why` }),
    el('div', { class: 'worked-channels', id: `worked-${key}-channels` }),
    el('pre', { class: 'worked-array' }, el('code', { id: `worked-${key}-array` }, '')));
}

function render() {
  root = $('worked-root');
  fields = [];
  const padding = el('select', { id: 'worked-padding', 'aria-label': 'Padding' },
    el('option', { value: 'VALID' }, "padding 'VALID' (the article)"), el('option', { value: 'SAME' }, "padding 'SAME'"));
  const stride = el('select', { id: 'worked-stride', 'aria-label': 'Stride' },
    el('option', { value: '1' }, 'stride 1'), el('option', { value: '2' }, 'stride 2'));
  padding.addEventListener('input', recompute);
  stride.addEventListener('input', recompute);
  const reset = el('button', { type: 'button', id: 'worked-reset' }, "Reset to the article's numbers");
  reset.addEventListener('click', resetNumbers);

  root.replaceChildren(el('div', { class: 'panel worked', 'aria-labelledby': 'worked-title', role: 'region' },
    el('h3', { id: 'worked-title' }, 'Depthwise separable convolution, worked by hand'),
    el('p', { class: 'note' }, 'The article’s example, live: edit any number (or use the arrow keys in a field) and ' +
      'the three tf.nn ops rerun in the engine’s reference ops, in WebAssembly.'),
    el('div', { class: 'worked-inputs' },
      el('div', { class: 'worked-side' }, inputGrids(), el('div', { class: 'worked-bar' }, padding, stride, reset)),
      filterGrids()),
    el('p', { class: 'error', id: 'worked-error', role: 'alert', hidden: '' }),
    el('div', { class: 'worked-ops' }, ...OPS.map(opBlock)),
    el('div', { class: 'worked-explain', id: 'worked-explain' })));
}

function resetNumbers() {
  for (const f of fields) {
    const source = f.dataset.kind === 'input' ? SEED_EXAMPLE.input : SEED_EXAMPLE.filter;
    f.value = String(source[Number(f.dataset.index)]);
  }
  $('worked-padding').value = 'VALID';
  $('worked-stride').value = '1';
  recompute();
}

/** The numbers in the fields, or the first that is empty or not a number. */
function read() {
  const input = new Array(SEED_EXAMPLE.input.length);
  const filter = new Array(SEED_EXAMPLE.filter.length);
  let bad = null;
  for (const f of fields) {
    const ok = f.value.trim() !== '' && !f.validity.badInput && Number.isFinite(Number(f.value));
    if (ok) f.removeAttribute('aria-invalid');
    else f.setAttribute('aria-invalid', 'true');
    if (!ok) bad ??= f;
    (f.dataset.kind === 'input' ? input : filter)[Number(f.dataset.index)] = Number(f.value);
  }
  return { input, filter, bad };
}

async function recompute() {
  const n = ++seq;
  const { input, filter, bad } = read();
  let result;
  try {
    if (bad) {
      const what = bad.value.trim() === '' ? 'empty' : 'not a number';
      throw new Error(`${bad.getAttribute('aria-label')}: ${what}; enter a number.`);
    }
    result = await separableExample({
      ...SEED_EXAMPLE, input, filter, padding: $('worked-padding').value, stride: Number($('worked-stride').value),
    });
  } catch (e) {
    if (n !== seq) return;
    root.dataset.state = 'error';
    say($('worked-error'), e.message);
    clear();
    return;
  }
  if (n !== seq) return; // a later edit is on its way
  say($('worked-error'), '');
  show(result);
  root.dataset.state = 'ok';
}

function clear() {
  for (const { key } of OPS) {
    $(`worked-${key}-shape`).textContent = '';
    $(`worked-${key}-why`).textContent = '';
    $(`worked-${key}-channels`).replaceChildren();
    $(`worked-${key}-array`).textContent = '';
  }
  $('worked-explain').replaceChildren();
}

/** The value at [0, y, x, c] of an output. */
const at = ({ shape, data }, y, x, c) => data[(y * shape[2] + x) * shape[3] + c];

function channelTable(key, out, c, caption, className) {
  const [, oh, ow] = out.shape;
  const body = el('tbody');
  for (let y = 0; y < oh; y++) {
    const tr = el('tr');
    for (let x = 0; x < ow; x++) {
      tr.append(el('td', { id: `worked-${key}-${y}-${x}-${c}`, class: 'worked-cell' }, num(at(out, y, x, c))));
    }
    body.append(tr);
  }
  const [name, ...source] = caption;
  return el('figure', { class: `worked-out ${className}` },
    el('figcaption', {}, el('strong', {}, name), el('span', { class: 'origin' }, ...source)),
    el('table', { class: 'worked-channel', 'aria-label': `${key} ${name}` }, body));
}

function show(r) {
  const mid = C * M;
  const ch = (i) => el('span', { class: `dot ch${i}` });
  const captions = {
    // conv2d's output o: every input channel, summed.
    conv2d: (o) => [`out ${o}`, '← ', ...Array.from({ length: C }, (_, i) => [ch(i), `in ${i}`, i < C - 1 ? ' + ' : '']).flat()],
    // depthwise channel k = c·M + m: input channel c alone, through its filter m.
    depthwise: (k) => {
      const [c, m] = [Math.floor(k / M), k % M];
      return [`ch ${k}`, '← ', ch(c), `in ${c} only, `, el('code', {}, `w[:,:,${c},${m}]`)];
    },
    separable: (j) => [`out ${j}`, `← Σ ch 0–${mid - 1}`],
  };
  const colour = { conv2d: () => 'mix', depthwise: (k) => `ch${Math.floor(k / M)}`, separable: () => 'mix' };
  for (const { key } of OPS) {
    const out = r[key];
    $(`worked-${key}-shape`).textContent = shapeText(out.shape);
    $(`worked-${key}-channels`).replaceChildren(
      ...Array.from({ length: out.shape[3] }, (_, c) => channelTable(key, out, c, captions[key](c), colour[key](c))));
    $(`worked-${key}-array`).textContent = nestedText(nestedArray(out));
  }

  // The top-left output, by hand from the depthwise channels: conv2d adds them across input channels,
  // separable_conv2d (pointwise ones) adds all of them.
  const d = (k) => at(r.depthwise, 0, 0, k);
  const sum = (ks) => `${ks.map((k) => num(d(k))).join(' + ')}`;
  const convSums = Array.from({ length: M }, (_, o) => Array.from({ length: C }, (_, i) => i * M + o));
  $('worked-conv2d-why').textContent = `Each output channel sums over both input channels. At the top left: ` +
    convSums.map((ks, o) => `${num(at(r.conv2d, 0, 0, o))} = ${sum(ks)}`).join(', ') +
    ' (depthwise channels added across inputs).';
  $('worked-depthwise-why').textContent = `No sum across channels: input channel c with filter m gives output channel ` +
    `c·${M} + m, so ${C} inputs × ${M} = ${mid} channels.`;
  const all = Array.from({ length: mid }, (_, k) => k);
  $('worked-separable-why').textContent = `Depthwise, then a 1x1 conv that mixes the ${mid} channels (all weights 1): ` +
    `${num(at(r.separable, 0, 0, 0))} = ${sum(all)} at the top left.`;

  explain(r);
}

function explain(r) {
  const { conv2d, depthwise, pointwise, standard } = r.macs;
  const separable = depthwise + pointwise;
  const [, oh, ow] = r.conv2d.shape;
  const bar = (label, parts, total) => el('div', { class: 'worked-mac' },
    el('span', { class: 'label' }, label),
    el('span', { class: 'bar' }, ...parts.map(([kind, n]) => {
      const fill = el('span', { class: `fill ${kind}` });
      fill.style.width = `${(100 * n) / standard}%`;
      return fill;
    })),
    el('span', { class: 'n', id: `worked-macs-${label.split(' ')[0]}` }, grouped(total)));
  const ratio = separable / standard;
  $('worked-explain').replaceChildren(
    el('div', {},
      el('h4', {}, `Why ${shapeText(r.conv2d.shape)} and ${shapeText(r.depthwise.shape)}?`),
      el('p', {}, `Both ops slide the same ${KH}x${KW} window over the ${H}x${W} input: ${oh}x${ow} positions ` +
        `with this padding and stride. The filter’s last axis (size ${M}) means different things: conv2d makes ` +
        `${M} output channels, each a sum over all ${C} input channels; depthwise_conv2d keeps the input ` +
        `channels apart and makes ${M} per input channel, numbered c·${M} + m: ${C}·${M} = ${C * M} channels.`),
      el('ul', { class: 'worked-map' }, ...Array.from({ length: C * M }, (_, k) => {
        const c = Math.floor(k / M), m = k % M;
        return el('li', {}, el('span', { class: `dot ch${c}` }),
          `depthwise ch ${k} = ${c}·${M} + ${m}: input channel ${c}, filter w[:,:,${c},${m}]`);
      }))),
    el('div', {},
      el('h4', {}, 'What each costs (multiply-adds)'),
      bar('conv2d', [['conv', conv2d]], conv2d),
      bar('depthwise', [['depthwise', depthwise]], depthwise),
      bar('pointwise', [['pointwise', pointwise]], pointwise),
      bar('separable (depthwise + pointwise)', [['depthwise', depthwise], ['pointwise', pointwise]], separable),
      bar(`standard ${KH}x${KW} conv2d to ${OUT} channels`, [['conv', standard]], standard),
      el('p', { id: 'worked-ratio' }, `The separable pair costs ${grouped(separable)} / ${grouped(standard)} = ` +
        `${ratio.toFixed(3)} of a standard conv2d with the same ${OUT} outputs: m/N + m/k² = ${M}/${OUT} + ` +
        `${M}/${KH * KW}. With multiplier 1, as in MobileNet, that is the paper’s 1/N + 1/Dk².`)));
}

export function initWorked() {
  if (!$('worked-root')) return;
  render();
  recompute();
}
