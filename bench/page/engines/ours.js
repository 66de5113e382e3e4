// Our engine: the wasm package from scripts/build.sh. Float rows run the seeded network from its own
// weights (the peers get the same numbers through the exported manifest); uint8 rows run the
// official TFLite models on the integer path.
import init, * as pkg from '/pkg/mobilenet_wasm.js';

/**
 * Null when this build cannot run `threads` threads. A threaded build (wasm-bindgen-rayon) exports
 * initThreadPool and plugs in here, sized to each row's thread count (one page per count); the
 * single-threaded build runs only 1.
 */
export async function start(threads) {
  await init();
  const threaded = typeof pkg.initThreadPool === 'function';
  if (threaded) await pkg.initThreadPool(threads);
  else if (threads > 1) return null;
  return { detail: `${threaded ? 'threaded' : 'single-threaded'} build, kernels: ${pkg.kernelName()}`, load };
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
