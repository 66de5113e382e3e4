// The npm wrapper's shared-memory channel to its worker (js/channel.js), in a cross-origin isolated page.
// First the protocol alone, over a stand-in worker: results of every kind, an error, a result too big for
// its room, and messages between calls (the worker must leave its wait for them). Then the wrapper with
// the engine in a worker against the same wrapper on the page's thread, on the official 0.25/128 file:
// the same bytes out, labels set by message seen by the next call, calls queued without awaiting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, SHARED, session } from './helpers.mjs';

const MODEL = 'mobilenet_v1_0.25_128_quant.tflite';
let b, base;

// A stand-in for js/worker.js: replies to messages, and between them serves the channel with a fake run.
const FAKE_WORKER = `
import { WorkerChannel } from './js/channel.js';
let channel = null;
const run = (op, pixels, channels, topk) => {
  if (op === 'probabilities') return new Float32Array(pixels[0]).map((_, i) => channels + i / 4);
  if (op === 'embedding') throw Object.assign(new Error('no embedding here'), { name: 'InputError', kind: 'shape' });
  return { op, topk, first: pixels[0], length: pixels.length };
};
const toData = (e) => ({ name: e.name, message: e.message, kind: e.kind });
self.onmessage = ({ data }) => {
  if (data.buffer) channel = new WorkerChannel(data.buffer);
  channel?.idle();
  self.postMessage({ echo: data.echo });
  channel?.serve(run, toData);
};
`;

const PROTOCOL_SCRIPT = `
import { PageChannel, canShare } from './js/channel.js';
window.result = (async () => {
  const worker = new Worker('fake-worker.js', { type: 'module' });
  const replies = [];
  let answer;
  worker.onmessage = ({ data }) => { replies.push(data.echo); answer(); };
  const message = (data) => new Promise((r) => { answer = r; worker.postMessage(data); });
  const channel = new PageChannel(16, 128);
  await message({ buffer: channel.buffer, echo: 'attached' });
  const floats = await channel.call('probabilities', Uint8Array.of(5), 3);
  const small = await channel.call('probabilities', Uint8Array.of(0), 3); // 0 floats
  const json = await channel.call('classify', Uint8Array.of(7, 8, 9), 4, 2);
  const error = await channel.call('embedding', Uint8Array.of(1), 3);
  const tooBig = await channel.call('probabilities', Uint8Array.of(33), 3); // 132 bytes > 128
  channel.release();
  await message({ echo: 'between' });
  const after = await channel.call('classify', Uint8Array.of(5), 3, 1);
  const fits = [channel.fits(new Uint8Array(16)), channel.fits(new Uint8Array(17))];
  worker.terminate();
  return { canShare: canShare(), floats: Array.from(floats.value), small: Array.from(small.value), json, error, tooBig, after, replies, fits };
})().catch((e) => ({ failed: String(e.stack ?? e) }));
`;

const WRAPPER_SCRIPT = `
import * as mnw from './js/index.js';
import { startEngine } from './js/engine.js';
const settles = (promise) => Promise.race([promise.then(() => 'resolved', (e) => e.message),
  new Promise((r) => setTimeout(() => r('still waiting after 5 s'), 5000))]);
window.result = (async () => {
  const modelBytes = new Uint8Array(await (await fetch('${MODEL}')).arrayBuffer());
  const onPage = await mnw.load({ modelBytes, packageUrl: './' });
  const inWorker = await mnw.load({ modelBytes, worker: true, packageUrl: './' });
  const r = onPage.resolution[0];
  const frame = (seed) => ({ data: new Uint8Array(r * r * 3).map((_, i) => (i * seed) & 255), width: r, height: r });
  const same = async (call) => {
    const [a, b] = [await call(onPage), await call(inWorker)];
    return JSON.stringify(Array.from(a)) === JSON.stringify(Array.from(b)) ? 'same' : 'differ';
  };
  const out = { builds: [onPage.build.sharedMemory, inWorker.build.sharedMemory] };
  out.probabilities = await same((m) => m.infer(frame(7)));
  out.embedding = await same((m) => m.infer(frame(3), { embedding: true }));
  out.classify = await same(async (m) => (await m.classify(frame(5), 5)).map((c) => c.className + c.probability));
  // A message between channel calls: the next call sees the new labels.
  const labels = Array.from({ length: inWorker.numClasses }, (_, i) => 'class number ' + i);
  await inWorker.setLabels(labels);
  out.relabelled = (await inWorker.classify(frame(5), 1))[0].className;
  out.layers = (await inWorker.inspect()).layers.length;
  // Twenty calls at once, mixed with messages: each answers its own frame, in order.
  const calls = [];
  for (let i = 1; i <= 20; i++) {
    calls.push(inWorker.infer(frame(i)));
    if (i % 7 === 0) calls.push(inWorker.profile(frame(i)));
  }
  const queued = await Promise.all(calls);
  const alone = [];
  for (let i = 1; i <= 20; i++) alone.push(await onPage.infer(frame(i)));
  const probs = queued.filter((x) => x instanceof Float32Array);
  out.queued = probs.length === 20 && probs.every((p, i) => p.every((v, j) => v === alone[i][j]));
  out.profiled = queued.filter((x) => Array.isArray(x)).map((x) => x.length);
  // Where SharedArrayBuffer is missing though the page is isolated (WebKitGTK), calls stay messages.
  const hidden = globalThis.SharedArrayBuffer;
  delete globalThis.SharedArrayBuffer;
  const byMessage = await mnw.load({ modelBytes, worker: true, packageUrl: './' });
  globalThis.SharedArrayBuffer = hidden;
  const [viaMessage, viaPage] = [await byMessage.infer(frame(7)), await onPage.infer(frame(7))];
  out.fallback = [byMessage.build.sharedMemory, viaMessage.every((v, i) => v === viaPage[i]) ? 'same' : 'differ'];
  byMessage.dispose();
  // A closed worker engine fails its later calls, channel or message, instead of leaving them waiting.
  const engine = await startEngine({ worker: true, packageUrl: './' });
  engine.close();
  out.afterClose = [await settles(engine.call('probabilities', frame(1).data, 3)), await settles(engine.call('inspect'))];
  inWorker.dispose();
  out.afterDispose = await inWorker.infer(frame(1)).then(() => 'ran', (e) => e.name);
  return out;
})().catch((e) => ({ failed: String(e.stack ?? e) }));
`;

before(async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-channel-'));
  assert.ok(existsSync(join(ROOT, 'www', 'pkg')), 'www/pkg is missing: run scripts/build.sh');
  cpSync(join(ROOT, 'js'), join(root, 'js'), { recursive: true });
  cpSync(join(ROOT, 'www', 'pkg'), join(root, 'pkg'), { recursive: true });
  cpSync(join(SHARED, 'models', MODEL), join(root, MODEL));
  writeFileSync(join(root, 'fake-worker.js'), FAKE_WORKER);
  for (const name of ['protocol', 'wrapper']) {
    writeFileSync(join(root, `${name}.html`), `<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><script type="module" src="${name}.js"></script>`);
  }
  writeFileSync(join(root, 'protocol.js'), PROTOCOL_SCRIPT);
  writeFileSync(join(root, 'wrapper.js'), WRAPPER_SCRIPT);
  b = await session({ root });
  base = b.url;
});

after(async () => {
  await b?.close();
});

test('the channel carries floats, JSON, errors and too-big results, and lets messages through', { timeout: 60_000 }, async () => {
  await b.page.goto(base + 'protocol.html');
  const r = await b.page.evaluate(() => window.result);
  assert.equal(r.failed, undefined, r.failed);
  assert.equal(r.canShare, true);
  assert.deepEqual(r.floats, [3, 3.25, 3.5, 3.75, 4]);
  assert.deepEqual(r.small, []);
  assert.deepEqual(r.json, { value: { op: 'classify', topk: 2, first: 7, length: 3 } });
  assert.deepEqual(r.error, { error: { name: 'InputError', message: 'no embedding here', kind: 'shape' } });
  assert.equal(r.tooBig, null);
  assert.deepEqual(r.after, { value: { op: 'classify', topk: 1, first: 5, length: 1 } });
  assert.deepEqual(r.replies, ['attached', 'between']);
  assert.deepEqual(r.fits, [true, false]);
});

test('the wrapper in a worker answers through the channel exactly as on the page', { timeout: 120_000 }, async () => {
  await b.page.goto(base + 'wrapper.html');
  const r = await b.page.evaluate(() => window.result);
  assert.equal(r.failed, undefined, r.failed);
  assert.deepEqual(r.builds, [false, true]);
  assert.equal(r.probabilities, 'same');
  assert.equal(r.embedding, 'same');
  assert.equal(r.classify, 'same');
  assert.match(r.relabelled, /^class number \d+$/);
  assert.ok(r.layers > 20, `${r.layers} layers`);
  assert.equal(r.queued, true);
  assert.deepEqual(r.profiled, [r.layers, r.layers]);
  assert.deepEqual(r.fallback, [false, 'same']);
  assert.equal(r.afterDispose, 'MobileNetError');
  assert.deepEqual(r.afterClose, ['the engine was closed', 'the engine was closed']);
  assert.deepEqual(b.errors, []);
});
