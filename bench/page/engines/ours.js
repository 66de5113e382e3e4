// Our engine: the wasm package from scripts/build.sh. Float rows run the seeded network from its own
// weights (the peers get the same numbers through the exported manifest); uint8 rows run the
// official TFLite models on the integer path.
import { relaxedVerdict } from '/js/peak.js';

let pkg;

/**
 * Null when no build of ours can run `threads` threads. One thread runs the SIMD build (/pkg); more run
 * the threaded build (/pkg-threads, wasm-bindgen-rayon) with threads − 1 pool workers, since the calling
 * thread computes a share too (one page per count). Like the npm wrapper, each runs its relaxed SIMD
 * .wasm where relaxed SIMD validates and pays (js/peak.js: Firefox's is slower than plain).
 */
export async function start(threads) {
  if (threads > 1 && typeof SharedArrayBuffer !== 'function') return null; // WebKitGTK: isolated, yet no SharedArrayBuffer
  const dir = threads > 1 ? '/pkg-threads' : '/pkg';
  try {
    pkg = await import(`${dir}/mobilenet_wasm.js`);
  } catch {
    return null; // no threaded build here
  }
  const relaxed = relaxedVerdict().pays;
  await pkg.default(relaxed ? { module_or_path: `${dir}/mobilenet_wasm_relaxed_bg.wasm` } : undefined);
  if (threads > 1) await pkg.initThreadPool(threads - 1); // this thread computes a share too
  const build = `${threads > 1 ? `threaded build × ${pkg.threadCount()}` : 'SIMD build'}${relaxed ? ' (relaxed SIMD .wasm)' : ''}`;
  return { detail: `${build}, kernels: ${pkg.kernelName()}`, load };
}

function load(cfg, assets) {
  const model = cfg.dtype === 'u8' ? pkg.Model.fromTflite(assets.tflite) : pkg.Model.seeded(cfg.alpha, cfg.resolution, cfg.seed);
  const [h, w] = model.resolution;
  if (h !== cfg.resolution || w !== cfg.resolution) throw new Error(`ours: model is ${h}x${w}, expected ${cfg.resolution}`);
  // Float input goes in as f32; uint8 models take the raw bytes and give back uint8 probabilities.
  const run = cfg.dtype === 'u8' ? (input) => model.runRaw(input) : (input) => model.run(input);
  const raw = (input) => new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  return {
    run: async (input) => run(input),
    profile: (input) => model.profileRaw(raw(input)),
    layers: () => model.inspect().layers,
    dispose: () => model.free(),
  };
}
