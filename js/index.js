// mobilenet-wasm: MobileNet v1 image classification in WebAssembly, with the API of
// @tensorflow-models/mobilenet (load → classify / infer) plus the layer inspector.
//
//   import { load } from 'mobilenet-wasm';
//   const model = await load({ modelUrl: '/models/mobilenet_v1_0.25_128_quant.tflite' });
//   const top3 = await model.classify(imageElement);   // [{className, probability, index}]
import { fetchFiles, fetchText } from './fetch.js';
import { InputError, kindOf, MobileNetError, ModelLoadError } from './errors.js';
import { startEngine, startGlue } from './engine.js';
import { PixelReader } from './pixels.js';
import { relaxedVerdict } from './peak.js';
import { Teacher } from './teach.js';

export { MobileNetError, ModelLoadError, InputError, UnsupportedError } from './errors.js';
export * from './worked.js';
export * from './timing.js';

/**
 * Loads a MobileNet v1 TFLite model (one file, or an array of files run one after the other).
 * Options: modelUrl | modelBytes, labels (array or file text) | labelsUrl, threads, worker, float,
 * onProgress({loaded, total}), wasm (where the .wasm is, for hosts that move it), packageUrl (where a
 * bundled app serves a copy of the package, for the worker and the threaded build), warmup, signal.
 */
export async function load(options = {}) {
  const { modelUrl, modelBytes, labels, labelsUrl, threads, worker, float = false, onProgress, wasm,
    packageUrl, warmup = true, signal } = options;
  // Time relaxed SIMD against plain now, before downloads and compiles compete with it for the CPU.
  if (wasm === undefined) relaxedVerdict();
  const settled = await Promise.allSettled([
    modelFiles(modelUrl, modelBytes, onProgress, signal),
    labelsUrl === undefined ? labelLines(labels, { required: false }) : fetchText(labelsUrl, signal),
    startEngine({ threads, worker, wasm, packageUrl }),
  ]);
  const failed = settled.find((s) => s.status === 'rejected');
  const [files, labelText, engine] = settled.map((s) => s.value);
  if (failed) {
    engine?.close(); // a download failed after the engine (maybe a worker) started
    throw failed.reason;
  }
  try {
    const info = await engine.call('open', files, { float, labels: labelLines(labelText, { required: false }) });
    const model = new MobileNet(engine, info);
    // The first run pays for compiling the hot code paths; pay it here, not on the first frame.
    if (warmup) await model.infer({ data: new Uint8Array(info.resolution[0] * info.resolution[1] * 3), width: info.resolution[1], height: info.resolution[0] });
    return model;
  } catch (e) {
    engine.close();
    throw e;
  }
}

/** Per-layer report of any configuration, without a model: {config, convention, layers, totals, shares, separable}. */
export async function inspect({ wasm, ...config } = {}) {
  return (await loadInspector({ wasm })).inspect(config);
}

/**
 * The inspector without a model, synchronous once loaded (for pages that redraw on every input event):
 *   const inspector = await loadInspector();
 *   inspector.inspect({ alpha: 0.5, resolution: 160 }).totals.macs;   // InputError for a bad configuration
 * It runs the single-thread build on this thread; `wasm` as for load().
 */
export async function loadInspector({ wasm } = {}) {
  const { glue } = await startGlue(wasm);
  return Object.freeze({
    inspect({ alpha = 1, resolution = 224, classes = 1001, outputStride = 32 } = {}) {
      const [height, width] = Array.isArray(resolution) ? resolution : [resolution, resolution];
      try {
        return glue.inspect(alpha, height, classes, outputStride, width);
      } catch (e) {
        throw new InputError(e.message, { cause: e, kind: kindOf(e) }); // a configuration out of range
      }
    },
  });
}

/**
 * Labels as the engine takes them: a labels file's text, or an array of class names joined by lines;
 * undefined (or null) when none are given and none are `required`. Anything else is an InputError here,
 * before it reaches the engine.
 */
function labelLines(labels, { required = true } = {}) {
  if ((labels === undefined || labels === null) && !required) return undefined;
  if (typeof labels === 'string') return labels;
  if (Array.isArray(labels) && labels.every((l) => typeof l === 'string')) return labels.join('\n');
  const got = labels === null ? 'null' : Array.isArray(labels) ? 'an array with a non-string' : typeof labels;
  throw new InputError(`labels must be an array of strings or a labels file's text, got ${got}`);
}

/** End point names as the engine takes them: a non-empty array of strings, else an InputError here. */
function endPointNames(names) {
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string')) {
    throw new InputError('endPoints must be a non-empty array of end point names (inspect().layers[i].name)');
  }
  return names;
}

async function modelFiles(modelUrl, modelBytes, onProgress, signal) {
  const list = (x) => (Array.isArray(x) ? x : [x]);
  if (modelBytes !== undefined) {
    return list(modelBytes).map((b) => {
      if (b instanceof ArrayBuffer) return new Uint8Array(b);
      if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
      throw new ModelLoadError(`modelBytes must be Uint8Array or ArrayBuffer (or an array of them), got ${typeof b}`);
    });
  }
  if (modelUrl === undefined) throw new ModelLoadError('load() needs modelUrl or modelBytes');
  return fetchFiles(list(modelUrl).map(String), onProgress, signal);
}

/** A loaded model. Every method is async: the network may run in a worker. */
class MobileNet {
  #engine;
  #info;
  #reader;
  #teachers = 0;

  constructor(engine, info) {
    this.#engine = engine;
    this.#info = info;
    this.#reader = new PixelReader(info.resolution, engine.resize);
  }

  /** [height, width] of the model input. */
  get resolution() { return [...this.#info.resolution]; }
  get alpha() { return this.#info.alpha; }
  get numClasses() { return this.#info.numClasses; }
  get quantized() { return this.#info.quantized; }
  /** What the layers compute in: 'float32', 'uint8' or 'int8'. */
  get numberType() { return this.#info.numberType; }
  get hasLabels() { return this.#info.hasLabels; }
  /** The kernel family that runs, e.g. "simd128-u8", "simd128" or "relaxed-simd128". */
  get kernels() { return this.#info.kernels; }
  /** Which build runs and why: {name: 'simd' | 'threads', threads, worker, sharedMemory, relaxedSimd, note, capabilities}. */
  get build() { return { ...this.#engine.build }; }
  /** Whether profile() can time each layer: true in every build (kept for code written when some could not). */
  get canProfile() { return true; }

  /**
   * The topk best classes: [{className, probability, index}], best first. With {endPoints: [names]}, the
   * array also carries `endPoints` ({name: {shape, data}}, as infer gives them) from the same run.
   */
  async classify(input, topk = 3, { endPoints } = {}) {
    if (!Number.isInteger(topk) || topk < 1) throw new InputError(`topk must be a positive integer, got ${topk}`);
    const { pixels, channels } = this.#pixels(input);
    const k = Math.min(topk, this.#info.numClasses);
    const named = ({ index, label, score }) => ({ className: label ?? `class ${index}`, probability: score, index });
    if (endPoints === undefined) return (await this.#call('classify', pixels, channels, k)).map(named);
    const run = await this.#call('keep', pixels, channels, endPointNames(endPoints), k);
    return Object.assign(run.top.map(named), { endPoints: run.endPoints });
  }

  /**
   * Class probabilities (Float32Array); with {embedding: true} the average-pool output (one value per
   * channel of the last layer, max(⌊1024·α⌋, 8)), dequantized for quantized models; with {endPoints: [names]}
   * those layers' outputs from one run, {name: {shape: [h, w, c], data: Float32Array (NHWC)}}, as real values
   * (dequantized for quantized models). Names are TF-slim end points: inspect().layers[i].name.
   */
  async infer(input, { embedding = false, endPoints } = {}) {
    const { pixels, channels } = this.#pixels(input);
    if (endPoints !== undefined) return (await this.#call('keep', pixels, channels, endPointNames(endPoints), 0)).endPoints;
    return this.#call(embedding ? 'embedding' : 'probabilities', pixels, channels);
  }

  /** This model's per-layer report, or with {alpha, resolution, …} that of any configuration. */
  async inspect(config) {
    if (config !== undefined) return inspect(config);
    return this.#call('inspect');
  }

  /** Runs once and times each layer: [{name, op, macs, ms}], in inspect().layers order. */
  async profile(input) {
    const { pixels, channels } = this.#pixels(input);
    return this.#call('profile', pixels, channels);
  }

  /**
   * Teaches new classes on this model's embeddings: {addExample, removeClass, train, classify, toTflite, save,
   * load}. Options: classes, iterations, l2, hidden, seed, k (see index.d.ts).
   */
  teach(options) {
    if (!this.#engine) throw new MobileNetError('this model was disposed');
    const id = (this.#teachers += 1);
    const call = (op, ...args) => this.#call(op, id, ...args);
    return new Teacher({
      embedding: (input) => this.infer(input, { embedding: true }),
      classifyTaught: (input, k) => {
        const { pixels, channels } = this.#pixels(input);
        return call('teachClassify', pixels, channels, k);
      },
      call,
      callWithProgress: (op, onProgress, ...args) => {
        if (!this.#engine) return Promise.reject(new MobileNetError('this model was disposed'));
        return this.#engine.callWithProgress(op, onProgress, id, ...args);
      },
      facts: { alpha: this.alpha, resolution: this.resolution, numberType: this.numberType },
    }, options);
  }

  /** Sets the class names: an array, or a labels file's text (one per line, as many as classes). */
  async setLabels(labels) {
    this.#info = await this.#call('setLabels', labelLines(labels));
  }

  /** Frees the model's memory (and its worker); the model is unusable afterwards. */
  dispose() {
    if (!this.#engine) return;
    this.#engine.close();
    this.#engine = null;
  }

  #pixels(input) {
    if (!this.#engine) throw new MobileNetError('this model was disposed');
    return this.#reader.read(input);
  }

  #call(op, ...args) {
    if (!this.#engine) return Promise.reject(new MobileNetError('this model was disposed'));
    return this.#engine.call(op, ...args);
  }
}
