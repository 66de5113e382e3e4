// The dev server's command line (scripts/serve.mjs over scripts/lib/browser.mjs's server): it listens where
// asked, says where, and sends the isolation and CSP headers (the e2e tests check the rest in-process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { request } from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

// `fdLimit`: run it under `ulimit -n`, as a small container would.
function start(args, { fdLimit } = {}) {
  const command = [process.execPath, join(ROOT, 'scripts/serve.mjs'), '--port', '0', ...args];
  const child = fdLimit
    ? spawn('sh', ['-c', `ulimit -n ${fdLimit} && exec "$@"`, 'sh', ...command], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (text) => {
      const m = text.match(/ at (http:\/\/127\.0\.0\.1:\d+\/)$/m);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve.mjs exited with ${code}`)));
  });
  return { child, url };
}

test('serve.mjs serves --root with COOP/COEP and a strict CSP; --allow-blob-scripts adds blob: scripts', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-serve-'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>x</title>');
  for (const [args, blob] of [[[], false], [['--allow-blob-scripts'], true]]) {
    const server = start(['--root', root, ...args]);
    try {
      const res = await fetch(await server.url);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '<!doctype html><title>x</title>');
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
      const scripts = res.headers.get('content-security-policy').match(/script-src [^;]*/)[0];
      assert.equal(scripts, `script-src 'self' 'wasm-unsafe-eval'${blob ? ' blob:' : ''}`);
      assert.equal((await fetch(new URL('missing.js', await server.url))).status, 404);
    } finally {
      server.child.kill();
    }
  }
});

// GET `url` and hang up as soon as the headers arrive, as a user who cancels a model download.
const abortedGet = (url) => new Promise((resolve, reject) => {
  const req = request(url, (res) => {
    res.destroy();
    req.destroy();
    resolve(res.statusCode);
  });
  req.on('error', (e) => (e.code === 'ECONNRESET' ? resolve(null) : reject(e)));
  req.end();
});

test('aborted downloads leave no file open: 300 of them under ulimit -n 64, then the server still answers', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-serve-'));
  writeFileSync(join(root, 'model.tflite'), Buffer.alloc(8 << 20, 7)); // larger than one read
  const server = start(['--root', root], { fdLimit: 64 });
  try {
    const url = new URL('model.tflite', await server.url);
    for (let i = 0; i < 300; i++) assert.equal(await abortedGet(url), 200, `download ${i}`);
    await new Promise((r) => setTimeout(r, 200)); // let the server see the last hang-ups
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.equal((await res.arrayBuffer()).byteLength, 8 << 20);
    assert.equal(server.child.exitCode, null, 'the server is still running');
  } finally {
    server.child.kill();
  }
});

test('errors carry the same security headers as files', async () => {
  const root = mkdtempSync(join(tmpdir(), 'mnw-serve-'));
  const server = start(['--root', root]);
  try {
    const base = await server.url;
    const answers = [
      [await fetch(base, { method: 'POST' }), 405],
      [await fetch(new URL('/%E0%A4%A', base)), 400],
      [await fetch(new URL('/..%2F..%2Fetc%2Fpasswd', base)), 403],
      [await fetch(new URL('/missing.js', base)), 404],
    ];
    for (const [res, status] of answers) {
      assert.equal(res.status, status);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin', `${status}`);
      assert.match(res.headers.get('content-security-policy'), /default-src 'self'/, `${status}`);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', `${status}`);
    }
  } finally {
    server.child.kill();
  }
});

test('a bad --port is one line on stderr and exit 2, not a stack trace', () => {
  for (const port of ['abc', '-1', '70000', '1.5']) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', port], { encoding: 'utf8' });
    assert.equal(r.status, 2, `${port}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /--port .* must be a whole number/);
  }
});
