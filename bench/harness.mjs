// The benchmark's machinery, shared by bench/run.mjs (all its modes) and the e2e smoke test: a throw-away
// site (our package, the bench page, the peers' files from node_modules, exported weights, the official
// models and reference data), served by the browser toolkit's COOP/COEP server, one bench page per engine
// and thread count, and the agreement check that keeps anyone from timing a no-op.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT, SHARED, openPage, serve, session } from '../scripts/lib/browser.mjs';
import { browserVersion, launchEngine } from '../scripts/lib/webdriver.mjs';

export { ROOT };
export const ENGINES = ['ours', 'npm', 'tfjs', 'ort', 'tflite', 'mediapipe'];
const SEED = 7;

/** Float configurations run by every engine, from the seeded network's exported weights. */
export const floatConfig = (alpha, resolution) => ({
  alpha, resolution, dtype: 'f32', seed: SEED, weights: `a${alpha}_r${resolution}`,
});

/**
 * The official uint8 models (TFLite's runtime and MediaPipe run the same files), fed the reference's exact
 * input tensor of cat.bmp so that every engine's output can be held against TFLite's reference kernels.
 */
export const U8_CONFIGS = [
  { alpha: 1.0, resolution: 224, models: ['mobilenet_v1_1.0_224_quant_embedding_extractor.tflite', 'mobilenet_v1_1.0_224_quant_head.tflite'],
    reference: 'mobilenet_v1_1.0_224_quant_cat.u8' },
  { alpha: 0.25, resolution: 128, models: ['mobilenet_v1_0.25_128_quant.tflite'], reference: 'mobilenet_v1_0.25_128_quant_cat.u8' },
].map((c) => ({ ...c, dtype: 'u8', seed: SEED, input: `cat_${c.resolution}.rgb` }));

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

function run(cmd, args, what) {
  // Children print to stderr so that stdout stays the benchmark's own (e.g. JSON lines only).
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: ['ignore', 2, 2] });
  if (r.status !== 0) throw new Error(`${what} failed (${cmd} ${args.join(' ')}: exit ${r.status})`);
}

function newestMtime(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.mtimeMs;
  return Math.max(s.mtimeMs, ...readdirSync(path).map((f) => newestMtime(join(path, f))));
}

/** Builds www/pkg with scripts/build.sh unless it is newer than every source it comes from. */
export function ensurePackage() {
  const wasm = join(ROOT, 'www/pkg/mobilenet_wasm_bg.wasm');
  const sources = ['src', 'Cargo.toml', 'Cargo.lock', 'build.rs', '.cargo'].map((p) => join(ROOT, p)).filter(existsSync);
  if (existsSync(wasm) && statSync(wasm).mtimeMs > Math.max(...sources.map(newestMtime))) return;
  log('building the wasm package (scripts/build.sh)');
  run('bash', ['scripts/build.sh'], 'scripts/build.sh');
}

/**
 * A temporary site of symlinks: /bench (the page), /pkg and /pkg-threads (ours), /peers/* (the peers' dist
 * folders, .wasm included: tfjs, ort, tflite, mediapipe), /models and /reference (the official models and their reference inputs and
 * outputs, when present), /builds/<i> for each of `builds` (other package folders, for --kernels), and
 * /weights/<cfg.weights> exported by our CLI for each float configuration (weights.json + weights.bin for
 * the peers that build the network themselves, model.tflite for those that read TFLite files). Returns { dir, hasModels, remove }.
 */
export function prepareSite(floatConfigs, { builds = [] } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-bench-'));
  const link = (target, path) => {
    if (!existsSync(target)) throw new Error(`${target} is missing (run npm ci?)`);
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    symlinkSync(target, join(dir, path));
  };
  link(join(ROOT, 'bench/page'), 'bench');
  link(join(ROOT, 'www/pkg'), 'pkg');
  link(join(ROOT, 'js'), 'js'); // the npm wrapper: with /pkg and /pkg-threads, a package served at /
  // The threaded build, when scripts/build.sh made it (the 2-thread rows of ours need it).
  if (existsSync(join(ROOT, 'www/pkg-threads'))) link(join(ROOT, 'www/pkg-threads'), 'pkg-threads');
  link(join(ROOT, 'node_modules/@tensorflow/tfjs-core/dist'), 'peers/tfjs-core');
  link(join(ROOT, 'node_modules/@tensorflow/tfjs-backend-wasm/dist'), 'peers/tfjs-wasm');
  link(join(ROOT, 'node_modules/onnxruntime-web/dist'), 'peers/ort');
  link(join(ROOT, 'node_modules/@tensorflow/tfjs-tflite/wasm'), 'peers/tflite');
  link(join(ROOT, 'node_modules/@mediapipe/tasks-vision'), 'peers/mediapipe');
  const models = join(SHARED, 'models');
  const hasModels = existsSync(models);
  if (hasModels) link(models, 'models');
  if (existsSync(join(SHARED, 'reference'))) link(join(SHARED, 'reference'), 'reference');
  builds.forEach((build, i) => link(build, `builds/${i}`));
  for (const cfg of floatConfigs) {
    const out = join(dir, 'weights', cfg.weights);
    const flags = ['--alpha', cfg.alpha, '--resolution', cfg.resolution, '--seed', cfg.seed, '--out', out].map(String);
    run('cargo', ['run', '--quiet', '--bin', 'mobilenet', '--', 'export-weights', ...flags], 'exporting weights');
    // The same weights as a .tflite file (with NormalizationOptions metadata, which MediaPipe needs).
    const tflite = [...flags.slice(0, -1), join(out, 'model.tflite'), '--metadata'];
    run('cargo', ['run', '--quiet', '--bin', 'mobilenet', '--', 'export-tflite', ...tflite], 'writing the .tflite file');
  }
  return { dir, hasModels, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The toolkit's server over the site (blob: scripts allowed for TF.js's pthread workers, eval for TFLite's
 * embind) and Chromium: {context, url, close, …} (session()).
 */
export const openSite = (site) => session({ root: site.dir, allowBlobScripts: true, allowEval: true });

/**
 * The same server over the site, and Firefox or WebKitGTK (`name`) through WebDriver, shaped as openSite()'s
 * result: {context (a launchEngine() result, plus its browserVersion), url, close}.
 */
export async function openWebDriverSite(site, name) {
  const server = await serve({ root: site.dir, allowBlobScripts: true, allowEval: true });
  try {
    const engine = await launchEngine(name);
    const close = async () => {
      await engine.close();
      await server.close();
    };
    return { context: { ...engine, browserVersion: browserVersion(name) }, url: server.url, close };
  } catch (e) {
    await server.close();
    throw e;
  }
}

/**
 * The bench page, ready (its window.bench set); `check(what)` throws on any page error or outside request.
 * `context`: playwright's (Chromium), or a launchEngine() result (Firefox, WebKitGTK), which has one page.
 */
export function openBenchPage(context, base) {
  const url = new URL('bench/index.html', base).href;
  const ready = 'body[data-ready="true"]';
  return context.open ? context.open(url, { ready }) : openPage(context, url, { ready });
}

/**
 * A bench page running `engine` on `threads` threads, or null when the engine cannot (ours has no
 * threaded build yet). `call(method, ...args)` calls window.bench[method] in the page; any page error
 * or request leaving 127.0.0.1 fails the next call.
 */
export async function openEngine(context, base, engine, threads) {
  const bench = await openBenchPage(context, base);
  const call = (method, ...args) => callBench(bench, `${engine} (${threads} threads)`, method, ...args);
  const started = await call('start', engine, threads);
  if (!started) {
    await bench.close();
    return null;
  }
  if (threads > 1 && !started.crossOriginIsolated) throw new Error('the page is not cross-origin isolated: no threads');
  return { detail: started.detail, chromium: started.chromium, call, close: bench.close };
}

/** window.bench[method](...args) in an openBenchPage() page; throws if the page erred or went outside. */
export async function callBench(bench, what, method, ...args) {
  const result = await bench.page.evaluate(([m, a]) => window.bench[m](...a), [method, args]);
  await bench.check(what);
  return result;
}

/** Indices of the k largest values, largest first. */
export function topK(values, k) {
  return values.map((v, i) => [v, i]).sort((a, b) => b[0] - a[0]).slice(0, k).map(([, i]) => i);
}

// The engines sum in different orders: their probabilities differ by ~2e-8. The seeded network's
// output leans on its logits bias, so even another input moves probabilities by only ~5e-4;
// 1e-5 sits far from both.
export const TOLERANCE = 1e-5;

/** Top-5 must be equal and no probability may differ by more than `tolerance`. */
export function agreement(want, got, tolerance = TOLERANCE) {
  const wantTop = topK(want, 5);
  const gotTop = topK(got, 5);
  const maxDiff = want.length === got.length ? Math.max(...want.map((v, i) => Math.abs(v - got[i]))) : Infinity;
  const ok = wantTop.join() === gotTop.join() && maxDiff <= tolerance;
  return { ok, wantTop, gotTop, maxDiff };
}

/** Median and 90th percentile (nearest rank) of a list of times. */
export function summarize(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const n = s.length;
  const median = (s[(n - 1) >> 1] + s[n >> 1]) / 2;
  return { median_ms: median, p90_ms: s[Math.ceil(0.9 * n) - 1], runs: n };
}
