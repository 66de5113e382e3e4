// `npm run bench -- --quant`, in the bench page: the integer path on one thread, the official 0.25/128
// model and the 1.0/224 extractor + head chain, each kernel family on the same loaded model: run times,
// whether the output equals TFLite's reference byte for byte, and per-layer times summed by layer type.
import init, { Model } from '/pkg/mobilenet_wasm.js';

const MODELS = [
  { name: '0.25/128', files: ['mobilenet_v1_0.25_128_quant.tflite'], input: 'cat_128.rgb',
    reference: 'mobilenet_v1_0.25_128_quant_cat.u8' },
  { name: '1.0/224', files: ['mobilenet_v1_1.0_224_quant_embedding_extractor.tflite',
    'mobilenet_v1_1.0_224_quant_head.tflite'], input: 'cat_224.rgb', reference: 'mobilenet_v1_1.0_224_quant_cat.u8' },
];

async function bytes(path) {
  const r = await fetch(path);
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}
const quantile = (xs, q) => [...xs].sort((a, b) => a - b)[Math.round((xs.length - 1) * q)];

function timeRuns(model, input, { runs, warmup }) {
  for (let i = 0; i < warmup; i++) model.runRaw(input);
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    model.runRaw(input);
    times.push(performance.now() - t0);
  }
  return times;
}

/** Median ms per layer over profiled runs. */
function perLayer(model, input, layers, samples) {
  const per = layers.map(() => []);
  for (let i = 0; i < samples; i++) model.profileRaw(input).forEach((t, j) => per[j].push(t.ms)); // [{name, ms}] per layer
  return layers.map((l, j) => ({ name: l.name, op: l.op, macs: l.macs, ms: quantile(per[j], 0.5) }));
}

/** Layer times summed by layer type. */
function byType(layers) {
  const ops = new Map();
  for (const l of layers) {
    const o = ops.get(l.op) ?? { op: l.op, ms: 0, macs: 0 };
    o.ms += l.ms;
    o.macs += l.macs;
    ops.set(l.op, o);
  }
  return [...ops.values()].map((o) => ({ ...o, gmacs: o.macs / o.ms / 1e6 }));
}

/**
 * options: {families, runs, warmup, profileRuns} → [{model, macs, kernels: [{name, median, p90, exact,
 * ops: [{op, ms, macs, gmacs}], layers: [{name, op, macs, ms}]}]}].
 */
export async function quant(options) {
  await init();
  const results = [];
  for (const m of MODELS) {
    const model = Model.fromTflite(await Promise.all(m.files.map((f) => bytes(`/models/${f}`))));
    const input = await bytes(`/reference/inputs/${m.input}`);
    const want = await bytes(`/reference/outputs/${m.reference}`);
    const report = model.inspect();
    const kernels = [];
    for (const name of options.families) {
      model.useKernels(name);
      const out = model.runRaw(input);
      const times = timeRuns(model, input, options);
      const layers = perLayer(model, input, report.layers, options.profileRuns);
      kernels.push({
        layers,
        name,
        median: quantile(times, 0.5),
        p90: quantile(times, 0.9),
        exact: out.length === want.length && out.every((v, i) => v === want[i]),
        ops: byType(layers),
      });
    }
    results.push({ model: m.name, macs: report.totals.macs, kernels });
    model.free();
  }
  return results;
}
