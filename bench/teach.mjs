// Training time of the teaching module's .wasm (pkg-teach) in Node's V8, the engine Chromium runs: the
// issue's case, 5 classes × 50 examples of α 1.0's 1024-wide embedding, as softmax regression and with a
// hidden layer of 100. Embeddings are made the way MobileNet's are (averages of ReLU6 maps, in [0, 6]): a
// shared base plus a per-class offset plus noise, seeded. Median and spread of RUNS trainings each.
//
// usage: node bench/teach.mjs [--runs N]   (after scripts/build.sh)
import { readFileSync } from 'node:fs';

const ROOT = new URL('..', import.meta.url);
const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 15;
const glue = await import(new URL('pkg-teach/mobilenet_wasm.js', ROOT));
await glue.default({ module_or_path: readFileSync(new URL('pkg-teach/mobilenet_wasm_bg.wasm', ROOT)) });

function examples(classes, perClass, dim, seed) {
  let s = seed >>> 0;
  const rand = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const base = Float32Array.from({ length: dim }, () => rand() * 2);
  const offsets = Array.from({ length: classes }, () => Float32Array.from({ length: dim }, () => (rand() - 0.5) * 0.6));
  const rows = new Float32Array(classes * perClass * dim);
  const labels = new Uint32Array(classes * perClass);
  for (let c = 0; c < classes; c++) {
    for (let e = 0; e < perClass; e++) {
      const i = c * perClass + e;
      labels[i] = c;
      for (let d = 0; d < dim; d++) rows[i * dim + d] = Math.min(6, Math.max(0, base[d] + offsets[c][d] + (rand() - 0.5)));
    }
  }
  return { rows, labels };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const { rows, labels } = examples(5, 50, 1024, 7);
for (const hidden of [0, 100]) {
  const times = [];
  let report;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const head = glue.TaughtHead.train(rows, 1024, labels, 5, undefined, undefined, hidden, 1, undefined);
    times.push(performance.now() - t0);
    report = head.report;
    head.free();
  }
  const sorted = [...times].sort((a, b) => a - b);
  console.log(`5 classes × 50 × 1024, ${hidden ? `hidden ${hidden}` : 'softmax regression'}: median ` +
    `${median(times).toFixed(1)} ms (min ${sorted[0].toFixed(1)}, max ${sorted.at(-1).toFixed(1)}) over ${runs} runs; ` +
    `${report.iterations} iterations, training accuracy ${(report.accuracy * 100).toFixed(0)}%`);
}
