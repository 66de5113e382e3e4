// The Teach section: classes of your own, examples recorded from the camera (hold Record) or added as photos,
// a head trained on the model's embeddings with progress, live predictions from it, and the taught model as a
// .tflite download. It runs on the package's `model.teach()`, as an app would.
import { everyFrame } from './camera.js';
import { $, el, say } from './dom.js';

const THUMBS = 12; // thumbnails shown per class; the count says how many there are
const RECORD_EVERY_MS = 100; // at most 10 examples a second while Record is held

const state = {
  model: null,
  teacher: null,
  classes: [], // [{label, thumbs: canvas[], count}] in the teacher's order
  stopLive: null,
  named: 0, // numbers the default class names
};
let source = { input: () => null, cameraOn: () => false, video: null };

/** `input()` is the frame to use now (the camera's video, the photo on the stage, or null). */
export function initTeach({ input, cameraOn, video }) {
  source = { input, cameraOn, video };
  $('teach-add-class').addEventListener('click', () => addClass());
  $('teach-train').addEventListener('click', train);
  $('teach-download').addEventListener('click', download);
  render();
}

/** A new model: examples are embeddings of the old one, so they start over. */
export function teachModel(model) {
  stopLive();
  state.model = model;
  state.teacher = model.teach();
  state.classes = [];
  state.named = 0;
  addClass();
  addClass();
  const [h, w] = model.resolution;
  $('teach-model').textContent = `on α ${model.alpha} · ${h}×${w} px · ${model.numberType}`;
  say($('teach-error'), '');
  $('teach-progress').hidden = true;
  $('teach-live').hidden = true;
  $('teach-predictions').replaceChildren();
  changed();
}

/** Called when the camera starts or stops, to keep the live predictions in step. */
export function teachCamera() {
  if (state.teacher?.trained && source.cameraOn()) startLive();
  else stopLive();
}

function addClass() {
  if (!state.teacher) return;
  let label;
  do label = `Class ${++state.named}`; while (state.classes.some((c) => c.label === label));
  state.teacher.addClass(label);
  state.classes.push({ label, thumbs: [], count: 0 });
  changed();
}

function changed() {
  $('teach-download').disabled = !state.teacher?.trained;
  if (!state.teacher?.trained) stopLive();
  render();
}

function render() {
  $('teach-classes').replaceChildren(...state.classes.map(classCard));
  $('teach-train').disabled = !state.teacher;
}

function classCard(c) {
  const name = el('input', { type: 'text', value: c.label, 'aria-label': 'Class name', maxlength: '80' });
  name.addEventListener('change', () => rename(c, name));
  const record = el('button', { type: 'button', class: 'record', 'aria-pressed': 'false',
    title: 'Hold to record frames from the camera' }, 'Hold to record');
  wireHold(record, c);
  const files = el('input', { type: 'file', accept: 'image/*', multiple: '', hidden: '' });
  const photos = el('button', { type: 'button' }, 'Add photos');
  photos.addEventListener('click', () => files.click());
  files.addEventListener('change', () => addPhotos(c, [...files.files]).finally(() => { files.value = ''; }));
  const remove = el('button', { type: 'button', class: 'link', 'aria-label': `Remove ${c.label}` }, 'Remove');
  remove.addEventListener('click', () => removeClass(c));
  c.view = { count: el('span', { class: 'teach-count' }), thumbs: el('div', { class: 'teach-thumbs' }) };
  showExamples(c);
  return el('div', { class: 'teach-class', 'data-label': c.label },
    el('div', { class: 'teach-class-head' }, name, c.view.count),
    c.view.thumbs,
    el('div', { class: 'teach-actions' }, record, photos, files, remove));
}

// In place: the card's buttons stay the same elements (a held Record button keeps its pointer).
function showExamples(c) {
  c.view.count.textContent = examples(c.count);
  c.view.thumbs.replaceChildren(...c.thumbs);
  if (c.count > THUMBS) c.view.thumbs.append(el('span', { class: 'more' }, `+${c.count - THUMBS}`));
}

const examples = (n) => `${n} example${n === 1 ? '' : 's'}`;

function rename(c, input) {
  const to = input.value.trim();
  try {
    state.teacher.renameClass(c.label, to);
    c.label = to;
    say($('teach-error'), '');
  } catch (e) {
    input.value = c.label;
    say($('teach-error'), e.message);
  }
  changed();
}

function removeClass(c) {
  state.teacher.removeClass(c.label);
  state.classes = state.classes.filter((x) => x !== c);
  changed();
}

/** One example of class `c`, taken from a video, image or canvas, with its thumbnail. */
async function addExample(c, input) {
  const thumb = thumbnail(input);
  c.count = await state.teacher.addExample(input, c.label);
  c.thumbs.push(thumb);
  if (c.thumbs.length > THUMBS) c.thumbs.shift();
}

function thumbnail(input) {
  const canvas = el('canvas', { width: '40', height: '40' });
  const w = input.videoWidth || input.naturalWidth || input.width;
  const h = input.videoHeight || input.naturalHeight || input.height;
  const side = Math.min(w, h);
  canvas.getContext('2d').drawImage(input, (w - side) / 2, (h - side) / 2, side, side, 0, 0, 40, 40);
  return canvas;
}

// Record while the button is held: pointer, or Space / Enter held on the focused button.
function wireHold(button, c) {
  let held = false;
  const start = () => {
    if (held) return;
    if (!source.cameraOn()) {
      say($('teach-error'), 'Start the camera first (above), or add photos.');
      return;
    }
    held = true;
    button.setAttribute('aria-pressed', 'true');
    recordWhileHeld(c, () => held).finally(changed);
  };
  const stop = () => {
    held = false;
    button.setAttribute('aria-pressed', 'false');
  };
  button.addEventListener('pointerdown', (e) => {
    button.setPointerCapture?.(e.pointerId);
    start();
  });
  for (const type of ['pointerup', 'pointercancel', 'lostpointercapture', 'blur']) button.addEventListener(type, stop);
  button.addEventListener('keydown', (e) => {
    if ((e.key === ' ' || e.key === 'Enter') && !e.repeat) {
      e.preventDefault();
      start();
    }
  });
  button.addEventListener('keyup', (e) => {
    if (e.key === ' ' || e.key === 'Enter') stop();
  });
}

async function recordWhileHeld(c, held) {
  say($('teach-error'), '');
  while (held() && source.cameraOn()) {
    const t0 = performance.now();
    try {
      await addExample(c, source.video);
    } catch (e) {
      say($('teach-error'), e.message);
      return;
    }
    updateCard(c);
    await new Promise((r) => setTimeout(r, Math.max(0, RECORD_EVERY_MS - (performance.now() - t0))));
  }
}

// Only this class's count and thumbnails change while recording.
function updateCard(c) {
  showExamples(c);
  $('teach-download').disabled = true;
  stopLive();
}

async function addPhotos(c, files) {
  say($('teach-error'), '');
  for (const file of files) {
    const img = new Image();
    const url = URL.createObjectURL(file);
    try {
      img.src = url;
      await img.decode();
      await addExample(c, img);
    } catch (e) {
      say($('teach-error'), `“${file.name}”: ${e.message ?? 'not an image'}`);
    } finally {
      URL.revokeObjectURL(url);
    }
  }
  changed();
}

async function train() {
  if (!state.teacher) return;
  say($('teach-error'), '');
  const button = $('teach-train');
  button.disabled = true;
  $('teach-progress').hidden = false;
  const t0 = performance.now();
  try {
    const report = await state.teacher.train({ onProgress: showProgress });
    const ms = performance.now() - t0;
    showProgress(report, true);
    $('teach-progress-text').textContent = `Trained in ${ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(1)} s`}: ` +
      `${report.iterations} steps, loss ${report.loss.toFixed(4)}, ${(report.accuracy * 100).toFixed(0)}% of the examples right.`;
    document.body.dataset.taught = String(Number(document.body.dataset.taught ?? 0) + 1);
    changed();
    if (source.cameraOn()) startLive();
    else await predictOnce();
  } catch (e) {
    $('teach-progress').hidden = true;
    say($('teach-error'), e.message);
  } finally {
    button.disabled = false;
  }
}

// Steps are fast; the bar shows how far into the step budget training went (it often stops early).
function showProgress({ iterations, loss, accuracy }, done = false) {
  const pct = done ? 100 : Math.min(99, Math.round((100 * iterations) / 200));
  $('teach-progress-fill').style.width = `${pct}%`;
  $('teach-progress-bar').setAttribute('aria-valuenow', String(pct));
  $('teach-progress-text').textContent = `Step ${iterations}: loss ${loss.toFixed(4)}, ${(accuracy * 100).toFixed(0)}% right`;
}

function renderPredictions(top) {
  $('teach-live').hidden = false;
  $('teach-predictions').replaceChildren(...top.map((p, i) => {
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${(p.probability * 100).toFixed(1)}%`;
    return el('li', { class: i === 0 ? 'best' : '' },
      el('span', { class: 'name' }, p.className),
      el('span', { class: 'prob' }, `${(p.probability * 100).toFixed(1)}%`),
      el('span', { class: 'bar', 'aria-hidden': 'true' }, fill));
  }));
  document.body.dataset.teachPredicted = String(Number(document.body.dataset.teachPredicted ?? 0) + 1);
}

async function predict(input, where) {
  const teacher = state.teacher;
  if (!teacher?.trained || !input) return;
  try {
    const top = await teacher.classify(input, state.classes.length);
    if (teacher === state.teacher && teacher.trained) {
      renderPredictions(top);
      $('teach-source').textContent = `by the trained head · ${where}`;
    }
  } catch (e) {
    if (teacher === state.teacher) say($('teach-error'), e.message);
  }
}

const predictOnce = () => predict(source.input(), 'photo');

function startLive() {
  stopLive();
  state.stopLive = everyFrame(source.video, () => predict(source.video, 'live camera'));
}

function stopLive() {
  state.stopLive?.();
  state.stopLive = null;
}

async function download() {
  say($('teach-error'), '');
  try {
    const bytes = await state.teacher.toTflite();
    const name = `taught-${state.classes.map((c) => c.label).join('-').replace(/[^\w-]+/g, '_').slice(0, 60)}.tflite`;
    const url = URL.createObjectURL(new Blob([bytes], { type: 'application/octet-stream' }));
    const a = el('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    say($('teach-error'), e.message);
  }
}
