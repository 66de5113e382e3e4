// The roof: peak f32x4 multiply-add throughput of this browser on this machine, one thread. A wasm
// module written byte by byte (no toolchain needed) runs CHAINS independent accumulators, each step
// acc = acc * m + c, 4 multiply-adds: one f32x4.mul and one f32x4.add (the ceiling of kernels without
// fused multiply-add), or one f32x4.relaxed_madd (relaxed SIMD: a fused multiply-add where the CPU has
// one, the ceiling of our relaxed build). Enough chains cover the latency, so only the SIMD units'
// throughput limits it.

// 12 accumulators + m + c fit x86-64's 16 xmm registers, and 12 steps in flight cover ~8 cycles of
// mul + add latency at two vector ops per cycle.
const CHAINS = 12;
const MACS_PER_STEP = 4;

const leb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const section = (id, bytes) => [id, ...leb(bytes.length), ...bytes];
const f32x4Const = (v) => [0xfd, 0x0c, ...Array(4).fill([...new Uint8Array(new Float32Array([v]).buffer)]).flat()];

const OP = {
  localGet: 0x20, localSet: 0x21, localTee: 0x22, loop: 0x03, blockVoid: 0x40, brIf: 0x0d, end: 0x0b,
  i32Const: 0x41, i32Sub: 0x6b, f32x4Mul: [0xfd, 0xe6, 0x01], f32x4Add: [0xfd, 0xe4, 0x01],
  f32x4RelaxedMadd: [0xfd, 0x85, 0x02], // 0x105: a·b + c
  f32x4ExtractLane: [0xfd, 0x1f], v128: 0x7b, i32: 0x7f, f32: 0x7d,
};

/**
 * `peak(n: i32) -> f32`: n loop iterations of CHAINS steps; returns a lane of the sum so no work is dead.
 * `fused`: each step is one f32x4.relaxed_madd instead of f32x4.mul + f32x4.add.
 */
export function peakModule({ fused = false } = {}) {
  const n = 0;
  const acc = (i) => 1 + i;
  const m = 1 + CHAINS;
  const c = 2 + CHAINS;
  const body = [
    1, ...leb(CHAINS + 2), OP.v128, // locals: the accumulators (zero), m, c
    ...f32x4Const(0.5), OP.localSet, m,
    ...f32x4Const(1.0), OP.localSet, c, // acc → 2: no overflow, no denormals
    OP.loop, OP.blockVoid,
    ...Array.from({ length: CHAINS }, (_, i) => (fused
      ? [OP.localGet, acc(i), OP.localGet, m, OP.localGet, c, ...OP.f32x4RelaxedMadd, OP.localSet, acc(i)]
      : [OP.localGet, acc(i), OP.localGet, m, ...OP.f32x4Mul, OP.localGet, c, ...OP.f32x4Add, OP.localSet, acc(i)]
    )).flat(),
    OP.localGet, n, OP.i32Const, 1, OP.i32Sub, OP.localTee, n, OP.brIf, 0,
    OP.end,
    OP.localGet, acc(0),
    ...Array.from({ length: CHAINS - 1 }, (_, i) => [OP.localGet, acc(i + 1), ...OP.f32x4Add]).flat(),
    ...OP.f32x4ExtractLane, 0,
    OP.end,
  ];
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, OP.i32, 1, OP.f32]), // type: (i32) -> f32
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, name.length, ...name, 0x00, 0]), // export "peak" = function 0
    ...section(10, [1, ...leb(body.length), ...body]),
  ]);
}

/** GMAC/s of `module`: best of `repeats` calls of at least `minMs` each. */
async function peakGmacs(module, minMs, repeats) {
  const { instance } = await WebAssembly.instantiate(module);
  const peak = instance.exports.peak;
  let n = 1 << 16;
  const timed = () => {
    const t0 = performance.now();
    peak(n);
    return performance.now() - t0;
  };
  while (timed() < minMs) n *= 2;
  let best = Infinity;
  for (let i = 0; i < repeats; i++) best = Math.min(best, timed());
  return (n * CHAINS * MACS_PER_STEP) / (best * 1e6);
}

/** {gmacs (mul + add), fused (relaxed_madd; null without relaxed SIMD), chains}. */
export async function measureRoof({ minMs = 100, repeats = 5 } = {}) {
  const gmacs = await peakGmacs(peakModule(), minMs, repeats);
  const fusedModule = peakModule({ fused: true });
  const fused = WebAssembly.validate(fusedModule) ? await peakGmacs(fusedModule, minMs, repeats) : null;
  return { gmacs, fused, chains: CHAINS };
}
