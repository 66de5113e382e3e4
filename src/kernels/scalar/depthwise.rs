use super::source;
use crate::kernels::{Clamp, Geometry, PackedDepthwise};

/// Depthwise convolution, multiplier 1: each valid tap adds in[c]·w[tap][c] to out[c].
pub fn depthwise(g: &Geometry, p: &PackedDepthwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (c, k) = (p.channels, p.kernel);
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * c..][..c];
            out.copy_from_slice(&p.bias);
            for ky in 0..k {
                let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                for kx in 0..k {
                    let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                    let px = &input[(iy * g.input.w + ix) * c..][..c];
                    let w = &p.weights[(ky * k + kx) * c..][..c];
                    out.iter_mut().zip(px.iter().zip(w)).for_each(|(o, (x, w))| *o += x * w);
                }
            }
            out.iter_mut().for_each(|o| *o = clamp.apply(*o));
        }
    }
}
