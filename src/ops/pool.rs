//! `tf.nn.avg_pool` (SAME averages only the cells inside the input) and the global average pool.

use super::conv2d::{tap, windows};
use super::padding::ConvOptions;
use crate::error::Error;
use crate::tensor::Tensor;

pub fn avg_pool(input: &Tensor, ksize: [usize; 2], o: &ConvOptions) -> Result<Tensor, Error> {
    let [n, h, w, c] = input.shape.0;
    let [wy, wx] = windows(input, ksize[0], ksize[1], o)?;
    let mut out = Tensor::zeros([n, wy.output, wx.output, c]);
    for b in 0..n {
        for oy in 0..wy.output {
            for ox in 0..wx.output {
                for ch in 0..c {
                    let (mut sum, mut count) = (0.0f32, 0usize);
                    for ky in 0..ksize[0] {
                        let Some(iy) = tap(oy, ky, o.strides[0], o.rate[0], wy.pad_before, h) else { continue };
                        for kx in 0..ksize[1] {
                            let Some(ix) = tap(ox, kx, o.strides[1], o.rate[1], wx.pad_before, w) else { continue };
                            sum += input.get(b, iy, ix, ch);
                            count += 1;
                        }
                    }
                    out.set(b, oy, ox, ch, sum / count.max(1) as f32);
                }
            }
        }
    }
    Ok(out)
}

/// Mean over height and width, keeping them as 1x1 (TF-slim's AvgPool_1a over the whole map).
pub fn global_avg_pool(input: &Tensor) -> Result<Tensor, Error> {
    let [_, h, w, _] = input.shape.0;
    avg_pool(input, [h, w], &ConvOptions::valid())
}
