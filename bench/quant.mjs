// `npm run bench -- --quant`: the integer path in headless Chromium, one thread: the official 0.25/128
// model and the 1.0/224 extractor + head chain, kernel family "scalar-u8" against "simd128-u8" on the same
// loaded model. Median and p90 of --runs timed runs after --warmup untimed ones, whether the output equals
// TFLite's reference, and ms and GMAC/s per layer type (and with --layers per layer: medians of profiled
// runs). The page side is bench/page/quant.js.
import { callBench, openBenchPage } from './harness.mjs';

const PROFILE_RUNS = 15;

export const quantFamilies = (opts) => (opts.simdOnly ? ['simd128-u8'] : ['scalar-u8', 'simd128-u8']);

/** Runs the mode in a bench page; returns the page's result. */
export async function measureQuant(context, base, opts) {
  const bench = await openBenchPage(context, base);
  try {
    const options = { families: quantFamilies(opts), runs: opts.runs, warmup: opts.warmup, profileRuns: PROFILE_RUNS };
    return await callBench(bench, 'quant', 'quant', options);
  } finally {
    await bench.close();
  }
}

/** One JSON line per model and kernel family. */
export function quantJson(results, opts) {
  return results.flatMap((r) => r.kernels.map((k) => JSON.stringify({
    mode: 'quant', model: r.model, macs: r.macs, kernels: k.name, runs: opts.runs, warmup: opts.warmup,
    median_ms: +k.median.toFixed(3), p90_ms: +k.p90.toFixed(3), exact: k.exact,
    ops: k.ops.map((o) => ({ op: o.op, ms: +o.ms.toFixed(3), gmacs: +o.gmacs.toFixed(2) })),
    ...(opts.layers ? { layers: k.layers.map((l) => ({ name: l.name, op: l.op, macs: l.macs, ms: +l.ms.toFixed(4) })) } : {}),
  })));
}

/** The text report: per model, each kernel family's times, agreement, and per-type (and per-layer) times. */
export function quantReport(results, opts) {
  const lines = [`headless Chromium, 1 thread, median of ${opts.runs} runs after ${opts.warmup} warm-ups`];
  for (const r of results) {
    lines.push('', `${r.model} (${(r.macs / 1e6).toFixed(1)} MMAC)`);
    for (const k of r.kernels) {
      const ops = k.ops.map((o) => `${o.op} ${o.ms.toFixed(2)} ms ${o.gmacs.toFixed(1)} GMAC/s`).join(', ');
      lines.push(`  ${k.name.padEnd(11)} median ${k.median.toFixed(2)} ms  p90 ${k.p90.toFixed(2)} ms  ` +
        `${(r.macs / k.median / 1e6).toFixed(1)} GMAC/s  output ${k.exact ? 'equals the reference' : 'DIFFERS'}`);
      lines.push(`  ${''.padEnd(11)} ${ops}`);
      if (!opts.layers) continue;
      for (const l of k.layers) {
        const rate = l.ms > 0 ? (l.macs / l.ms / 1e6).toFixed(1) : '-';
        lines.push(`    ${l.name.padEnd(24)} ${l.ms.toFixed(3).padStart(7)} ms ${rate.padStart(6)} GMAC/s`);
      }
    }
  }
  return lines.join('\n');
}
