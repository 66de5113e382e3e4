// The camera: getUserMedia into a <video>, a device picker, and a frame loop that runs one step per
// new video frame and never starts a step before the previous one finished (slow models drop frames
// instead of queueing them).

/** Why the camera cannot start, as a person should read it. */
export function cameraProblem(error) {
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access was blocked. Allow it in your browser’s site settings, or upload, drop or paste a photo instead.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Upload, drop or paste a photo instead.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is busy in another app. Close it there, or upload, drop or paste a photo instead.';
    default:
      return `The camera could not start (${error?.message ?? error}). Upload, drop or paste a photo instead.`;
  }
}

export class Camera {
  #video;
  #stream = null;

  constructor(video) {
    this.#video = video;
  }

  get running() {
    return this.#stream !== null;
  }

  /** Starts the camera (a given device, or the default); throws the getUserMedia error. */
  async start(deviceId) {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw Object.assign(new Error('this page is not a secure context'), { name: 'SecurityError' });
    }
    this.stop();
    // The model input is at most 224 px: a modest capture size is plenty and cheaper to draw.
    const video = { width: { ideal: 640 }, height: { ideal: 480 }, ...(deviceId ? { deviceId: { exact: deviceId } } : {}) };
    this.#stream = await navigator.mediaDevices.getUserMedia({ video, audio: false });
    this.#video.srcObject = this.#stream;
    await this.#video.play();
  }

  stop() {
    for (const track of this.#stream?.getTracks() ?? []) track.stop();
    this.#stream = null;
    this.#video.srcObject = null;
  }

  /** The id of the device in use. */
  get deviceId() {
    return this.#stream?.getVideoTracks()[0]?.getSettings().deviceId ?? '';
  }

  /** The video inputs (labels are only known once permission was given). */
  static async devices() {
    const all = (await navigator.mediaDevices?.enumerateDevices?.()) ?? [];
    return all.filter((d) => d.kind === 'videoinput');
  }
}

/**
 * Calls `step()` (async) once per new video frame until the returned stop function is called. The
 * next frame is requested only after a step finished, so steps never overlap or pile up.
 */
export function everyFrame(video, step) {
  let stopped = false;
  // requestVideoFrameCallback fires once per presented video frame; animation frames are the fallback.
  const next = 'requestVideoFrameCallback' in video
    ? (cb) => video.requestVideoFrameCallback(cb)
    : (cb) => requestAnimationFrame(cb);
  const tick = async () => {
    if (stopped) return;
    await step();
    if (!stopped) next(tick);
  };
  next(tick);
  return () => {
    stopped = true;
  };
}
