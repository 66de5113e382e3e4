//! `tf.nn.conv2d`: NHWC input, HWIO filter [kh, kw, in, out], optional bias, stride, dilation, SAME/VALID.

use super::padding::{axis_window, AxisWindow, ConvOptions};
use crate::error::Error;
use crate::tensor::Tensor;

/// Output and padding of both spatial axes for a `kh` x `kw` window over `input`.
pub(crate) fn windows(input: &Tensor, kh: usize, kw: usize, o: &ConvOptions) -> Result<[AxisWindow; 2], Error> {
    o.check()?;
    if kh == 0 || kw == 0 {
        return Err(Error::shape("filter has an empty spatial size"));
    }
    let [_, h, w, _] = input.shape.0;
    Ok([
        axis_window(h, kh, o.strides[0], o.rate[0], o.padding)?,
        axis_window(w, kw, o.strides[1], o.rate[1], o.padding)?,
    ])
}

/// Input coordinate of tap `k` for output `out`, or None where it falls on padding.
#[inline]
pub(crate) fn tap(out: usize, k: usize, stride: usize, rate: usize, pad: usize, size: usize) -> Option<usize> {
    (out * stride + k * rate).checked_sub(pad).filter(|&i| i < size)
}

pub fn conv2d(input: &Tensor, filter: &Tensor, bias: Option<&[f32]>, o: &ConvOptions) -> Result<Tensor, Error> {
    let [n, h, w, cin] = input.shape.0;
    let [kh, kw, fin, cout] = filter.shape.0;
    if fin != cin {
        return Err(Error::shape(format!(
            "conv2d filter {} expects {fin} input channels, input {} has {cin}",
            filter.shape, input.shape
        )));
    }
    let [wy, wx] = windows(input, kh, kw, o)?;
    let mut out = Tensor::zeros([n, wy.output, wx.output, cout]);
    for b in 0..n {
        for oy in 0..wy.output {
            for ox in 0..wx.output {
                for co in 0..cout {
                    let mut acc = 0.0f32;
                    for ky in 0..kh {
                        let Some(iy) = tap(oy, ky, o.strides[0], o.rate[0], wy.pad_before, h) else { continue };
                        for kx in 0..kw {
                            let Some(ix) = tap(ox, kx, o.strides[1], o.rate[1], wx.pad_before, w) else { continue };
                            for ci in 0..cin {
                                acc += input.get(b, iy, ix, ci) * filter.get(ky, kx, ci, co);
                            }
                        }
                    }
                    out.set(b, oy, ox, co, acc);
                }
            }
        }
    }
    super::add_bias(&mut out.data, bias, cout)?;
    Ok(out)
}
