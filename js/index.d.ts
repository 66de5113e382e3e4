// Types for mobilenet-wasm's JavaScript API (js/index.js).

/** Anything classify() and infer() accept; raw bytes are RGB (3) or RGBA (4) per pixel, row-major. */
export type Input =
  | ImageData
  | HTMLImageElement
  | HTMLCanvasElement
  | HTMLVideoElement
  | OffscreenCanvas
  | ImageBitmap
  | VideoFrame
  | { data: Uint8Array | Uint8ClampedArray | ArrayBuffer; width: number; height: number };

export interface LoadOptions {
  /**
   * URL of a .tflite file, or several run one after the other (e.g. an embedding extractor, then its head).
   * In Node, file: URLs are read from disk.
   */
  modelUrl?: string | URL | Array<string | URL>;
  /** The model bytes instead of a URL; an array chains files like modelUrl. */
  modelBytes?: Uint8Array | ArrayBuffer | Array<Uint8Array | ArrayBuffer>;
  /** Class names, one per class (an array, or a labels file's text). Replaces labels stored in the file. */
  labels?: string[] | string;
  /** URL of a labels file (one name per line). */
  labelsUrl?: string | URL;
  /**
   * Threads for the threaded build: true = all cores, n = n. Used only when the page is cross-origin
   * isolated (COOP/COEP headers) and the package has the threaded build; otherwise one thread runs and
   * `model.build.note` says why. The threaded build always runs in a Web Worker (so never in Node).
   */
  threads?: boolean | number;
  /**
   * Run the single-thread build in a Web Worker, so inference never blocks the page. Default false. Where
   * there is no Web Worker (Node) it runs on the calling thread and `model.build.note` says so.
   */
  worker?: boolean;
  /** Run a quantized model in float32 with dequantized weights. Default false (exact integer arithmetic). */
  float?: boolean;
  /** Download progress in bytes; total is null when the server sends no Content-Length. */
  onProgress?: (progress: { loaded: number; total: number | null }) => void;
  /**
   * Where the single-thread .wasm is (URL, Response, bytes or a compiled module), for hosts that move it.
   * Given, it is what runs: the relaxed SIMD .wasm is then not tried.
   */
  wasm?: string | URL | Response | BufferSource | WebAssembly.Module;
  /**
   * Where the page serves a copy of this package (its js/, pkg/ and pkg-threads/ folders), e.g.
   * '/mobilenet-wasm/'. Needed by bundled apps for `threads` and `worker`: those load files by URL at run
   * time, which bundlers do not copy. Default: the package's own location (unbundled use).
   */
  packageUrl?: string | URL;
  /** Run once on a blank image after loading, so the first real call is not the slow one. Default true. */
  warmup?: boolean;
  /** Cancels the download. */
  signal?: AbortSignal;
}

export interface Classification {
  /** Readable class name, e.g. "Egyptian cat" ("class 123" when the model has no labels). */
  className: string;
  probability: number;
  /** Class index in the model's output (1001-class ImageNet models: 0 is "background"). */
  index: number;
}

export interface Build {
  /** 'simd': the single-thread WebAssembly SIMD build; 'threads': the threaded build. */
  name: 'simd' | 'threads';
  threads: number;
  /** Whether the engine runs in a Web Worker. */
  worker: boolean;
  /**
   * Whether classify() and infer() reach the worker through shared memory (a cross-origin isolated page
   * with SharedArrayBuffer and Atomics.waitAsync) rather than a message and its reply, ~0.2 ms per call.
   */
  sharedMemory: boolean;
  /**
   * Whether the relaxed SIMD .wasm runs (mobilenet_wasm_relaxed_bg.wasm: multiply-adds fused where the
   * CPU has FMA; results within rounding of the plain build). Chosen when the browser validates relaxed
   * SIMD and `wasm` was not given; the plain .wasm runs otherwise, or if the relaxed one fails to load.
   */
  relaxedSimd: boolean;
  /**
   * Why fewer threads run than were asked for, or why the relaxed SIMD build failed to load ('' when
   * nothing went differently from what was asked).
   */
  note: string;
  /**
   * What this engine can do, detected on the thread that called load() (the build follows from them):
   * WebAssembly SIMD and relaxed SIMD, cross-origin isolation and SharedArrayBuffer (threads),
   * Atomics.waitAsync (the shared-memory channel to a worker), Web Workers, OffscreenCanvas, VideoFrame,
   * and HTMLVideoElement.requestVideoFrameCallback.
   */
  capabilities: Capabilities;
}

export interface Capabilities {
  simd: boolean;
  relaxedSimd: boolean;
  crossOriginIsolated: boolean;
  sharedArrayBuffer: boolean;
  atomicsWaitAsync: boolean;
  webWorkers: boolean;
  offscreenCanvas: boolean;
  videoFrame: boolean;
  requestVideoFrameCallback: boolean;
}

export interface Layer {
  name: string;
  /** `dense`: a fully connected layer of the head between the pool and the logits (`Dense_1`, …). */
  op: 'conv' | 'depthwise' | 'pointwise' | 'avg_pool' | 'dense' | 'logits';
  kernel: [number, number];
  stride: number;
  rate: number;
  input: [number, number, number];
  output: [number, number, number];
  /** The fused activation: `relu6` after every conv (with batch norm folded), `none` on the pool and
   * MobileNet's logits; a head's Dense layers carry their own. */
  activation: 'none' | 'relu' | 'relu6' | 'relu_n1_to_1';
  /** The separable block (1–13) a depthwise or pointwise layer belongs to; absent for the others. */
  block?: number;
  params: number;
  macs: number;
}

export interface Report {
  config: {
    alpha: number;
    resolution: [number, number];
    min_depth: number;
    output_stride: number;
    num_classes: number;
    /** Fully connected layers between the pool and the logits (absent for MobileNet's own head). */
    hidden?: { units: number; activation: Layer['activation'] }[];
    logits_activation: Layer['activation'];
    /** Whether the network ends in a softmax (else its output is the logits). */
    softmax: boolean;
  };
  /** How MACs and params are counted. */
  convention: string;
  layers: Layer[];
  totals: { params: number; macs: number };
  shares: Array<{ op: Layer['op']; macs: number; params: number; macs_percent: number; params_percent: number }>;
  separable: Array<{
    block: string;
    in_channels: number;
    out_channels: number;
    separable: { macs: number; params: number };
    standard: { macs: number; params: number };
    ratio: number;
    predicted_ratio: number | null;
  }>;
}

export interface InspectOptions {
  alpha?: number;
  /** Square side, or [height, width]. */
  resolution?: number | [number, number];
  /** 1001 (TF checkpoints, the default) or 1000 (the paper's count), or any other. */
  classes?: number;
  outputStride?: 8 | 16 | 32;
  wasm?: LoadOptions['wasm'];
}

export interface LayerTime {
  name: string;
  op: Layer['op'];
  macs: number;
  /** Milliseconds, or null when the engine did not time this layer. */
  ms: number | null;
}

export interface MobileNet {
  /** [height, width] of the model input. */
  readonly resolution: [number, number];
  readonly alpha: number;
  readonly numClasses: number;
  readonly quantized: boolean;
  /** What the layers compute in: "int8" for full-integer models (also behind uint8 edges). */
  readonly numberType: 'float32' | 'uint8' | 'int8';
  readonly hasLabels: boolean;
  /**
   * Kernel family that runs: "simd128-u8" (quantized models), "simd128" (float), "relaxed-simd128" (float
   * on the relaxed SIMD build).
   */
  readonly kernels: string;
  readonly build: Build;
  /** Whether profile() works: true in every build (kept for code written when some builds could not time layers). */
  readonly canProfile: boolean;
  /** The topk most likely classes, best first (topk defaults to 3). */
  classify(input: Input, topk?: number): Promise<Classification[]>;
  /** The same, with the named end points' outputs from the same run (feature maps beside the classes). */
  classify(input: Input, topk: number, options: { endPoints: string[] }): Promise<Classification[] & { endPoints: EndPoints }>;
  /**
   * Class probabilities; with {embedding: true} the average-pool output (`AvgPool_1a`: one value per channel
   * of the last layer, max(⌊1024·α⌋, 8): 256 for α 0.25), dequantized for quantized models. The engine
   * scales the pixels as the model's input expects, float or quantized.
   */
  infer(input: Input, options?: { embedding?: boolean }): Promise<Float32Array>;
  /**
   * The named layers' outputs from one run (TF-slim end point names: inspect().layers[i].name), as real values
   * (dequantized for quantized models). InputError for anything but a non-empty array of strings; an unknown
   * name rejects with kind 'unknown_end_point'.
   */
  infer(input: Input, options: { endPoints: string[] }): Promise<EndPoints>;
  /** This model's per-layer report, or with options that of any configuration. */
  inspect(options?: InspectOptions): Promise<Report>;
  /** Runs once and times each layer, in inspect().layers order. */
  profile(input: Input): Promise<LayerTime[]>;
  /** Replaces the class names (an array, or a labels file's text). */
  setLabels(labels: string[] | string): Promise<void>;
  /** Teaches new classes on this model's embeddings (transfer learning); see Teacher. */
  teach(options?: TeachOptions): Teacher;
  /** Frees the model (and its worker). Calls afterwards reject. */
  dispose(): void;
}

/** A layer's output: shape [height, width, channels], data NHWC. */
export interface EndPoint {
  shape: [number, number, number];
  data: Float32Array;
}
export type EndPoints = Record<string, EndPoint>;

export interface TeachOptions {
  /** Class labels to start with (each one line); addExample adds any new label as a class. */
  classes?: string[];
  /** Most L-BFGS steps of train() (default 200). */
  iterations?: number;
  /** L2 penalty on the head's weights (default 1e-3). */
  l2?: number;
  /** Units of one ReLU hidden layer under the softmax (default: none, plain softmax regression). */
  hidden?: number;
  /** Seeds the hidden layer's initial weights (default 1): the same examples and seed give the same head. */
  seed?: number;
  /** Neighbours that vote in nearest-neighbour classification (default 3). */
  k?: number;
}

export interface TrainReport {
  iterations: number;
  /** Class-balanced mean cross-entropy plus the L2 penalty. */
  loss: number;
  /** Share of the training examples the head classifies right, 0..1. */
  accuracy: number;
}

export interface TeachState {
  format: 'mobilenet-wasm teach v1';
  model: { alpha: number; resolution: [number, number]; numberType: string; dim: number };
  /** Each example is an embedding: base64 of little-endian float32. */
  classes: { label: string; examples: string[] }[];
}

/** Examples of your own classes, a head trained on them, and the taught model as a .tflite. */
export interface Teacher {
  /** The classes in the order they were added, with their example counts. */
  readonly classes: { label: string; examples: number }[];
  /** Whether train() has run on the examples as they are now. */
  readonly trained: boolean;
  addClass(label: string): void;
  /** Renames a class, keeping its examples and place (InputError if `to` is taken or not one line). */
  renameClass(label: string, to: string): void;
  /** InputError for a label that is not a class. */
  removeClass(label: string): void;
  /** Adds one example of `label` (any Input); resolves to the class's example count. */
  addExample(input: Input, label: string): Promise<number>;
  /**
   * Trains the head on every example (at least 2 classes, each with an example; InputError otherwise),
   * class-balanced, deterministic. onProgress gets the report after each step.
   */
  train(options?: { onProgress?: (progress: TrainReport) => void }): Promise<TrainReport>;
  /**
   * The topk classes of `input`, best first: by the trained head, or by the k nearest examples (cosine
   * similarity; the default before training, or with method 'knn').
   */
  classify(input: Input, topk?: number, options?: { method?: 'head' | 'knn' }): Promise<Classification[]>;
  /**
   * A standalone .tflite: the loaded model's backbone (its first file, up to the average pool), then the
   * trained head and a softmax in the model's own number type, labels inside. load({modelBytes}) runs it,
   * and so does TFLite's own interpreter.
   */
  toTflite(): Promise<Uint8Array>;
  /** The examples as JSON-ready data, for load() later. */
  save(): TeachState;
  /** Replaces the examples with saved ones (object or JSON text) made on the same model. */
  load(saved: TeachState | string): void;
}

export function load(options: LoadOptions): Promise<MobileNet>;
/** Per-layer report of any configuration, without a model. InputError for a configuration out of range. */
export function inspect(options?: InspectOptions): Promise<Report>;

/** The inspector without a model, synchronous: for a page that redraws on every input event. */
export interface Inspector {
  /** Per-layer report of a configuration (its `wasm` is ignored); throws InputError when it is out of range. */
  inspect(options?: Omit<InspectOptions, 'wasm'>): Report;
}
/**
 * Starts the single-thread engine on this thread (once: inspect() and models loaded without a worker share
 * it) and returns an Inspector whose inspect() answers synchronously. ModelLoadError when the engine cannot
 * start.
 */
export function loadInspector(options?: { wasm?: LoadOptions['wasm'] }): Promise<Inspector>;

/** The engine's error kinds (its message then starts with "kind: "). */
export type EngineErrorKind =
  | 'config'
  | 'shape'
  | 'non_finite'
  | 'unknown_end_point'
  | 'malformed_model'
  | 'unsupported_model'
  | 'teach';

/** Base class of every error this package throws. */
export class MobileNetError extends Error {
  constructor(message?: string, options?: { cause?: unknown; kind?: EngineErrorKind | null });
  /**
   * The engine's error kind when the engine raised the error (e.g. 'malformed_model' for a corrupt file,
   * 'config' for a configuration out of range); null when the wrapper did (fetch, input type, disposed model).
   */
  readonly kind: EngineErrorKind | null;
}
/** The model (or labels, or the engine) could not be fetched, parsed or started. */
export class ModelLoadError extends MobileNetError {}
/** The input cannot be classified: wrong type, size, not loaded yet. The model stays usable. */
export class InputError extends MobileNetError {}
/**
 * This engine build lacks the capability asked for. Every current build has all of this API (profile and
 * embeddings included), so nothing throws it today; it stays for code that catches it.
 */
export class UnsupportedError extends MobileNetError {}

export * from './worked.js';
export * from './timing.js';
