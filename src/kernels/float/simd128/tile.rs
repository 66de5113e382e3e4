//! The register tile the pointwise GEMM and the stem conv share: R rows (pixels) x 8 output channels in
//! 2·R f32x4 accumulators, fed one input channel at a time by broadcasting each row's input value
//! (`v128.load32_splat`, one `vbroadcastss` from memory on x86) against the block's two weight vectors.

use super::{madd, store8, Bounds};
use crate::kernels::float::pack::BLOCK;
use core::arch::wasm32::*;

struct Tile<const R: usize> {
    lo: [v128; R],
    hi: [v128; R],
}

impl<const R: usize> Tile<R> {
    /// Every row's sums start at zero (the bias is added last, as in TFLite's reference kernels).
    #[inline(always)]
    fn new() -> Self {
        Tile { lo: [f32x4_splat(0.0); R], hi: [f32x4_splat(0.0); R] }
    }

    /// acc[r] += Σ_{i < k} a[r][i]·w[i], where w[i] is the i-th row of 8 weights; returns `w` past them.
    ///
    /// # Safety
    /// Each `a[r]` must be readable for `k` floats and `w` for `k`·8.
    #[inline(always)]
    unsafe fn madd_rows(&mut self, a: [*const f32; R], k: usize, w: *const f32) -> *const f32 {
        let (mut a, mut w) = (a, w);
        // SAFETY: `i < k` bounds every offset as the caller promised.
        unsafe {
            for _ in 0..k {
                let (w0, w1) = (v128_load(w.cast()), v128_load(w.add(4).cast()));
                for ((a, lo), hi) in a.iter_mut().zip(&mut self.lo).zip(&mut self.hi) {
                    let x = v128_load32_splat(a.cast());
                    *lo = madd(*lo, x, w0);
                    *hi = madd(*hi, x, w1);
                    *a = a.add(1);
                }
                w = w.add(BLOCK);
            }
        }
        w
    }

    /// Adds the biases (`bias`: 8 floats), clamps and stores the first `nc` (≤ 8) channels of row r at `c[r]`.
    ///
    /// # Safety
    /// `bias` must be readable for 8 floats, each `c[r]` writable for `nc` floats.
    #[inline(always)]
    unsafe fn store(&self, bias: *const f32, c: [*mut f32; R], nc: usize, bounds: Bounds) {
        // SAFETY: the caller's promise.
        let (b0, b1) = unsafe { (v128_load(bias.cast()), v128_load(bias.add(4).cast())) };
        for ((c, lo), hi) in c.into_iter().zip(self.lo).zip(self.hi) {
            // SAFETY: the caller's promise.
            unsafe { store8(c, bounds.apply(f32x4_add(lo, b0)), bounds.apply(f32x4_add(hi, b1)), nc) };
        }
    }
}

/// out[r][..nc] = clamp(Σ_s Σ_{i<k} a[s][r][i]·w_s[i] + bias) for R rows: S segments of k inputs per
/// row (the stem's nine taps, the pointwise's one pixel) against one packed block, whose weight rows
/// follow its biases in segment order. Row r is stored at c + r·cout.
///
/// # Safety
/// Each `a[s][r]` must be readable for `k` floats, `block` for (S·k + 1)·8 floats, and `c` writable
/// for R rows of `nc` (≤ 8) floats `cout` apart.
#[inline(always)]
pub(super) unsafe fn gemm<const R: usize, const S: usize>(
    a: [[*const f32; R]; S],
    k: usize,
    block: *const f32,
    c: *mut f32,
    cout: usize,
    nc: usize,
    bounds: Bounds,
) {
    // SAFETY: segment s reads block rows 1 + s·k .. 1 + (s + 1)·k, inside the block; the rest is the
    // caller's promise.
    unsafe {
        let mut t = Tile::<R>::new();
        let mut w = block.add(BLOCK);
        for rows in a {
            w = t.madd_rows(rows, k, w);
        }
        t.store(block, core::array::from_fn(|r| c.add(r * cout)), nc, bounds);
    }
}
