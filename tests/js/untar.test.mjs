// The tiny tar reader behind `npm run fetch-models`, on archives made here by GNU tar (the download
// itself is never run by tests).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { untar } from '../../scripts/fetch-models.mjs';

test('untar reads files, nested and long (GNU) names, sizes not a multiple of 512', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-tar-'));
  const deep = join('m', 'x'.repeat(90), 'y'.repeat(40));
  mkdirSync(join(dir, deep), { recursive: true });
  const model = Buffer.from(Array.from({ length: 1300 }, (_, i) => i % 251));
  writeFileSync(join(dir, 'm', 'mobilenet_v1_0.25_128_quant.tflite'), model);
  writeFileSync(join(dir, deep, 'labels.txt'), 'background\ntench\n');
  execFileSync('tar', ['-czf', join(dir, 'a.tgz'), '-C', dir, 'm']);
  const files = new Map([...untar(gunzipSync(readFileSync(join(dir, 'a.tgz'))))].map((f) => [f.name, f.data]));
  assert.ok(model.equals(files.get('m/mobilenet_v1_0.25_128_quant.tflite')));
  assert.equal(new TextDecoder().decode(files.get(`${deep}/labels.txt`)), 'background\ntench\n');
});
