use super::source;
use crate::kernels::{Clamp, Geometry, PackedConv};

/// Full convolution: each valid tap adds in·w to all output channels of the pixel.
pub fn conv(g: &Geometry, p: &PackedConv, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (cin, cout, k) = (p.in_channels, p.out_channels, p.kernel);
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * cout..][..cout];
            out.copy_from_slice(&p.bias);
            for ky in 0..k {
                let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                for kx in 0..k {
                    let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                    let px = &input[(iy * g.input.w + ix) * cin..][..cin];
                    let taps = &p.weights[(ky * k + kx) * cin * cout..][..cin * cout];
                    for (x, w) in px.iter().zip(taps.chunks_exact(cout)) {
                        out.iter_mut().zip(w).for_each(|(o, w)| *o += x * w);
                    }
                }
            }
            out.iter_mut().for_each(|o| *o = clamp.apply(*o));
        }
    }
}
