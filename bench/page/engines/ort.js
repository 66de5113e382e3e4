// ONNX Runtime Web, wasm execution provider, with the model written from the exported folded
// weights by ../onnx.js.
import { onnxModel } from '../onnx.js';

let ort;

export async function start(threads) {
  ort = await import('/peers/ort/ort.wasm.min.mjs');
  ort.env.wasm.wasmPaths = '/peers/ort/';
  ort.env.wasm.numThreads = threads; // read when the first session starts the runtime
  return { detail: `onnxruntime-web ${ort.env.versions.web}, wasm execution provider (one SIMD build for any thread count)`, load };
}

async function load(cfg, { manifest, blob }) {
  const [h, w] = manifest.config.resolution;
  const session = await ort.InferenceSession.create(onnxModel(manifest, blob), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
  });
  return {
    run: async (input) => (await session.run({ input: new ort.Tensor('float32', input, [1, h, w, 3]) })).probs.data,
    dispose: () => session.release(),
  };
}
