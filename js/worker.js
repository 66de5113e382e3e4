// The engine inside a Web Worker: imports a build's glue by URL, starts its thread pool when it has
// one, then answers the wrapper's calls on one Session. Replies echo the request id.
import { toData } from './errors.js';
import { Session } from './session.js';

let session;

async function start(glueUrl, threads, wasm) {
  const glue = await import(glueUrl);
  await glue.default(wasm === undefined ? undefined : { module_or_path: wasm });
  if (threads > 1) await glue.initThreadPool(threads - 1); // this thread computes a share too
  session = new Session(glue);
}

self.onmessage = async ({ data: { id, op, args } }) => {
  try {
    const value = op === 'start' ? await start(...args) : session[op](...args);
    self.postMessage({ id, value });
  } catch (e) {
    self.postMessage({ id, error: toData(e) });
  }
};
