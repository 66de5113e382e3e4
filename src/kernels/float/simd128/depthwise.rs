//! Depthwise 3x3 (multiplier 1, any stride and dilation rate), one output pixel at a time, 8 channels
//! per step. XNNPACK's approach: the nine taps are pointers chosen once per pixel, and taps that fall on
//! padding point at a zero pixel, so the channel loop has no branches. Weights are packed per block of
//! 8 channels as [bias, tap 0 .. tap 8], one contiguous stream. Interior columns get their taps from
//! per-row origins without per-tap checks. (Two output pixels per step, sharing weight loads, measured
//! ~7% slower in V8: 18 tap pointers no longer fit in registers.)

use super::{check_blocked, mul_add_unfused, store8, taps, window_rows, Bounds, K, TAPS};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::scalar;
use crate::kernels::float::{Clamp, PackedDepthwise};
use crate::kernels::source;
use crate::kernels::Geometry;
use core::arch::wasm32::*;

pub fn depthwise(g: &Geometry, p: &PackedDepthwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    if p.kernel != K {
        // MobileNet only has 3x3 depthwise layers; other sizes take the reference path.
        return scalar::depthwise(g, p, input, output, clamp);
    }
    let c = p.channels;
    assert!(input.len() >= g.input.h * g.input.w * c, "depthwise input too small");
    assert!(output.len() >= g.output.h * g.output.w * c, "depthwise output too small");
    assert!(p.zero_pixel.len() >= c, "zero pixel too short");
    check_blocked(&p.weights, TAPS, c);
    let bounds = Bounds::new(clamp);
    let row_len = g.input.w * c;
    for oy in 0..g.output.h {
        let rows = window_rows(g, oy);
        // Each window row as (its first input pixel, floats per input column); a row on padding reads
        // the zero pixel at every column (step 0).
        let origins = rows.map(|iy| match iy {
            Some(iy) => (input[iy * row_len..][..row_len].as_ptr(), c),
            None => (p.zero_pixel.as_ptr(), 0),
        });
        for ox in 0..g.output.w {
            let first = source(ox, 0, g.stride, g.rate, g.pad_left, g.input.w);
            let last = source(ox, K - 1, g.stride, g.rate, g.pad_left, g.input.w);
            let taps = match (first, last) {
                // Interior column: all K columns are inside the input, no per-tap checks.
                (Some(ix), Some(_)) => core::array::from_fn(|t| {
                    let (origin, step) = origins[t / K];
                    origin.wrapping_add((ix + t % K * g.rate) * step)
                }),
                _ => taps(g, input, &p.zero_pixel, rows, ox, c),
            };
            let out = &mut output[(oy * g.output.w + ox) * c..][..c];
            // SAFETY: every tap points at `c` readable floats: taps() slices them; an interior tap of a
            // real row is at column ix + kx·rate ≤ the last column, which source() found inside the
            // row of `row_len` floats sliced above, and a padding row's tap is the zero pixel (`c`
            // floats, asserted). `out` holds `c` floats, and the packed weights ceil(c / 8) whole
            // blocks (check_blocked).
            unsafe { pixel(&taps, p.weights.data.as_ptr(), c, out.as_mut_ptr(), bounds) };
        }
    }
}

/// out[ch] = clamp(Σ_t taps[t][ch]·w[t][ch] + bias[ch]) for all `c` channels of one pixel (the bias last, as
/// in TFLite's reference kernels).
///
/// # Safety
/// Each tap and `out` must be valid for `c` floats, `w` for ceil(c / 8) packed blocks of 10·8 floats.
#[inline(always)]
unsafe fn pixel(taps: &[*const f32; TAPS], w: *const f32, c: usize, out: *mut f32, bounds: Bounds) {
    const BLOCK_LEN: usize = (TAPS + 1) * BLOCK;
    // SAFETY: `ch + 8 ≤ c` in the loop and `ch + 4 ≤ c` / `ch + j < c` in the tail keep every activation
    // access in range; weight offsets stay inside block ch / 8.
    unsafe {
        let mut ch = 0;
        while ch + BLOCK <= c {
            let w = w.add(ch / BLOCK * BLOCK_LEN);
            let (mut lo, mut hi) = (f32x4_splat(0.0), f32x4_splat(0.0));
            for (t, tap) in taps.iter().enumerate() {
                let (x, wt) = (tap.add(ch), w.add((t + 1) * BLOCK));
                lo = mul_add_unfused(lo, v128_load(x.cast()), v128_load(wt.cast()));
                hi = mul_add_unfused(hi, v128_load(x.add(4).cast()), v128_load(wt.add(4).cast()));
            }
            lo = f32x4_add(lo, v128_load(w.cast()));
            hi = f32x4_add(hi, v128_load(w.add(4).cast()));
            store8(out.add(ch), bounds.apply(lo), bounds.apply(hi), BLOCK);
            ch += BLOCK;
        }
        if ch < c {
            tail(taps, w.add(ch / BLOCK * BLOCK_LEN), ch, c - ch, out, bounds);
        }
    }
}

/// The last 1..7 channels: one vector when at least 4 remain, then lane by lane.
///
/// # Safety
/// As [`pixel`], with `w` at the last block and `ch + n = c`.
#[inline(always)]
unsafe fn tail(taps: &[*const f32; TAPS], w: *const f32, ch: usize, n: usize, out: *mut f32, bounds: Bounds) {
    // SAFETY: lanes below `n` of channel `ch` exist in every tap and in `out`.
    unsafe {
        let mut j = 0;
        if n >= 4 {
            let mut acc = f32x4_splat(0.0);
            for (t, tap) in taps.iter().enumerate() {
                acc = mul_add_unfused(acc, v128_load(tap.add(ch).cast()), v128_load(w.add((t + 1) * BLOCK).cast()));
            }
            v128_store(out.add(ch).cast(), bounds.apply(f32x4_add(acc, v128_load(w.cast()))));
            j = 4;
        }
        for j in j..n {
            let mut acc = 0.0;
            for (t, tap) in taps.iter().enumerate() {
                acc += *tap.add(ch + j) * *w.add((t + 1) * BLOCK + j);
            }
            acc += *w.add(j);
            let v = bounds.apply(f32x4_splat(acc));
            *out.add(ch + j) = f32x4_extract_lane::<0>(v);
        }
    }
}
