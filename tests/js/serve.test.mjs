// The dev server's command line (scripts/serve.mjs over scripts/lib/browser.mjs's server): it listens where
// asked, says where, and sends the isolation and CSP headers (the e2e tests check the rest in-process).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = new URL('../..', import.meta.url).pathname;

function start(args) {
  const child = spawn(process.execPath, [join(ROOT, 'scripts/serve.mjs'), '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
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
