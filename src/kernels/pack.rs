//! Owns every weight layout the kernels read. Packing happens once, at plan time, from TF layouts.

use crate::error::Error;
use crate::quant::QuantizedMultiplier;
use crate::tensor::Tensor;

/// Full conv weights as [kh][kw][in][out] (TF's HWIO, output channels innermost so the kernel
/// streams them) plus one bias per output channel.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedConv {
    pub kernel: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// Depthwise weights as [tap = ky·k + kx][channel], so one tap covers all channels contiguously.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedDepthwise {
    pub kernel: usize,
    pub channels: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

/// 1x1 weights as [in][out]: each input channel scales one contiguous row of outputs.
#[derive(Clone, Debug, PartialEq)]
pub struct PackedPointwise {
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
}

fn bias_or_zeros(bias: &[f32], n: usize) -> Result<Vec<f32>, Error> {
    match bias.len() {
        0 => Ok(vec![0.0; n]),
        len if len == n => Ok(bias.to_vec()),
        len => Err(Error::shape(format!("bias has {len} values for {n} output channels"))),
    }
}

fn square_kernel(filter: &Tensor) -> Result<usize, Error> {
    let [kh, kw, _, _] = filter.shape.0;
    if kh != kw || kh == 0 {
        return Err(Error::shape(format!("kernel must be square and non-empty, got {}", filter.shape)));
    }
    Ok(kh)
}

/// From a TF conv filter [k, k, in, out].
pub fn conv(filter: &Tensor, bias: &[f32]) -> Result<PackedConv, Error> {
    let kernel = square_kernel(filter)?;
    let [_, _, cin, cout] = filter.shape.0;
    Ok(PackedConv {
        kernel,
        in_channels: cin,
        out_channels: cout,
        weights: filter.data.clone(),
        bias: bias_or_zeros(bias, cout)?,
    })
}

/// From a TF depthwise filter [k, k, channels, 1].
pub fn depthwise(filter: &Tensor, bias: &[f32]) -> Result<PackedDepthwise, Error> {
    let kernel = square_kernel(filter)?;
    let [_, _, c, mult] = filter.shape.0;
    if mult != 1 {
        return Err(Error::shape(format!("the engine's depthwise kernel takes depth_multiplier 1, got {mult}")));
    }
    // [kh, kw, c, 1] flattened is already [tap][channel].
    Ok(PackedDepthwise { kernel, channels: c, weights: filter.data.clone(), bias: bias_or_zeros(bias, c)? })
}

/// From a TF 1x1 filter [1, 1, in, out].
pub fn pointwise(filter: &Tensor, bias: &[f32]) -> Result<PackedPointwise, Error> {
    let [kh, kw, cin, cout] = filter.shape.0;
    if (kh, kw) != (1, 1) {
        return Err(Error::shape(format!("pointwise filter must be 1x1, got {}", filter.shape)));
    }
    Ok(PackedPointwise {
        in_channels: cin,
        out_channels: cout,
        weights: filter.data.clone(),
        bias: bias_or_zeros(bias, cout)?,
    })
}

/// How a quantized layer turns its int32 accumulators back into uint8: one multiplier per output
/// channel (TFLite's per-channel or replicated per-tensor scale), the zero points and the fused
/// activation as a clamp range.
#[derive(Clone, Debug, PartialEq)]
pub struct Requantize {
    pub multipliers: Vec<QuantizedMultiplier>,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub min: i32,
    pub max: i32,
}

impl Requantize {
    /// acc → clamp(multiplier(acc) + output zero point).
    #[inline(always)]
    pub fn output(&self, channel: usize, acc: i32) -> u8 {
        (self.multipliers[channel].apply(acc) + self.output_zero_point).clamp(self.min, self.max) as u8
    }
}

/// Quantized full conv: weights minus their zero point, [kh][kw][in][out] like [`PackedConv`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedConvQ {
    pub kernel: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Vec<i16>,
    pub bias: Vec<i32>,
    pub requantize: Requantize,
}

/// Quantized depthwise conv: [tap][channel] like [`PackedDepthwise`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedDepthwiseQ {
    pub kernel: usize,
    pub channels: usize,
    pub weights: Vec<i16>,
    pub bias: Vec<i32>,
    pub requantize: Requantize,
}

/// Quantized 1x1 conv: [in][out] like [`PackedPointwise`].
#[derive(Clone, Debug, PartialEq)]
pub struct PackedPointwiseQ {
    pub in_channels: usize,
    pub out_channels: usize,
    pub weights: Vec<i16>,
    pub bias: Vec<i32>,
    pub requantize: Requantize,
}

fn check_quantized(shape: [usize; 4], weights: &[i16], bias: &[i32], r: &Requantize, out: usize) -> Result<(), Error> {
    let n: usize = shape.iter().product();
    if weights.len() != n || bias.len() != out || r.multipliers.len() != out {
        return Err(Error::shape(format!(
            "quantized layer {shape:?}: {} weights, {} biases, {} multipliers for {out} channels",
            weights.len(),
            bias.len(),
            r.multipliers.len()
        )));
    }
    Ok(())
}

/// From centered TF-layout weights [k, k, in, out].
pub fn conv_q(
    shape: [usize; 4],
    weights: Vec<i16>,
    bias: Vec<i32>,
    requantize: Requantize,
) -> Result<PackedConvQ, Error> {
    let [kh, kw, cin, cout] = shape;
    check_quantized(shape, &weights, &bias, &requantize, cout)?;
    if kh != kw {
        return Err(Error::shape(format!("kernel must be square, got {kh}x{kw}")));
    }
    Ok(PackedConvQ { kernel: kh, in_channels: cin, out_channels: cout, weights, bias, requantize })
}

/// From centered TF-layout weights [k, k, channels, 1].
pub fn depthwise_q(
    shape: [usize; 4],
    weights: Vec<i16>,
    bias: Vec<i32>,
    requantize: Requantize,
) -> Result<PackedDepthwiseQ, Error> {
    let [kh, kw, c, mult] = shape;
    check_quantized(shape, &weights, &bias, &requantize, c * mult)?;
    if kh != kw || mult != 1 {
        return Err(Error::shape(format!("depthwise kernel must be square with multiplier 1, got {shape:?}")));
    }
    Ok(PackedDepthwiseQ { kernel: kh, channels: c, weights, bias, requantize })
}

/// From centered TF-layout weights [1, 1, in, out].
pub fn pointwise_q(
    shape: [usize; 4],
    weights: Vec<i16>,
    bias: Vec<i32>,
    requantize: Requantize,
) -> Result<PackedPointwiseQ, Error> {
    let [kh, kw, cin, cout] = shape;
    check_quantized(shape, &weights, &bias, &requantize, cout)?;
    if (kh, kw) != (1, 1) {
        return Err(Error::shape(format!("pointwise filter must be 1x1, got {shape:?}")));
    }
    Ok(PackedPointwiseQ { in_channels: cin, out_channels: cout, weights, bias, requantize })
}
