// MediaPipe Tasks ImageClassifier (@mediapipe/tasks-vision), CPU delegate. It has no thread setting
// (one thread), takes images rather than tensors, and returns scored categories: each run hands it the
// model-sized input as ImageData (alpha 255), and its scores are put back in class order. It runs the
// official uint8 file as it is; float files only with NormalizationOptions metadata, so its float rows
// use the copy our CLI writes with metadata (`export-tflite --metadata`). A split model (1.0/224 uint8)
// is two files, which one classifier cannot run.

let vision;

/** MediaPipe's wasm prints its INFO log lines to stderr, which becomes console.error: keep them out of the page's errors. */
function quietInfo() {
  const error = console.error.bind(console);
  console.error = (...args) => (/^(INFO:|I\d{4} )/.test(String(args[0])) ? console.info(...args) : error(...args));
}

/**
 * MediaPipe posts usage logs to odml.pa.googleapis.com once a minute (no option turns it off); the bench
 * stays on 127.0.0.1, so those posts are answered here with an empty 204 instead of leaving the machine.
 */
function noTelemetry() {
  const fetch = globalThis.fetch;
  globalThis.fetch = (url, init) =>
    String(url).startsWith('https://odml.pa.googleapis.com/') ? Promise.resolve(new Response(null, { status: 204 })) : fetch(url, init);
}

export async function start(threads) {
  if (threads !== 1) return null; // the CPU delegate runs on the calling thread only
  quietInfo();
  noTelemetry();
  vision = await import('/peers/mediapipe/vision_bundle.mjs');
  const fileset = await vision.FilesetResolver.forVisionTasks('/peers/mediapipe/wasm');
  return { detail: 'MediaPipe tasks-vision 1.1.0 ImageClassifier, CPU delegate, 1 thread', load: (cfg, assets) => load(fileset, cfg, assets) };
}

async function load(fileset, cfg, assets) {
  if (cfg.dtype === 'u8' && assets.tflite.length > 1) return null;
  const model = cfg.dtype === 'u8' ? assets.tflite[0] : assets.tflite;
  const classifier = await vision.ImageClassifier.createFromOptions(fileset, {
    baseOptions: { modelAssetBuffer: model.slice(), delegate: 'CPU' },
    runningMode: 'IMAGE',
    maxResults: -1,
    scoreThreshold: -1,
  });
  const r = cfg.resolution;
  const image = new ImageData(r, r);
  let shown; // the pixels `image` holds: the row's fixed pixels are converted once, outside the timing
  const toImage = (pixels) => {
    if (pixels === shown) return image;
    shown = pixels;
    for (let i = 0; i < r * r; i++) {
      image.data.set(pixels.subarray(3 * i, 3 * i + 3), 4 * i);
      image.data[4 * i + 3] = 255;
    }
    return image;
  };
  const classes = 1001;
  return {
    // Scores are probabilities; uint8 models' are their output bytes / 256.
    steps: cfg.dtype === 'u8' ? 256 : undefined,
    run: async (input, pixels) => {
      const result = classifier.classify(toImage(pixels));
      const scores = new Float32Array(classes);
      for (const c of result.classifications[0].categories) scores[c.index] = c.score;
      return scores;
    },
    dispose: () => classifier.close(),
  };
}
