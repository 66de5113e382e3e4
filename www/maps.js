// Feature maps: what the loaded model's layers compute for the frame or photo on the stage. A layer's output
// comes from the same run as the classes (classify with endPoints), at most ~8 times a second while the camera
// runs, and is drawn as a grid of channel maps, each scaled to its own range, paged, with what the layer does.
import { $, el } from './dom.js';

const PER_PAGE = 16;
const SIDE = 72; // CSS pixels per map
const state = { layers: [], name: null, page: 0, last: null, source: null };
let hooks = { watch: () => {}, refresh: () => {} };

/**
 * `watch(name, onMaps)` asks the classifier to keep end point `name` from its runs (null: none) and call
 * onMaps({shape, data}, source); `refresh()` re-runs the photo on the stage, if there is one.
 */
export function initMaps({ watch, refresh }) {
  hooks = { watch, refresh };
  $('maps-layer').addEventListener('change', () => pick($('maps-layer').value));
  $('maps-prev').addEventListener('click', () => turn(-1));
  $('maps-next').addEventListener('click', () => turn(1));
  document.addEventListener('layer-pick', (e) => {
    if (!state.layers.some((l) => l.name === e.detail)) return;
    $('maps-layer').value = e.detail;
    pick(e.detail);
    $('maps').scrollIntoView({ block: 'nearest' });
  });
}

/** A newly loaded model: its layers (from model.inspect()) can be picked. */
export function mapsModel(report) {
  state.layers = report.layers.filter((l) => l.op !== 'dense' && l.op !== 'logits');
  $('maps-layer').replaceChildren(el('option', { value: '' }, 'Choose a layer…'),
    ...state.layers.map((l) => el('option', { value: l.name }, `${l.name} · ${l.output.join('×')}`)));
  const keep = state.layers.find((l) => l.name === state.name);
  $('maps-layer').value = keep ? keep.name : '';
  pick(keep ? keep.name : null);
}

function pick(name) {
  state.name = name || null;
  state.page = 0;
  state.last = null;
  $('maps-grid').replaceChildren();
  $('maps-pager').hidden = true;
  const layer = state.layers.find((l) => l.name === state.name);
  $('maps-what').textContent = layer ? explain(layer) : '';
  $('maps-status').textContent = layer ? 'Start the camera or show a photo above: its maps appear here.' : '';
  hooks.watch(state.name, show);
  if (state.name) hooks.refresh();
}

function turn(step) {
  if (!state.last) return;
  const pages = Math.ceil(state.last.shape[2] / PER_PAGE);
  state.page = (state.page + step + pages) % pages;
  draw();
}

function explain(l) {
  const [h, w, c] = l.output;
  const [, , cin] = l.input;
  switch (l.op) {
    case 'conv':
      return `The stem: ${c} filters of 3×3×3 slide over the RGB pixels with stride ${l.stride}, so each map is one ` +
        `filter's response (edges, colours) at ${h}×${w}.`;
    case 'depthwise':
      return `Depthwise 3×3${l.stride > 1 ? `, stride ${l.stride}` : ''}: map c is input channel c filtered by its own ` +
        `3×3 kernel — spatial filtering within each channel, no mixing (${cin} in → ${c} out, one filter per channel).`;
    case 'pointwise':
      return `Pointwise 1×1: each map is a weighted sum of all ${cin} input channels at the same pixel — channel ` +
        `mixing with no spatial extent (${cin} in → ${c} out).`;
    case 'avg_pool':
      return `Global average pool: each of the ${c} channels averaged over the whole map — the embedding a taught head reads.`;
    default:
      return '';
  }
}

/** New maps from the classifier's run. */
function show(map, source) {
  state.last = map;
  state.source = source;
  draw();
}

// A perceptually ordered dark-to-bright ramp (viridis-like): 5 stops interpolated once into 256 RGB entries,
// so drawing a map looks colours up instead of computing them per pixel.
const STOPS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];
const RAMP = new Uint8ClampedArray(256 * 3);
for (let v = 0; v < 256; v++) {
  const x = (v / 255) * (STOPS.length - 1);
  const i = Math.min(Math.floor(x), STOPS.length - 2);
  for (let k = 0; k < 3; k++) RAMP[v * 3 + k] = Math.round(STOPS[i][k] + (STOPS[i + 1][k] - STOPS[i][k]) * (x - i));
}

function draw() {
  const { shape: [h, w, c], data } = state.last;
  const first = state.page * PER_PAGE;
  const channels = Array.from({ length: Math.min(PER_PAGE, c - first) }, (_, i) => first + i);
  $('maps-grid').replaceChildren(...channels.map((ch) => figure(ch, h, w, c, data)));
  $('maps-pager').hidden = c <= PER_PAGE;
  $('maps-page').textContent = `channels ${first}–${first + channels.length - 1} of ${c}`;
  $('maps-status').textContent = `${state.source} · ${h}×${w}×${c} · each map scaled to its own range (real values)`;
  document.body.dataset.maps = String(Number(document.body.dataset.maps ?? 0) + 1);
}

function figure(ch, h, w, c, data) {
  let min = Infinity;
  let max = -Infinity;
  for (let i = ch; i < data.length; i += c) {
    min = Math.min(min, data[i]);
    max = Math.max(max, data[i]);
  }
  const canvas = el('canvas', { width: String(w), height: String(h), 'data-channel': String(ch) });
  canvas.style.width = canvas.style.height = `${SIDE}px`;
  const ctx = canvas.getContext('2d');
  const img = ctx.createImageData(w, h);
  const span = max - min || 1;
  for (let p = 0; p < h * w; p++) {
    const v = 3 * Math.round((255 * (data[p * c + ch] - min)) / span);
    img.data[p * 4] = RAMP[v];
    img.data[p * 4 + 1] = RAMP[v + 1];
    img.data[p * 4 + 2] = RAMP[v + 2];
    img.data[p * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  // The real value under the pointer: the maps are pictures of numbers, and this reads them back.
  canvas.addEventListener('pointermove', (e) => {
    // offsetX/Y count from the padding edge: on the border they fall just outside [0, client size).
    const cell = (offset, client, n) => Math.min(n - 1, Math.max(0, Math.floor((offset / client) * n)));
    const [x, y] = [cell(e.offsetX, canvas.clientWidth, w), cell(e.offsetY, canvas.clientHeight, h)];
    $('maps-readout').textContent = `#${ch} at (y ${y}, x ${x}): ${Number(data[(y * w + x) * c + ch].toPrecision(6))}`;
  });
  const fmt = (v) => String(Number(v.toPrecision(3)));
  const fig = el('figure', { class: 'map', tabindex: '0', 'aria-label': `channel ${ch}: from ${fmt(min)} to ${fmt(max)}` },
    canvas,
    el('figcaption', {}, el('span', { class: 'map-ch' }, `#${ch}`),
      el('span', { class: 'map-range' }, `${fmt(min)}…${fmt(max)}`)));
  fig.addEventListener('focus', () => {
    $('maps-readout').textContent = `#${ch}: from ${Number(min.toPrecision(6))} to ${Number(max.toPrecision(6))}`;
  });
  return fig;
}
