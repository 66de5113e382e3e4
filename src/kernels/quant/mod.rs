//! Integer kernels for quantized models: uint8 activations, centered int16 weights, int32 accumulators,
//! requantized exactly as TFLite's reference kernels do. Int8 models run here too, shifted by 128
//! (x − zero_point is unchanged when both move by 128).

pub mod scalar;

use super::pack::{PackedConvQ, PackedDepthwiseQ, PackedPointwiseQ};
use super::Geometry;

/// The global average pool of a quantized model: input and output share scale and zero point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolQ {
    pub min: i32,
    pub max: i32,
    /// 128 for int8 models run shifted (their rounding is symmetric around the signed zero), else 0.
    pub signed_offset: i32,
}

pub type ConvQFn = fn(&Geometry, &PackedConvQ, &[u8], &mut [u8]);
pub type DepthwiseQFn = fn(&Geometry, &PackedDepthwiseQ, &[u8], &mut [u8]);
pub type PointwiseQFn = fn(pixels: usize, &PackedPointwiseQ, &[u8], &mut [u8]);
pub type GlobalAvgPoolQFn = fn(pixels: usize, channels: usize, &[u8], &mut [u8], &PoolQ);

/// One family of quantized kernels, swapped in like [`super::KernelSet`].
#[derive(Clone, Copy, Debug)]
pub struct QuantKernelSet {
    pub name: &'static str,
    pub conv: ConvQFn,
    pub depthwise: DepthwiseQFn,
    pub pointwise: PointwiseQFn,
    pub global_avg_pool: GlobalAvgPoolQFn,
}

pub fn best() -> &'static QuantKernelSet {
    &scalar::SCALAR_Q
}

pub fn all() -> Vec<&'static QuantKernelSet> {
    vec![&scalar::SCALAR_Q]
}
