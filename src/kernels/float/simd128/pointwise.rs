//! 1x1 convolution as a GEMM: [pixels x cin] · [cin x cout] over weights packed in blocks of 8 output
//! channels with the biases first (see [`Blocked`](crate::kernels::float::pack::Blocked)).
//!
//! The microkernel ([`gemm`](super::tile::gemm)) is XNNPACK's x86 wasm shape: 4 pixels x 8 channels
//! in eight f32x4 accumulators, or 6 x 8 where relaxed multiply-adds fuse (with `-pre-RA-sched=source`;
//! without it taller tiles spill). Measured in Chromium here, loading 4 inputs per row with lane shuffles
//! ("splat") is ~20% slower than broadcasting from memory: the shuffles compete with the multiplies and
//! adds for ports.

use super::tile::gemm;
use super::{check_blocked, Bounds};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{Clamp, PackedPointwise};

/// Pixels per tile: 4 rows of eight f32x4 accumulators, or 6 where multiply-adds fuse. Unfused, each
/// row needs a temporary for its product and 6 rows spill x86's 16 vector registers (see [`fma`](super::fma)).
const SHORT: usize = 4;
const TALL: usize = 6;

/// Input floats per pixel chunk (256 KiB): a chunk stays in L2 while every block of weights passes
/// over it, so wide early layers (12544 pixels) do not stream their whole input once per block.
const CHUNK_FLOATS: usize = 64 * 1024;

pub fn pointwise(pixels: usize, p: &PackedPointwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    if super::fma::fused() {
        pointwise_tiled::<TALL>(pixels, p, input, output, clamp)
    } else {
        pointwise_tiled::<SHORT>(pixels, p, input, output, clamp)
    }
}

/// `pointwise` with tiles of MR rows (4 or 6), whichever the probe picks; tests run both.
pub fn pointwise_tiled<const MR: usize>(
    pixels: usize,
    p: &PackedPointwise,
    input: &[f32],
    output: &mut [f32],
    clamp: Clamp,
) {
    const { assert!(MR == SHORT || MR == TALL, "pointwise tiles are 4 or 6 rows") };
    let (cin, cout) = (p.in_channels, p.out_channels);
    assert!(input.len() >= pixels * cin && output.len() >= pixels * cout, "pointwise buffers too small");
    check_blocked(&p.weights, cin, cout);
    let bounds = Bounds::new(clamp);
    let chunk = (CHUNK_FLOATS / cin.max(1)).max(MR) / MR * MR;
    let mut start = 0;
    while start < pixels {
        let end = (start + chunk).min(pixels);
        // Block-major inside a chunk: one block of weights (≤ 32 KiB at 1024 input channels) stays in
        // L1 while the chunk's tiles stream past it.
        for (b, block) in p.weights.blocks().enumerate() {
            let nc = (cout - b * BLOCK).min(BLOCK);
            let mut px = start;
            while px < end {
                let rows = tile_rows(end - px, MR);
                // SAFETY: px + rows ≤ pixels, so the rows' inputs (cin floats each) and outputs (cout
                // floats each, of which b·8 .. b·8 + nc ≤ cout are written) lie in the slices asserted
                // above; `block` is a whole packed block of (cin + 1)·8 floats (check_blocked).
                unsafe {
                    let a = input.as_ptr().add(px * cin);
                    let c = output.as_mut_ptr().add(px * cout + b * BLOCK);
                    match rows {
                        6 => gemm::<6, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                        5 => gemm::<5, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                        4 => gemm::<4, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                        3 => gemm::<3, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                        2 => gemm::<2, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                        _ => gemm::<1, 1>([row_ptrs(a, cin)], cin, block.as_ptr(), c, cout, nc, bounds),
                    }
                }
                px += rows;
            }
        }
        start = end;
    }
}

/// Rows of the next tile when `left` pixels remain: `mr`, except that the last few are split so no tile
/// is thinner than 3 rows (a 1-row tile runs at a quarter of the speed). Short tiles: 5 → 5 (five rows
/// still fit unfused), 6 → 3 + 3. Tall tiles: 7 → 4 + 3, 8 → 4 + 4.
fn tile_rows(left: usize, mr: usize) -> usize {
    match (left, mr) {
        (5, SHORT) => 5,
        (6, SHORT) => 3,
        (7 | 8, TALL) => 4,
        (n, _) => n.min(mr),
    }
}

/// Pointers to R rows of `cin` floats from `a`.
fn row_ptrs<const R: usize>(a: *const f32, cin: usize) -> [*const f32; R] {
    core::array::from_fn(|r| a.wrapping_add(r * cin))
}
