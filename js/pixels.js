// Any supported input → RGB or RGBA bytes of exactly the model's size, the only thing the engine reads.
// Images and video frames are drawn scaled straight to the model size (whole frame, no crop, as the
// reference inputs were made) on a small canvas kept for reading back: a full-HD frame is never read.
// Alpha: raw pixels ({data, width, height}, ImageData) are read as RGB and their alpha is ignored, as
// TF.js's fromPixels does with ImageData; drawn sources (images, canvases, video, bitmaps, frames) are
// composited over opaque black, since a canvas keeps no colour under a transparent pixel.
import { InputError, kindOf } from './errors.js';

/** Converts inputs for one model size; keeps its canvases between calls. */
export class PixelReader {
  #width;
  #height;
  #ctx = null; // the model-sized canvas, made on first need
  #staging = null; // a canvas for raw pixels of another size
  #resize; // (bytes, channels, width, height, toWidth, toHeight) → RGB bytes, for where there is no canvas

  /** `resize`: the engine's resize of raw pixels, used where no canvas exists (Node); may be undefined. */
  constructor([height, width], resize) {
    this.#height = height;
    this.#width = width;
    this.#resize = resize;
  }

  /** @returns {{pixels: Uint8Array, channels: 3 | 4}} */
  read(input) {
    if (input === null || typeof input !== 'object') throw new InputError(`expected an image, got ${describe(input)}`);
    if (isRaw(input)) return this.#raw(input);
    if (isDrawable(input)) {
      checkDrawable(input);
      return this.#draw(input);
    }
    throw new InputError(`unsupported input ${describe(input)}: pass ImageData, an <img>, <canvas>, <video>, ` +
      'ImageBitmap, VideoFrame, or {data, width, height} with RGB or RGBA bytes');
  }

  #raw({ data, width, height }) {
    const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (!(bytes instanceof Uint8Array || bytes instanceof Uint8ClampedArray)) {
      throw new InputError(`pixel data must be a Uint8Array, Uint8ClampedArray or ArrayBuffer, got ${describe(data)}`);
    }
    if (!(width > 0 && height > 0) || !Number.isInteger(width) || !Number.isInteger(height)) {
      throw new InputError(`width and height must be positive integers, got ${width}×${height}`);
    }
    const channels = bytes.length / (width * height);
    if (channels !== 3 && channels !== 4) {
      throw new InputError(`${bytes.length} bytes is not ${width}×${height} RGB (×3) or RGBA (×4) pixels`);
    }
    const view = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
    if (width === this.#width && height === this.#height) return { pixels: view, channels };
    if (!hasCanvas() && this.#resize) {
      // No canvas (Node): the engine resizes, as Pillow's bilinear filter does.
      try {
        return { pixels: this.#resize(view, channels, width, height, this.#width, this.#height), channels: 3 };
      } catch (e) {
        throw new InputError(`cannot resize ${width}×${height} pixels: ${e.message}`, { cause: e, kind: kindOf(e) });
      }
    }
    // Another size: go through an ImageData so the canvas does the resizing.
    const rgba = channels === 4 ? opaque(view) : rgbToRgba(view);
    const staging = this.#stagingCanvas(width, height);
    staging.putImageData(new ImageData(rgba, width, height), 0, 0);
    return this.#draw(staging.canvas);
  }

  #draw(source) {
    const ctx = this.#modelCanvas();
    // Opaque black first: transparent parts of the source come out black, and nothing of the last input
    // (this canvas is reused) can show through, even when the draw fails.
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, this.#width, this.#height);
    try {
      ctx.drawImage(source, 0, 0, this.#width, this.#height);
    } catch (e) {
      throw new InputError(`cannot draw the input: ${e.message}`, { cause: e });
    }
    return { pixels: new Uint8Array(ctx.getImageData(0, 0, this.#width, this.#height).data.buffer), channels: 4 };
  }

  #modelCanvas() {
    if (!this.#ctx) {
      this.#ctx = canvas(this.#width, this.#height).getContext('2d', { willReadFrequently: true });
      this.#ctx.imageSmoothingQuality = 'high';
    }
    return this.#ctx;
  }

  #stagingCanvas(width, height) {
    if (!this.#staging) this.#staging = canvas(width, height).getContext('2d', { willReadFrequently: true });
    Object.assign(this.#staging.canvas, { width, height });
    return this.#staging;
  }
}

const hasCanvas = () => typeof OffscreenCanvas === 'function' || typeof document === 'object';

function canvas(width, height) {
  if (typeof OffscreenCanvas === 'function') return new OffscreenCanvas(width, height);
  if (typeof document === 'object') return Object.assign(document.createElement('canvas'), { width, height });
  throw new InputError('resizing needs a canvas (a browser or OffscreenCanvas); here pass ' +
    '{data, width, height} pixels already of the model size');
}

const isRaw = (x) => 'data' in x && 'width' in x && 'height' in x && !isDrawable(x);

const DRAWABLE = ['HTMLImageElement', 'HTMLCanvasElement', 'HTMLVideoElement',
  'ImageBitmap', 'OffscreenCanvas', 'VideoFrame'];
const isDrawable = (x) => DRAWABLE.some((name) => typeof globalThis[name] === 'function' && x instanceof globalThis[name]);

// Drawing an unloaded image or a closed frame gives a blank or an obscure error; these say what to await.
function checkDrawable(x) {
  const [w, h, why] = x instanceof globalThis.HTMLVideoElement
    ? [x.readyState >= 2 ? x.videoWidth : 0, x.videoHeight, 'the video has no frame yet: wait for its "loadeddata" event']
    : x instanceof globalThis.HTMLImageElement
      ? [x.complete ? x.naturalWidth : 0, x.naturalHeight, 'the image has not loaded or could not be decoded: await img.decode() first']
      : typeof VideoFrame === 'function' && x instanceof VideoFrame
        ? [x.displayWidth, x.displayHeight, 'the VideoFrame is closed']
        : [x.width, x.height, `the ${x.constructor.name} is empty (0×0)`];
  if (!(w > 0 && h > 0)) throw new InputError(why);
}

// RGBA bytes with alpha set to 255: raw pixels are read as RGB whatever their alpha, at any size (the
// canvas that resizes them would otherwise drop the colour of transparent pixels).
function opaque(rgba) {
  const out = new Uint8ClampedArray(rgba);
  for (let j = 3; j < out.length; j += 4) out[j] = 255;
  return out;
}

function rgbToRgba(rgb) {
  const out = new Uint8ClampedArray((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    out[j] = rgb[i];
    out[j + 1] = rgb[i + 1];
    out[j + 2] = rgb[i + 2];
    out[j + 3] = 255;
  }
  return out;
}

function describe(x) {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'object';
}
