// The page is an app of the npm package: its modules import the wrapper (js/, served as www/js/) and never
// the wasm glue (pkg/) directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const WWW = new URL('../../www', import.meta.url).pathname;

test('www/*.js import only the wrapper and each other', () => {
  const files = readdirSync(WWW).filter((f) => f.endsWith('.js'));
  assert.ok(files.includes('app.js'));
  for (const file of files) {
    const source = readFileSync(join(WWW, file), 'utf8');
    // Static imports and re-exports (`… from '…'`), bare side-effect imports and dynamic import('…').
    const specifiers = [...source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)(['"`])([^'"`]+)\1/g)].map((m) => m[2]);
    for (const s of specifiers) {
      assert.match(s, /^\.\/(js\/index\.js|[a-z]+\.js)$/, `${file} imports ${s}`);
      assert.doesNotMatch(s, /pkg/, `${file} imports ${s}`);
    }
  }
  assert.match(readFileSync(join(WWW, 'app.js'), 'utf8'), /from '\.\/js\/index\.js'/);
});
