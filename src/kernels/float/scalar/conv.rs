use super::{madd, row, store, zero};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{Clamp, PackedConv};
use crate::kernels::source;
use crate::kernels::Geometry;

/// Full convolution: each valid tap adds in·w to every output channel of the pixel, block by block.
pub fn conv(g: &Geometry, p: &PackedConv, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (cin, cout, k) = (p.in_channels, p.out_channels, p.kernel);
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * cout..][..cout];
            for (block, out) in p.weights.blocks().zip(out.chunks_mut(BLOCK)) {
                let mut acc = zero();
                for ky in 0..k {
                    let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                        let px = &input[(iy * g.input.w + ix) * cin..][..cin];
                        let first = (ky * k + kx) * cin;
                        for (ci, &x) in px.iter().enumerate() {
                            madd(&mut acc, x, row(block, first + ci));
                        }
                    }
                }
                store(out, &acc, block, clamp);
            }
        }
    }
}
