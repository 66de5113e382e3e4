// The roof: peak f32x4 multiply-add throughput of this browser on this machine, one thread, from the
// package's peak module (js/peak.js): one f32x4.mul and one f32x4.add per step (the ceiling of kernels
// without fused multiply-add), or one f32x4.relaxed_madd (relaxed SIMD: a fused multiply-add where the
// CPU has one, the ceiling of our relaxed build).
import { CHAINS, elapsed, gmacs, peakModule } from '/js/peak.js';

/** GMAC/s of `module`: best of `repeats` calls of at least `minMs` each. */
async function peakGmacs(module, minMs, repeats) {
  const { instance } = await WebAssembly.instantiate(module);
  const peak = instance.exports.peak;
  let n = 1 << 16;
  while (elapsed(peak, n) < minMs) n *= 2;
  let best = 0;
  for (let i = 0; i < repeats; i++) best = Math.max(best, gmacs(peak, n));
  return best;
}

/** {gmacs (mul + add), fused (relaxed_madd; null without relaxed SIMD), chains}. */
export async function measureRoof({ minMs = 100, repeats = 5 } = {}) {
  const unfused = await peakGmacs(peakModule(), minMs, repeats);
  const fusedModule = peakModule({ fused: true });
  const fused = WebAssembly.validate(fusedModule) ? await peakGmacs(fusedModule, minMs, repeats) : null;
  return { gmacs: unfused, fused, chains: CHAINS };
}
