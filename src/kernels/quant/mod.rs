//! Integer kernels for quantized models: uint8 activations, centered int16 weights, int32 accumulators,
//! requantized exactly as TFLite's reference kernels do. Int8 models run here too, shifted by 128
//! (x − zero_point is unchanged when both move by 128).

pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

use super::pack::{PackedConvQ, PackedDepthwiseQ, PackedPointwiseQ};
use super::Geometry;
use crate::quant::QuantizedMultiplier;

/// The global average pool of a quantized model, with the arithmetic of the TFLite op it came from: the two ops
/// round differently, so each keeps its own formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolQ {
    Average(AverageQ),
    Mean(MeanQ),
}

/// AVERAGE_POOL_2D over the whole map (`reference_ops::AveragePool` for uint8, `reference_integer_ops::AveragePool`
/// for int8): input and output share scale and zero point; out = clamp(round(Σq / n), min, max) on the stored
/// values, ties away from zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AverageQ {
    pub min: i32,
    pub max: i32,
    /// 128 for int8 models run shifted (their rounding is symmetric around the signed zero), else 0.
    pub signed_offset: i32,
}

/// MEAN over axes 1, 2 as the reference kernel of TFLite 2.14+ and LiteRT computes it for int8 and uint8, with any
/// keep_dims (`EvalMean<kReference>` → `EvalQuantizedMean` → `reference_ops::QuantizedMeanOrSum`, compute_sum false):
///
/// - `PrepareMeanOrSum`: (M, s) = `QuantizeMultiplier`((double)input_scale / (double)output_scale);
/// - per call, 1/n folded in ([`crate::quant::mean_multiplier`]): k = min(⌊log2 n⌋, 32, 31 + s),
///   M' = ⌊M · 2^k / n⌋, s' = s − k;
/// - per channel: out = clamp(`MultiplyByQuantizedMultiplier`((int32)(Σq − n · zp_in), M', s') + zp_out, type range).
///
/// Input and output quantization may differ. Zero points here are shifted like the activations (+128 for int8): the
/// formula only sees Σq − n · zp_in, which the shift leaves unchanged, and adds zp_out before clamping to the type
/// range, which moves with it; so the rounding is exactly the signed one and no offset is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeanQ {
    /// (M, s) before 1/n is folded in.
    pub multiplier: QuantizedMultiplier,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
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

/// The fastest quantized set this build has.
pub fn best() -> &'static QuantKernelSet {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return &simd128::SIMD128_Q;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    &scalar::SCALAR_Q
}

/// Every quantized set this build can run, the reference first.
pub fn all() -> Vec<&'static QuantKernelSet> {
    vec![
        &scalar::SCALAR_Q,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        &simd128::SIMD128_Q,
    ]
}
