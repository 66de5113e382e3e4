import type { LoadOptions } from './index.js';

/** Flat numbers in TF's order (NHWC input, HWIO filters), each tensor with its shape. */
export interface SeparableExampleOptions {
  /** The input's values, [h, w, c] (batch 1) in NHWC order. */
  input: ArrayLike<number>;
  /** [h, w, c]: 1 to 64 each, at most 4096 values. */
  inputShape: readonly [number, number, number] | readonly number[];
  /**
   * The filter's values, [kh, kw, c, m]: conv2d reads it as a standard filter with m output channels,
   * depthwise_conv2d as m filters per input channel (depth multiplier m).
   */
  filter: ArrayLike<number>;
  filterShape: readonly [number, number, number, number] | readonly number[];
  /** separable_conv2d's 1x1 filter, [1, 1, c·m, out]. Default: ones, out = c·m. */
  pointwise?: ArrayLike<number>;
  /** Default: [1, 1, c·m, pointwise.length / (c·m)]. */
  pointwiseShape?: readonly [number, number, number, number] | readonly number[];
  /** TF's padding rule, for all three ops. Default 'VALID'. */
  padding?: 'VALID' | 'SAME';
  /** The same stride on both axes, for all three ops (the pointwise step is always stride 1). Default 1. */
  stride?: number;
  /** Where a bundled app serves a copy of the package, as for load(): the teaching module is fetched from it. */
  packageUrl?: LoadOptions['packageUrl'];
}

/** An op's output: NHWC shape (batch 1) and the values in that order. */
export interface ExampleOutput {
  shape: [number, number, number, number];
  data: number[];
}

export interface SeparableExample {
  /** tf.nn.conv2d(input, filter): [1, oh, ow, m]. */
  conv2d: ExampleOutput;
  /** tf.nn.depthwise_conv2d(input, filter): [1, oh, ow, c·m]; input channel i, multiplier k → channel i·m + k. */
  depthwise: ExampleOutput;
  /** tf.nn.separable_conv2d(input, filter, pointwise): [1, oh, ow, out]. */
  separable: ExampleOutput;
  /** Multiply-adds of each op. */
  macs: {
    conv2d: number;
    depthwise: number;
    /** The separable op's 1x1 step; separable_conv2d costs depthwise + pointwise. */
    pointwise: number;
    /** A kh x kw conv2d with the separable op's `out` channels: what the separable pair replaces. */
    standard: number;
  };
}

/** The seed's worked example: 4x4x2 input, 3x3x2x2 filter, pointwise ones, VALID, stride 1. */
export const SEED_EXAMPLE: Readonly<{
  input: readonly number[];
  inputShape: readonly [4, 4, 2];
  filter: readonly number[];
  filterShape: readonly [3, 3, 2, 2];
  pointwise: readonly number[];
  pointwiseShape: readonly [1, 1, 4, 4];
  padding: 'VALID';
  stride: 1;
}>;

/**
 * conv2d, depthwise_conv2d and separable_conv2d of one input and filter, by the engine's reference ops
 * (run on this thread by the single-thread engine). InputError for a wrong size, a NaN or infinity, or more
 * than 64 per dimension or 4096 values in a tensor; ModelLoadError when the engine cannot start.
 */
export function separableExample(options: SeparableExampleOptions): Promise<SeparableExample>;

/** Nested arrays of an op's output, as tf.nn's tensors print: [[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]. */
export function nestedArray(output: { shape: ArrayLike<number>; data: ArrayLike<number> }): unknown[];
