// The benchmark page. bench/run.mjs (or the e2e smoke test) opens one page per engine and thread
// count, then drives it through `window.bench`: start the engine, load a configuration, read its
// output on a fixed input (checked against ours by the driver), time it, profile it, measure the roof.
// Its --kernels and --quant modes call window.bench.kernels / .quant instead (one call, one page).
import { measureRoof } from './roof.js';

const ENGINES = {
  ours: () => import('./engines/ours.js'),
  tfjs: () => import('./engines/tfjs.js'),
  ort: () => import('./engines/ort.js'),
};

let engine;
let current; // { cfg, runner, input }

/** A deterministic input: uniform in [-1, 1] for float models, any byte for uint8 ones (mulberry32). */
function seededInput(cfg) {
  let s = cfg.seed >>> 0;
  const next = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const n = cfg.resolution * cfg.resolution * 3;
  if (cfg.dtype === 'u8') return Uint8Array.from({ length: n }, () => Math.floor(next() * 256));
  return Float32Array.from({ length: n }, () => next() * 2 - 1);
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.arrayBuffer();
}

/** What a configuration needs from the server: exported weights (float) or TFLite files (uint8). */
async function assets(cfg) {
  if (cfg.dtype === 'u8') return { tflite: await Promise.all(cfg.models.map(async (m) => new Uint8Array(await fetchBytes(`/models/${m}`)))) };
  const dir = `/weights/${cfg.weights}`;
  const manifest = JSON.parse(new TextDecoder().decode(await fetchBytes(`${dir}/weights.json`)));
  return { manifest, blob: await fetchBytes(`${dir}/weights.bin`) };
}

window.bench = {
  /** Starts `name` with `threads` threads; null when the engine cannot run that many. */
  async start(name, threads) {
    const started = await (await ENGINES[name]()).start(threads);
    if (!started) return null;
    engine = started;
    // The user agent string says 156.0.0.0; the full version is a high-entropy value.
    const { fullVersionList } = await navigator.userAgentData.getHighEntropyValues(['fullVersionList']);
    const chromium = fullVersionList.find((b) => /Chrom/.test(b.brand))?.version;
    return { detail: engine.detail, crossOriginIsolated: self.crossOriginIsolated, chromium };
  },

  async load(cfg) {
    current?.runner.dispose();
    current = { cfg, runner: await engine.load(cfg, await assets(cfg)), input: seededInput(cfg) };
  },

  /** The output for the fixed input, as a plain array the driver can compare. */
  async output() {
    return Array.from(await current.runner.run(current.input));
  },

  /** Milliseconds per inference, input upload to output readback, after `warmup` untimed runs. */
  async time(warmup, runs) {
    const { runner, input } = current;
    for (let i = 0; i < warmup; i++) await runner.run(input);
    const ms = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await runner.run(input);
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
