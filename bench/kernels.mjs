// `npm run bench -- --kernels`: seeded float inference per kernel family in headless Chromium (families
// take turns run by run; median after warm-ups), then per-layer medians with GMAC/s and totals per layer
// type. Several builds (--pkg a,b) and both .wasm files of a build (--wasm plain,relaxed) run side by side
// in one page. The page side is bench/page/kernels.js.
import { existsSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { ROOT, callBench, openBenchPage } from './harness.mjs';

const WASM = { plain: 'mobilenet_wasm_bg.wasm', relaxed: 'mobilenet_wasm_relaxed_bg.wasm' };

/**
 * The builds to load, from --pkg (package folders, default www/pkg) × --wasm (plain, relaxed): each is
 * linked as /builds/<i> of the site (prepareSite's `builds`), in this order. Labels name the folder and
 * the .wasm where there are several of either.
 */
export function kernelBuilds(opts) {
  const dirs = opts.pkg.map((p) => resolve(p));
  const wasms = opts.wasm.map((w) => {
    if (!WASM[w]) throw new Error(`--wasm takes plain and/or relaxed, not ${w}`);
    return w;
  });
  return dirs.flatMap((dir, b) => wasms.map((w) => {
    if (!existsSync(join(dir, WASM[w]))) throw new Error(`--pkg ${dir} has no ${WASM[w]} (run scripts/build.sh?)`);
    return {
      dir,
      wasm: WASM[w],
      what: `${relative(ROOT, dir) || '.'} (${w} .wasm)`,
      label: [dirs.length > 1 ? String(b) : '', wasms.length > 1 ? w : ''].filter(Boolean).join(':'),
    };
  }));
}

/** Runs the mode in a bench page; returns the page's result. */
export async function measureKernels(context, base, opts, builds) {
  const bench = await openBenchPage(context, base);
  try {
    const options = {
      builds: builds.map((b, i) => ({ url: `/builds/${i}`, wasm: b.wasm, label: b.label })),
      families: opts.families, alpha: opts.alpha, resolution: opts.resolution, runs: opts.runs, warmup: opts.warmup,
    };
    return await callBench(bench, 'kernels', 'kernels', options);
  } finally {
    await bench.close();
  }
}

/** One JSON line per variant (build × family). */
export function kernelsJson(result, opts) {
  return Object.entries(result.runs).map(([variant, r]) => JSON.stringify({
    mode: 'kernels', variant, alpha: opts.alpha, resolution: opts.resolution, runs: opts.runs, warmup: opts.warmup,
    median_ms: +r.median.toFixed(3), min_ms: +r.min.toFixed(3), max_ms: +r.max.toFixed(3),
    layers: result.layers[variant].map((l) => ({ name: l.name, op: l.op, macs: l.macs, ms: +l.ms.toFixed(4) })),
  }));
}

/** The text report: run times per variant, then each variant's per-layer medians and per-type totals. */
export function kernelsReport(result, opts, builds) {
  const lines = [`α${opts.alpha}/${opts.resolution}, ${opts.runs} runs after ${opts.warmup} warm-ups, ` +
    `crossOriginIsolated=${result.isolated}, builds: ${builds.map((b) => (b.label ? `${b.label} = ` : '') + b.what).join(', ')}`];
  const width = Math.max(10, ...Object.keys(result.runs).map((k) => k.length));
  for (const [family, r] of Object.entries(result.runs)) {
    lines.push(`${family.padEnd(width)} median ${r.median.toFixed(2)} ms  (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})`);
  }
  for (const [family, layers] of Object.entries(result.layers)) {
    lines.push('', `${family}: per-layer medians`);
    const byOp = {};
    for (const l of layers) {
      const gmacs = l.macs / l.ms / 1e6;
      lines.push(`${l.name.padEnd(22)}${l.op.padEnd(10)}${l.ms.toFixed(3).padStart(8)} ms` +
        `${(l.macs / 1e6).toFixed(1).padStart(8)} MMAC${l.macs ? gmacs.toFixed(1).padStart(7) + ' GMAC/s' : ''}`);
      const s = (byOp[l.op] ??= { ms: 0, min: 0, macs: 0 });
      s.ms += l.ms;
      s.min += l.min;
      s.macs += l.macs;
    }
    for (const [op, s] of Object.entries(byOp)) {
      const rate = s.macs ? ` ${(s.macs / s.ms / 1e6).toFixed(1)} GMAC/s` : '';
      lines.push(`  total ${op.padEnd(10)}${s.ms.toFixed(2).padStart(8)} ms${rate}  (sum of per-layer minima ${s.min.toFixed(2)} ms)`);
    }
  }
  return lines.join('\n');
}
