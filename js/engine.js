// Where the network runs. The single-thread build runs on the calling thread (or, on request, in a
// Web Worker so a page stays responsive); the threaded build always runs in a worker, because wasm
// threads may not block the page's main thread. The threaded build is used only when the page is
// cross-origin isolated (COOP/COEP), since it needs SharedArrayBuffer.
// Each build also ships a relaxed SIMD .wasm (mobilenet_wasm_relaxed_bg.wasm: the same Rust API, so the
// same glue, with fused multiply-adds where the CPU has FMA); it is loaded when the browser validates
// relaxed SIMD and the caller did not say where the .wasm is, with the plain .wasm as the fallback.
import init, * as glue from '../pkg/mobilenet_wasm.js';
import { canShare, CHANNEL_OPS, PageChannel } from './channel.js';
import { fromData, ModelLoadError } from './errors.js';
import { isNode, localBytes } from './local.js';
import { hasRelaxedSimd, relaxedVerdict } from './peak.js';
import { Session } from './session.js';

// Resolved at run time, not written as `new URL('literal', import.meta.url)`: bundlers would otherwise
// try to bundle the optional threaded build (absent from most installs) and the worker. Bundled apps
// serve a copy of the package and say where (`packageUrl`), since the bundle's own URL is elsewhere.
const FILES = {
  simd: 'pkg/mobilenet_wasm.js',
  simdRelaxed: 'pkg/mobilenet_wasm_relaxed_bg.wasm',
  threads: 'pkg-threads/mobilenet_wasm.js',
  threadsRelaxed: 'pkg-threads/mobilenet_wasm_relaxed_bg.wasm',
  worker: 'js/worker.js',
  // The teaching module: fetched only when a page teaches (model.teach()).
  teach: 'pkg-teach/mobilenet_wasm.js',
};
// Not a literal: Vite would take `new URL('../', import.meta.url)` for an asset and emit a stray copy of
// js/index.js (8 KB) into every app that bundles the package.
const PARENT = '../';
const PACKAGE = new URL(PARENT, import.meta.url).href;
const here = (key, packageUrl) => new URL(FILES[key], new URL(packageUrl ?? PACKAGE, globalThis.location?.href)).href;

/** The teaching module's glue URL, in the package at `packageUrl` (default: this package's own folder). */
export const lessonsUrl = (packageUrl) => here('teach', packageUrl);

// A module of the smallest SIMD function (v128.const): browsers without wasm SIMD reject it.
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0,
  253, 12, ...new Array(16).fill(0), 11]);

/**
 * What this engine can do, detected on the calling thread (where the wrapper reads pixels): the build
 * choice follows from these, and `model.build.capabilities` shows them.
 */
export function capabilities() {
  const has = (name) => typeof globalThis[name] === 'function';
  return {
    simd: WebAssembly.validate(SIMD_PROBE),
    relaxedSimd: hasRelaxedSimd(),
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    sharedArrayBuffer: has('SharedArrayBuffer'),
    atomicsWaitAsync: typeof globalThis.Atomics?.waitAsync === 'function',
    webWorkers: has('Worker'),
    offscreenCanvas: has('OffscreenCanvas'),
    videoFrame: has('VideoFrame'),
    requestVideoFrameCallback: typeof globalThis.HTMLVideoElement?.prototype.requestVideoFrameCallback === 'function',
  };
}

const relaxedFailed = (e) => `relaxed SIMD build unavailable (${e.message}); running the plain SIMD build`;
const joinNotes = (...notes) => notes.filter(Boolean).join('; ');

/**
 * The relaxed SIMD fallback, for every place a build starts: `start(relaxed)` when `relaxed` (the
 * relaxed .wasm) is given and the browser validates relaxed SIMD; otherwise, or if that throws,
 * `start(plain)` (`plain` undefined: the glue's own .wasm). Returns {value, relaxedSimd, note}, note
 * saying why the relaxed .wasm failed to load ('' otherwise).
 */
async function preferRelaxed({ relaxed, plain, start }) {
  let note = '';
  const verdict = relaxed === undefined ? null : relaxedVerdict();
  if (verdict && !verdict.pays && verdict.ratio !== null) {
    note = `relaxed SIMD's multiply-add ran slower here than a multiply then an add (${verdict.fused.toFixed(1)} ` +
      `against ${verdict.unfused.toFixed(1)} GMAC/s); running the plain SIMD build`;
  } else if (verdict && !verdict.pays && verdict.clock !== null) {
    note = `this page's clock steps by ${verdict.clock} ms, too coarse to time relaxed SIMD against plain SIMD ` +
      'quickly (cross-origin isolation makes it finer); running the plain SIMD build';
  }
  if (verdict?.pays) {
    try {
      return { value: await start(relaxed), relaxedSimd: true, note };
    } catch (e) {
      note = relaxedFailed(e);
    }
  }
  return { value: await start(plain), relaxedSimd: false, note };
}


let mainGlue; // the single-thread build on this thread, initialized once and shared by every model

/**
 * The single-thread build on this thread (for `inspect` and for main-thread models):
 * {glue, relaxedSimd, note}, note saying why the relaxed build failed to load ('' otherwise).
 */
export function startGlue(wasm) {
  mainGlue ??= (async () => {
    if (!WebAssembly.validate(SIMD_PROBE)) {
      throw new ModelLoadError('this browser has no WebAssembly SIMD (Chrome 91+, Firefox 89+, Safari 16.4+ have it)');
    }
    const { relaxedSimd, note } = await preferRelaxed({
      // Written literally, like the glue's own default .wasm URL, so bundlers emit it as an asset too.
      relaxed: wasm === undefined ? new URL('../pkg/mobilenet_wasm_relaxed_bg.wasm', import.meta.url) : undefined,
      // Node cannot fetch the glue's default (a file: URL), so it is named here and read from disk.
      plain: wasm ?? (isNode() ? new URL('../pkg/mobilenet_wasm_bg.wasm', import.meta.url) : undefined),
      // The glue allows another init after a failed one.
      start: async (where) => init(where === undefined ? undefined : { module_or_path: await localBytes(where) }),
    });
    return { glue, relaxedSimd, note };
  })().catch((e) => {
    mainGlue = undefined; // let a later call try again (e.g. after a network error)
    throw e instanceof ModelLoadError ? e : new ModelLoadError(`cannot start the engine: ${e.message}`, { cause: e });
  });
  return mainGlue;
}

/**
 * Starts an engine: {call(op, ...args) → Promise, close(), build: {name, threads, worker, relaxedSimd, note,
 * capabilities},
 * resize (engines on this thread: raw pixels resized in wasm, for where there is no canvas)}.
 * `threads`: false/0/1 = one thread, true = all cores, n = n threads.
 */
export async function startEngine(options = {}) {
  const engine = await chooseEngine(options);
  engine.build = { ...engine.build, capabilities: capabilities() };
  return engine;
}

async function chooseEngine({ threads = false, worker = false, wasm, packageUrl } = {}) {
  const wanted = threads === true ? (globalThis.navigator?.hardwareConcurrency ?? 1) : Number(threads) || 1;
  let note = '';
  if (wanted > 1) {
    if (isNode()) {
      note = 'Node has no Web Workers, which the threaded build runs on; running one thread';
    } else if (globalThis.crossOriginIsolated && typeof SharedArrayBuffer !== 'function') {
      // WebKitGTK: isolated, yet without SharedArrayBuffer; the threaded build would fail to start.
      note = 'threads need SharedArrayBuffer, which this browser lacks even on this cross-origin isolated page; running one thread';
    } else if (globalThis.crossOriginIsolated) {
      try {
        return await startWorker({
          glueUrl: here('threads', packageUrl),
          threads: wanted,
          relaxed: wasm === undefined ? here('threadsRelaxed', packageUrl) : undefined,
          packageUrl,
        });
      } catch (e) {
        note = `threaded build unavailable (${e.message}); running one thread`;
      }
    } else {
      note = 'threads need a cross-origin isolated page (COOP/COEP headers); running one thread';
    }
  }
  if (worker && typeof Worker !== 'function') {
    note = joinNotes(note, `no Web Worker here${isNode() ? ' (Node)' : ''}; running on this thread`);
  } else if (worker) {
    return startWorker({
      glueUrl: here('simd', packageUrl),
      threads: 1,
      // A relative .wasm URL means relative to the page, not to the worker's script.
      wasm: typeof wasm === 'string' || wasm instanceof URL ? new URL(wasm, globalThis.location?.href).href : wasm,
      relaxed: wasm === undefined ? here('simdRelaxed', packageUrl) : undefined,
      note,
      packageUrl,
    });
  }
  const started = await startGlue(wasm);
  const session = new Session(started.glue, { teachUrl: here('teach', packageUrl) });
  return {
    build: {
      name: 'simd', threads: 1, worker: false, sharedMemory: false, relaxedSimd: started.relaxedSimd,
      note: joinNotes(note, started.note),
    },
    call: async (op, ...args) => session[op](...args),
    // A call whose progress reaches `onProgress` as it goes (here: synchronously, on this thread).
    callWithProgress: async (op, onProgress, ...args) => session[op](...args, onProgress),
    close: () => session.dispose(),
    // Raw pixels of another size where no canvas can resize them (Node): Pillow's bilinear, in wasm.
    resize: (...args) => started.glue.resizePixels(...args),
  };
}

/**
 * A worker running the glue at `glueUrl` on `threads` threads: on the relaxed .wasm (`relaxed`: its
 * URL, or undefined) when the browser has relaxed SIMD, else, or if that fails, on `wasm` (undefined:
 * the glue's own .wasm). `note`: why fewer threads run than were asked for ('' if nothing).
 */
async function startWorker({ glueUrl, threads, wasm, relaxed, note = '', packageUrl }) {
  const teachUrl = here('teach', packageUrl);
  const started = await preferRelaxed({
    relaxed,
    plain: wasm,
    start: (where) => WorkerEngine.start({ glueUrl, threads, wasm: where, packageUrl, teachUrl }),
  });
  const engine = started.value;
  engine.build = {
    name: threads > 1 ? 'threads' : 'simd', threads, worker: true, sharedMemory: engine.sharedMemory,
    relaxedSimd: started.relaxedSimd, note: joinNotes(note, started.note),
  };
  return engine;
}

// Calls a Session inside js/worker.js, one call at a time: by message (each request carries an id that
// its reply echoes), or, for the per-frame calls on an isolated page, through a shared-memory channel.
class WorkerEngine {
  build; // set by startWorker
  #worker;
  #pending = new Map();
  #next = 0;
  #queue = Promise.resolve();
  #shared = canShare();
  #channel = null;
  #outBytes = 64 * 1024; // result room: 16K floats, doubled whenever a result does not fit
  #grow = false;
  #failed; // rejects when the worker fails or closes, for calls waiting on the channel
  #fail;
  #failure = null; // why the worker is gone: later calls fail at once instead of waiting forever

  /** A started worker: the glue at `glueUrl` on `wasm` (undefined: its own .wasm), `threads` threads. */
  static async start({ glueUrl, threads, wasm, packageUrl, teachUrl }) {
    const engine = new WorkerEngine(packageUrl);
    try {
      await engine.call('start', glueUrl, threads, wasm, teachUrl);
    } catch (e) {
      engine.close();
      throw e instanceof ModelLoadError ? e : new ModelLoadError(`cannot start the engine worker: ${e.message}`);
    }
    return engine;
  }

  constructor(packageUrl) {
    this.#failed = new Promise((_, reject) => {
      this.#fail = reject;
    });
    this.#failed.catch(() => {});
    this.#worker = new Worker(here('worker', packageUrl), { type: 'module' });
    this.#worker.onmessage = ({ data: { id, value, error, progress } }) => {
      const p = this.#pending.get(id);
      if (progress !== undefined) {
        p?.onProgress?.(progress);
        return;
      }
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

  /** Whether per-frame calls go through shared memory. */
  get sharedMemory() {
    return this.#shared;
  }

  call(op, ...args) {
    return this.callWithProgress(op, undefined, ...args);
  }

  /** `call`, with the worker's progress messages for this call passed to `onProgress`. */
  callWithProgress(op, onProgress, ...args) {
    const result = this.#queue.then(() => this.#dispatch(op, args, onProgress));
    this.#queue = result.catch(() => {});
    return result;
  }

  close() {
    this.#worker.terminate();
    this.#failAll(new ModelLoadError('the engine was closed'));
  }

  async #dispatch(op, args, onProgress) {
    if (this.#shared && CHANNEL_OPS.includes(op)) {
      const [pixels] = args;
      if (!this.#channel?.fits(pixels) || this.#grow) await this.#attach(pixels.length);
      const result = await Promise.race([this.#channel.call(op, ...args), this.#failed]);
      if (result?.error) throw fromData(result.error);
      if (result) return result.value;
      this.#outBytes *= 2;
      this.#grow = true;
    }
    return this.#message(op, args, onProgress);
  }

  async #attach(inBytes) {
    const channel = new PageChannel(inBytes, this.#outBytes);
    await this.#message('channel', [channel.buffer]);
    this.#channel = channel;
    this.#grow = false;
  }

  #message(op, args, onProgress) {
    if (this.#failure) return Promise.reject(this.#failure);
    this.#channel?.release();
    return new Promise((resolve, reject) => {
      const id = this.#next++;
      this.#pending.set(id, { resolve, reject, onProgress });
      this.#worker.postMessage({ id, op, args });
    });
  }

  #failAll(error) {
    this.#failure ??= error;
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    this.#fail(error);
  }
}
