// The classifier: model picker and loading with byte progress, the camera loop, photo upload / drop /
// paste, and the top-5 with timing. It runs on the npm wrapper (js/), as an app using the package would.
import { load } from './js/index.js';
import { Camera, cameraProblem, everyFrame } from './camera.js';
import { $, el, megabytes, say, short } from './dom.js';

// The official pretrained models; top-1 is TFLite's published ImageNet accuracy of the uint8 files.
const MODELS = [
  { key: '0.25', alpha: 0.25, resolution: 128, bytes: 525_598, top1: 39.5, files: ['mobilenet_v1_0.25_128_quant.tflite'] },
  { key: '0.5', alpha: 0.5, resolution: 160, bytes: 1_392_846, top1: 57.2, files: ['mobilenet_v1_0.5_160_quant.tflite'] },
  { key: '0.75', alpha: 0.75, resolution: 192, bytes: 2_652_542, top1: 66.1, files: ['mobilenet_v1_0.75_192_quant.tflite'] },
  // The 1.0 model is published as two files run one after the other: the backbone, then the classifier head.
  { key: '1.0', alpha: 1, resolution: 224, bytes: 4_282_504, top1: 70.0,
    files: ['mobilenet_v1_1.0_224_quant_embedding_extractor.tflite', 'mobilenet_v1_1.0_224_quant_head.tflite'] },
];
const LABELS = 'models/imagenet_labels.txt';
const MISSING = '. The models are not installed: run `npm run fetch-models`, or open your own .tflite.';
const TOP = 5;

const state = {
  model: null,
  threads: 1,
  loads: 0, // numbers each load, so a newer choice wins over a download still running
  abort: null,
  inflight: Promise.resolve(), // the classification running now; a replaced model is freed after it
  stopLoop: null,
  still: null, // the photo on the stage, when it shows one
  stillUrl: null,
  onModel: () => {},
  onCamera: () => {},
  endPoint: null, // a layer whose output the feature maps show, kept from the classification runs
  onMaps: () => {},
  mapsAt: 0,
};
// While the camera runs, feature maps are kept from at most one run in this many ms (drawing them costs too).
const MAPS_EVERY_MS = 120;
const timing = { ms: null, fps: null, last: 0 };
let camera;

/**
 * Wires the classifier; `macsOf(alpha, resolution)` labels the model choices, onModel(model) follows loads,
 * onCamera() follows the camera starting and stopping.
 */
export function initClassifier({ threads, macsOf, onModel, onCamera = () => {} }) {
  state.threads = threads;
  state.onModel = onModel;
  state.onCamera = onCamera;
  camera = new Camera($('video'));
  renderChoices(macsOf);
  renderPredictions([]);
  wireCamera();
  wirePhotos();
  wireModelFile();
  return selectModel(MODELS[0].key);
}

function renderChoices(macsOf) {
  $('model-choices').replaceChildren(...MODELS.map((m) => {
    const input = el('input', { type: 'radio', name: 'model', value: m.key, id: `model-${m.key}` });
    input.addEventListener('change', () => selectModel(m.key));
    return el('label', { class: 'choice', for: `model-${m.key}` }, input,
      el('span', { class: 'choice-name' }, `α ${m.key}`),
      el('span', { class: 'choice-meta' }, `${m.resolution} px`));
  }));
  for (const m of MODELS) m.macs = macsOf(m.alpha, m.resolution);
}

function describe(m) {
  return `α ${m.key} · ${m.resolution}×${m.resolution} px · ${megabytes(m.bytes)} · ${short(m.macs)} MACs · ` +
    `${m.top1.toFixed(1)}% ImageNet top-1`;
}

function selectModel(key) {
  const spec = MODELS.find((m) => m.key === key);
  $(`model-${key}`).checked = true;
  $('model-desc').textContent = describe(spec);
  return switchModel(key, (signal) => load({
    modelUrl: spec.files.map((f) => `models/${f}`),
    labelsUrl: LABELS,
    signal,
    ...engineOptions(),
  }));
}

// Each model runs in a worker, so a slow frame never freezes the page; threads when the build has them.
const engineOptions = () => ({
  worker: true,
  threads: state.threads,
  onProgress: ({ loaded, total }) => showProgress(loaded, total),
});

async function switchModel(key, loader) {
  const ticket = ++state.loads;
  state.abort?.abort();
  const abort = (state.abort = new AbortController());
  say($('model-error'), '');
  showProgress(0, null);
  document.body.dataset.loading = 'true';
  try {
    const model = await loader(abort.signal);
    if (ticket !== state.loads) return model.dispose();
    const old = state.model;
    state.model = model;
    await state.inflight;
    old?.dispose();
    document.body.dataset.model = key;
    showEngine(model);
    state.onModel(model);
    if (state.still) await classifyStill();
  } catch (e) {
    if (ticket === state.loads) say($('model-error'), e.message + (/HTTP 404/.test(e.message) ? MISSING : ''));
  } finally {
    if (ticket === state.loads) {
      $('progress').hidden = true;
      delete document.body.dataset.loading;
    }
  }
}

function showProgress(loaded, total) {
  $('progress').hidden = false;
  const pct = total ? Math.round((100 * loaded) / total) : null;
  $('progress-fill').style.width = `${pct ?? 0}%`;
  if (pct === null) $('progress-bar').removeAttribute('aria-valuenow');
  else $('progress-bar').setAttribute('aria-valuenow', String(pct));
  $('progress-text').textContent = total
    ? `Downloading ${megabytes(loaded)} of ${megabytes(total)}`
    : loaded ? `Downloading ${megabytes(loaded)}` : 'Starting…';
}

function showEngine(model) {
  const { name, threads, relaxedSimd, note } = model.build;
  const build = name === 'threads' ? `threads × ${threads}` : 'SIMD build, 1 thread';
  // The relaxed SIMD .wasm (fused multiply-adds) runs when the browser has relaxed SIMD.
  const relaxed = relaxedSimd ? 'relaxed SIMD · ' : '';
  $('engine').textContent = `${build} · ${relaxed}${model.kernels} kernels`;
  $('engine').title = note;
  const badge = $('build');
  badge.textContent = `${name === 'threads' ? `threads × ${threads}` : 'single thread'} · ${relaxed}${model.kernels}`;
  badge.title = note || 'The engine runs in a Web Worker of this page.';
}

// ---- results

function renderPredictions(top) {
  const rows = Array.from({ length: TOP }, (_, i) => top[i]);
  $('predictions').replaceChildren(...rows.map((p, i) => {
    const fill = el('span', { class: 'fill' });
    fill.style.width = p ? `${(p.probability * 100).toFixed(1)}%` : '0';
    const name = p ? p.className.charAt(0).toUpperCase() + p.className.slice(1) : '—';
    return el('li', { class: i === 0 && p ? 'best' : p ? '' : 'empty' },
      el('span', { class: 'name', title: p ? `class ${p.index}` : '' }, name),
      el('span', { class: 'prob' }, p ? `${(p.probability * 100).toFixed(1)}%` : ''),
      el('span', { class: 'bar', 'aria-hidden': 'true' }, fill));
  }));
  const label = $('stage-label');
  label.hidden = !top[0];
  if (top[0]) label.textContent = `${$('predictions').firstChild.firstChild.textContent} · ${(top[0].probability * 100).toFixed(0)}%`;
}

// Smoothed so the numbers are readable while the camera runs.
const smooth = (old, value) => (old === null ? value : old * 0.8 + value * 0.2);

function showResult(top, ms, source) {
  renderPredictions(top);
  timing.ms = source === 'camera' ? smooth(timing.ms, ms) : ms;
  $('ms').textContent = `${timing.ms.toFixed(timing.ms < 10 ? 1 : 0)} ms`;
  const now = performance.now();
  if (source === 'camera' && timing.last) timing.fps = smooth(timing.fps, 1000 / (now - timing.last));
  timing.last = source === 'camera' ? now : 0;
  $('fps').textContent = source === 'camera' && timing.fps ? `${timing.fps.toFixed(1)} fps` : '–';
  $('source').textContent = source === 'camera' ? 'live camera' : 'photo';
  document.body.dataset.classified = String(Number(document.body.dataset.classified ?? 0) + 1);
}

async function classify(input, source) {
  const model = state.model;
  if (!model) return;
  const t0 = performance.now();
  const name = state.endPoint;
  const keep = name && (source !== 'camera' || t0 - state.mapsAt >= MAPS_EVERY_MS);
  if (keep) state.mapsAt = t0;
  const run = keep ? model.classify(input, TOP, { endPoints: [name] }) : model.classify(input, TOP);
  state.inflight = run.catch(() => {});
  try {
    const top = await run;
    if (source === 'camera' && !camera.running) return; // a frame finishing after Stop is not shown
    showResult(top, performance.now() - t0, source);
    if (keep && name === state.endPoint) state.onMaps(top.endPoints[name], source === 'camera' ? 'live camera' : 'photo');
  } catch (e) {
    // A model swapped out mid-run fails its last call; only the current model's errors matter.
    if (model === state.model) say($('camera-message'), e.message);
  }
}

// ---- camera

function wireCamera() {
  $('camera-toggle').addEventListener('click', () => (camera.running ? stopCamera() : startCamera()));
  $('camera-select').addEventListener('change', () => startCamera($('camera-select').value));
}

async function startCamera(deviceId) {
  say($('camera-message'), '');
  stopLoop();
  try {
    await camera.start(deviceId);
  } catch (e) {
    setCamera('blocked');
    say($('camera-message'), cameraProblem(e));
    return;
  }
  clearStill();
  setCamera('on');
  timing.fps = timing.ms = null;
  timing.last = 0;
  state.stopLoop = everyFrame($('video'), () => classify($('video'), 'camera'));
  await listCameras();
}

function stopCamera() {
  stopLoop();
  camera.stop();
  setCamera('off');
}

function stopLoop() {
  state.stopLoop?.();
  state.stopLoop = null;
}

function setCamera(status) {
  const on = status === 'on';
  document.body.dataset.camera = status;
  $('video').hidden = !on;
  $('stage-empty').hidden = on || Boolean(state.still);
  $('camera-toggle').textContent = on ? 'Stop camera' : 'Start camera';
  $('camera-toggle').setAttribute('aria-pressed', String(on));
  $('predictions').setAttribute('aria-live', on ? 'off' : 'polite'); // no announcement per frame
  if (!on) $('fps').textContent = '–';
  state.onCamera();
}

/** Keeps end point `name` (null: none) from the classification runs and hands it to onMaps({shape, data}, source). */
export function watchEndPoint(name, onMaps) {
  state.endPoint = name;
  state.onMaps = onMaps;
  state.mapsAt = 0;
}

/** Classifies the photo on the stage again, if there is one (e.g. to show a newly picked layer). */
export async function refreshStill() {
  if (state.still && !camera.running) await classifyStill();
}

/** Whether the camera is running. */
export const cameraOn = () => Boolean(camera?.running);

/** What the stage shows now: the camera's video, the photo, or null. */
export const stageInput = () => (camera?.running ? $('video') : state.still);

// A picker only when there is a choice; labels are known once permission was given.
async function listCameras() {
  const cams = await Camera.devices();
  const select = $('camera-select');
  select.hidden = cams.length < 2;
  select.replaceChildren(...cams.map((c, i) => el('option', { value: c.deviceId }, c.label || `Camera ${i + 1}`)));
  select.value = camera.deviceId;
}

// ---- photos: upload, drop, paste

function wirePhotos() {
  $('upload').addEventListener('click', () => $('file').click());
  $('file').addEventListener('change', () => {
    if ($('file').files[0]) showPhoto($('file').files[0]);
    $('file').value = ''; // choosing the same file again still fires change
  });
  const hint = $('drop-hint');
  document.addEventListener('dragover', (e) => {
    if (!e.dataTransfer?.types.includes('Files')) return;
    e.preventDefault(); // accept the drop instead of letting the browser open the file
    hint.hidden = false;
  });
  document.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) hint.hidden = true;
  });
  document.addEventListener('drop', (e) => {
    if (!e.dataTransfer?.files.length) return;
    e.preventDefault();
    hint.hidden = true;
    showPhoto(e.dataTransfer.files[0]);
  });
  document.addEventListener('paste', (e) => {
    const file = [...(e.clipboardData?.files ?? [])].find((f) => f.type.startsWith('image/'));
    if (file) showPhoto(file);
  });
}

async function showPhoto(file) {
  if (!file.type.startsWith('image/')) {
    say($('camera-message'), `“${file.name}” is not an image.`);
    return;
  }
  if (camera.running) stopCamera();
  const img = $('still');
  clearStill();
  state.stillUrl = URL.createObjectURL(file);
  img.src = state.stillUrl;
  try {
    await img.decode();
  } catch {
    say($('camera-message'), `“${file.name}” could not be decoded as an image.`);
    clearStill();
    return;
  }
  if (document.body.dataset.camera !== 'blocked') say($('camera-message'), '');
  img.hidden = false;
  $('stage-empty').hidden = true;
  state.still = img;
  await classifyStill();
}

const classifyStill = () => classify(state.still, 'photo');

function clearStill() {
  if (state.stillUrl) URL.revokeObjectURL(state.stillUrl);
  state.still = state.stillUrl = null;
  $('still').hidden = true;
  $('still').removeAttribute('src');
}

// ---- your own model

function wireModelFile() {
  $('open-model').addEventListener('click', () => $('model-file').click());
  $('model-file').addEventListener('change', async () => {
    // Several files chain in name order (e.g. …_embedding_extractor before …_head); a .txt among them names
    // the classes, one per line (else the file's own labels, else "class 0 … N−1").
    const chosen = [...$('model-file').files].sort((a, b) => a.name.localeCompare(b.name));
    $('model-file').value = '';
    const labelsFile = chosen.find((f) => /\.txt$/i.test(f.name));
    const files = chosen.filter((f) => f !== labelsFile);
    if (!files.length) return;
    for (const r of document.querySelectorAll('input[name="model"]')) r.checked = false;
    $('model-desc').textContent = `Your model: ${files.map((f) => f.name).join(' → ')}${labelsFile ? ` + ${labelsFile.name}` : ''}`;
    await switchModel('custom', async (signal) => {
      const labels = labelsFile ? await labelsFile.text() : undefined;
      const model = await load({ modelBytes: await Promise.all(files.map(bytesOf)), labels, signal, ...engineOptions() });
      await nameClasses(model, signal);
      const [h, w] = model.resolution;
      $('model-desc').textContent += ` · α ${model.alpha} · ${h}×${w} px · ${model.numberType} · ${model.numClasses} classes`;
      return model;
    });
  });
}

const bytesOf = async (file) => new Uint8Array(await file.arrayBuffer());

// ImageNet models without labels of their own get the ImageNet names.
async function nameClasses(model, signal) {
  if (model.hasLabels || model.numClasses !== 1001) return;
  const response = await fetch(LABELS, { signal });
  if (response.ok) await model.setLabels(await response.text());
}
