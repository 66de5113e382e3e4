use crate::kernels::{Clamp, PackedPointwise};

/// 1x1 convolution: out[p] = bias + Σ_ci in[p][ci]·w[ci][·], one output row per pixel.
pub fn pointwise(pixels: usize, p: &PackedPointwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (cin, cout) = (p.in_channels, p.out_channels);
    for (px, out) in input.chunks_exact(cin).zip(output.chunks_exact_mut(cout)).take(pixels) {
        out.copy_from_slice(&p.bias);
        for (x, w) in px.iter().zip(p.weights.chunks_exact(cout)) {
            out.iter_mut().zip(w).for_each(|(o, w)| *o += x * w);
        }
        out.iter_mut().for_each(|o| *o = clamp.apply(*o));
    }
}
