// The error contract across the JS boundary: the wasm throws Errors whose message is "kind: message" and
// whose own `kind` property is the engine's error kind; the wrapper turns them into its MobileNetError
// subclasses by that kind (never by parsing the message) and keeps `kind`, also across the worker boundary.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect as rawInspect, Model } from '../../pkg/mobilenet_wasm.js';
import { fromData, fromEngine, toData } from '../../js/errors.js';
import { inspect, load, loadInspector, InputError, ModelLoadError, MobileNetError, UnsupportedError } from '../../js/index.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');
const WASM = readFileSync(join(ROOT, 'pkg/mobilenet_wasm_bg.wasm'));
let seeded;

before(async () => {
  // The wrapper and this test share the glue module: the wrapper initializes it (once), on the plain .wasm.
  await loadInspector({ wasm: WASM });
  seeded = Model.seeded(0.25, 32, 7);
});

/** Whatever `call` throws, synchronously. */
function thrown(call) {
  try {
    call();
  } catch (e) {
    return e;
  }
  assert.fail('did not throw');
}

test('the engine throws Errors with message "kind: …" and an own kind property', () => {
  const n = 32 * 32 * 3;
  const cases = [
    ['config', () => rawInspect(1, 20)],
    ['config', () => seeded.useKernels('no-such-family')],
    ['shape', () => seeded.run(new Float32Array(10))],
    ['shape', () => seeded.runPixels(new Uint8Array(n), 2)],
    ['non_finite', () => seeded.run(new Float32Array(n).fill(NaN))],
    ['unknown_end_point', () => seeded.runTo(new Float32Array(n), 'nope')],
    ['malformed_model', () => Model.fromTflite([new Uint8Array(64)])],
    // A well-formed TFLite file that is not a MobileNet v1: one depthwise conv with depth multiplier 2.
    ['unsupported_model', () => Model.fromTflite([readFileSync(join(SHARED, 'fixtures/dw_mult2_s2_d2_same_float.tflite'))])],
  ];
  for (const [kind, call] of cases) {
    const e = thrown(call);
    assert.ok(e instanceof Error, `${kind}: ${e}`);
    assert.ok(Object.hasOwn(e, 'kind'), `${kind}: no own kind on ${e.message}`);
    assert.equal(e.kind, kind, e.message);
    assert.ok(e.message.startsWith(`${kind}: `), e.message);
  }
  assert.equal(seeded.run(new Float32Array(n)).length, 1001, 'the model stays usable');
});

test('the wrapper classes come from the kind, and keep it', async () => {
  const bad = await load({ modelBytes: new Uint8Array(64), wasm: WASM }).catch((e) => e);
  assert.ok(bad instanceof ModelLoadError, String(bad));
  assert.equal(bad.kind, 'malformed_model');
  assert.equal(bad.cause.kind, 'malformed_model');
  assert.match(bad.message, /^cannot load the model: malformed_model: /);

  const config = await inspect({ alpha: 1, resolution: 20, wasm: WASM }).catch((e) => e);
  assert.ok(config instanceof InputError, String(config));
  assert.equal(config.kind, 'config');

  // During a run: shape / config / non_finite are the caller's input; anything else is a MobileNetError.
  for (const [kind, cls] of [['shape', InputError], ['config', InputError], ['non_finite', InputError],
    ['unknown_end_point', MobileNetError]]) {
    const e = fromEngine(thrown(() => { throw Object.assign(new Error(`${kind}: x`), { kind }); }), 'run');
    assert.equal(e.constructor, cls, kind);
    assert.equal(e.kind, kind);
    assert.equal(e.message, `${kind}: x`);
  }
  // The message alone no longer decides: an Error without a kind is not an InputError.
  const untyped = fromEngine(new Error('shape: looks like one'), 'run');
  assert.equal(untyped.constructor, MobileNetError);
  assert.equal(untyped.kind, null);
  // At load, whatever the kind, the model file is at fault.
  assert.equal(fromEngine(Object.assign(new Error('shape: x'), { kind: 'shape' }), 'load').constructor, ModelLoadError);
});

test('errors the wrapper makes itself have kind null', async () => {
  const model = await load({ modelBytes: readFileSync(join(SHARED, 'models/mobilenet_v1_0.25_128_quant.tflite')), wasm: WASM, warmup: false });
  try {
    const e = await model.classify({ data: new Uint8Array(10), width: 128, height: 128 }).catch((x) => x);
    assert.ok(e instanceof InputError);
    assert.equal(e.kind, null);
  } finally {
    model.dispose();
  }
  assert.equal(new MobileNetError('x').kind, null);
  assert.equal(new UnsupportedError('x', { kind: 'shape' }).kind, 'shape');
});

test('class, message and kind cross the worker boundary', () => {
  for (const e of [new InputError('shape: 10 bytes', { kind: 'shape' }), new ModelLoadError('gone'),
    new UnsupportedError('nope'), new MobileNetError('unknown_end_point: "x"', { kind: 'unknown_end_point' })]) {
    const data = toData(e);
    assert.deepEqual(JSON.parse(JSON.stringify(data)), data, 'plain data');
    const back = fromData(structuredClone(data));
    assert.equal(back.constructor, e.constructor);
    assert.equal(back.name, e.name);
    assert.equal(back.message, e.message);
    assert.equal(back.kind, e.kind);
  }
  // The engine's own Error (not ours) keeps its kind too; a TypeError's becomes null.
  const raw = toData(thrown(() => Model.fromTflite([new Uint8Array(64)])));
  assert.equal(raw.kind, 'malformed_model');
  assert.equal(fromData(toData(new TypeError('t'))).kind, null);
});
