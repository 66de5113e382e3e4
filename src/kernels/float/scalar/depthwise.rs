use super::{row, store, zero};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{Clamp, PackedDepthwise};
use crate::kernels::source;
use crate::kernels::Geometry;

/// Depthwise convolution, multiplier 1: each valid tap adds in[c]·w[tap][c] to out[c], block by block.
pub fn depthwise(g: &Geometry, p: &PackedDepthwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (c, k) = (p.channels, p.kernel);
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * c..][..c];
            for (b, (block, out)) in p.weights.blocks().zip(out.chunks_mut(BLOCK)).enumerate() {
                let mut acc = zero();
                for ky in 0..k {
                    let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                        let px = &input[(iy * g.input.w + ix) * c + b * BLOCK..][..out.len()];
                        let w = row(block, ky * k + kx);
                        acc.iter_mut().zip(px.iter().zip(w)).for_each(|(a, (x, w))| *a += x * w);
                    }
                }
                store(out, &acc, block, clamp);
            }
        }
    }
}
