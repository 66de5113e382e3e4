// Per-frame calls to the engine worker through shared memory instead of messages. A message to a worker
// and its reply cost ~0.2–0.3 ms in Chromium, a quarter of a small model's inference; here the worker
// waits on a SharedArrayBuffer, the page writes the pixels there and wakes it, and awaits the
// result with Atomics.waitAsync. Needs a cross-origin isolated page. Measured on the official 0.25/128
// file (2 vCPUs, Chromium 156), wrapper in a worker ÷ wrapper on the page: 1.23–1.33× by message,
// 1.04–1.10× through the channel.
//
// Layout: a header of Int32 words, then the input bytes, then the output. While the worker waits, it
// answers nothing else: before any message the page sets STATE to YIELD, which sends the worker back
// to its event loop until its next reply (js/worker.js).

const STATE = 0; // IDLE → REQUEST (page) → DONE (worker); YIELD (page): return to the message loop
const OP = 1;
const CHANNELS = 2;
const TOPK = 3;
const IN_LENGTH = 4; // input bytes
const KIND = 5; // of the result: FLOATS, JSON, ERROR, or TOO_BIG (redo the call by message)
const OUT_LENGTH = 6; // result bytes
const IN_CAPACITY = 7;
const HEADER = 64; // bytes
const SPIN_MS = 0.5;

const [IDLE, REQUEST, DONE, YIELD] = [0, 1, 2, 3];
const [FLOATS, JSON_TEXT, ERROR, TOO_BIG] = [0, 1, 2, 3];
// One of each per page or worker, not one per call (classify's results are JSON every frame).
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The calls that go through the channel; any other op is a message. */
export const CHANNEL_OPS = ['classify', 'probabilities', 'embedding'];

/**
 * Whether this page can use a channel: shared memory (WebKitGTK is isolated yet has no SharedArrayBuffer)
 * and Atomics.waitAsync (not in every engine yet).
 */
export const canShare = () => globalThis.crossOriginIsolated === true && typeof SharedArrayBuffer === 'function' &&
  typeof globalThis.Atomics?.waitAsync === 'function';

/** The page's end: room for `inBytes` of pixels and `outBytes` of result. */
export class PageChannel {
  constructor(inBytes, outBytes) {
    this.buffer = new SharedArrayBuffer(HEADER + inBytes + outBytes);
    this.header = new Int32Array(this.buffer, 0, HEADER / 4);
    this.header[IN_CAPACITY] = inBytes;
  }

  /** Whether `pixels` fit. */
  fits(pixels) {
    return pixels.length <= this.header[IN_CAPACITY];
  }

  /** Sends the worker back to its message loop (before every message to it). */
  release() {
    Atomics.store(this.header, STATE, YIELD);
    Atomics.notify(this.header, STATE);
  }

  /**
   * Runs `op` on the worker: {value} or {error} (as errors.js's toData), or null when the result did not
   * fit (send the call as a message).
   */
  async call(op, pixels, channels, topk = 0) {
    const h = this.header;
    h[OP] = CHANNEL_OPS.indexOf(op);
    h[CHANNELS] = channels;
    h[TOPK] = topk;
    h[IN_LENGTH] = pixels.length;
    new Uint8Array(this.buffer, HEADER, pixels.length).set(pixels);
    Atomics.store(h, STATE, REQUEST);
    Atomics.notify(h, STATE);
    const wait = Atomics.waitAsync(h, STATE, REQUEST);
    if (wait.async) await wait.value;
    const out = new Uint8Array(this.buffer, HEADER + h[IN_CAPACITY], h[OUT_LENGTH]);
    switch (h[KIND]) {
      case FLOATS:
        return { value: new Float32Array(out.slice().buffer) };
      case TOO_BIG:
        return null;
      default: {
        // TextDecoder does not read shared memory: copy first.
        const data = JSON.parse(decoder.decode(out.slice()));
        return h[KIND] === ERROR ? { error: data } : { value: data };
      }
    }
  }
}

/** The worker's end, over the page's buffer. */
export class WorkerChannel {
  constructor(buffer) {
    this.buffer = buffer;
    this.header = new Int32Array(buffer, 0, HEADER / 4);
  }

  /** Before a reply to a message: the page may start a call as soon as it has the reply. */
  idle() {
    Atomics.store(this.header, STATE, IDLE);
  }

  /**
   * Answers calls until the page releases the worker. `run(op, pixels, channels, topk)` returns the
   * result or throws; `toData` turns what it throws into cloneable data.
   */
  serve(run, toData) {
    const h = this.header;
    for (;;) {
      const seen = Atomics.load(h, STATE) === DONE ? DONE : IDLE;
      // Spin a little first: an app that calls again right away finds the worker awake (a sleeping
      // thread takes ~0.1 ms to wake here), and one that calls 30 times a second pays 0.5 ms a frame.
      const until = performance.now() + SPIN_MS;
      while (Atomics.load(h, STATE) === seen && performance.now() < until);
      Atomics.wait(h, STATE, seen);
      const state = Atomics.load(h, STATE);
      if (state === YIELD) return;
      if (state !== REQUEST) continue;
      const pixels = new Uint8Array(this.buffer, HEADER, h[IN_LENGTH]);
      try {
        this.#put(run(CHANNEL_OPS[h[OP]], pixels, h[CHANNELS], h[TOPK]));
      } catch (e) {
        this.#put(toData(e), ERROR);
      }
      Atomics.store(h, STATE, DONE);
      Atomics.notify(h, STATE);
    }
  }

  #put(value, kind) {
    const h = this.header;
    const start = HEADER + h[IN_CAPACITY];
    const room = new Uint8Array(this.buffer, start, this.buffer.byteLength - start);
    let bytes;
    if (value instanceof Float32Array) {
      bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      kind = FLOATS;
    } else {
      bytes = encoder.encode(JSON.stringify(value));
      kind ??= JSON_TEXT;
    }
    if (bytes.length > room.length) {
      h[KIND] = TOO_BIG;
      h[OUT_LENGTH] = 0;
      return;
    }
    room.set(bytes);
    h[KIND] = kind;
    h[OUT_LENGTH] = bytes.length;
  }
}
