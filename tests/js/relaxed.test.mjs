// Relaxed SIMD, detected and measured (js/peak.js): the fused peak module validates only where relaxed SIMD
// is on, a corrupted opcode never validates, and the relaxed build runs only where its multiply-add is not
// slower than a multiply then an add. Node 20's V8 has relaxed SIMD behind a flag (on by default from Node
// 22), which this test turns on. The browsers' side (Chromium relaxed, Firefox and WebKitGTK plain, each with
// its reason) is in tests/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { hasRelaxedSimd, peakModule, relaxedPays, relaxedVerdict } from '../../js/peak.js';

const ROOT = new URL('../..', import.meta.url).pathname;
setFlagsFromString('--experimental-wasm-relaxed-simd'); // a no-op where it is on already
const RELAXED_MADD = [0xfd, 0x85, 0x02]; // SIMD op 0x105 (LEB128)

test('the fused peak module validates where relaxed SIMD is on; the unfused one has no relaxed op', () => {
  assert.equal(hasRelaxedSimd(), true);
  const fused = peakModule({ fused: true });
  assert.ok(Buffer.from(fused).indexOf(Buffer.from(RELAXED_MADD)) > 0);
  assert.equal(Buffer.from(peakModule()).indexOf(Buffer.from(RELAXED_MADD)), -1);
  assert.equal(WebAssembly.validate(peakModule()), true);
});

test('a corrupted relaxed opcode does not validate', () => {
  const bad = peakModule({ fused: true });
  const at = Buffer.from(bad).indexOf(Buffer.from(RELAXED_MADD));
  bad[at + 2] = 0x03; // SIMD op 0x185 does not exist
  assert.equal(WebAssembly.validate(bad), false);
});

test('relaxed SIMD pays unless its multiply-add is clearly slower than a multiply then an add', () => {
  // This machine's roofs (GMAC/s, fused / unfused): Chromium 156 29.3 / 23.5, Firefox 153 17.5 / 23.3.
  assert.equal(relaxedPays(29.3 / 23.5), true);
  assert.equal(relaxedPays(17.5 / 23.3), false);
  // Equal rates (no FMA: both lower to a multiply and an add) keep relaxed, whichever way noise goes.
  assert.equal(relaxedPays(0.9), true);
  const v = relaxedVerdict();
  assert.ok(v.fused > 0 && v.unfused > 0 && v.ratio > 0, JSON.stringify(v));
  assert.equal(v.pays, relaxedPays(v.ratio));
  assert.equal(relaxedVerdict(), v, 'measured once');
});

test('the relaxed builds sit next to the plain ones and use relaxed_madd', () => {
  for (const dir of ['pkg', 'pkg-threads']) {
    const file = join(ROOT, dir, 'mobilenet_wasm_relaxed_bg.wasm');
    if (dir === 'pkg-threads' && !existsSync(join(ROOT, dir))) continue; // MOBILENET_BUILD=simd
    const bytes = readFileSync(file);
    assert.ok(WebAssembly.validate(bytes), file);
    // f32x4.relaxed_madd is 0xfd 0x85 0x02.
    assert.ok(bytes.indexOf(Buffer.from([0xfd, 0x85, 0x02])) >= 0, `${file} has no relaxed_madd`);
  }
});
