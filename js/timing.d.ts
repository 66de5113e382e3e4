// Types for js/timing.js: latency measured on this device.

/** Where the single-thread .wasm is, as for load() (undefined: the package's own). */
type WasmSource = string | URL | Response | BufferSource | WebAssembly.Module;

export interface ConfigurationTiming {
  alpha: number;
  resolution: number;
  /** The kernel family that ran, e.g. "relaxed-simd128" or "simd128". */
  kernels: string;
  /** Each timed run of the whole network, in ms. */
  times: number[];
  medianMs: number;
}

/**
 * Times MobileNet v1 at α `alpha` and `resolution` (1001 classes, seeded weights; no kernel's time depends
 * on the weights' values) on the calling thread: built once, run `warmup` times (default 1) untimed, then
 * `runs` times (default 5), then freed. InputError (kind 'config') for an argument out of range.
 */
export function timeConfiguration(options?: {
  alpha?: number;
  resolution?: number;
  runs?: number;
  warmup?: number;
  wasm?: WasmSource;
}): Promise<ConfigurationTiming>;

export interface SeparableTiming {
  alpha: number;
  resolution: number;
  /** The block's name, "Conv2d_1" … "Conv2d_13". */
  block: string;
  /** [height, width, channels] of the block's input and output. */
  input: [number, number, number];
  output: [number, number, number];
  /** The depthwise's stride, which the standard conv takes too. */
  stride: number;
  /** The kernel family all three layers ran on. */
  kernels: string;
  runs: number;
  /** Per timed run, in ms: the standard 3x3 conv, the depthwise, the pointwise, depthwise + pointwise. */
  standardMs: number[];
  depthwiseMs: number[];
  pointwiseMs: number[];
  separableMs: number[];
  standardMedianMs: number;
  depthwiseMedianMs: number;
  pointwiseMedianMs: number;
  separableMedianMs: number;
  /** separableMedianMs / standardMedianMs. */
  measuredRatio: number;
  macsStandard: number;
  macsDepthwise: number;
  macsPointwise: number;
  macsSeparable: number;
  /** macsSeparable / macsStandard. */
  macRatio: number;
  /** 1/N + 1/9, N the output channels. */
  predictedRatio: number;
}

/**
 * Times separable block `block` (1..13) of α `alpha` at `resolution` against the standard 3x3 conv of the
 * same input, output and stride: all three layers on the engine's fastest kernels, seeded weights, `runs`
 * (default 5) timed runs after `warmup` (default 1), interleaved. InputError for an argument out of range.
 */
export function timeSeparable(options?: {
  alpha?: number;
  resolution?: number;
  block?: number;
  runs?: number;
  warmup?: number;
  wasm?: WasmSource;
}): Promise<SeparableTiming>;
