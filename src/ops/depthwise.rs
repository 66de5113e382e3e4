//! `tf.nn.depthwise_conv2d`: each input channel c is convolved with its own `depth_multiplier` filters;
//! output channel `c * depth_multiplier + m`. Filter layout [kh, kw, in, depth_multiplier].

use super::conv2d::{tap, windows};
use super::padding::ConvOptions;
use crate::error::Error;
use crate::tensor::Tensor;

pub fn depthwise_conv2d(
    input: &Tensor,
    filter: &Tensor,
    bias: Option<&[f32]>,
    o: &ConvOptions,
) -> Result<Tensor, Error> {
    let [n, h, w, cin] = input.shape.0;
    let [kh, kw, fin, mult] = filter.shape.0;
    if fin != cin || mult == 0 {
        return Err(Error::shape(format!("depthwise filter {} does not fit input {}", filter.shape, input.shape)));
    }
    let [wy, wx] = windows(input, kh, kw, o)?;
    let mut out = Tensor::zeros([n, wy.output, wx.output, cin * mult]);
    for b in 0..n {
        for oy in 0..wy.output {
            for ox in 0..wx.output {
                for c in 0..cin {
                    for m in 0..mult {
                        let mut acc = 0.0f32;
                        for ky in 0..kh {
                            let Some(iy) = tap(oy, ky, o.strides[0], o.rate[0], wy.pad_before, h) else { continue };
                            for kx in 0..kw {
                                let Some(ix) = tap(ox, kx, o.strides[1], o.rate[1], wx.pad_before, w) else { continue };
                                acc += input.get(b, iy, ix, c) * filter.get(ky, kx, c, m);
                            }
                        }
                        out.set(b, oy, ox, c * mult + m, acc);
                    }
                }
            }
        }
    }
    super::add_bias(&mut out.data, bias, cin * mult)?;
    Ok(out)
}
