// Times seeded float inference per kernel family in headless Chromium: median of --runs runs after
// --warmup warm-ups, then per-layer medians (Model.profile) with GMAC/s. Build first:
//   wasm-pack build --target web --release --out-dir pkg --no-pack
// Usage: NODE_PATH=<dir with playwright-core> node scripts/bench-kernels.mjs [--alpha 1] [--resolution 224]
//        [--runs 30] [--warmup 5] [--families scalar,simd128] [--pkg pkg[,other-build-dir…]]
// Several builds (comma-separated --pkg) run side by side in one page, each family of each build in turn.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

const require = createRequire(import.meta.url); // NODE_PATH applies to require, not to import
const { chromium } = require('playwright-core');

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const opts = {
  alpha: Number(arg('alpha', 1)),
  resolution: Number(arg('resolution', 224)),
  runs: Number(arg('runs', 30)),
  warmup: Number(arg('warmup', 5)),
  families: arg('families', 'scalar,simd128').split(','),
};
const pkgs = arg('pkg', 'pkg').split(',').map((p) => resolve(p));

// Cross-origin isolation gives performance.now() 5 µs resolution instead of 100 µs.
const server = createServer(async (req, res) => {
  const headers = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };
  const path = new URL(req.url, 'http://x').pathname;
  if (path === '/') return res.writeHead(200, { ...headers, 'Content-Type': 'text/html' }).end('<!doctype html>');
  const [, build, name] = path.match(/^\/(\d+)\/([\w.-]+)$/) ?? [];
  if (!pkgs[build]) return res.writeHead(404).end();
  try {
    const body = await readFile(join(pkgs[build], name));
    const type = name.endsWith('.wasm') ? 'application/wasm' : 'text/javascript';
    res.writeHead(200, { ...headers, 'Content-Type': type }).end(body);
  } catch {
    res.writeHead(404).end();
  }
});
await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;

const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'bench-')), {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
try {
  const page = browser.pages()[0] ?? (await browser.newPage());
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  await page.goto(url);
  const result = await page.evaluate(async (o) => {
    const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
    const input = new Float32Array(o.resolution * o.resolution * 3).map((_, i) => (i % 255) / 127.5 - 1);
    const models = [];
    for (let b = 0; b < o.builds; b++) {
      const mod = await import(`/${b}/mobilenet_wasm.js`);
      await mod.default();
      models.push(mod.Model.seeded(o.alpha, o.resolution, 1));
    }
    const layers = models[0].inspect().layers;
    const out = { isolated: crossOriginIsolated, runs: {}, layers: {} };
    const variants = models.flatMap((model, b) =>
      o.families.map((family) => ({ model, family, key: o.builds > 1 ? `${b}:${family}` : family })));
    // Variants take turns run by run, so load from other processes hits them alike.
    const times = Object.fromEntries(variants.map((v) => [v.key, []]));
    const profiles = Object.fromEntries(variants.map((v) => [v.key, []]));
    for (let i = 0; i < o.warmup + o.runs; i++) {
      for (const v of variants) {
        v.model.useKernels(v.family);
        const t0 = performance.now();
        v.model.run(input);
        const t = performance.now() - t0;
        if (i >= o.warmup) times[v.key].push(t);
      }
    }
    for (let i = 0; i < o.runs; i++) {
      for (const v of variants) {
        v.model.useKernels(v.family);
        profiles[v.key].push(v.model.profileFloat(input));
      }
    }
    for (const { key } of variants) {
      const t = times[key];
      out.runs[key] = { median: median(t), min: Math.min(...t), max: Math.max(...t) };
      out.layers[key] = layers.map((l, i) => ({
        name: l.name, op: l.op, macs: l.macs, ms: median(profiles[key].map((p) => p[i])),
        min: Math.min(...profiles[key].map((p) => p[i])),
      }));
    }
    return out;
  }, { ...opts, builds: pkgs.length });

  console.log(`α${opts.alpha}/${opts.resolution}, ${opts.runs} runs after ${opts.warmup} warm-ups, ` +
    `crossOriginIsolated=${result.isolated}, builds: ${pkgs.join(', ')}`);
  for (const [family, r] of Object.entries(result.runs)) {
    console.log(`${family.padEnd(10)} median ${r.median.toFixed(2)} ms  (min ${r.min.toFixed(2)}, max ${r.max.toFixed(2)})`);
  }
  for (const [family, layers] of Object.entries(result.layers)) {
    console.log(`\n${family}: per-layer medians`);
    const byOp = {};
    for (const l of layers) {
      const gmacs = l.macs / l.ms / 1e6;
      console.log(`${l.name.padEnd(22)}${l.op.padEnd(10)}${l.ms.toFixed(3).padStart(8)} ms` +
        `${(l.macs / 1e6).toFixed(1).padStart(8)} MMAC${l.macs ? gmacs.toFixed(1).padStart(7) + ' GMAC/s' : ''}`);
      const s = (byOp[l.op] ??= { ms: 0, min: 0, macs: 0 });
      s.ms += l.ms;
      s.min += l.min;
      s.macs += l.macs;
    }
    for (const [op, s] of Object.entries(byOp)) {
      const rate = s.macs ? ` ${(s.macs / s.ms / 1e6).toFixed(1)} GMAC/s` : '';
      console.log(`  total ${op.padEnd(10)}${s.ms.toFixed(2).padStart(8)} ms${rate}  (sum of per-layer minima ${s.min.toFixed(2)} ms)`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
