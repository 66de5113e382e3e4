// The dev server for www/ (`npm start`, `npm run serve`): scripts/lib/browser.mjs's static server, with
// cross-origin isolation headers (needed for wasm threads), a strict Content-Security-Policy, correct MIME
// types (application/wasm for streaming compile) and no directory escapes.
// Usage: node scripts/serve.mjs [--port N] [--root DIR] [--allow-blob-scripts]; PORT and HOST env vars also
// work. Prints `mobilenet-wasm: serving DIR at http://HOST:PORT/` once it listens.
import { join, resolve } from 'node:path';
import { ROOT, serve } from './lib/browser.mjs';

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
};
const root = resolve(arg('root', join(ROOT, 'www')));
const portText = String(arg('port', process.env.PORT ?? 8080));
const port = Number(portText);
const host = process.env.HOST ?? '127.0.0.1';
if (!/^\d+$/.test(portText) || port > 65535) {
  console.error(`serve: --port (or PORT) must be a whole number from 0 to 65535, got ${JSON.stringify(portText)}`);
  process.exit(2);
}
const allowBlobScripts = process.argv.includes('--allow-blob-scripts');

try {
  const { url } = await serve({ root, port, host, allowBlobScripts });
  console.log(`mobilenet-wasm: serving ${root} at ${url}`);
} catch (e) {
  console.error(`serve: cannot listen on ${host}:${port}: ${e.message}`);
  process.exit(1);
}
