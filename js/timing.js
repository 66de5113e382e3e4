// Latency measured on this device: a whole MobileNet v1 configuration with seeded weights (timed here,
// around the calls the classifier makes), and one separable block against the standard 3x3 convolution
// of the same shape (timed in wasm, layer by layer). Both run on the calling thread (the single-thread
// build, as loadInspector() starts it) on the engine's fastest kernels, with performance.now(). Weights
// are seeded: no kernel's time depends on their values.
//
//   const { medianMs } = await timeConfiguration({ alpha: 0.5, resolution: 160 });
//   const block = await timeSeparable({ alpha: 1, resolution: 224, block: 7 });
//   block.standardMedianMs / block.separableMedianMs;   // against block.macsStandard / block.macsSeparable
import { startGlue } from './engine.js';
import { InputError, kindOf } from './errors.js';

/** The median of a list of numbers (the mean of the middle two for an even count). */
function median(values) {
  const sorted = Float64Array.from(values).sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const count = (name, value, min) => {
  if (!Number.isInteger(value) || value < min || value > 1000) {
    throw new InputError(`${name} must be an integer from ${min} to 1000, got ${value}`, { kind: 'config' });
  }
  return value;
};

// Runs an engine call, turning its typed errors (a configuration or block out of range) into InputErrors.
function engineCall(run) {
  try {
    return run();
  } catch (e) {
    throw new InputError(e.message, { cause: e, kind: kindOf(e) });
  }
}

// The weights' seed, and a ramp of bytes as the frame: neither changes how long a kernel takes.
const SEED = 15;
const now = () => performance.now();

/**
 * Times the float network of α `alpha` at `resolution` (1001 classes, seeded weights) as the classifier
 * runs it on a frame (`Model.runPixels`: RGB bytes in, probabilities out): built once, run `warmup` times
 * untimed, then `runs` times. Resolves to {alpha, resolution, kernels, times (ms per run), medianMs}. The
 * network is freed before this resolves. InputError for an out-of-range argument.
 */
export async function timeConfiguration({ alpha = 1, resolution = 224, runs = 5, warmup = 1, wasm } = {}) {
  count('runs', runs, 1);
  count('warmup', warmup, 0);
  const { glue } = await startGlue(wasm);
  const model = engineCall(() => glue.Model.seeded(alpha, resolution, SEED, 1001));
  try {
    const [height, width] = model.resolution;
    const pixels = new Uint8Array(height * width * 3).map((_, i) => (i * 7) & 255);
    const times = [];
    for (let run = 0; run < warmup + runs; run += 1) {
      const start = now();
      model.runPixels(pixels, 3);
      const ms = now() - start;
      if (run >= warmup) times.push(ms);
    }
    return { alpha, resolution, kernels: model.kernels, times, medianMs: median(times) };
  } finally {
    model.free();
  }
}

/**
 * Times separable block `block` (1..13, Conv2d_1 … Conv2d_13) of α `alpha` at `resolution`: its depthwise
 * 3x3 and pointwise 1x1 against a standard 3x3 conv from the same input to the same output (same stride),
 * all three on the engine's fastest kernels with seeded weights, in turn, `warmup` untimed rounds then
 * `runs` timed ones. Resolves to {alpha, resolution, block (its name), input, output ([h, w, c]), stride,
 * kernels, runs, standardMs, depthwiseMs, pointwiseMs, separableMs (per run), their medians
 * (standardMedianMs, …), measuredRatio (separable / standard median time), macsStandard, macsDepthwise,
 * macsPointwise, macsSeparable (the inspector's counts), macRatio (separable / standard MACs) and
 * predictedRatio (1/N + 1/9)}. InputError for an out-of-range argument.
 */
export async function timeSeparable({ alpha = 1, resolution = 224, block = 1, runs = 5, warmup = 1, wasm } = {}) {
  count('runs', runs, 1);
  count('warmup', warmup, 0);
  if (!Number.isInteger(block)) throw new InputError(`block must be an integer from 1 to 13, got ${block}`, { kind: 'config' });
  const { glue } = await startGlue(wasm);
  const flat = Array.from(engineCall(() => glue.timeSeparable(alpha, resolution, block, runs, warmup)));
  const report = glue.inspect(alpha, resolution, 1001, 32, resolution);
  const row = report.separable[block - 1];
  const [dw, pw] = ['depthwise', 'pointwise'].map((op) => report.layers.find((l) => l.name === `${row.block}_${op}`));
  const [standardMs, depthwiseMs, pointwiseMs] = [0, 1, 2].map((i) => flat.slice(i * runs, (i + 1) * runs));
  const separableMs = depthwiseMs.map((d, i) => d + pointwiseMs[i]);
  const medians = {
    standardMedianMs: median(standardMs),
    depthwiseMedianMs: median(depthwiseMs),
    pointwiseMedianMs: median(pointwiseMs),
    separableMedianMs: median(separableMs),
  };
  return {
    alpha, resolution, block: row.block, input: dw.input, output: pw.output, stride: dw.stride,
    kernels: glue.kernelName(), runs, standardMs, depthwiseMs, pointwiseMs, separableMs, ...medians,
    measuredRatio: medians.separableMedianMs / medians.standardMedianMs,
    macsStandard: row.standard.macs, macsDepthwise: dw.macs, macsPointwise: pw.macs, macsSeparable: row.separable.macs,
    macRatio: row.ratio, predictedRatio: row.predicted_ratio,
  };
}
