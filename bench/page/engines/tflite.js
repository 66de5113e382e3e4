// TFLite's own wasm runtime (@tensorflow/tfjs-tflite's TFLiteWebModelRunner: the TFLite interpreter
// with XNNPACK, compiled by Google), on the very .tflite files ours reads: the official uint8 models,
// and for float rows the file our CLI writes from the seeded network (`mobilenet export-tflite`).
// The raw runner is used, not tfjs-tflite's tf.Tensor wrapper, so no TF.js backend sits in the timing.

import { script } from './script.js';

let tfweb;
let threads;

export async function start(count) {
  // The client script ends with a CommonJS `exports.tfweb = tfweb` (tfjs-tflite's bundle provides it).
  globalThis.exports ??= {};
  await script('/peers/tflite/tflite_web_api_client.js');
  tfweb = globalThis.tfweb;
  tfweb.tflite_web_api.setWasmPath('/peers/tflite/');
  const features = await tfweb.tflite_web_api.getWasmFeatures();
  if (count > 1 && !features.multiThreading) throw new Error('tflite: no threaded build in this browser');
  threads = count;
  const build = `${features.simd ? 'SIMD' : 'plain'}${features.multiThreading ? ' threaded' : ''} build`;
  return { detail: `@tensorflow/tfjs-tflite 0.0.1-alpha.10 (TFLiteWebModelRunner, XNNPACK), ${build}, numThreads ${count}`, load };
}

/** One runner per file; a split model (1.0/224 uint8) runs its files one after the other. */
async function load(cfg, assets) {
  const files = cfg.dtype === 'u8' ? assets.tflite : [assets.tflite];
  const runners = [];
  for (const bytes of files) {
    // create() takes the buffer; a copy keeps ours untouched for the next engine on this page.
    runners.push(await tfweb.TFLiteWebModelRunner.create(bytes.slice().buffer, { numThreads: threads }));
  }
  const want = cfg.dtype === 'u8' ? Uint8Array : Float32Array;
  for (const r of runners) {
    const [input, output] = [r.getInputs()[0].data(), r.getOutputs()[0].data()];
    if (!(input instanceof want) || !(output instanceof want)) throw new Error(`tflite: ${cfg.dtype} model has ${input.constructor.name} edges`);
  }
  return {
    // The tensors' views are taken anew each run: the runtime's memory may grow and detach old ones.
    run: async (input) => {
      let x = input;
      for (const r of runners) {
        r.getInputs()[0].data().set(x);
        if (!r.infer()) throw new Error('tflite: infer() failed');
        x = r.getOutputs()[0].data();
      }
      return x.slice();
    },
    profile: () => {
      const layers = runners.flatMap((r) => r.getProfilingResults?.() ?? []);
      return layers.map((l) => ({ name: l.nodeName, op: l.nodeType, ms: l.nodeExecMs }));
    },
    dispose: () => runners.forEach((r) => r.cleanUp?.()),
  };
}
