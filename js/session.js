// One loaded network and the calls the wrapper makes on it. The same code runs on the page's thread
// or inside js/worker.js, so it only ever receives model-sized pixels and returns cloneable data.
import { fromEngine, ModelLoadError, UnsupportedError } from './errors.js';

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
      kernels: m.kernels,
      hasLabels: m.hasLabels,
      // Optional engine methods, detected rather than assumed: builds differ in what they expose.
      canProfile: typeof m.profile === 'function',
    };
  }

  classify(pixels, channels, k) {
    return this.#run(() => this.#live().classifyPixels(pixels, channels, k));
  }

  probabilities(pixels, channels) {
    return this.#run(() => this.#live().runPixels(pixels, channels));
  }

  embedding(pixels, channels) {
    const m = this.#live();
    if (typeof m.embeddingPixels === 'function') return this.#run(() => m.embeddingPixels(pixels, channels));
    if (m.quantized) {
      throw new UnsupportedError(
        'embeddings of quantized models need an engine build with Model.embeddingPixels, which this one lacks; ' +
          'load the model with {float: true} to get them');
    }
    // Float models stop at the average pool; their input is TF's [-1, 1] scaling of the pixels.
    return this.#run(() => m.runTo(minusOneToOne(pixels, channels), 'AvgPool_1a'));
  }

  /** Per-layer time beside each layer's MACs: [{name, op, macs, ms}]. */
  profile(pixels, channels) {
    const m = this.#live();
    if (typeof m.profile !== 'function') {
      throw new UnsupportedError('per-layer timing needs an engine build with Model.profile, which this one lacks');
    }
    const times = this.#run(() => m.profile(pixels, channels));
    return withMacs(m.inspect().layers, times);
  }

  inspect() {
    return this.#live().inspect();
  }

  dispose() {
    this.#model?.free();
    this.#model = null;
  }

  #live() {
    if (!this.#model) throw new UnsupportedError('this model was disposed');
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
    throw new ModelLoadError(`bad labels: ${e.message}`, { cause: e });
  }
}

function minusOneToOne(pixels, channels) {
  const n = pixels.length / channels;
  const out = new Float32Array(n * 3);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) out[i * 3 + c] = pixels[i * channels + c] / 127.5 - 1;
  }
  return out;
}

// The engine reports times either as numbers in layer order or as {name, ms} records (alone or under
// `layers`); both are matched to the inspector's layers so each time sits beside its MACs.
function withMacs(layers, times) {
  const list = Array.from(times?.layers ?? times);
  const msOf = (layer, i) => {
    const t = typeof list[0] === 'number' ? list[i] : list.find((r) => r.name === layer.name)?.ms;
    return typeof t === 'number' ? t : null;
  };
  return layers.map((l, i) => ({ name: l.name, op: l.op, macs: l.macs, ms: msOf(l, i) }));
}
