//! SIMD128 kernels for wasm32 builds with `+simd128`: a 4x8 register-tiled GEMM for 1x1 convolutions,
//! a depthwise 3x3 that reads its taps through pointers (padding points at a zero pixel), the stem conv
//! vectorized over output channels, and a vectorized global average pool.
//!
//! Every kernel sums in the same order as its scalar twin (taps or input channels in order from zero, then
//! the bias, as TFLite's reference kernels do, so float models match them bit for bit natively). In the plain build (`+simd128`) each step is a multiply then an add, so the two families
//! agree bit for bit (tests/web.rs checks a whole network); the only difference is that padding taps add
//! 0·w where the scalar twin skips them, which can only change the sign of a zero.
//!
//! Relaxed builds (`+simd128,+relaxed-simd`, the `*_relaxed_bg.wasm` files the JS wrapper loads where the
//! browser has relaxed SIMD) are a different family, "relaxed-simd128": every multiply-add in the conv and
//! pointwise kernels is one `f32x4.relaxed_madd`, which the engine may fuse (one rounding instead of two,
//! where the CPU has FMA) or not. Results are then within rounding of the scalar twin, not bit-identical
//! (tests/web_kernels.rs bounds the difference). The depthwise kernel keeps its multiply then add: fused,
//! it ran 15% slower on one thread and 3x slower on two in Chromium 156 (its nine taps form one
//! dependent chain per vector). The pool has no multiply-add and the integer (uint8) kernels use no
//! relaxed instruction: all three stay exact.
//!
//! Memory safety: each public kernel asserts, once per call, that its slices and packed weights have the
//! sizes the loops rely on (the engine checks the same sizes at plan time, so these never fire there);
//! the `unsafe` blocks only do raw-pointer SIMD loads and stores inside those asserted bounds.

mod conv;
mod depthwise;
pub mod fma;
mod pointwise;
mod pool;
mod tile;

pub use conv::conv;
pub use depthwise::depthwise;
pub use pointwise::{pointwise, pointwise_tiled};
pub use pool::global_avg_pool;

use super::pack::{Blocked, BLOCK};
use super::{Clamp, FloatLayer, KernelSet};
use crate::error::Error;
use crate::kernels::{source, Geometry, Packed};
use core::arch::wasm32::*;
use std::sync::Arc;

/// This family's name: "simd128", or "relaxed-simd128" in relaxed builds, whose multiply-adds may fuse.
#[cfg(not(target_feature = "relaxed-simd"))]
pub const NAME: &str = "simd128";
/// This family's name: "simd128", or "relaxed-simd128" in relaxed builds, whose multiply-adds may fuse.
#[cfg(target_feature = "relaxed-simd")]
pub const NAME: &str = "relaxed-simd128";

pub static SIMD128: KernelSet = KernelSet { name: NAME, conv, depthwise, pointwise, global_avg_pool };

/// Binds a layer to these kernels (they read the shared layout as it is).
pub fn pack(layer: &Arc<FloatLayer>) -> Result<Packed<f32>, Error> {
    super::bind(&SIMD128, layer)
}

/// The fused activation as two splatted vectors, made once per call.
#[derive(Clone, Copy)]
struct Bounds {
    lo: v128,
    hi: v128,
}

impl Bounds {
    fn new(c: Clamp) -> Bounds {
        Bounds { lo: f32x4_splat(c.min), hi: f32x4_splat(c.max) }
    }

    /// pmin/pmax rather than min/max: single instructions on x86 (min/max need NaN fix-ups), and they
    /// match the scalar clamp for every non-NaN value.
    #[inline(always)]
    fn apply(self, x: v128) -> v128 {
        f32x4_pmin(self.hi, f32x4_pmax(self.lo, x))
    }
}

/// acc + x·w as two instructions: fusing would change the rounding, and the scalar twin does not fuse.
#[cfg(not(target_feature = "relaxed-simd"))]
#[inline(always)]
fn madd(acc: v128, x: v128, w: v128) -> v128 {
    mul_add_unfused(acc, x, w)
}

/// acc + x·w as a multiply then an add in every build (the depthwise kernel: see the module comment).
#[inline(always)]
fn mul_add_unfused(acc: v128, x: v128, w: v128) -> v128 {
    f32x4_add(acc, f32x4_mul(x, w))
}

/// acc + x·w as one `f32x4.relaxed_madd`: fused (one rounding) where the CPU has FMA, else as above.
#[cfg(target_feature = "relaxed-simd")]
#[inline(always)]
fn madd(acc: v128, x: v128, w: v128) -> v128 {
    f32x4_relaxed_madd(x, w, acc)
}

/// Panics unless `w` is a complete packing of `rows` rows for `channels` channels: the kernels read
/// whole blocks through raw pointers.
fn check_blocked(w: &Blocked, rows: usize, channels: usize) {
    assert!(
        w.rows == rows && w.channels == channels && w.data.len() == channels.div_ceil(BLOCK) * w.block_len(),
        "packed weights do not match {rows} rows x {channels} channels"
    );
}

/// Stores the first `n` (≤ 8) lanes of the eight in `lo`, `hi` at `c`, without touching what follows.
///
/// # Safety
/// `c` must be valid for writing `n` floats.
#[inline(always)]
unsafe fn store8(c: *mut f32, lo: v128, hi: v128, n: usize) {
    // SAFETY (all stores): each writes lanes below `n` only, which the caller guarantees are writable.
    unsafe {
        if n == BLOCK {
            v128_store(c.cast(), lo);
            v128_store(c.add(4).cast(), hi);
            return;
        }
        let (mut c, mut v, mut n) = (c, lo, n);
        if n >= 4 {
            v128_store(c.cast(), v);
            (c, v, n) = (c.add(4), hi, n - 4);
        }
        if n >= 2 {
            v128_store64_lane::<0>(v, c.cast());
            (c, v, n) = (c.add(2), i64x2_shuffle::<1, 1>(v, v), n - 2);
        }
        if n == 1 {
            v128_store32_lane::<0>(v, c.cast());
        }
    }
}

/// The window the SIMD conv and depthwise kernels handle (others take the scalar path).
const K: usize = 3;
const TAPS: usize = K * K;

/// Where the taps of output column `ox` read (the window's rows already resolved in `rows`): an input
/// pixel of `c` floats, or `zero` (also `c` floats) where the tap falls on padding.
#[inline(always)]
fn taps(
    g: &Geometry,
    input: &[f32],
    zero: &[f32],
    rows: [Option<usize>; K],
    ox: usize,
    c: usize,
) -> [*const f32; TAPS] {
    let mut taps = [zero[..c].as_ptr(); TAPS];
    for kx in 0..K {
        let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
        for (ky, iy) in rows.iter().enumerate() {
            if let Some(iy) = iy {
                taps[ky * K + kx] = input[(iy * g.input.w + ix) * c..][..c].as_ptr();
            }
        }
    }
    taps
}

/// The input rows the window of output row `oy` covers, None on padding.
#[inline(always)]
fn window_rows(g: &Geometry, oy: usize) -> [Option<usize>; K] {
    core::array::from_fn(|ky| source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h))
}
