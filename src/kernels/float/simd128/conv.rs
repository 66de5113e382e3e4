//! Full 3x3 convolution (the stem: stride 2, 3 input channels) as a GEMM over the im2col rows, without
//! building them: a tile of 4 output pixels x 8 output channels (the pointwise tile) reads each pixel's
//! nine taps through pointers, with taps on padding pointing at a zero pixel. Other kernel sizes take
//! the scalar path.

use super::tile::gemm;
use super::{check_blocked, taps, window_rows, Bounds, K, TAPS};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{scalar, Clamp, PackedConv};
use crate::kernels::Geometry;

/// Output pixels per tile.
const MR: usize = 4;

pub fn conv(g: &Geometry, p: &PackedConv, input: &[f32], output: &mut [f32], clamp: Clamp) {
    if p.kernel != K {
        return scalar::conv(g, p, input, output, clamp);
    }
    let (cin, cout) = (p.in_channels, p.out_channels);
    assert!(input.len() >= g.input.h * g.input.w * cin, "conv input too small");
    assert!(output.len() >= g.output.h * g.output.w * cout, "conv output too small");
    assert!(p.zero_pixel.len() >= cin, "zero pixel too short");
    check_blocked(&p.weights, TAPS * cin, cout);
    let bounds = Bounds::new(clamp);
    for oy in 0..g.output.h {
        let rows = window_rows(g, oy);
        let mut ox = 0;
        while ox < g.output.w {
            let n = (g.output.w - ox).min(MR);
            // Pixels past `n` repeat the last one; the tile never reads them.
            let pixels: [_; MR] = core::array::from_fn(|r| taps(g, input, &p.zero_pixel, rows, ox + r.min(n - 1), cin));
            // By tap, then pixel: each tap feeds the tile one pointer per pixel.
            let taps: [[_; MR]; TAPS] = core::array::from_fn(|t| pixels.map(|px| px[t]));
            let out = &mut output[(oy * g.output.w + ox) * cout..][..n * cout];
            for (b, block) in p.weights.blocks().enumerate() {
                let nc = (cout - b * BLOCK).min(BLOCK);
                // SAFETY: every tap points at `cin` readable floats (taps() slices them); `block` is a
                // whole packed block of (9·cin + 1)·8 floats (check_blocked); `out` holds n pixels of
                // `cout` floats, of which b·8 .. b·8 + nc are written.
                unsafe {
                    let c = out.as_mut_ptr().add(b * BLOCK);
                    match n {
                        4 => gemm::<4, TAPS>(first(&taps), cin, block.as_ptr(), c, cout, nc, bounds),
                        3 => gemm::<3, TAPS>(first(&taps), cin, block.as_ptr(), c, cout, nc, bounds),
                        2 => gemm::<2, TAPS>(first(&taps), cin, block.as_ptr(), c, cout, nc, bounds),
                        _ => gemm::<1, TAPS>(first(&taps), cin, block.as_ptr(), c, cout, nc, bounds),
                    }
                }
            }
            ox += n;
        }
    }
}

/// The first R pixels of each tap.
fn first<const R: usize>(taps: &[[*const f32; MR]; TAPS]) -> [[*const f32; R]; TAPS] {
    core::array::from_fn(|t| core::array::from_fn(|r| taps[t][r]))
}
