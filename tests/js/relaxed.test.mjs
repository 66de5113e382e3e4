// The relaxed SIMD probe (js/engine.js): a hand-written module with one f32x4.relaxed_madd that an engine
// with relaxed SIMD validates and one without rejects; a corrupted opcode never validates. Node 20's V8
// has relaxed SIMD behind a flag (on by default from Node 22), which this test turns on. The browser side
// (Chromium picks the relaxed build) is in tests/e2e/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { RELAXED_PROBE, hasRelaxedSimd } from '../../js/engine.js';

const ROOT = new URL('../..', import.meta.url).pathname;
setFlagsFromString('--experimental-wasm-relaxed-simd'); // a no-op where it is on already

test('the probe validates where relaxed SIMD is on', () => {
  assert.equal(hasRelaxedSimd(), true);
  assert.equal(WebAssembly.validate(RELAXED_PROBE), true);
});

test('a corrupted probe does not validate', () => {
  const opcode = RELAXED_PROBE.length - 3; // 0xfd 0x85 0x02 = SIMD op 0x105 (LEB128), then `end`
  assert.deepEqual([...RELAXED_PROBE.slice(opcode - 1)], [0xfd, 0x85, 0x02, 0x0b]);
  // 0xfd 0x85 0x03 is SIMD op 0x185, which does not exist; a body without `end` is malformed.
  for (const [at, byte] of [[opcode + 1, 0x03], [RELAXED_PROBE.length - 1, 0x00]]) {
    const bad = RELAXED_PROBE.slice();
    bad[at] = byte;
    assert.equal(WebAssembly.validate(bad), false, `byte ${at} = ${byte}`);
  }
  // relaxed_madd takes three v128 operands: with two it is invalid.
  const two = new Uint8Array([...RELAXED_PROBE.slice(0, 20), 10, 11, 1, 9, 0, 32, 0, 32, 0, 253, 133, 2, 11]);
  assert.equal(WebAssembly.validate(new Uint8Array([...RELAXED_PROBE.slice(0, 20), 10, 11, 1, 9, 0, 32, 0, 32, 0, 253, 228, 1, 11])), true, 'the same with f32x4.add (0xe4) is valid');
  assert.equal(WebAssembly.validate(two), false);
});

test('the probe is what wat2wasm makes of its text', { skip: !hasWat2wasm() && 'no wat2wasm (apt wabt)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'mnw-probe-'));
  writeFileSync(join(dir, 'p.wat'),
    '(module (func (param v128) (result v128) local.get 0 local.get 0 local.get 0 f32x4.relaxed_madd))');
  execFileSync('wat2wasm', ['--enable-relaxed-simd', join(dir, 'p.wat'), '-o', join(dir, 'p.wasm')]);
  assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'p.wasm'))), RELAXED_PROBE);
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

function hasWat2wasm() {
  try {
    execFileSync('wat2wasm', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
