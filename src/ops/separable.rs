//! `tf.nn.separable_conv2d`: a depthwise conv (with the stride, rate and padding) followed by a 1x1
//! pointwise conv at stride 1, VALID. Pointwise filter [1, 1, in·depth_multiplier, out].

use super::depthwise::depthwise_conv2d;
use super::padding::ConvOptions;
use super::pointwise::pointwise;
use crate::error::Error;
use crate::tensor::Tensor;

pub fn separable_conv2d(
    input: &Tensor,
    depthwise_filter: &Tensor,
    pointwise_filter: &Tensor,
    bias: Option<&[f32]>,
    o: &ConvOptions,
) -> Result<Tensor, Error> {
    let mid = depthwise_conv2d(input, depthwise_filter, None, o)?;
    pointwise(&mid, pointwise_filter, bias)
}
