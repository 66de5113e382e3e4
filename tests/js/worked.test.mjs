// The worked example through the npm package in Node: the seed's numbers by the engine's reference ops,
// nested as tf.nn prints them, and every bad argument an InputError (the engine's kind kept), never a trap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, SEED_EXAMPLE, nestedArray, separableExample } from '../../js/index.js';

test("the seed's numbers: shapes (1,2,2,2) and (1,2,2,4), 72/90, and the multiply-adds", async () => {
  const r = await separableExample(SEED_EXAMPLE);
  assert.deepEqual(r.conv2d, { shape: [1, 2, 2, 2], data: [9, 63, 9, 81, 9, 63, 9, 81] });
  assert.deepEqual(nestedArray(r.conv2d), [[[[9, 63], [9, 81]], [[9, 63], [9, 81]]]]);
  assert.deepEqual(nestedArray(r.depthwise), [[[[0, 36, 9, 27], [0, 54, 9, 27]], [[0, 36, 9, 27], [0, 54, 9, 27]]]]);
  assert.deepEqual(r.separable.shape, [1, 2, 2, 4]);
  assert.deepEqual(nestedArray(r.separable), [[[[72, 72, 72, 72], [90, 90, 90, 90]], [[72, 72, 72, 72], [90, 90, 90, 90]]]]);
  assert.deepEqual(r.macs, { conv2d: 144, depthwise: 144, pointwise: 64, standard: 288 });
  // The pointwise filter defaults to ones, (1, 1, c·m, c·m); SAME keeps 4x4, stride 2 halves it.
  const { pointwise, pointwiseShape, ...rest } = SEED_EXAMPLE;
  assert.deepEqual((await separableExample(rest)).separable, r.separable);
  assert.deepEqual((await separableExample({ ...rest, padding: 'SAME' })).depthwise.shape, [1, 4, 4, 4]);
  assert.deepEqual((await separableExample({ ...rest, padding: 'SAME', stride: 2 })).conv2d.shape, [1, 2, 2, 2]);
  // Typed arrays are taken as well; a pointwise filter to 1 channel sums the 4 depthwise channels.
  const one = await separableExample({ ...rest, input: Float32Array.from(SEED_EXAMPLE.input), pointwise: [1, 1, 1, 1] });
  assert.deepEqual(one.separable, { shape: [1, 2, 2, 1], data: [72, 90, 72, 90] });
});

test('bad arguments are InputErrors with the kind of the check that caught them', async () => {
  const bad = async (change, kind, message) => {
    await assert.rejects(separableExample({ ...SEED_EXAMPLE, ...change }), (e) => {
      assert.ok(e instanceof InputError, `${e.name}: ${e.message}`);
      assert.equal(e.kind, kind, e.message);
      assert.match(e.message, message);
      return true;
    });
  };
  await bad({ input: SEED_EXAMPLE.input.slice(1) }, 'shape', /input \(1,4,4,2\) needs 32 values, got 31/);
  await bad({ input: SEED_EXAMPLE.input.map((v, i) => (i === 3 ? NaN : v)) }, 'non_finite', /input value 3 is NaN/);
  await bad({ filter: SEED_EXAMPLE.filter.map((v, i) => (i === 0 ? 1e39 : v)) }, 'non_finite', /filter value 0 is inf/);
  await bad({ input: [...SEED_EXAMPLE.input.slice(1), '1'] }, null, /input\[31\] must be a number/);
  await bad({ input: 'numbers' }, null, /input must be an array of numbers/);
  await bad({ inputShape: [4, 4] }, null, /inputShape must be 3 whole numbers/);
  await bad({ inputShape: [4, 4, 2.5] }, null, /inputShape must be 3 whole numbers/);
  await bad({ inputShape: [65, 1, 2], input: new Array(130).fill(1) }, 'shape', /input needs 3 sizes from 1 to 64/);
  await bad({ inputShape: [64, 64, 2], input: new Array(8192).fill(1) }, 'shape', /input \(1,64,64,2\) has 8192 values, more than 4096/);
  await bad({ filterShape: [3, 3, 1, 4] }, 'shape', /depthwise filter|expects 1 input channels/);
  await bad({ pointwiseShape: [1, 1, 2, 8] }, 'shape', /expects 2 input channels/);
  await bad({ padding: 'valid' }, 'config', /padding must be "VALID" or "SAME"/);
  await bad({ padding: 0 }, 'config', /padding must be/);
  await bad({ stride: 0 }, null, /stride must be a whole number/);
  await bad({ stride: 65 }, 'config', /stride must be from 1 to 64/);
  await bad({ inputShape: [2, 2, 2], input: new Array(8).fill(1) }, 'shape', /VALID window of 3/);
});
