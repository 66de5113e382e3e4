// Ours through the npm wrapper (js/index.js), the way an app calls it: `load({modelBytes, …})` then
// `infer(pixels)`, with the engine in a Web Worker (the single-thread build with `worker: true`, the
// threaded build always), so every run pays the wrapper's pixel handling and the trip to the worker
// (through shared memory on this isolated page). Float rows load the .tflite file our CLI writes
// (bit-identical to Model.seeded), uint8 rows the official files. Set beside "ours" (the .wasm called on
// the page's thread), it shows the worker path's cost.

import { relaxedVerdict } from '/js/peak.js';

let mnw;
let options;

export async function start(threads) {
  mnw = await import('/js/index.js');
  options = threads > 1 ? { threads, packageUrl: '/' } : { worker: true, packageUrl: '/' };
  const build = threads > 1 ? `threaded build × ${threads}` : 'SIMD build';
  return { detail: `npm wrapper (js/index.js), engine in a Web Worker: ${build}, relaxed SIMD .wasm where ours runs it`, load: (cfg, assets) => load(cfg, assets, threads) };
}

async function load(cfg, assets, threads) {
  const model = await mnw.load({ modelBytes: assets.tflite, ...options });
  const { build } = model;
  if (build.threads !== threads || !build.worker || !build.sharedMemory) throw new Error(`npm: asked for ${threads} thread(s) in a worker, runs ${JSON.stringify(build)}`);
  // The wrapper must pick the .wasm ours runs (relaxed SIMD where it validates and pays).
  if (build.relaxedSimd !== relaxedVerdict().pays) throw new Error(`npm: relaxed SIMD ${build.relaxedSimd}, not the build ours runs`);
  const r = cfg.resolution;
  return {
    // infer() gives probabilities; uint8 models' are their output bytes / 256.
    steps: cfg.dtype === 'u8' ? 256 : undefined,
    run: (input, pixels) => model.infer({ data: pixels, width: r, height: r }),
    dispose: () => model.dispose(),
  };
}
