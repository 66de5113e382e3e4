// `npm run bench`: the same MobileNet v1 with the same weights in ours, TensorFlow.js (wasm backend),
// ONNX Runtime Web, TFLite's own wasm runtime (@tensorflow/tfjs-tflite) and MediaPipe's ImageClassifier,
// in one headless Chromium run. Float rows at α1.0/224 and α0.25/128 on 1 and 2 threads; uint8 rows on
// the official files. Every engine's output is checked before it is timed (float: against ours; uint8:
// against TFLite's reference kernels). Prints a markdown report, or with --json one JSON line per row
// and round. Two more modes time our kernels alone: --kernels (bench/kernels.mjs) and --quant (bench/quant.mjs).
//
//   node bench/run.mjs [--json] [--runs N] [--warmup N] [--warmup-ms MS] [--rounds N] [--engines ours,npm,…]
//                      [--browser chromium|firefox|webkit]
//                      (default: 3 rounds of 50 runs, each after ≥ 3000 ms and ≥ 10 warm-up runs; in Firefox
//                      and WebKitGTK, through WebDriver, our rows only: float α1.0/224 and the official files)
//   node bench/run.mjs --kernels [--alpha A] [--resolution R] [--families f1,f2] [--pkg dir1,dir2]
//                      [--wasm plain,relaxed] [--runs N] [--warmup N] [--json]    (30 runs after 5)
//   node bench/run.mjs --quant [--layers] [--simd-only] [--runs N] [--warmup N] [--json]   (30 after 5)
import { availableParallelism, loadavg } from 'node:os';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  ENGINES, ROOT, TOLERANCE, U8_CONFIGS, agreement, ensurePackage, floatConfig, openEngine, openSite, openWebDriverSite, prepareSite,
  summarize, topK,
} from './harness.mjs';
import { kernelBuilds, kernelsJson, kernelsReport, measureKernels } from './kernels.mjs';
import { ENGINES as BROWSERS } from '../scripts/lib/webdriver.mjs';
import { measureQuant, quantJson, quantReport } from './quant.mjs';

const FLOAT_CONFIGS = [floatConfig(1.0, 224), floatConfig(0.25, 128)];
const THREADS = [1, 2];
const PROFILE_RUNS = 10;
/** Work outside the benchmark (in cores) above which a row is measured again, and how many tries it gets. */
const MAX_OTHER_LOAD = 0.1;
const LOAD_TRIES = 3;
const CLOCK_TICKS = 100; // USER_HZ: /proc's unit of CPU time on Linux

// Each mode's own flags, and its default run counts.
const MODES = {
  compare: { flags: ['rounds', 'warmup-ms', 'engines', 'browser'], runs: '50', warmup: '10' },
  kernels: { flags: ['alpha', 'resolution', 'families', 'pkg', 'wasm', 'browser'], runs: '30', warmup: '5' },
  quant: { flags: ['layers', 'simd-only'], runs: '30', warmup: '5' },
};

/** --engines: a subset of ENGINES, in their order; ours always (the float rows are checked against it). */
function engineList(names) {
  const stray = names.find((n) => !ENGINES.includes(n));
  if (stray) throw new Error(`--engines takes ${ENGINES.join(', ')}, not ${stray}`);
  if (!names.includes('ours')) throw new Error('--engines must include ours: the other engines are checked against it');
  return ENGINES.filter((e) => names.includes(e));
}

/** --browser: Chromium (every engine), or Firefox / WebKitGTK, where our rows run alone. */
function browserName(name, engines) {
  if (![...BROWSERS, 'chromium'].includes(name)) throw new Error(`--browser takes chromium, ${BROWSERS.join(', ')}, not ${name}`);
  if (name !== 'chromium' && engines && engines !== 'ours') throw new Error(`--browser ${name} runs ours only`);
  return name;
}

function options(args) {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: 'boolean', default: false }, runs: { type: 'string' }, warmup: { type: 'string' },
      kernels: { type: 'boolean', default: false }, quant: { type: 'boolean', default: false },
      alpha: { type: 'string' }, resolution: { type: 'string' }, families: { type: 'string' }, pkg: { type: 'string' },
      wasm: { type: 'string' }, layers: { type: 'boolean' }, 'simd-only': { type: 'boolean' },
      rounds: { type: 'string' }, 'warmup-ms': { type: 'string' }, engines: { type: 'string' }, browser: { type: 'string' },
    },
  });
  if (values.kernels && values.quant) throw new Error('--kernels and --quant are separate runs: pick one');
  const mode = values.kernels ? 'kernels' : values.quant ? 'quant' : 'compare';
  for (const [other, { flags }] of Object.entries(MODES)) {
    const stray = other === mode ? undefined : flags.find((f) => values[f] !== undefined && !MODES[mode].flags.includes(f));
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
    // compare
    rounds: number('rounds', 3, (n) => Number.isInteger(n) && n >= 1, 'a positive integer'),
    warmupMs: number('warmup-ms', 3000, (n) => Number.isFinite(n) && n >= 0, 'a number of ms ≥ 0'),
    engines: engineList(list('engines', ENGINES.join(','))),
    browser: browserName(values.browser ?? 'chromium', values.engines),
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

/** CPU time (utime + stime, ticks) and parent of every process, the machine's steal time, and the time. */
function cpuSample() {
  const procs = new Map();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from state (3rd) on
      procs.set(Number(pid), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended while we looked
    }
  }
  // cpu  user nice system idle iowait irq softirq steal: steal is time the hypervisor gave to other machines.
  const steal = Number(readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/)[8]);
  return { procs, steal, at: performance.now() };
}

/** The pids of `root` and all its descendants in a sample. */
function tree(procs, root) {
  const ours = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs) if (!ours.has(pid) && ours.has(p.ppid)) grew = ours.add(pid);
  }
  return ours;
}

/**
 * Cores' worth of CPU time spent outside this process tree (node and its Chromium) between two samples: the
 * other processes' own time, plus steal. Summed per process rather than machine minus ours, because one of our
 * processes that exits mid-row (a closed page's renderer) takes its whole lifetime's ticks with it.
 */
function otherLoad(a, b) {
  const ours = new Set([...tree(a.procs, process.pid), ...tree(b.procs, process.pid)]);
  let ticks = b.steal - a.steal;
  for (const [pid, p] of b.procs) if (!ours.has(pid)) ticks += p.ticks - (a.procs.get(pid)?.ticks ?? 0);
  return Math.max(0, ticks) / CLOCK_TICKS / ((b.at - a.at) / 1000);
}

function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU';
  return { date: new Date().toISOString(), load: loadavg(), nproc: availableParallelism(), cpu };
}

const label = (c) => `α${c.alpha.toFixed(2).replace(/0$/, '')}/${c.resolution} ${c.dtype}`;
const rowKey = (engine, cfg, threads) => ({ engine, alpha: cfg.alpha, resolution: cfg.resolution, dtype: cfg.dtype, threads });
const sameRow = (a, b) => a.engine === b.engine && a.alpha === b.alpha && a.resolution === b.resolution &&
  a.dtype === b.dtype && a.threads === b.threads;

/** The rows an engine runs: the float configurations everywhere; uint8 files only where TFLite files are read. */
const configsOf = (engine, floats, u8Configs) => (['ours', 'npm', 'tflite', 'mediapipe'].includes(engine) ? [...floats, ...u8Configs] : floats);

/**
 * Checks `output` before anything is timed; returns the row's max difference from TFLite's reference
 * (uint8 rows, in output steps) or from ours (float rows, in probability). Float rows must agree with ours
 * within TOLERANCE; on uint8 rows ours must equal the reference byte for byte, and the peers' (XNNPACK's
 * own requantization, MediaPipe's image path) difference is reported.
 */
function check(references, engine, threads, cfg, { output, reference, steps: scale }) {
  const name = label(cfg);
  if (cfg.dtype === 'u8') {
    // MediaPipe and the npm wrapper give dequantized probabilities (byte / 256); the others the bytes.
    const steps = scale ? output.map((p) => Math.round(p * scale)) : output;
    const maxDiff = Math.max(...reference.map((v, i) => Math.abs(v - steps[i])));
    if (output.length !== reference.length || !Number.isFinite(maxDiff)) throw new Error(`${engine} ${name}: ${output.length} outputs, not ${reference.length}`);
    if (['ours', 'npm'].includes(engine) && maxDiff !== 0) throw new Error(`ours ${name}: differs from TFLite's reference by up to ${maxDiff}`);
    if (topK(steps, 1)[0] !== topK(reference, 1)[0]) throw new Error(`${engine} ${name}: top-1 ${topK(steps, 1)} vs reference ${topK(reference, 1)}`);
    process.stderr.write(`[bench] ${engine} ${threads}t ${name}: max |diff| from TFLite's reference kernels ${maxDiff}\n`);
    return maxDiff;
  }
  if (!references.has(name)) {
    if (engine !== 'ours') throw new Error(`no reference output from ours for ${name}`);
    references.set(name, output);
    return 0;
  }
  const a = agreement(references.get(name), output);
  if (!a.ok) {
    throw new Error(`${engine} (${threads} thread(s)) disagrees with ours on ${name}: top-5 ${a.gotTop} vs ${a.wantTop}, ` +
      `max |prob diff| ${a.maxDiff.toExponential(2)} (tolerance ${TOLERANCE})`);
  }
  process.stderr.write(`[bench] ${engine} ${threads}t ${name}: top-5 ${a.gotTop} = ours, max |prob diff| ${a.maxDiff.toExponential(2)}\n`);
  return a.maxDiff;
}

/**
 * Times one row; repeats it (up to LOAD_TRIES times) while work outside this benchmark used more than
 * MAX_OTHER_LOAD of a core, and keeps the quietest attempt.
 */
async function timeRow(page, opts) {
  let best;
  for (let attempt = 1; attempt <= LOAD_TRIES; attempt++) {
    const before = cpuSample();
    const ms = await page.call('time', opts.warmup, opts.runs, opts.warmupMs);
    const other = otherLoad(before, cpuSample());
    if (!best || other < best.other) best = { ms, other, attempts: attempt };
    if (other <= MAX_OTHER_LOAD) break;
    process.stderr.write(`[bench] other work used ${other.toFixed(2)} of a core during the row: measuring it again\n`);
  }
  return best;
}

/** Every row of every round (measured or n/a), our per-layer profiles, the roof, and what each engine reported. */
async function measure(context, base, opts, u8Configs, onRow) {
  const report = { rounds: [], profiles: [], details: Object.fromEntries(ENGINES.map((e) => [e, new Set()])), roof: null,
    browser: context.browserVersion ?? null };
  const references = new Map();
  // Rounds interleave: every row once, then every row again, so drift on a shared machine hits all engines.
  for (let round = 1; round <= opts.rounds; round++) {
    const rows = [];
    report.rounds.push(rows);
    for (const threads of THREADS) {
      for (const engine of opts.engines) {
        const configs = configsOf(engine, opts.browser === 'chromium' ? FLOAT_CONFIGS : FLOAT_CONFIGS.slice(0, 1), u8Configs);
        process.stderr.write(`[bench] round ${round}: ${engine}, ${threads} thread(s)\n`);
        const page = await openEngine(context, base, engine, threads);
        if (!page) {
          rows.push(...configs.map((cfg) => ({ ...rowKey(engine, cfg, threads), na: true })));
          continue;
        }
        report.details[engine].add(page.detail);
        report.browser ??= `headless Chromium ${page.chromium}`;
        for (const cfg of configs) {
          if (!(await page.call('load', cfg))) {
            rows.push({ ...rowKey(engine, cfg, threads), na: true });
            continue;
          }
          const diff = check(references, engine, threads, cfg, await page.call('output'));
          const { ms, other, attempts } = await timeRow(page, opts);
          const row = { ...rowKey(engine, cfg, threads), ...summarize(ms), diff, other, attempts, round };
          rows.push(row);
          onRow(row);
          if (round === 1 && engine === 'ours' && threads === 1) {
            report.profiles.push({ cfg, median_ms: row.median_ms, layers: await page.call('profile', PROFILE_RUNS) });
          }
        }
        if (round === 1 && engine === 'ours' && threads === 1) report.roof = await page.call('roof');
        await page.close();
      }
    }
  }
  report.rows = mediansOfRounds(report.rounds);
  return report;
}

/** One row per engine and configuration: the median of its rounds' medians, and each round's median. */
function mediansOfRounds(rounds) {
  return rounds[0].map((first) => {
    const all = rounds.map((rows) => rows.find((r) => sameRow(r, first))).filter((r) => r && !r.na);
    if (first.na || !all.length) return first;
    const mid = summarize(all.map((r) => r.median_ms)).median_ms;
    return { ...first, median_ms: mid, p90_ms: summarize(all.map((r) => r.p90_ms)).median_ms, rounds: all.map((r) => r.median_ms),
      other: Math.max(...all.map((r) => r.other)), diff: Math.max(...all.map((r) => r.diff)) };
  });
}

const jsonLine = (r) => JSON.stringify({
  engine: r.engine, alpha: r.alpha, resolution: r.resolution, dtype: r.dtype, threads: r.threads, round: r.round,
  median_ms: +r.median_ms.toFixed(3), p90_ms: +r.p90_ms.toFixed(3), runs: r.runs, max_diff: r.diff, other_load: +r.other.toFixed(3),
});

const ms = (r) => (!r ? '—' : r.na ? 'n/a' : r.median_ms.toFixed(2));
const PEERS = ENGINES.filter((e) => !['ours', 'npm'].includes(e));

function timeTable(report) {
  const find = (engine, cfg, threads) => report.rows.find((r) => sameRow(r, rowKey(engine, cfg, threads)));
  const configs = [...FLOAT_CONFIGS, ...U8_CONFIGS].filter((c) => report.rows.some((r) => r.dtype === c.dtype && r.alpha === c.alpha));
  const lines = [`| configuration | threads | ours | ${PEERS.join(' | ')} | best peer | ours / best | npm (worker) | npm ÷ ours |`,
    `|---|---:|---:|${PEERS.map(() => '---:|').join('')}---|---:|---:|---:|`];
  const x = (a, b) => (a && b && !a.na && !b.na ? `${(a.median_ms / b.median_ms).toFixed(2)}×` : '—');
  for (const cfg of configs) {
    for (const t of THREADS) {
      const [ours, npm] = [find('ours', cfg, t), find('npm', cfg, t)];
      const peers = PEERS.map((e) => find(e, cfg, t));
      const best = peers.filter((p) => p && !p.na).sort((a, b) => a.median_ms - b.median_ms)[0];
      lines.push(`| ${label(cfg)} | ${t} | ${ms(ours)} | ${peers.map(ms).join(' | ')} | ${best?.engine ?? '—'} | ${x(ours, best)} | ${ms(npm)} | ${x(npm, ours)} |`);
    }
  }
  return lines;
}

/** Each round's median per row, and the work outside the benchmark during the row (in cores). */
function roundsTable(report) {
  const lines = ['| engine | configuration | threads | round medians (ms) | max other load | max diff |', '|---|---|---:|---|---:|---:|'];
  for (const r of report.rows.filter((r) => !r.na)) {
    const diff = r.dtype === 'u8' ? `${r.diff} (vs reference)` : r.diff.toExponential(1);
    lines.push(`| ${r.engine} | ${label(r)} | ${r.threads} | ${r.rounds.map((m) => m.toFixed(2)).join(', ')} | ${r.other.toFixed(2)} | ${diff} |`);
  }
  return lines;
}

/** What the targets read off: 2-thread scaling, and ours uint8 against ours float. */
function oursTable(report) {
  const find = (cfg, t) => report.rows.find((r) => sameRow(r, rowKey('ours', cfg, t)));
  const lines = ['| configuration | 1 thread ÷ 2 threads | uint8 ÷ float32 (1 thread) | (2 threads) |', '|---|---:|---:|---:|'];
  for (const cfg of FLOAT_CONFIGS) {
    const u8 = U8_CONFIGS.find((c) => c.alpha === cfg.alpha && c.resolution === cfg.resolution);
    const x = (a, b) => (a && b && !a.na && !b.na ? `${(a.median_ms / b.median_ms).toFixed(2)}` : '—');
    lines.push(`| ${label(cfg)} | ${x(find(cfg, 1), find(cfg, 2))} | ${x(find(u8, 1), find(cfg, 1))} | ${x(find(u8, 2), find(cfg, 2))} |`);
    lines.push(`| ${label(u8)} | ${x(find(u8, 1), find(u8, 2))} | | |`);
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
    `- load average (1 / 5 / 15 min): ${load(env.load)} at start, ${load(loadavg())} at the end`,
    `- browser: ${report.browser}`,
    ...ENGINES.map((e) => `- ${e}: ${[...report.details[e]].join('; ') || 'did not run'}`),
    `- each row: a warm-up of at least ${opts.warmupMs / 1000} s and ${opts.warmup} runs, then ${opts.runs} timed runs of input ` +
      `upload → inference → output readback; ${opts.rounds} interleaved rounds, each row's median is the median of its ` +
      `rounds' medians; a row during which other work used more than ${MAX_OTHER_LOAD} of a core is measured again ` +
      `(up to ${LOAD_TRIES} times, the quietest kept)`,
    '- float32 rows: the seeded network (same weights everywhere: folded weights for tfjs and ort, our .tflite file ' +
      'for tflite and mediapipe), checked against ours (probability within 1e-5, same top-5); uint8 rows: the official ' +
      'files on cat.bmp\'s reference input tensor, checked against TFLite\'s reference kernels (ours must equal them)',
    '', '## Inference time, ms (median of round medians)', '',
    ...timeTable(report), '',
    'ours / best = our median ÷ the fastest peer\'s median on the same row (below 1: we are faster); n/a: the engine ' +
      'cannot run that row (MediaPipe: 1 thread only, one file per classifier; tfjs and ort: no uint8 TFLite files). ' +
      'ours: the .wasm called on the page\'s thread; npm (worker): the same engine through the npm wrapper with the ' +
      'engine in a Web Worker (load({modelBytes}) → infer(pixels)), as an app runs it.', '',
    '## Ours: thread scaling and uint8 against float32', '',
    ...oursTable(report), '',
    '## Rounds, load and output checks', '',
    ...roundsTable(report), '',
    '## Roof', '',
    `Peak f32x4 multiply-add throughput of this browser on this machine, 1 thread (hand-written wasm, ` +
      `${report.roof.chains} independent chains, best of 5): **${report.roof.gmacs.toFixed(2)} GMAC/s** with ` +
      `f32x4.mul + f32x4.add, ` + (report.roof.fused
      ? `**${report.roof.fused.toFixed(2)} GMAC/s** with f32x4.relaxed_madd (fused where the CPU has FMA).`
      : 'no relaxed SIMD in this browser.'),
    `Our layers are measured against the ${ourRoof(report).what} roof, the one their float kernels can reach ` +
      '(uint8 layers too, for scale: their integer kernels have a roof of their own).', '',
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
  if (opts.browser !== 'chromium') opts.engines = ['ours'];
  const env = machine();
  ensurePackage();
  const builds = opts.mode === 'kernels' ? kernelBuilds(opts) : [];
  const site = prepareSite(opts.mode === 'compare' ? FLOAT_CONFIGS : [], { builds: builds.map((b) => b.dir) });
  try {
    const browser = opts.browser === 'chromium' ? await openSite(site) : await openWebDriverSite(site, opts.browser);
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
