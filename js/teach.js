// Teaching a loaded model new classes: examples are kept as embeddings (the average-pool output), a head is
// trained on them in the engine (softmax regression, optionally one hidden layer), and the result is
// exported as a standalone .tflite — the backbone of the loaded file, then the taught head, labels inside.
import { InputError, MobileNetError } from './errors.js';

/** Names the JSON that save() writes, so load() can tell it has one. */
export const SAVE_FORMAT = 'mobilenet-wasm teach v1';

const checkLabel = (label) => {
  if (typeof label !== 'string' || label === '' || /[\r\n]/.test(label)) {
    throw new InputError(`a class label must be a non-empty one-line string, got ${JSON.stringify(label)}`);
  }
  return label;
};

const base64 = (floats) => {
  const bytes = new Uint8Array(floats.buffer, floats.byteOffset, floats.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

const fromBase64 = (text, dim) => {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  if (bytes.length !== dim * 4) throw new InputError(`a saved example holds ${bytes.length / 4} floats, not ${dim}`);
  return new Float32Array(bytes.buffer);
};

/**
 * Made by `model.teach(options)`; `model` gives {embedding(input), classifyTaught(input, k), call(op, ...),
 * callWithProgress(op, fn, ...), facts: {alpha, resolution, numberType}}, its engine calls already naming
 * this teacher. Options: classes (labels to start with), iterations, l2, hidden,
 * seed (training), k (neighbours).
 */
export class Teacher {
  #model;
  #options;
  #classes = new Map(); // label → Float32Array[] of embeddings, in the order classes were added
  #dim = 0;
  #trained = null; // {labels, version} of the head the engine holds
  #neighbours = null; // the same for the neighbours
  #version = 0; // bumped by every change to the examples

  constructor(model, { classes = [], iterations, l2, hidden, seed, k = 3 } = {}) {
    if (!Array.isArray(classes)) throw new InputError('classes must be an array of labels');
    if (!Number.isInteger(k) || k < 1) throw new InputError(`k must be a positive integer, got ${k}`);
    this.#model = model;
    this.#options = { iterations, l2, hidden, seed, k };
    for (const label of classes) this.addClass(label);
  }

  /** [{label, examples}] in the order the classes were added. */
  get classes() {
    return [...this.#classes].map(([label, list]) => ({ label, examples: list.length }));
  }

  /** Whether a head has been trained on the examples as they are now. */
  get trained() {
    return this.#trained?.version === this.#version;
  }

  addClass(label) {
    if (!this.#classes.has(checkLabel(label))) this.#classes.set(label, []);
    this.#changed();
  }

  /** Renames a class, keeping its examples and its place. */
  renameClass(label, to) {
    if (!this.#classes.has(label)) throw new InputError(`no class ${JSON.stringify(label)}`);
    if (label === to) return;
    if (this.#classes.has(checkLabel(to))) throw new InputError(`there is already a class ${JSON.stringify(to)}`);
    this.#classes = new Map([...this.#classes].map(([l, list]) => [l === label ? to : l, list]));
    this.#changed();
  }

  removeClass(label) {
    if (!this.#classes.delete(label)) throw new InputError(`no class ${JSON.stringify(label)}`);
    this.#changed();
  }

  /** Adds one example of `label` (a new label adds a class): any input classify() takes. Returns its count. */
  async addExample(input, label) {
    checkLabel(label);
    const embedding = await this.#model.embedding(input);
    this.#dim = embedding.length;
    if (!this.#classes.has(label)) this.#classes.set(label, []);
    this.#classes.get(label).push(embedding);
    this.#changed();
    return this.#classes.get(label).length;
  }

  /** Trains the head on every example: {iterations, loss, accuracy}; onProgress gets the same after each step. */
  async train({ onProgress } = {}) {
    const { rows, labels, names } = this.#examples();
    const { iterations, l2, hidden, seed } = this.#options;
    const version = this.#version;
    const report = await this.#model.callWithProgress('teachTrain', typeof onProgress === 'function' ? onProgress : undefined,
      rows, this.#dim, labels, names.length, { iterations, l2, hidden, seed });
    this.#trained = { labels: names, version };
    return report;
  }

  /**
   * The topk classes of `input`: [{className, probability, index}], best first. By the trained head; or, with
   * {method: 'knn'} or before any training, by the k nearest examples (cosine), like knn-classifier.
   */
  async classify(input, topk = 3, { method } = {}) {
    if (!Number.isInteger(topk) || topk < 1) throw new InputError(`topk must be a positive integer, got ${topk}`);
    const knn = method === 'knn' || (method === undefined && !this.trained);
    if (method !== undefined && method !== 'knn' && method !== 'head') {
      throw new InputError(`method must be 'head' or 'knn', got ${JSON.stringify(method)}`);
    }
    if (!knn && !this.trained) throw new MobileNetError('the examples changed since training: call train() again');
    const names = knn ? await this.#syncNeighbours() : this.#trained.labels;
    const scores = await this.#model.classifyTaught(input, knn ? this.#options.k : 0);
    return [...scores]
      .map((probability, index) => ({ className: names[index], probability, index }))
      .sort((a, b) => b.probability - a.probability || a.index - b.index)
      .slice(0, topk);
  }

  /** The taught model as .tflite bytes: load({modelBytes}) runs it, with its labels. */
  async toTflite() {
    if (!this.trained) throw new MobileNetError('train() first: the file holds the trained head');
    const { rows } = this.#examples();
    return this.#model.call('teachExport', rows, this.#trained.labels);
  }

  /** The examples as a small JSON-ready object (embeddings in base64 float32), to resume with load(). */
  save() {
    const { alpha, resolution, numberType } = this.#model.facts;
    return {
      format: SAVE_FORMAT,
      model: { alpha, resolution, numberType, dim: this.#dim },
      classes: [...this.#classes].map(([label, list]) => ({ label, examples: list.map(base64) })),
    };
  }

  /** Replaces the examples with those of save() (an object or its JSON text), made on the same model. */
  load(saved) {
    const data = typeof saved === 'string' ? JSON.parse(saved) : saved;
    if (data?.format !== SAVE_FORMAT) throw new InputError(`not a saved teach state (format ${JSON.stringify(data?.format)})`);
    const { alpha, resolution, numberType } = this.#model.facts;
    const m = data.model ?? {};
    if (m.alpha !== alpha || `${m.resolution}` !== `${resolution}` || m.numberType !== numberType) {
      throw new InputError(`saved on another model (alpha ${m.alpha}, resolution ${m.resolution}, ${m.numberType})`);
    }
    const classes = new Map();
    for (const { label, examples } of data.classes ?? []) {
      classes.set(checkLabel(label), (examples ?? []).map((e) => fromBase64(e, m.dim)));
    }
    this.#classes = classes;
    this.#dim = m.dim;
    this.#changed();
  }

  #changed() {
    this.#version += 1;
  }

  /** Every example as rows and class indices, after checking each class has one. */
  #examples() {
    const names = [...this.#classes.keys()];
    if (names.length < 2) throw new InputError(`teaching needs at least 2 classes, got ${names.length}`);
    const empty = names.find((n) => this.#classes.get(n).length === 0);
    if (empty !== undefined) throw new InputError(`class ${JSON.stringify(empty)} has no examples`);
    const all = names.flatMap((n, c) => this.#classes.get(n).map((e) => [e, c]));
    const rows = new Float32Array(all.length * this.#dim);
    all.forEach(([e], i) => rows.set(e, i * this.#dim));
    return { rows, labels: Uint32Array.from(all, ([, c]) => c), names };
  }

  async #syncNeighbours() {
    if (this.#neighbours?.version !== this.#version) {
      const { rows, labels, names } = this.#examples();
      await this.#model.call('teachNeighbours', rows, this.#dim, labels, names.length);
      this.#neighbours = { labels: names, version: this.#version };
    }
    return this.#neighbours.labels;
  }
}
