// The multiply-add peak: a wasm module written byte by byte that runs CHAINS independent accumulators,
// each step acc = acc * m + c on f32x4 (4 multiply-adds), as one f32x4.mul and one f32x4.add, or as one
// f32x4.relaxed_madd. Enough chains cover the latency, so only the SIMD units' throughput limits it. The
// wrapper times both briefly to see whether relaxed SIMD pays on this engine (relaxedPays); the benchmark
// measures its roof with them (bench/page/roof.js).

// 12 accumulators + m + c fit x86-64's 16 xmm registers, and 12 steps in flight cover ~8 cycles of
// mul + add latency at two vector ops per cycle.
export const CHAINS = 12;
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

/** GMAC/s of one call of `peak` for `n` loop iterations. */
export function gmacs(peak, n) {
  return (n * CHAINS * MACS_PER_STEP) / (Math.max(elapsed(peak, n), 1e-3) * 1e6);
}

/** A module's `peak` export, compiled synchronously (the modules are a few hundred bytes). */
const peakOf = (bytes) => new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports.peak;

/** Whether this engine validates relaxed SIMD (the fused module is the probe). */
export const hasRelaxedSimd = () => WebAssembly.validate(peakModule({ fused: true }));

/**
 * Whether relaxed SIMD pays, from the ratio of its multiply-add rate to a multiply then an add: unless it
 * is clearly slower. The margin keeps noise from flipping the choice where both lower alike (a CPU
 * without FMA: about 1) and where relaxed wins (Chromium: 1.1-1.4); Firefox 153 measured 0.67-0.76 on AMD Zen, 1.12-1.41 on Intel Xeon.
 */
export const relaxedPays = (ratio) => ratio >= 0.85;

let verdict;

/** Pairs of timed calls, fused then unfused; the verdict takes the median ratio. */
const PAIRS = 7;
/** The coarsest clock step (ms) at which the two are still timed: finer than Chromium's 0.1 ms anywhere. */
const FINEST_COARSE_TICK = 0.5;

/**
 * {pays, ratio, fused, unfused, clock}: whether the relaxed SIMD build should run here; the median ratio
 * of the fused to the unfused multiply-add rate, the best rates in GMAC/s, and this page's clock step in ms
 * (rates null where relaxed SIMD does not validate or was not timed). Firefox 153 validates relaxed SIMD,
 * yet ran relaxed_madd at 17.5 GMAC/s against 23.3 unfused on our machine, and our relaxed .wasm 1.4x
 * slower than the plain one. Measured once per page: a warm-up call of each (the engine's optimizing tier
 * runs the later ones), then 7 pairs of calls of at least 3 ms and 20 clock steps, back to back, so a
 * burst of other work (the engine compiling in the background, another tab) spoils a pair, not the
 * verdict: about 50 ms. Where the clock steps by 0.5 ms or more (Firefox gives pages that are not
 * cross-origin isolated whole milliseconds) that would take a third of a second, so the plain build runs
 * untimed: never much slower than relaxed, and the choice that Firefox needs.
 */
export function relaxedVerdict() {
  if (verdict) return verdict;
  const untimed = (clock) => ({ pays: false, ratio: null, fused: null, unfused: null, clock });
  if (!hasRelaxedSimd()) return (verdict = untimed(null));
  const clock = clockTick();
  if (clock >= FINEST_COARSE_TICK) return (verdict = untimed(clock));
  const [fused, unfused] = [peakOf(peakModule({ fused: true })), peakOf(peakModule())];
  const span = Math.max(3, 20 * clock);
  let n = 1 << 14;
  for (let ms = elapsed(unfused, n); ms < span; ms = elapsed(unfused, n)) {
    n = ms < 10 * clock ? n * 4 : Math.ceil((n * 1.1 * span) / ms); // straight to the span once the clock can see it
  }
  elapsed(fused, n);
  const pairs = Array.from({ length: PAIRS }, () => [gmacs(fused, n), gmacs(unfused, n)]);
  const ratio = pairs.map(([f, u]) => f / u).sort((a, b) => a - b)[PAIRS >> 1];
  return (verdict = {
    pays: relaxedPays(ratio), ratio, clock,
    fused: Math.max(...pairs.map(([f]) => f)), unfused: Math.max(...pairs.map(([, u]) => u)),
  });
}

/** The step of performance.now() here: from one change of its value to the next. */
function clockTick() {
  const a = performance.now();
  let b = a;
  while (b === a) b = performance.now();
  let c = b;
  while (c === b) c = performance.now();
  return c - b;
}

/** ms of one call of `peak` for `n` loop iterations. */
export function elapsed(peak, n) {
  const t0 = performance.now();
  peak(n);
  return performance.now() - t0;
}
