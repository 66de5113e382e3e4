// The one browser toolkit of this repo: the static server (COOP/COEP, strict CSP, wasm MIME type), headless
// Debian Chromium through playwright-core (never a downloaded browser) with one set of flags, and page
// helpers (open, wait until ready, collect console errors and requests leaving 127.0.0.1). Used by the dev
// server (scripts/serve.mjs), the end-to-end tests (tests/e2e/) and the benchmark (bench/).
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository, and the read-only data beside it ($MOBILENET_SHARED, or ../shared). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const SHARED = process.env.MOBILENET_SHARED ?? join(ROOT, '..', 'shared');

// ---------------------------------------------------------------------------------------------------------
// Static server

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.tflite': 'application/octet-stream',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.d.ts': 'text/plain; charset=utf-8',
};

/**
 * The headers of every response: cross-origin isolation (SharedArrayBuffer for wasm threads, and 5 µs
 * performance.now()), a strict Content-Security-Policy and the usual hardening. `allowBlobScripts` is for the
 * benchmark: TF.js's threaded wasm backend starts its pthread workers with importScripts() of blob: URLs,
 * which script-src 'self' alone blocks. `allowEval` is for the benchmark too: TFLite's wasm runtime
 * (Emscripten's embind) builds functions with `new Function`.
 */
export function securityHeaders({ allowBlobScripts = false, allowEval = false } = {}) {
  return {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
    'Cross-Origin-Resource-Policy': 'same-origin',
    'Content-Security-Policy': [
      "default-src 'self'",
      `script-src 'self' 'wasm-unsafe-eval'${allowEval ? " 'unsafe-eval'" : ''}${allowBlobScripts ? ' blob:' : ''}`,
      "style-src 'self'",
      "img-src 'self' data: blob:",
      "media-src 'self' blob: mediastream:",
      "connect-src 'self'",
      "worker-src 'self' blob:",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cache-Control': 'no-cache',
  };
}

/**
 * An http.Server (not yet listening) for the files below `root` (default www/): GET and HEAD only, no
 * escape from `root` (symbolic links inside it are followed, so a site can be a folder of links), `/` →
 * index.html, and the headers of securityHeaders() on every file and 404.
 */
export function createStaticServer({ root = join(ROOT, 'www'), allowBlobScripts = false, allowEval = false } = {}) {
  const base = resolve(root);
  const headers = securityHeaders({ allowBlobScripts, allowEval });
  // Every answer carries the same headers, errors included.
  const fail = (res, status, text, extra = {}) =>
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain', ...extra }).end(text);

  async function handle(req, res) {
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(res, 405, 'method not allowed', { Allow: 'GET, HEAD' });
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return fail(res, 400, 'bad request');
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return fail(res, 403, 'forbidden');
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return fail(res, 404, 'not found');
    const type = file.endsWith('.d.ts') ? TYPES['.d.ts'] : TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { ...headers, 'Content-Type': type, 'Content-Length': info.size });
    if (req.method === 'HEAD') return res.end();
    // pipeline() closes the file when the client goes away mid-download (pipe() kept it open: every aborted
    // model download leaked a descriptor until the server died of EMFILE) and when the read fails.
    pipeline(createReadStream(file), res, () => {});
  }

  return createServer((req, res) => {
    handle(req, res).catch((e) => {
      console.error(`serve: ${req.url}: ${e.message}`);
      if (!res.headersSent) res.writeHead(500, headers);
      res.end();
    });
  });
}

/**
 * createStaticServer() listening on `host`:`port` (0: a free port). Resolves to {url, port, server, close}
 * once it listens; `url` is `http://host:port/`. close() drops open connections too.
 */
export function serve({ port = 0, host = '127.0.0.1', ...options } = {}) {
  const server = createStaticServer(options);
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const actual = server.address().port;
      const close = () => new Promise((done) => {
        server.close(() => done());
        server.closeAllConnections();
      });
      resolvePromise({ url: `http://${host}:${actual}/`, port: actual, server, close });
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Chromium

/** Debian's Chromium ($CHROMIUM to use another binary). */
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/**
 * The flags of every launch (../shared/TOOLCHAIN.md): headless, no sandbox (we run as root), no GPU, and
 * nothing that talks to the network on its own (QUIC, first-run, background networking, component
 * updates, sync); /dev/shm may be small in containers. launch() adds a fresh --user-data-dir.
 */
export const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/**
 * Flags for a fake camera: `file` (.y4m) plays as the camera (else Chromium's test pattern), `devices`
 * cameras are listed (default 1), and the permission prompt is accepted, or denied with `allow: false`
 * (which denies every prompt).
 */
function cameraFlags({ file, devices, allow = true }) {
  return [
    devices ? `--use-fake-device-for-media-stream=device-count=${devices}` : '--use-fake-device-for-media-stream',
    ...(file ? [`--use-file-for-fake-video-capture=${file}`] : []),
    allow ? '--use-fake-ui-for-media-stream' : '--deny-permission-prompts',
  ];
}

/**
 * Headless Chromium in a fresh profile (removed by close()), with CHROMIUM_FLAGS, then the
 * fake camera's flags when `camera` is given ({file, devices, allow}: see cameraFlags), then `args` (any
 * other flags for the caller's purpose); other options go to playwright's launchPersistentContext.
 * Returns {context, page, close} plus watch() of the first page over the whole context:
 * {errors, outside, requests, problems, check}.
 */
export async function launch({ args = [], camera, viewport = { width: 1280, height: 900 }, ...options } = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mnw-chrome-'));
  // Best effort: a profile that Chromium still writes to is only a leftover in the temp folder.
  const removeProfile = () => {
    try {
      rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
    } catch {}
  };
  let context;
  try {
    // Imported here, so that the dev server (scripts/serve.mjs) does not load playwright.
    const { chromium } = await import('playwright-core');
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_FLAGS, ...(camera ? cameraFlags(camera) : []), ...args],
      viewport,
      ...options,
    });
  } catch (e) {
    removeProfile();
    throw e;
  }
  const page = context.pages()[0] ?? (await context.newPage());
  const close = async () => {
    await context.close();
    removeProfile();
  };
  return { context, page, close, ...watch(page, { context }) };
}

/**
 * serve() and launch() at once, for a test or a run that needs one of each: `root`, `allowBlobScripts`
 * and `allowEval` go to serve(), the rest to launch(). Returns launch()'s result plus the server's `url`
 * and `server`; close() closes the browser, then the server.
 */
export async function session({ root, allowBlobScripts, allowEval, ...launchOptions } = {}) {
  const server = await serve({ root, allowBlobScripts, allowEval });
  let browser;
  try {
    browser = await launch(launchOptions);
  } catch (e) {
    await server.close();
    throw e;
  }
  const close = async () => {
    await browser.close();
    await server.close();
  };
  return { ...browser, url: server.url, server, close };
}

// ---------------------------------------------------------------------------------------------------------
// Pages

/** Whether a request stays on this machine (127.0.0.1, localhost) or in the page (data:, blob:). */
export function isLocal(url) {
  const u = new URL(url);
  return ['127.0.0.1', 'localhost'].includes(u.hostname) || ['data:', 'blob:'].includes(u.protocol);
}

/**
 * Collects, as they happen, what a page did wrong: `errors` (console errors and uncaught exceptions of
 * `page`), `requests` (every URL requested by `page`, or by the whole `context` when given: its workers
 * and other pages too) and `outside` (those that are not isLocal). problems() lists them all as text;
 * check(what) throws with that list unless it is empty.
 */
export function watch(page, { context } = {}) {
  const errors = [];
  const requests = [];
  const outside = [];
  (context ?? page).on('request', (r) => {
    requests.push(r.url());
    if (!isLocal(r.url())) outside.push(r.url());
  });
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  const problems = () => [...errors, ...outside.map((u) => `request to ${u}`)];
  const check = (what) => {
    if (problems().length) throw new Error(`${what}: ${problems().join('; ')}`);
  };
  return { errors, requests, outside, problems, check };
}

/**
 * Waits until the page says it is ready: `ready` is a selector (e.g. 'body[data-ready="true"]') or a
 * function evaluated in the page until it returns a truthy value.
 */
export async function waitReady(page, ready, { timeout = 30_000 } = {}) {
  if (typeof ready === 'function') await page.waitForFunction(ready, null, { timeout });
  else await page.waitForSelector(ready, { timeout });
}

/**
 * A new page of `context` at `url`, watched from its first request (watch()), and ready (waitReady())
 * when `ready` is given. Returns {page, close, errors, outside, requests, problems, check}.
 */
export async function openPage(context, url, { ready, timeout } = {}) {
  const page = await context.newPage();
  const watched = watch(page);
  await page.goto(url);
  if (ready) await waitReady(page, ready, { timeout });
  return { page, close: () => page.close(), ...watched };
}
