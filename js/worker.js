// The engine inside a Web Worker: imports a build's glue by URL, starts its thread pool when it has
// one, then answers the wrapper's calls on one Session: messages, whose replies echo the request id,
// and, once the page has sent a shared-memory channel, the per-frame calls through it (js/channel.js).
import { WorkerChannel } from './channel.js';
import { toData } from './errors.js';
import { Session } from './session.js';

let session;
let channel = null;

async function start(glueUrl, threads, wasm, teachUrl) {
  const glue = await import(glueUrl);
  await glue.default(wasm === undefined ? undefined : { module_or_path: wasm });
  if (threads > 1) await glue.initThreadPool(threads - 1); // this thread computes a share too
  session = new Session(glue, { teachUrl });
}

const ops = {
  start,
  channel: (buffer) => {
    channel = new WorkerChannel(buffer);
  },
};

const runChannel = (op, pixels, channels, topk) =>
  op === 'classify' ? session.classify(pixels, channels, topk) : session[op](pixels, channels);

// Calls whose last argument was a progress callback on the page: here it posts {id, progress} messages.
const PROGRESS_OPS = new Set(['teachTrain']);

self.onmessage = async ({ data: { id, op, args } }) => {
  let reply;
  try {
    if (PROGRESS_OPS.has(op)) args = [...args, (progress) => self.postMessage({ id, progress })];
    reply = { id, value: await (ops[op] ?? ((...a) => session[op](...a)))(...args) };
  } catch (e) {
    reply = { id, error: toData(e) };
  }
  // Idle before the reply: the page may start a channel call as soon as it has it.
  channel?.idle();
  self.postMessage(reply);
  channel?.serve(runChannel, toData);
};
