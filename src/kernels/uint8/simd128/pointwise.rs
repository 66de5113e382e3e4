//! 1x1 convolution as a small integer GEMM: `i32x4.dot_i16x8_s` multiplies one pair of input channels (broadcast as
//! an i16 pair to every lane) by the pair's weights for 4 outputs. A register tile is 4 pixels × 8 outputs (8
//! accumulators). Pixels go in chunks: a chunk is widened to i16 once, into a stack scratch (rows padded to whole
//! pairs with a zero), so each broadcast is a single `v128.load32_splat`; then every block of 8 outputs' weights
//! streams over the chunk while it stays in L1.

use super::requant::{store_bytes, with_requant, Requant};
use crate::kernels::uint8::lanes::{PointwiseQLanes, Q_BLOCK};
use crate::weights::QuantLayer;
use core::arch::wasm32::*;
use core::array;

/// Pixels per register tile.
const TILE: usize = 4;
/// i16 values of widened input per chunk (32 KB of stack); a pixel wider than this runs the scalar loop.
const SCRATCH: usize = 16 * 1024;

/// Whether one pixel's widened input fits the scratch buffer.
pub fn fits(f: &QuantLayer) -> bool {
    f.filter_shape[2].next_multiple_of(2) <= SCRATCH
}

pub fn pointwise(pixels: usize, l: &PointwiseQLanes, input: &[u8], output: &mut [u8]) {
    assert!(l.pairs * 2 <= SCRATCH, "{} inputs", l.in_channels);
    let (input, output) = (&input[..pixels * l.in_channels], &mut output[..pixels * l.out_channels]);
    with_requant!(&l.requant, |q| chunks(l, input, pixels, output, q));
}

fn chunks(l: &PointwiseQLanes, input: &[u8], pixels: usize, output: &mut [u8], q: impl Requant) {
    let (cin, cout, stride) = (l.in_channels, l.out_channels, 2 * l.pairs);
    let chunk = match SCRATCH / stride.max(1) {
        n if n >= TILE => n / TILE * TILE,
        n => n,
    };
    let mut wide = [0i16; SCRATCH];
    for start in (0..pixels).step_by(chunk) {
        let end = pixels.min(start + chunk);
        let rows = &mut wide[..(end - start) * stride];
        widen(&input[start * cin..end * cin], cin, rows, stride);
        gemm_rows(l, rows, end - start, &mut output[start * cout..end * cout], q);
    }
}

/// `pixels` widened rows (`2 · l.pairs` i16 each) through the 1x1 layer `l` into `output` (`out_channels` bytes
/// per pixel).
#[inline(always)]
pub fn gemm_rows(l: &PointwiseQLanes, rows: &[i16], pixels: usize, output: &mut [u8], q: impl Requant) {
    for block in 0..l.out_channels.div_ceil(Q_BLOCK) {
        let mut px = 0;
        while px + TILE <= pixels {
            // One call per pixel, not a loop over the array: the accumulators stay in locals.
            let [a, b, c, d] = sums::<TILE>(l, rows, px, block);
            put(l, px, block, a, output, q);
            put(l, px + 1, block, b, output, q);
            put(l, px + 2, block, c, output, q);
            put(l, px + 3, block, d, output, q);
            px += TILE;
        }
        for px in px..pixels {
            let [acc] = sums::<1>(l, rows, px, block);
            put(l, px, block, acc, output, q);
        }
    }
}

/// Rows of `cin` bytes → rows of `stride` i16 (the padding input of an odd count stays 0: its weight is 0 too).
/// Kept out of line: inlined into the GEMM's function (as LLVM does once panics trap), V8 ran the GEMM slower.
#[inline(never)]
fn widen(input: &[u8], cin: usize, wide: &mut [i16], stride: usize) {
    for (src, dst) in input.chunks_exact(cin).zip(wide.chunks_exact_mut(stride)) {
        dst.iter_mut().zip(src).for_each(|(d, &s)| *d = i16::from(s));
        dst[cin..].fill(0);
    }
}

/// Requantizes and writes the outputs of `block` for one pixel.
#[inline(always)]
fn put(l: &PointwiseQLanes, pixel: usize, block: usize, acc: [v128; 2], output: &mut [u8], q: impl Requant) {
    let n = Q_BLOCK.min(l.out_channels - block * Q_BLOCK);
    store_bytes(q.bytes(acc, block), &mut output[pixel * l.out_channels + block * Q_BLOCK..], n);
}

/// The int32 sums of widened rows `first .. first + P` × the 8 outputs of `block` (folded bias included).
#[inline(always)]
fn sums<const P: usize>(l: &PointwiseQLanes, rows: &[i16], first: usize, block: usize) -> [[v128; 2]; P] {
    let stride = 2 * l.pairs;
    let weights = &l.weights[block * l.pairs * 2 * Q_BLOCK..][..l.pairs * 2 * Q_BLOCK];
    let bias = &l.bias[block * Q_BLOCK..][..Q_BLOCK];
    let bias = [0, 4].map(|o| i32x4(bias[o], bias[o + 1], bias[o + 2], bias[o + 3]));
    let mut acc = [bias; P];
    let row: [*const i16; P] = array::from_fn(|p| rows[(first + p) * stride..][..stride].as_ptr());
    for (pair, w) in weights.chunks_exact(2 * Q_BLOCK).enumerate() {
        // SAFETY: each row holds `stride` = 2 · pairs i16 (sliced above) and pair < pairs, so the 4 bytes of the
        // pair are in bounds; `w` holds 16 i16.
        unsafe {
            let x: [v128; P] = array::from_fn(|p| v128_load32_splat(row[p].add(2 * pair).cast()));
            let (w0, w1) = (v128_load(w.as_ptr().cast()), v128_load(w.as_ptr().add(8).cast()));
            for p in 0..P {
                acc[p][0] = i32x4_add(acc[p][0], i32x4_dot_i16x8(x[p], w0));
                acc[p][1] = i32x4_add(acc[p][1], i32x4_dot_i16x8(x[p], w1));
            }
        }
    }
    acc
}
