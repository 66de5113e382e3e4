use super::{madd, row, store, zero};
use crate::kernels::float::pack::BLOCK;
use crate::kernels::float::{Clamp, PackedPointwise};

/// 1x1 convolution: each pixel's block of outputs is Σ_ci in[ci]·w[ci] + bias.
pub fn pointwise(pixels: usize, p: &PackedPointwise, input: &[f32], output: &mut [f32], clamp: Clamp) {
    let (cin, cout) = (p.in_channels, p.out_channels);
    for (px, out) in input.chunks_exact(cin).zip(output.chunks_exact_mut(cout)).take(pixels) {
        for (block, out) in p.weights.blocks().zip(out.chunks_mut(BLOCK)) {
            let mut acc = zero();
            for (ci, &x) in px.iter().enumerate() {
                madd(&mut acc, x, row(block, ci));
            }
            store(out, &acc, block, clamp);
        }
    }
}
