//! Operators with TensorFlow's semantics (NHWC, TF filter layouts, TF's SAME rule), written as plain
//! scalar loops. They are slow on purpose: they are the reference every fast kernel is tested against.

pub mod activation;
pub mod batch_norm;
pub mod conv2d;
pub mod depthwise;
pub mod padding;
pub mod pointwise;
pub mod pool;
pub mod separable;
pub mod softmax;

pub use activation::{relu6, relu6_in_place};
pub use batch_norm::BatchNorm;
pub use conv2d::conv2d;
pub use depthwise::depthwise_conv2d;
pub use padding::{ConvOptions, Padding};
pub use pointwise::pointwise;
pub use pool::{avg_pool, global_avg_pool};
pub use separable::separable_conv2d;
pub use softmax::softmax;

use crate::error::Error;

/// Adds a per-output-channel bias in place; channels are the innermost axis.
pub(crate) fn add_bias(data: &mut [f32], bias: Option<&[f32]>, channels: usize) -> Result<(), Error> {
    let Some(bias) = bias else { return Ok(()) };
    if bias.len() != channels {
        return Err(Error::shape(format!("bias has {} values for {channels} output channels", bias.len())));
    }
    for px in data.chunks_exact_mut(channels) {
        px.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
    }
    Ok(())
}
