// One loaded network and the calls the wrapper makes on it. The same code runs on the page's thread
// or inside js/worker.js, so it only ever receives model-sized pixels and returns cloneable data.
import { fromEngine, kindOf, MobileNetError, ModelLoadError } from './errors.js';

export class Session {
  #glue;
  #model = null;

  constructor(glue) {
    this.#glue = glue;
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

  dispose() {
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
