// The integer path in headless Chromium, one thread: the official 0.25/128 model and the 1.0/224 extractor + head
// chain, kernel family "scalar-u8" against "simd128-u8" on the same loaded model. Median of --runs timed runs after
// --warmup untimed ones, plus ms and GMAC/s per layer type (medians of profiled runs).
//
//   wasm-pack build --target web --release --out-dir pkg --no-pack
//   NODE_PATH=/path/to/node_modules node scripts/bench-quant.mjs [--runs 30] [--warmup 5] [--layers] [--simd-only]
//
// Needs playwright-core (found through NODE_PATH), /usr/bin/chromium and the models in $MOBILENET_SHARED (../shared).
import { spawn } from 'node:child_process';
import { mkdtempSync, symlinkSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const { chromium } = createRequire(import.meta.url)('playwright-core');
const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));
const shared = resolve(process.env.MOBILENET_SHARED ?? join(repo, '..', 'shared'));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const families = process.argv.includes('--simd-only') ? ['simd128-u8'] : ['scalar-u8', 'simd128-u8'];
const options = { runs: arg('runs', 30), warmup: arg('warmup', 5), families };
const showLayers = process.argv.includes('--layers');

// The served root: the page, the package and the shared data, linked (serve.mjs follows links).
const root = mkdtempSync(join(tmpdir(), 'bench-quant-'));
symlinkSync(join(repo, 'scripts', 'bench-quant', 'index.html'), join(root, 'index.html'));
symlinkSync(join(repo, 'scripts', 'bench-quant', 'bench.js'), join(root, 'bench.js'));
symlinkSync(join(repo, 'pkg'), join(root, 'pkg'));
symlinkSync(join(shared, 'models'), join(root, 'models'));
symlinkSync(join(shared, 'reference', 'inputs'), join(root, 'inputs'));
symlinkSync(join(shared, 'reference', 'outputs'), join(root, 'outputs'));

const server = spawn(process.execPath, [join(repo, 'scripts', 'serve.mjs'), '--root', root, '--port', '0']);
const url = await new Promise((ok, fail) => {
  server.stdout.on('data', (d) => {
    const m = /http:\/\/[\d.]+:\d+\//.exec(String(d));
    if (m) ok(m[0]);
  });
  server.on('exit', (code) => fail(new Error(`serve.mjs exited with ${code}`)));
});

const context = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'bench-quant-profile-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => console.error(`[page] ${m.text()}`));
  await page.goto(url);
  await page.waitForFunction(() => window.bench !== undefined);
  const results = await page.evaluate((o) => window.bench(o), options);
  print(results);
} finally {
  await context.close();
  server.kill();
  rmSync(root, { recursive: true, force: true });
}

function print(results) {
  console.log(`headless Chromium, 1 thread, median of ${options.runs} runs after ${options.warmup} warm-ups`);
  for (const r of results) {
    console.log(`\n${r.model} (${(r.macs / 1e6).toFixed(1)} MMAC)`);
    for (const k of r.kernels) {
      const ops = k.ops.map((o) => `${o.op} ${o.ms.toFixed(2)} ms ${o.gmacs.toFixed(1)} GMAC/s`).join(', ');
      console.log(`  ${k.name.padEnd(11)} median ${k.median.toFixed(2)} ms  p90 ${k.p90.toFixed(2)} ms  ` +
        `${(r.macs / k.median / 1e6).toFixed(1)} GMAC/s  output ${k.exact ? 'equals the reference' : 'DIFFERS'}`);
      console.log(`  ${''.padEnd(11)} ${ops}`);
      if (!showLayers) continue;
      for (const l of k.layers) {
        const rate = l.ms > 0 ? (l.macs / l.ms / 1e6).toFixed(1) : '-';
        console.log(`    ${l.name.padEnd(24)} ${l.ms.toFixed(3).padStart(7)} ms ${rate.padStart(6)} GMAC/s`);
      }
    }
  }
}
