// `npm run bench`: the same MobileNet v1 with the same weights in ours, TensorFlow.js (wasm backend)
// and ONNX Runtime Web, in one headless Chromium run. Float rows at α1.0/224 and α0.25/128 on 1 and 2
// threads; our uint8 path on the official models. Every engine's output is checked against ours
// before it is timed. Prints a markdown report, or with --json only one JSON line per measurement.
// Two more modes time our kernels alone: --kernels (bench/kernels.mjs) and --quant (bench/quant.mjs).
//
//   node bench/run.mjs [--json] [--runs N] [--warmup N]               (default 50 runs after 10 warm-ups)
//   node bench/run.mjs --kernels [--alpha A] [--resolution R] [--families f1,f2] [--pkg dir1,dir2]
//                      [--wasm plain,relaxed] [--runs N] [--warmup N] [--json]    (30 runs after 5)
//   node bench/run.mjs --quant [--layers] [--simd-only] [--runs N] [--warmup N] [--json]   (30 after 5)
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ENGINES, ROOT, TOLERANCE, U8_CONFIGS, agreement, ensurePackage, floatConfig, openEngine, openSite, prepareSite,
  summarize,
} from './harness.mjs';
import { kernelBuilds, kernelsJson, kernelsReport, measureKernels } from './kernels.mjs';
import { measureQuant, quantJson, quantReport } from './quant.mjs';

const FLOAT_CONFIGS = [floatConfig(1.0, 224), floatConfig(0.25, 128)];
const THREADS = [1, 2];
const PROFILE_RUNS = 10;

// Each mode's own flags, and its default run counts.
const MODES = {
  compare: { flags: [], runs: '50', warmup: '10' },
  kernels: { flags: ['alpha', 'resolution', 'families', 'pkg', 'wasm'], runs: '30', warmup: '5' },
  quant: { flags: ['layers', 'simd-only'], runs: '30', warmup: '5' },
};

function options(args) {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false }, runs: { type: 'string' }, warmup: { type: 'string' },
      kernels: { type: 'boolean', default: false }, quant: { type: 'boolean', default: false },
      alpha: { type: 'string' }, resolution: { type: 'string' }, families: { type: 'string' }, pkg: { type: 'string' },
      wasm: { type: 'string' }, layers: { type: 'boolean' }, 'simd-only': { type: 'boolean' },
    },
  });
  if (values.kernels && values.quant) throw new Error('--kernels and --quant are separate runs: pick one');
  const mode = values.kernels ? 'kernels' : values.quant ? 'quant' : 'compare';
  for (const [other, { flags }] of Object.entries(MODES)) {
    const stray = other === mode ? undefined : flags.find((f) => values[f] !== undefined);
    if (stray) throw new Error(`--${stray} goes with --${other}`);
  }
  const number = (name, fallback, ok, what) => {
    const n = Number(values[name] ?? fallback);
    if (!ok(n)) throw new Error(`--${name} needs ${what}`);
    return n;
  };
  const count = (name) => number(name, MODES[mode][name], (n) => Number.isInteger(n) && n >= 1, 'a positive integer');
  const list = (name, fallback) => (values[name] ?? fallback)?.split(',').filter(Boolean);
  return {
    mode, json: values.json, runs: count('runs'), warmup: count('warmup'),
    // --kernels
    alpha: number('alpha', 1, (n) => n > 0, 'a number > 0'),
    resolution: number('resolution', 224, (n) => Number.isInteger(n) && n >= 32, 'an integer ≥ 32'),
    families: list('families', null) ?? null,
    pkg: list('pkg', join(ROOT, 'www/pkg')),
    wasm: list('wasm', 'plain'),
    // --quant
    layers: values.layers ?? false, simdOnly: values['simd-only'] ?? false,
  };
}

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  return { date: new Date().toISOString(), load: loadavg(), nproc: availableParallelism(), cpu };
}

const label = (c) => `α${c.alpha.toFixed(2).replace(/0$/, '')}/${c.resolution} ${c.dtype}`;
const rowKey = (engine, cfg, threads) => ({ engine, alpha: cfg.alpha, resolution: cfg.resolution, dtype: cfg.dtype, threads });

/** Fails loudly unless `output` agrees with ours on the same configuration. */
function check(references, engine, threads, cfg, output) {
  const name = label(cfg);
  if (cfg.dtype === 'u8') {
    // No peer to compare with (the integer path is checked byte for byte against TFLite by the tests):
    // just make sure the official model ran and produced a distribution over its 1001 classes.
    if (output.length !== 1001 || Math.max(...output) === Math.min(...output)) throw new Error(`ours ${name}: degenerate output`);
    return;
  }
  if (!references.has(name)) {
    if (engine !== 'ours') throw new Error(`no reference output from ours for ${name}`);
    references.set(name, output);
    return;
  }
  const a = agreement(references.get(name), output);
  if (!a.ok) {
    throw new Error(`${engine} (${threads} thread(s)) disagrees with ours on ${name}: top-5 ${a.gotTop} vs ${a.wantTop}, ` +
      `max |prob diff| ${a.maxDiff.toExponential(2)} (tolerance ${TOLERANCE})`);
  }
  process.stderr.write(`[bench] ${engine} ${threads}t ${name}: top-5 ${a.gotTop} = ours, max |prob diff| ${a.maxDiff.toExponential(2)}\n`);
}

/** Every row (measured or n/a), our per-layer profiles, the roof, and what each engine reported. */
async function measure(context, base, opts, u8Configs, onRow) {
  const report = { rows: [], profiles: [], details: Object.fromEntries(ENGINES.map((e) => [e, new Set()])), roof: null, chromium: null };
  const references = new Map();
  for (const threads of THREADS) {
    for (const engine of ENGINES) {
      const configs = engine === 'ours' ? [...FLOAT_CONFIGS, ...u8Configs] : FLOAT_CONFIGS;
      process.stderr.write(`[bench] ${engine}, ${threads} thread(s)\n`);
      const page = await openEngine(context, base, engine, threads);
      if (!page) {
        report.rows.push(...configs.map((cfg) => ({ ...rowKey(engine, cfg, threads), na: true })));
        continue;
      }
      report.details[engine].add(page.detail);
      report.chromium ??= page.chromium;
      for (const cfg of configs) {
        await page.call('load', cfg);
        check(references, engine, threads, cfg, await page.call('output'));
        const row = { ...rowKey(engine, cfg, threads), ...summarize(await page.call('time', opts.warmup, opts.runs)) };
        report.rows.push(row);
        onRow(row);
        if (engine === 'ours' && threads === 1 && cfg.dtype === 'f32') {
          report.profiles.push({ cfg, median_ms: row.median_ms, layers: await page.call('profile', PROFILE_RUNS) });
        }
      }
      if (engine === 'ours' && threads === 1) report.roof = await page.call('roof');
      await page.close();
    }
  }
  return report;
}

const jsonLine = (r) => JSON.stringify({
  engine: r.engine, alpha: r.alpha, resolution: r.resolution, dtype: r.dtype, threads: r.threads,
  median_ms: +r.median_ms.toFixed(3), p90_ms: +r.p90_ms.toFixed(3), runs: r.runs,
});

const ms = (r) => (!r ? '—' : r.na ? 'n/a' : `${r.median_ms.toFixed(2)} / ${r.p90_ms.toFixed(2)}`);
const ratio = (ours, peer) => (!ours || !peer ? '—' : ours.na || peer.na ? 'n/a' : `${(ours.median_ms / peer.median_ms).toFixed(2)}×`);

function timeTable(report) {
  const find = (engine, cfg, threads) => report.rows.find((r) => r.engine === engine && r.alpha === cfg.alpha &&
    r.resolution === cfg.resolution && r.dtype === cfg.dtype && r.threads === threads);
  const configs = [...FLOAT_CONFIGS, ...U8_CONFIGS].filter((c) => report.rows.some((r) => r.dtype === c.dtype && r.alpha === c.alpha));
  const lines = ['| configuration | threads | ours | tfjs | ort | ours/tfjs | ours/ort |', '|---|---:|---:|---:|---:|---:|---:|'];
  for (const cfg of configs) {
    // uint8 rows have no peer of their own: their ratios are to the peers' float32 rows of the same size.
    const peerCfg = cfg.dtype === 'u8' ? { ...cfg, dtype: 'f32' } : cfg;
    const suffix = cfg.dtype === 'u8' ? ' (vs f32)' : '';
    for (const t of THREADS) {
      const ours = find('ours', cfg, t);
      const [tfjs, ort] = ['tfjs', 'ort'].map((e) => find(e, peerCfg, t));
      const r = (peer) => (peer && ours && !peer.na && !ours.na ? ratio(ours, peer) + suffix : ratio(ours, peer));
      const peerMs = (peer) => (cfg.dtype === 'u8' ? '—' : ms(peer));
      lines.push(`| ${label(cfg)} | ${t} | ${ms(ours)} | ${peerMs(tfjs)} | ${peerMs(ort)} | ${r(tfjs)} | ${r(ort)} |`);
    }
  }
  return lines;
}

/** The roof our kernels can reach: the fused one when they use relaxed SIMD's multiply-add. */
const ourRoof = (report) => {
  const relaxed = [...report.details.ours].some((d) => /relaxed/.test(d));
  return relaxed && report.roof.fused ? { gmacs: report.roof.fused, what: 'relaxed_madd' } : { gmacs: report.roof.gmacs, what: 'mul + add' };
};

function layerTable({ cfg, median_ms, layers }, roof) {
  const gmacs = (macs, t) => macs / (t * 1e6);
  const pct = (g) => `${((100 * g) / roof.gmacs).toFixed(1)}%`;
  const lines = [`### Ours per layer, ${label(cfg)}, 1 thread (median of ${PROFILE_RUNS} profiled runs)`, '',
    `| layer | op | MMACs | ms | GMAC/s | % of roof (${roof.what}) |`, '|---|---|---:|---:|---:|---:|'];
  for (const l of layers) {
    const t = summarize(l.ms).median_ms;
    const g = gmacs(l.macs, t);
    const speed = l.macs ? `${g.toFixed(2)} | ${pct(g)}` : '— | —';
    lines.push(`| ${l.name} | ${l.op} | ${(l.macs / 1e6).toFixed(1)} | ${t.toFixed(3)} | ${speed} |`);
  }
  const total = layers.reduce((n, l) => n + l.macs, 0);
  const g = gmacs(total, median_ms);
  lines.push(`| whole network (end to end) | | ${(total / 1e6).toFixed(1)} | ${median_ms.toFixed(2)} | ${g.toFixed(2)} | ${pct(g)} |`);
  return lines;
}

function markdown(report, env, opts) {
  const load = (avg) => avg.map((v) => v.toFixed(2)).join(' / ');
  const out = [
    '# mobilenet-wasm benchmark', '',
    `- date: ${env.date}`,
    `- machine: ${env.cpu}, nproc ${env.nproc}`,
    `- load average (1 / 5 / 15 min): ${load(env.load)} at start, ${load(loadavg())} at the end — shared cores, expect noise`,
    `- browser: headless Chromium ${report.chromium}`,
    ...ENGINES.map((e) => `- ${e}: ${[...report.details[e]].join('; ')}`),
    `- each row: ${opts.warmup} warm-up runs, then ${opts.runs} timed runs of input upload → inference → output readback`,
    '', '## Inference time, ms (median / p90)', '',
    ...timeTable(report), '',
    'ours/peer = our median ÷ the peer\'s median (below 1 means we are faster); the peers run float32 only, so',
    'our uint8 rows are divided by their float32 rows of the same size and thread count (vs f32)' + (report.rows.some((r) => r.na) ? '; n/a: this build of ours cannot run that many threads.' : '.'), '',
    '## Roof', '',
    `Peak f32x4 multiply-add throughput of this browser on this machine, 1 thread (hand-written wasm, ` +
      `${report.roof.chains} independent chains, best of 5): **${report.roof.gmacs.toFixed(2)} GMAC/s** with ` +
      `f32x4.mul + f32x4.add, ` + (report.roof.fused
      ? `**${report.roof.fused.toFixed(2)} GMAC/s** with f32x4.relaxed_madd (fused where the CPU has FMA).`
      : 'no relaxed SIMD in this browser.'),
    `Our layers are measured against the ${ourRoof(report).what} roof, the one their kernels can reach.`, '',
    ...report.profiles.flatMap((p) => [...layerTable(p, ourRoof(report)), '']),
  ];
  return out.join('\n');
}

/** The comparison with the peers (the default mode). */
async function compare(context, base, opts, site, env) {
  if (!site.hasModels) process.stderr.write('[bench] no official models found (set MOBILENET_SHARED): skipping the uint8 rows\n');
  const onRow = opts.json ? (row) => console.log(jsonLine(row)) : () => {};
  const report = await measure(context, base, opts, site.hasModels ? U8_CONFIGS : [], onRow);
  if (!opts.json) console.log(markdown(report, env, opts));
}

async function kernels(context, base, opts, site, env, builds) {
  const result = await measureKernels(context, base, opts, builds);
  console.log(opts.json ? kernelsJson(result, opts).join('\n') : kernelsReport(result, opts, builds));
}

async function quant(context, base, opts, site) {
  if (!site.hasModels) throw new Error('--quant needs the official models (set MOBILENET_SHARED)');
  const results = await measureQuant(context, base, opts);
  console.log(opts.json ? quantJson(results, opts).join('\n') : quantReport(results, opts));
  const differs = results.flatMap((r) => r.kernels.filter((k) => !k.exact).map((k) => `${r.model} ${k.name}`));
  if (differs.length) throw new Error(`output differs from TFLite's reference: ${differs.join(', ')}`);
}

async function main() {
  const opts = options(process.argv.slice(2));
  const env = machine();
  ensurePackage();
  const builds = opts.mode === 'kernels' ? kernelBuilds(opts) : [];
  const site = prepareSite(opts.mode === 'compare' ? FLOAT_CONFIGS : [], { builds: builds.map((b) => b.dir) });
  try {
    const browser = await openSite(site);
    try {
      const run = { compare, kernels, quant }[opts.mode];
      await run(browser.context, browser.url, opts, site, env, builds);
    } finally {
      await browser.close();
    }
  } finally {
    site.remove();
  }
}

main().catch((e) => {
  process.stderr.write(`[bench] FAILED: ${e.message}\n`);
  process.exit(1);
});
