//! 1x1 convolution as a small integer GEMM: `i32x4.dot_i16x8_s` multiplies one pair of input bytes (widened to i16
//! and broadcast) by the pair's weights for 4 outputs. A register tile is 4 pixels × 8 outputs (8 accumulators);
//! pixels are taken in chunks that stay in L1 while each block of 8 outputs' weights streams over them once.

use super::requant::{block_bytes, store_bytes};
use crate::kernels::pack::{PackedPointwiseQ, PointwiseQLanes, Q_BLOCK};
use core::arch::wasm32::*;
use core::array;

/// Pixels per register tile.
const TILE: usize = 4;
/// Input bytes per chunk of pixels.
const CHUNK_BYTES: usize = 16 * 1024;

pub fn pointwise(pixels: usize, p: &PackedPointwiseQ, input: &[u8], output: &mut [u8]) {
    let l = &p.lanes;
    gemm(l, Rows::new(input, l.in_channels.max(1)), pixels, output);
}

/// Pixels of `stride` bytes each, of which a tile reads the first `in_channels`.
#[derive(Clone, Copy)]
pub struct Rows<'a> {
    data: &'a [u8],
    stride: usize,
}

impl<'a> Rows<'a> {
    pub fn new(data: &'a [u8], stride: usize) -> Self {
        assert!(stride > 0);
        Rows { data, stride }
    }
}

/// `pixels` rows of `rows` through the 1x1 layer `l` into `output` (`out_channels` bytes per pixel).
pub fn gemm(l: &PointwiseQLanes, rows: Rows, pixels: usize, output: &mut [u8]) {
    // The bounds every unsafe read in `sums` relies on.
    assert!(rows.stride >= l.in_channels && rows.data.len() >= pixels * rows.stride);
    let output = &mut output[..pixels * l.out_channels];
    let chunk = (CHUNK_BYTES / rows.stride).max(TILE) / TILE * TILE;
    for start in (0..pixels).step_by(chunk) {
        let end = pixels.min(start + chunk);
        for block in 0..l.out_channels.div_ceil(Q_BLOCK) {
            let mut px = start;
            while px + TILE <= end {
                tile::<TILE>(l, rows, px, block, output);
                px += TILE;
            }
            for px in px..end {
                tile::<1>(l, rows, px, block, output);
            }
        }
    }
}

/// Pixels `first .. first + P`, outputs of `block`: sums, requantization, bytes out.
#[inline(always)]
fn tile<const P: usize>(l: &PointwiseQLanes, rows: Rows, first: usize, block: usize, output: &mut [u8]) {
    let sums = sums::<P>(l, rows, first, block);
    let n = Q_BLOCK.min(l.out_channels - block * Q_BLOCK);
    for (p, acc) in sums.into_iter().enumerate() {
        let at = (first + p) * l.out_channels + block * Q_BLOCK;
        store_bytes(block_bytes(acc, &l.requant, block), &mut output[at..], n);
    }
}

/// Broadcasts i32 lane `J` (input channels 2J, 2J + 1 as i16) to every lane.
#[inline(always)]
fn pair<const J: usize>(x: v128) -> v128 {
    i32x4_shuffle::<J, J, J, J>(x, x)
}

/// The int32 sums of P pixels × the 8 outputs of `block` (folded bias included).
#[inline(always)]
fn sums<const P: usize>(l: &PointwiseQLanes, rows: Rows, first: usize, block: usize) -> [[v128; 2]; P] {
    let cin = l.in_channels;
    let weights = &l.weights[block * l.pairs * 2 * Q_BLOCK..][..l.pairs * 2 * Q_BLOCK];
    let bias = &l.bias[block * Q_BLOCK..][..Q_BLOCK];
    let bias = [0, 4].map(|o| i32x4(bias[o], bias[o + 1], bias[o + 2], bias[o + 3]));
    let mut acc = [bias; P];
    let row: [*const u8; P] = array::from_fn(|p| rows.data[(first + p) * rows.stride..].as_ptr());
    let w = weights.as_ptr();
    let mut i = 0;
    // 8 input channels per step: one widening load per pixel, its 4 pairs broadcast by shuffles.
    while i + 8 <= cin {
        // SAFETY: gemm checked rows.data.len() ≥ pixels · stride and stride ≥ cin; first + P ≤ pixels and
        // i + 8 ≤ cin, so each row's bytes i .. i + 8 are in bounds. Pairs i/2 .. i/2 + 4 are below l.pairs, whose
        // 16 weights each `weights` holds (pack-time layout).
        unsafe {
            let x: [v128; P] = array::from_fn(|p| u16x8_load_extend_u8x8(row[p].add(i)));
            mac(&mut acc, x.map(pair::<0>), w.add(i * Q_BLOCK));
            mac(&mut acc, x.map(pair::<1>), w.add((i + 2) * Q_BLOCK));
            mac(&mut acc, x.map(pair::<2>), w.add((i + 4) * Q_BLOCK));
            mac(&mut acc, x.map(pair::<3>), w.add((i + 6) * Q_BLOCK));
        }
        i += 8;
    }
    // The last pairs (and a lone last channel, against a zero weight) from single bytes.
    while i < cin {
        let x = array::from_fn(|p| {
            let r = &rows.data[(first + p) * rows.stride..][..cin];
            let high = if i + 1 < cin { r[i + 1] } else { 0 };
            i32x4_splat(i32::from(r[i]) | i32::from(high) << 16)
        });
        // SAFETY: pair i/2 < l.pairs (see above).
        unsafe { mac(&mut acc, x, w.add(i * Q_BLOCK)) };
        i += 2;
    }
    acc
}

/// acc[p] += x[p] · one pair's weights for 8 outputs (two v128 at `w`).
///
/// # Safety
/// `w` must point at 16 readable i16.
#[inline(always)]
unsafe fn mac<const P: usize>(acc: &mut [[v128; 2]; P], x: [v128; P], w: *const i16) {
    let (w0, w1) = unsafe { (v128_load(w.cast()), v128_load(w.add(8).cast())) };
    for (a, x) in acc.iter_mut().zip(x) {
        a[0] = i32x4_add(a[0], i32x4_dot_i16x8(x, w0));
        a[1] = i32x4_add(a[1], i32x4_dot_i16x8(x, w1));
    }
}
