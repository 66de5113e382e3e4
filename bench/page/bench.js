// The benchmark page. bench/run.mjs (or the e2e smoke test) opens one page per engine and thread
// count, then drives it through `window.bench`: start the engine, load a configuration, read its
// output on a fixed input (checked against ours by the driver), time it, profile it, measure the roof.
// Its --kernels and --quant modes call window.bench.kernels / .quant instead (one call, one page).
import { measureRoof } from './roof.js';

const ENGINES = {
  ours: () => import('./engines/ours.js'),
  tfjs: () => import('./engines/tfjs.js'),
  ort: () => import('./engines/ort.js'),
  tflite: () => import('./engines/tflite.js'),
  mediapipe: () => import('./engines/mediapipe.js'),
  npm: () => import('./engines/npm.js'),
};

let engine;
let current; // { cfg, runner, input, pixels, reference }

/**
 * Deterministic pixel bytes for float models (mulberry32, RGB): engines taking tensors get them under
 * x/127.5 − 1 (floatInput), engines taking images (MediaPipe, the npm wrapper) the bytes themselves.
 */
function seededPixels(cfg) {
  let s = cfg.seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return Uint8Array.from({ length: cfg.resolution * cfg.resolution * 3 }, () => Math.floor(next() * 256));
}

/** The float model input of pixel bytes: x/127.5 − 1. */
const floatInput = (pixels) => Float32Array.from(pixels, (x) => x / 127.5 - 1);

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

const bytes = async (url) => new Uint8Array(await fetchBytes(url));

/**
 * What a configuration needs from the server: uint8 rows, the TFLite files, the reference's input tensor
 * and its output; float rows, the exported weights and the same network as a .tflite file.
 */
async function assets(cfg) {
  if (cfg.dtype === 'u8') {
    return {
      tflite: await Promise.all(cfg.models.map((m) => bytes(`/models/${m}`))),
      input: await bytes(`/reference/inputs/${cfg.input}`),
      reference: await bytes(`/reference/outputs/${cfg.reference}`),
    };
  }
  const dir = `/weights/${cfg.weights}`;
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(`${dir}/weights.json`)));
  return { manifest, blob: await fetchBytes(`${dir}/weights.bin`), tflite: await bytes(`${dir}/model.tflite`) };
}

window.bench = {
  /** Starts `name` with `threads` threads; null when the engine cannot run that many. */
  async start(name, threads) {
    const started = await (await ENGINES[name]()).start(threads);
    if (!started) return null;
    engine = started;
    // Chromium's user agent string says 156.0.0.0; the full version is a high-entropy value. Other
    // engines have no userAgentData: the driver names their version.
    const versions = await navigator.userAgentData?.getHighEntropyValues(['fullVersionList']);
    const chromium = versions?.fullVersionList.find((b) => /Chrom/.test(b.brand))?.version;
    return { detail: engine.detail, crossOriginIsolated: self.crossOriginIsolated, chromium };
  },

  /** Loads `cfg`; false when this engine cannot run it (MediaPipe and a split model). */
  async load(cfg) {
    current?.runner.dispose();
    current = null;
    const got = await assets(cfg);
    const runner = await engine.load(cfg, got);
    if (!runner) return false;
    // uint8 rows: the reference tensor is both the input and the pixels.
    const pixels = got.input ?? seededPixels(cfg);
    current = { cfg, runner, input: got.input ?? floatInput(pixels), pixels, reference: got.reference };
    return true;
  },

  /**
   * The output for the fixed input as a plain array, TFLite's reference output when there is one, and
   * `steps` when the engine gives uint8 outputs as probabilities (output byte = probability · steps).
   */
  async output() {
    const reference = current.reference && Array.from(current.reference);
    return { output: Array.from(await current.runner.run(current.input, current.pixels)), reference, steps: current.runner.steps };
  },

  /**
   * Milliseconds per inference, input upload to output readback, after a warm-up of at least `warmupMs`
   * and `warmup` runs (V8 tiers a small model's JS and wasm up late).
   */
  async time(warmup, runs, warmupMs = 0) {
    const { runner, input, pixels } = current;
    const start = performance.now();
    for (let i = 0; i < warmup || performance.now() - start < warmupMs; i++) await runner.run(input, pixels);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await runner.run(input, pixels);
      ms.push(performance.now() - t0);
    }
    return ms;
  },

  /** Per-layer times of `runs` profiled runs, with each layer's op and MACs (ours only). */
  async profile(runs) {
    const { runner, input } = current;
    const layers = runner.layers().map((l) => ({ name: l.name, op: l.op, macs: l.macs, ms: [] }));
    for (let i = 0; i < runs; i++) {
      runner.profile(input).forEach((t, j) => {
        if (t.name !== layers[j].name) throw new Error(`profile: layer ${j} is ${t.name}, expected ${layers[j].name}`);
        layers[j].ms.push(t.ms);
      });
    }
    return layers;
  },

  roof: () => measureRoof(),

  /** `--kernels`: float inference per kernel family and build, with per-layer times (kernels.js). */
  kernels: async (options) => (await import('./kernels.js')).kernels(options),

  /** `--quant`: the integer path per kernel family on the official models (quant.js). */
  quant: async (options) => (await import('./quant.js')).quant(options),
};
document.body.dataset.ready = 'true';
