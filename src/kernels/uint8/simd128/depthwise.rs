//! Depthwise convolution, 8 channels per step: two taps' inputs are widened to i16 and interleaved per channel, so
//! one `i32x4.dot_i16x8_s` adds both taps of 4 channels. Every tap reads a pointer chosen once per pixel: the input
//! pixel, or the zero-point row on padding (its products cancel in the folded bias), so the inner loop has no
//! branch and any stride, dilation or band geometry works. 3x3 kernels get their own instance with the tap count
//! known at compile time (the loop over tap pairs unrolled, the pointers in locals).

use super::requant::{store_bytes, with_requant, Requant};
use crate::kernels::uint8::lanes::{DepthwiseQLanes, Q_BLOCK};
use crate::kernels::{source, Geometry};
use crate::weights::QuantLayer;
use core::arch::wasm32::*;

/// Most taps handled (5x5), plus the phantom tap of an odd count; larger kernels run the scalar loop.
const MAX_TAPS: usize = 26;

/// Whether the taps fit the pointer array.
pub fn fits(f: &QuantLayer) -> bool {
    f.filter_shape[0] * f.filter_shape[1] < MAX_TAPS
}

pub fn depthwise(g: &Geometry, p: &DepthwiseQLanes, input: &[u8], output: &mut [u8]) {
    let (l, k, c) = (p, p.kernel, p.channels);
    assert!(k * k < MAX_TAPS, "{k}x{k} kernel");
    assert_eq!((g.input.c, g.output.c), (c, c));
    let input = &input[..g.input.h * g.input.w * c];
    match l.pairs {
        5 => with_requant!(&l.requant, |q| rows::<10>(g, p, input, output, q)),
        _ => with_requant!(&l.requant, |q| rows::<MAX_TAPS>(g, p, input, output, q)),
    }
}

/// Tap pointers of one output pixel: an even count, so the phantom tap of an odd kernel has a slot (it reads the
/// zero row against weight 0). Slots past the kernel's taps stay on the zero row.
type Taps<const T: usize> = [*const u8; T];

fn rows<const T: usize>(g: &Geometry, p: &DepthwiseQLanes, input: &[u8], output: &mut [u8], q: impl Requant) {
    let (l, k, c) = (p, p.kernel, p.channels);
    let mut taps: Taps<T> = [l.zero_row.as_ptr(); T];
    // Interior pixels (every tap inside the input) take each tap at a fixed offset from the first one.
    let mut offsets = [0usize; T];
    for (t, o) in offsets.iter_mut().enumerate().take(k * k) {
        *o = ((t / k) * g.rate * g.input.w + (t % k) * g.rate) * c;
    }
    let span = (k - 1) * g.rate;
    let inside = |o: usize, pad: usize, size: usize| (o * g.stride).checked_sub(pad).filter(|&i| i + span < size);
    // The last tap of any interior pixel ends inside the input: checked once here, so the per-pixel pointers
    // below need no bounds check (they cost more than the 8 channels of a narrow layer's work).
    assert!(g.input.h * g.input.w * c <= input.len());
    for oy in 0..g.output.h {
        let iy = inside(oy, g.pad_top, g.input.h);
        for ox in 0..g.output.w {
            match (iy, inside(ox, g.pad_left, g.input.w)) {
                (Some(iy), Some(ix)) => {
                    // SAFETY: iy + span < h and ix + span < w, so every tap (iy + ky·rate, ix + kx·rate) is an
                    // input pixel: its c bytes lie within the h·w·c bytes of `input` (asserted above).
                    let first = unsafe { input.as_ptr().add((iy * g.input.w + ix) * c) };
                    for (tap, &o) in taps.iter_mut().zip(&offsets).take(k * k) {
                        *tap = first.wrapping_add(o);
                    }
                }
                _ => border_taps(g, p, input, (oy, ox), &mut taps),
            }
            pixel(l, taps, &mut output[(oy * g.output.w + ox) * c..][..c], q);
        }
    }
}

/// Tap pointers of a pixel near the border: the input pixel where the tap lands inside, else the zero row.
/// Kept out of line, away from the interior loop, for the same reason as the pointwise `widen`.
#[inline(never)]
fn border_taps<const T: usize>(
    g: &Geometry,
    p: &DepthwiseQLanes,
    input: &[u8],
    (oy, ox): (usize, usize),
    taps: &mut Taps<T>,
) {
    let (k, c, zero) = (p.kernel, p.channels, p.zero_row.as_ptr());
    for ky in 0..k {
        let iy = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h);
        for kx in 0..k {
            taps[ky * k + kx] = match (iy, source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w)) {
                (Some(iy), Some(ix)) => input[(iy * g.input.w + ix) * c..][..c].as_ptr(),
                _ => zero,
            };
        }
    }
}

/// One output pixel; every tap pointer starts `c` readable bytes (an input pixel, or the zero row of c bytes).
#[inline(always)]
fn pixel<const T: usize>(l: &DepthwiseQLanes, taps: Taps<T>, out: &mut [u8], q: impl Requant) {
    let c = l.channels;
    let full = c / Q_BLOCK;
    for block in 0..full {
        // SAFETY: block · 8 + 8 ≤ c bytes from each tap pointer.
        let acc = unsafe { sums(l, &taps, block * Q_BLOCK, block) };
        store_bytes(q.bytes(acc, block), &mut out[block * Q_BLOCK..], Q_BLOCK);
    }
    let rest = c - full * Q_BLOCK;
    if rest > 0 {
        // The last channels are copied into 8-byte rows and run as a full block (extra weights are 0).
        let mut rows = [[0u8; Q_BLOCK]; T];
        let mut short: Taps<T> = [core::ptr::null(); T];
        for ((row, tap), s) in rows.iter_mut().zip(taps).zip(&mut short) {
            // SAFETY: bytes full·8 .. c from a tap pointer (see above).
            row[..rest].copy_from_slice(unsafe { core::slice::from_raw_parts(tap.add(full * Q_BLOCK), rest) });
            *s = row.as_ptr();
        }
        // SAFETY: each short pointer starts an 8-byte row.
        let acc = unsafe { sums(l, &short, 0, full) };
        store_bytes(q.bytes(acc, full), &mut out[full * Q_BLOCK..], rest);
    }
}

/// The int32 sums of the 8 channels of `block`, reading bytes `at .. at + 8` from each tap pointer.
///
/// # Safety
/// Every tap pointer must point at `at + 8` readable bytes.
#[inline(always)]
unsafe fn sums<const T: usize>(l: &DepthwiseQLanes, taps: &Taps<T>, at: usize, block: usize) -> [v128; 2] {
    // T = 10 is exactly 3x3's 5 pairs (a compile-time trip count); the generic instance stops at the kernel's own.
    let pairs = if T == 10 { 5 } else { l.pairs };
    let weights = &l.weights[block * l.pairs * 2 * Q_BLOCK..][..pairs * 2 * Q_BLOCK];
    let bias = &l.bias[block * Q_BLOCK..][..Q_BLOCK];
    let mut acc = [0, 4].map(|o| i32x4(bias[o], bias[o + 1], bias[o + 2], bias[o + 3]));
    for (w, tap) in weights.chunks_exact(2 * Q_BLOCK).zip(taps.chunks_exact(2)) {
        // SAFETY: the caller's contract; `w` holds 16 i16.
        let (a, b, w0, w1) = unsafe {
            (
                u16x8_load_extend_u8x8(tap[0].add(at)),
                u16x8_load_extend_u8x8(tap[1].add(at)),
                v128_load(w.as_ptr().cast()),
                v128_load(w.as_ptr().add(8).cast()),
            )
        };
        // Channel j's two taps side by side: each i32 lane of the dot is one channel.
        let low = i16x8_shuffle::<0, 8, 1, 9, 2, 10, 3, 11>(a, b);
        let high = i16x8_shuffle::<4, 12, 5, 13, 6, 14, 7, 15>(a, b);
        acc[0] = i32x4_add(acc[0], i32x4_dot_i16x8(low, w0));
        acc[1] = i32x4_add(acc[1], i32x4_dot_i16x8(high, w1));
    }
    acc
}
