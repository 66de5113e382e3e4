// TensorFlow.js with the wasm backend (XNNPACK inside), from the UMD builds in node_modules. The
// network is built from the exported folded weights with fused ops, so XNNPACK fuses bias + ReLU6.

import { script } from './script.js';

let tf;

export async function start(threads) {
  await script('/peers/tfjs-core/tf-core.min.js');
  await script('/peers/tfjs-wasm/tf-backend-wasm.min.js');
  tf = globalThis.tf;
  tf.wasm.setWasmPaths('/peers/tfjs-wasm/');
  // One thread runs the plain SIMD binary (no atomics, no pthread pool); more need the threaded one.
  if (threads === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // The backend caps XNNPACK's pool at navigator.hardwareConcurrency / 2 (it assumes two hyperthreads
  // per core), which is 1 on a 2-core machine; report enough cores for the count we ask for.
  Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads });
  tf.wasm.setThreadsCount(threads);
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not start');
  await tf.ready();
  const actual = tf.wasm.getThreadsCount();
  if (actual !== threads) throw new Error(`tfjs: asked for ${threads} threads, XNNPACK runs ${actual}`);
  const build = threads === 1 ? 'SIMD' : 'threaded SIMD';
  return { detail: `tfjs-core ${tf.version_core}, wasm backend, ${build} build for ${actual} thread(s)`, load };
}

function load(cfg, { manifest, blob }) {
  const [h, w] = manifest.config.resolution;
  const classes = manifest.config.num_classes;
  const view = (s) => new Float32Array(blob, s.offset, s.shape.reduce((a, b) => a * b));
  // Weights live as persistent tensors: XNNPACK caches its packed operators per filter tensor.
  const layers = manifest.layers.map((l) => ({
    ...l,
    filter: l.filter && tf.tensor(view(l.filter), l.filter.shape),
    bias: l.bias && tf.tensor1d(view(l.bias)),
  }));
  const forward = (x) => {
    for (const l of layers) {
      const conv = { x, filter: l.filter, strides: l.stride, pad: 'same', dilations: l.rate, bias: l.bias,
        activation: l.activation === 'relu6' ? 'relu6' : 'linear' };
      if (l.op === 'avg_pool') x = tf.mean(x, [1, 2], true);
      else if (l.op === 'depthwise') x = tf.fused.depthwiseConv2d(conv);
      else x = tf.fused.conv2d(conv);
    }
    return tf.softmax(tf.reshape(x, [1, classes]));
  };
  return {
    run: async (input) => {
      const probs = tf.tidy(() => forward(tf.tensor4d(input, [1, h, w, 3])));
      const data = await probs.data();
      probs.dispose();
      return data;
    },
    dispose: () => layers.forEach((l) => tf.dispose([l.filter, l.bias].filter(Boolean))),
  };
}
