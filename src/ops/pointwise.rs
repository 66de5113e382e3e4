//! The 1x1 convolution that mixes channels: a matrix product per pixel. Filter [1, 1, in, out].

use super::conv2d::conv2d;
use super::padding::ConvOptions;
use crate::error::Error;
use crate::tensor::Tensor;

pub fn pointwise(input: &Tensor, filter: &Tensor, bias: Option<&[f32]>) -> Result<Tensor, Error> {
    let [kh, kw, _, _] = filter.shape.0;
    if (kh, kw) != (1, 1) {
        return Err(Error::shape(format!("pointwise filter must be 1x1, got {}", filter.shape)));
    }
    conv2d(input, filter, bias, &ConvOptions::valid())
}
