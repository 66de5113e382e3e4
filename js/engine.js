// Where the network runs. The single-thread build runs on the calling thread (or, on request, in a
// Web Worker so a page stays responsive); the threaded build always runs in a worker, because wasm
// threads may not block the page's main thread. The threaded build is used only when the page is
// cross-origin isolated (COOP/COEP), since it needs SharedArrayBuffer.
import init, * as glue from '../pkg/mobilenet_wasm.js';
import { fromData, ModelLoadError } from './errors.js';
import { Session } from './session.js';

// Resolved at run time, not written as `new URL('literal', import.meta.url)`: bundlers would otherwise
// try to bundle the optional threaded build (absent from most installs) and the worker. Bundled apps
// serve a copy of the package and say where (`packageUrl`), since the bundle's own URL is elsewhere.
const FILES = { simd: 'pkg/mobilenet_wasm.js', threads: 'pkg-threads/mobilenet_wasm.js', worker: 'js/worker.js' };
const PACKAGE = new URL('../', import.meta.url).href;
const here = (key, packageUrl) => new URL(FILES[key], new URL(packageUrl ?? PACKAGE, globalThis.location?.href)).href;

// A module of the smallest SIMD function (v128.const): browsers without wasm SIMD reject it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0,
  253, 12, ...new Array(16).fill(0), 11]);

let mainGlue; // the single-thread build on this thread, initialized once and shared by every model

/** The single-thread build on this thread (for `inspect` and for main-thread models). */
export function startGlue(wasm) {
  mainGlue ??= (async () => {
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw new ModelLoadError('this browser has no WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+ have it)');
    }
    await init(wasm === undefined ? undefined : { module_or_path: wasm });
    return glue;
  })().catch((e) => {
    mainGlue = undefined; // let a later call try again (e.g. after a network error)
    throw e instanceof ModelLoadError ? e : new ModelLoadError(`cannot start the engine: ${e.message}`, { cause: e });
  });
  return mainGlue;
}

/**
 * Starts an engine: {call(op, ...args) → Promise, close(), build: {name, threads, worker, note}}.
 * `threads`: false/0/1 = one thread, true = all cores, n = n threads.
 */
export async function startEngine({ threads = false, worker = false, wasm, packageUrl } = {}) {
  const wanted = threads === true ? (globalThis.navigator?.hardwareConcurrency ?? 1) : Number(threads) || 1;
  let note = '';
  if (wanted > 1) {
    if (globalThis.crossOriginIsolated) {
      try {
        return await WorkerEngine.start(here('threads', packageUrl), wanted, undefined, '', packageUrl);
      } catch (e) {
        note = `threaded build unavailable (${e.message}); running one thread`;
      }
    } else {
      note = 'threads need a cross-origin isolated page (COOP/COEP headers); running one thread';
    }
  }
  // A relative .wasm URL means relative to the page, not to the worker's script.
  const where = typeof wasm === 'string' || wasm instanceof URL ? new URL(wasm, globalThis.location?.href).href : wasm;
  if (worker) return WorkerEngine.start(here('simd', packageUrl), 1, where, note, packageUrl);
  const session = new Session(await startGlue(wasm));
  return {
    build: { name: 'simd', threads: 1, worker: false, note },
    call: async (op, ...args) => session[op](...args),
    close: () => session.dispose(),
  };
}

// Calls a Session inside js/worker.js; each request carries an id that its reply echoes.
class WorkerEngine {
  #worker;
  #pending = new Map();
  #next = 0;

  static async start(glueUrl, threads, wasm, note = '', packageUrl = undefined) {
    const engine = new WorkerEngine(packageUrl);
    try {
      await engine.call('start', glueUrl, threads, wasm);
    } catch (e) {
      engine.close();
      throw e instanceof ModelLoadError ? e : new ModelLoadError(`cannot start the engine worker: ${e.message}`);
    }
    engine.build = { name: threads > 1 ? 'threads' : 'simd', threads, worker: true, note };
    return engine;
  }

  constructor(packageUrl) {
    this.#worker = new Worker(here('worker', packageUrl), { type: 'module' });
    this.#worker.onmessage = ({ data: { id, value, error } }) => {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (error) p?.reject(fromData(error));
      else p?.resolve(value);
    };
    // A worker that fails to load or crashes fails every call still waiting.
    this.#worker.onerror = (event) => {
      event.preventDefault();
      this.#failAll(new ModelLoadError(event.message || 'the engine worker failed to load'));
    };
  }

  call(op, ...args) {
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ id, op, args });
    });
  }

  close() {
    this.#worker.terminate();
    this.#failAll(new ModelLoadError('the engine was closed'));
  }

  #failAll(error) {
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
  }
}
