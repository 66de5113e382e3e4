//! 1x1 convolution as a GEMM: [pixels x cin] · [cin x cout] over weights packed in blocks of 8 output
//! channels with the biases first (see [`Blocked`](crate::kernels::float::pack::Blocked)).
//!
//! The microkernel ([`gemm`](super::tile::gemm)) is XNNPACK's x86 wasm shape: 4 pixels x 8 channels
//! in eight f32x4 accumulators. Measured in Chromium here, 5x8 runs no faster (with `-pre-RA-sched=source`; without
//! it taller tiles spill), and loading 4 inputs per row with lane shuffles ("splat") is ~20% slower
//! than broadcasting from memory: the shuffles compete with the multiplies and adds for ports.

use super::tile::gemm;
use super::{check_blocked, Bounds};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{Clamp, PackedPointwise};

/// Pixels per tile.
const MR: usize = 4;

/// Input floats per pixel chunk (256 KiB): a chunk stays in L2 while every block of weights passes
/// over it, so wide early layers (12544 pixels) do not stream their whole input once per block.
const CHUNK_FLOATS: usize = 64 * 1024;

pub fn pointwise(pixels: usize, p: &PackedPointwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
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
                let rows = tile_rows(end - px);
                // SAFETY: px + rows ≤ pixels, so the rows' inputs (cin floats each) and outputs (cout
                // floats each, of which b·8 .. b·8 + nc ≤ cout are written) lie in the slices asserted
                // above; `block` is a whole packed block of (cin + 1)·8 floats (check_blocked).
                unsafe {
                    let a = input.as_ptr().add(px * cin);
                    let c = output.as_mut_ptr().add(px * cout + b * BLOCK);
                    match rows {
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

/// Rows of the next tile when `left` pixels remain: 4, except that the last few are split so no tile
/// is thinner than 3 rows (a 1-row tile runs at a quarter of the speed): 5 → 5, 6 → 3 + 3.
fn tile_rows(left: usize) -> usize {
    match left {
        5 => 5,
        6 => 3,
        n => n.min(MR),
    }
}

/// Pointers to R rows of `cin` floats from `a`.
fn row_ptrs<const R: usize>(a: *const f32, cin: usize) -> [*const f32; R] {
    core::array::from_fn(|r| a.wrapping_add(r * cin))
}
