// The wrapper's timing API in Node (the single-thread build on this thread): a whole configuration timed
// around Model.runPixels, one block's standard conv against its separable pair, and typed errors for
// arguments out of range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect, timeConfiguration, timeSeparable, InputError } from '../../js/index.js';

const positive = (values) => values.every((v) => Number.isFinite(v) && v > 0);

test('a configuration is timed run by run, and the median is of those runs', async () => {
  const t = await timeConfiguration({ alpha: 0.25, resolution: 128, runs: 5, warmup: 1 });
  assert.deepEqual([t.alpha, t.resolution, t.times.length], [0.25, 128, 5]);
  assert.ok(positive(t.times), String(t.times));
  assert.equal(t.medianMs, [...t.times].sort((a, b) => a - b)[2]);
  assert.match(t.kernels, /^(scalar|simd128|relaxed-simd128)$/);
  // Four times the pixels and 10x the MACs take longer (medians of 3, on a machine that may be busy).
  const big = await timeConfiguration({ alpha: 0.5, resolution: 224, runs: 3 });
  assert.ok(big.medianMs > t.medianMs, `${big.medianMs} ms against ${t.medianMs} ms`);
});

test('a block against the standard conv of its shape: times per run, MACs from the inspector', async () => {
  const t = await timeSeparable({ alpha: 0.5, resolution: 160, block: 2, runs: 4 });
  assert.deepEqual([t.block, t.input, t.output, t.stride, t.runs], ['Conv2d_2', [80, 80, 32], [40, 40, 64], 2, 4]);
  for (const key of ['standardMs', 'depthwiseMs', 'pointwiseMs', 'separableMs']) assert.equal(t[key].length, 4, key);
  assert.ok(positive(t.standardMs) && positive(t.separableMs));
  t.separableMs.forEach((s, i) => assert.equal(s, t.depthwiseMs[i] + t.pointwiseMs[i]));
  assert.equal(t.measuredRatio, t.separableMedianMs / t.standardMedianMs);
  const row = (await inspect({ alpha: 0.5, resolution: 160 })).separable[1];
  assert.deepEqual([t.macsSeparable, t.macsStandard, t.macRatio, t.predictedRatio],
    [row.separable.macs, row.standard.macs, row.ratio, row.predicted_ratio]);
  assert.equal(t.macsDepthwise + t.macsPointwise, t.macsSeparable);
  assert.equal(t.predictedRatio, 1 / 64 + 1 / 9);
});

test('arguments out of range are InputErrors, never a crash', async () => {
  const cases = [
    [() => timeConfiguration({ alpha: 0 }), /alpha must be a number in \(0, 16\]/],
    [() => timeConfiguration({ resolution: 8 }), /resolution must be between 32 and 4096/],
    [() => timeConfiguration({ runs: 0 }), /runs must be an integer from 1 to 1000/],
    [() => timeSeparable({ block: 0 }), /block must be 1 to 13/],
    [() => timeSeparable({ block: 14 }), /block must be 1 to 13/],
    [() => timeSeparable({ block: 2.5 }), /block must be an integer/],
    [() => timeSeparable({ warmup: -1 }), /warmup must be an integer from 0 to 1000/],
    [() => timeSeparable({ alpha: 16, block: 13, runs: 1 }), /over the memory budget/],
  ];
  for (const [call, message] of cases) {
    await assert.rejects(call, (e) => e instanceof InputError && e.kind === 'config' && message.test(e.message));
  }
  // The engine still works afterwards.
  assert.equal((await timeSeparable({ alpha: 0.25, resolution: 128, block: 13, runs: 1 })).block, 'Conv2d_13');
});
