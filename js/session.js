// One loaded network and the calls the wrapper makes on it. The same code runs on the page's thread
// or inside js/worker.js, so it only ever receives model-sized pixels and returns cloneable data.
import { fromEngine, kindOf, MobileNetError, ModelLoadError } from './errors.js';
import { loadLessons } from './lessons.js';

export class Session {
  #glue;
  #model = null;
  #taught = new Map(); // teacher id → {head, neighbours}: the engine objects each teacher trained

  #keep(teacher, what, value) {
    const kept = this.#taught.get(teacher) ?? {};
    kept[what]?.free();
    this.#taught.set(teacher, { ...kept, [what]: value });
    return value;
  }

  #teachUrl;
  #source = null; // the first model file: a taught model is exported after its backbone

  /** `teachUrl`: the teaching module's glue (pkg-teach/mobilenet_wasm.js), loaded when first needed. */
  constructor(glue, { teachUrl } = {}) {
    this.#glue = glue;
    this.#teachUrl = teachUrl;
  }

  /** Loads TFLite files (several are chained: extractor, then head) and returns the model's facts. */
  open(files, { float = false, labels } = {}) {
    let model;
    try {
      model = this.#glue.Model.fromTflite(files, float);
    } catch (e) {
      throw fromEngine(e, 'load');
    }
    try {
      if (labels !== undefined) applyLabels(model, labels);
    } catch (e) {
      model.free();
      throw e;
    }
    this.#model?.free();
    this.#model = model;
    this.#source = files[0];
    return this.info();
  }

  /** Replaces the labels (one per class, as text lines); returns the model's facts. */
  setLabels(labels) {
    applyLabels(this.#live(), labels);
    return this.info();
  }

  info() {
    const m = this.#live();
    return {
      resolution: Array.from(m.resolution),
      alpha: m.alpha,
      numClasses: m.numClasses,
      quantized: m.quantized,
      numberType: m.numberType,
      kernels: m.kernels,
      hasLabels: m.hasLabels,
    };
  }

  classify(pixels, channels, k) {
    return this.#run(() => this.#live().classifyPixels(pixels, channels, k));
  }

  probabilities(pixels, channels) {
    return this.#run(() => this.#live().runPixels(pixels, channels));
  }

  /** One run keeping the named end points: {probabilities, top (k best), endPoints: {name: {shape, data}}}. */
  keep(pixels, channels, names, k) {
    return this.#run(() => this.#live().runKeeping(pixels, channels, names, k));
  }

  /** The average-pool output; the engine scales the pixels as the model's input expects (float or quantized). */
  embedding(pixels, channels) {
    return this.#run(() => this.#live().embeddingPixels(pixels, channels));
  }

  /** Per-layer time beside each layer's MACs: [{name, op, macs, ms}]. */
  profile(pixels, channels) {
    const m = this.#live();
    const times = this.#run(() => m.profile(pixels, channels)); // ms per layer, in inspect().layers order
    return m.inspect().layers.map((l, i) => ({ name: l.name, op: l.op, macs: l.macs, ms: times[i] ?? null }));
  }

  inspect() {
    return this.#live().inspect();
  }

  /**
   * Trains a head on embeddings (rows: Float32Array of n·dim, labels: Uint32Array of n) and keeps it for
   * teachClassify and teachExport; `onProgress` gets {iterations, loss, accuracy} after each step.
   */
  async teachTrain(teacher, rows, dim, labels, classes, { iterations, l2, hidden, seed } = {}, onProgress) {
    const teach = await this.#teach();
    const head = this.#run(() => teach.TaughtHead.train(rows, dim, labels, classes, iterations, l2, hidden, seed, onProgress));
    return this.#keep(teacher, 'head', head).report;
  }

  /** Keeps the examples for nearest-neighbour classification (cosine). */
  async teachNeighbours(teacher, rows, dim, labels, classes) {
    const teach = await this.#teach();
    this.#keep(teacher, 'neighbours', this.#run(() => new teach.Neighbours(rows, dim, labels, classes)));
  }

  /** Class scores of pixels: the trained head's probabilities, or with `k` the neighbours' confidences. */
  teachClassify(teacher, pixels, channels, k) {
    const embedding = this.embedding(pixels, channels);
    const by = this.#taught.get(teacher)?.[k ? 'neighbours' : 'head'];
    if (!by) throw new MobileNetError(k ? 'no examples to compare with' : 'no trained head: call train() first');
    return this.#run(() => (k ? by.confidences(embedding, k) : by.probabilities(embedding)));
  }

  /** The trained head after this model's backbone as .tflite bytes (labels: one per class). */
  async teachExport(teacher, rows, labels) {
    const head = this.#taught.get(teacher)?.head;
    if (!head) throw new MobileNetError('no trained head: call train() first');
    const teach = await this.#teach();
    return this.#run(() => teach.exportTaught(this.#source, head, rows, labels));
  }

  /** The teaching module's glue (loaded on first use). */
  #teach() {
    if (!this.#teachUrl) return Promise.reject(new ModelLoadError('no teaching module URL'));
    return loadLessons(this.#teachUrl);
  }

  /** Frees what a teacher kept. */
  teachForget(teacher) {
    for (const kept of Object.values(this.#taught.get(teacher) ?? {})) kept.free();
    this.#taught.delete(teacher);
  }

  dispose() {
    for (const teacher of [...this.#taught.keys()]) this.teachForget(teacher);
    this.#model?.free();
    this.#model = null;
  }

  #live() {
    if (!this.#model) throw new MobileNetError('this model was disposed');
    return this.#model;
  }

  #run(call) {
    try {
      return call();
    } catch (e) {
      throw fromEngine(e, 'run');
    }
  }
}

function applyLabels(model, labels) {
  try {
    model.setLabels(labels);
  } catch (e) {
    throw new ModelLoadError(`bad labels: ${e.message}`, { cause: e, kind: kindOf(e) });
  }
}
