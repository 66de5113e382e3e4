// The worked example of depthwise separable convolution: conv2d, depthwise_conv2d and separable_conv2d of
// small tensors, computed by the engine's reference ops (the scalar loops every fast kernel is tested
// against), as tf.nn computes them.
//
//   import { separableExample, SEED_EXAMPLE } from 'mobilenet-wasm';
//   const r = await separableExample(SEED_EXAMPLE);
//   r.conv2d.shape;      // [1, 2, 2, 2]
//   r.depthwise.shape;   // [1, 2, 2, 4]: input channel c, multiplier m → output channel c·2 + m
import { InputError, kindOf } from './errors.js';
import { lessonsUrl } from './engine.js';
import { loadLessons } from './lessons.js';

/**
 * The seed's worked example: input (1,4,4,2), channel 0 = column + 1 and channel 1 = 1 everywhere;
 * filter (3,3,2,2) with [:,:,0,0] = 0, [:,:,1,0] = 1, [:,:,0,1] = 2, [:,:,1,1] = 3; pointwise filter of ones
 * (1,1,4,4); VALID, stride 1. Flat arrays in TF's order (NHWC input, HWIO filters). Written out, not
 * computed, so bundlers drop it from apps that do not use it.
 */
export const SEED_EXAMPLE = /* @__PURE__ */ Object.freeze({
  input: /* @__PURE__ */ Object.freeze([
    1, 1, 2, 1, 3, 1, 4, 1,
    1, 1, 2, 1, 3, 1, 4, 1,
    1, 1, 2, 1, 3, 1, 4, 1,
    1, 1, 2, 1, 3, 1, 4, 1,
  ]),
  inputShape: /* @__PURE__ */ Object.freeze([4, 4, 2]),
  filter: /* @__PURE__ */ Object.freeze([
    0, 2, 1, 3, 0, 2, 1, 3, 0, 2, 1, 3,
    0, 2, 1, 3, 0, 2, 1, 3, 0, 2, 1, 3,
    0, 2, 1, 3, 0, 2, 1, 3, 0, 2, 1, 3,
  ]),
  filterShape: /* @__PURE__ */ Object.freeze([3, 3, 2, 2]),
  pointwise: /* @__PURE__ */ Object.freeze([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]),
  pointwiseShape: /* @__PURE__ */ Object.freeze([1, 1, 4, 4]),
  padding: 'VALID',
  stride: 1,
});

function values(name, data) {
  // An array, a typed array or any other array-like object.
  if (typeof data !== 'object' || data === null || !Number.isInteger(data.length)) {
    throw new InputError(`${name} must be an array of numbers, got ${data === null ? 'null' : typeof data}`);
  }
  const i = Array.prototype.findIndex.call(data, (v) => typeof v !== 'number');
  if (i >= 0) throw new InputError(`${name}[${i}] must be a number, got ${typeof data[i]}`);
  return Float32Array.from(data); // NaN and infinities (also too large for float32) are the engine's to report
}

function sizes(name, shape, rank) {
  if (!Array.isArray(shape) || shape.length !== rank || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new InputError(`${name} must be ${rank} whole numbers ≥ 1, got ${JSON.stringify(shape) ?? typeof shape}`);
  }
  return Uint32Array.from(shape, (d) => Math.min(d, 0xffffffff));
}

/**
 * conv2d, depthwise_conv2d and separable_conv2d of one input ([h, w, c], batch 1) and one filter
 * ([kh, kw, c, m]: conv2d's filter with m outputs, depthwise_conv2d's with multiplier m), separable_conv2d's
 * pointwise filter [1, 1, c·m, out] (default: ones, out = c·m), one padding ('VALID' or 'SAME') and stride
 * → {conv2d, depthwise, separable: {shape, data}, macs: {conv2d, depthwise, pointwise, standard}}.
 * InputError for a wrong size, a NaN or infinity, or more than 64 per dimension or 4096 values a tensor.
 * It runs the reference ops of the teaching module (pkg-teach/, fetched on the first call) on this thread;
 * `packageUrl` as for load(), for bundled apps.
 */
export async function separableExample(options = {}) {
  const { input, inputShape, filter, filterShape, padding = 'VALID', stride = 1, packageUrl } = options;
  const inShape = sizes('inputShape', inputShape, 3);
  const fShape = sizes('filterShape', filterShape, 4);
  const mid = fShape[2] * fShape[3];
  const pointwise = options.pointwise ?? new Array(mid * mid).fill(1);
  const outputs = Math.max(1, Math.floor(pointwise.length / mid)); // a wrong length is the engine's to report
  const pShape = sizes('pointwiseShape', options.pointwiseShape ?? [1, 1, mid, outputs], 4);
  if (!Number.isInteger(stride) || stride < 1) throw new InputError(`stride must be a whole number ≥ 1, got ${stride}`);
  const args = [values('input', input), inShape, values('filter', filter), fShape, values('pointwise', pointwise),
    pShape, padding, Math.min(stride, 0xffffffff)];
  const glue = await loadLessons(lessonsUrl(packageUrl));
  try {
    return glue.separableExample(...args);
  } catch (e) {
    throw new InputError(e.message, { cause: e, kind: kindOf(e) }); // sizes or values out of range
  }
}

/**
 * An op's output as nested arrays, as tf.nn's tensors print (`.numpy().tolist()`): {shape: [1, 2, 2, 2],
 * data: [9, 63, 9, 81, …]} → [[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]].
 */
export function nestedArray({ shape, data }) {
  let i = 0;
  const build = (axis) =>
    (axis === shape.length ? data[i++] : Array.from({ length: shape[axis] }, () => build(axis + 1)));
  return build(0);
}
