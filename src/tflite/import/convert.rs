//! The weights in the engine's layouts: float, or integer parameters computed exactly as TFLite's reference
//! kernels compute them.

use super::graph::{hwc, Graph, Node, Step};
use super::recognize::{Found, Parts};
use crate::arch::OpKind;
use crate::error::{Error, Real};
use crate::preprocess::Normalization;
use crate::quant::{
    activation_range, conv_output_multiplier, quantize_multiplier, AverageQ, MeanQ, PoolQ, Requantize, SoftmaxU8,
};
use crate::tensor::{Shape, Tensor as FloatTensor};
use crate::tflite::schema::{Activation, BuiltinOp, Options, Tensor, TensorType};
use crate::weights::{LayerWeights, QuantLayer, QuantParams, QuantWeights, Weights};

pub(super) fn le_i32(d: &[u8]) -> Vec<i32> {
    d.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn le_f32(d: &[u8]) -> Vec<f32> {
    d.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// The data of a constant input (filter or bias).
fn constant<'a>(node: &Node, t: &Tensor<'a>) -> Result<&'a [u8], Error> {
    t.data.ok_or_else(|| node.fail(format!("tensor {:?} is not a constant", t.name)))
}

/// Reorders TFLite's filter into TF's layout: OHWI → HWIO, [1, kh, kw, C] → [kh, kw, C, 1], [O, I] → [1, 1, I, O].
fn to_tf_layout<T: Copy + Default>(
    node: &Node,
    values: &[T],
    tflite_shape: &[usize],
) -> Result<([usize; 4], Vec<T>), Error> {
    // The transpose indexes by the shape: the values must fill it exactly.
    if tflite_shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d)) != Some(values.len()) {
        return Err(node.fail(format!("filter holds {} values, not the {tflite_shape:?} its shape says", values.len())));
    }
    Ok(match (&node.op.op, tflite_shape) {
        (BuiltinOp::DepthwiseConv2d, [_, kh, kw, c]) => ([*kh, *kw, *c, 1], values.to_vec()),
        (BuiltinOp::FullyConnected, [o, i]) => ([1, 1, *i, *o], transpose_oi(values, *o, *i, 1)),
        (BuiltinOp::Conv2d, [o, kh, kw, i]) => ([*kh, *kw, *i, *o], transpose_oi(values, *o, *i, kh * kw)),
        (op, s) => return Err(node.fail(format!("filter shape {s:?} is not a {} filter", op.name()))),
    })
}

/// [O][taps·I] → [taps·I][O]: a plain matrix transpose, in tiles to stay in cache.
fn transpose_oi<T: Copy + Default>(v: &[T], o: usize, i: usize, taps: usize) -> Vec<T> {
    const TILE: usize = 32;
    let cols = taps * i;
    let mut out = vec![T::default(); v.len()];
    for r0 in (0..o).step_by(TILE) {
        for c0 in (0..cols).step_by(TILE) {
            for r in r0..(r0 + TILE).min(o) {
                for c in c0..(c0 + TILE).min(cols) {
                    out[c * o + r] = v[r * cols + c];
                }
            }
        }
    }
    out
}

/// The value range of a quantized type; zero points must lie inside it.
fn type_range(t: TensorType) -> (i64, i64) {
    if t == TensorType::Int8 {
        (-128, 127)
    } else {
        (0, 255)
    }
}

fn zero_point(node: &Node, t: &Tensor, zp: i64) -> Result<i32, Error> {
    let (lo, hi) = type_range(t.dtype);
    if !(lo..=hi).contains(&zp) {
        return Err(node.fail(format!("tensor {:?}: zero point {zp} outside {}", t.name, t.dtype.name())));
    }
    Ok(zp as i32)
}

/// The scale and zero point of an activation tensor (one of each).
pub(super) fn activation_quant(t: &Tensor, node: &Node) -> Result<QuantParams, Error> {
    match &t.quantization {
        Some(q) if q.scale.len() == 1 && q.zero_point.len() <= 1 => Ok(QuantParams {
            scale: q.scale[0],
            zero_point: zero_point(node, t, q.zero_point.first().copied().unwrap_or(0))?,
        }),
        _ => Err(node.fail(format!("activation tensor {:?} needs per-tensor quantization", t.name))),
    }
}

/// Per-output-channel (scale, zero point) of a quantized filter: one per tensor (uint8) or one per
/// output channel (int8, symmetric).
fn filter_quant(node: &Node, filter: &Tensor, out_channels: usize, out_dim: usize) -> Result<Vec<(f32, i32)>, Error> {
    let q = filter.quantization.as_ref().ok_or_else(|| node.fail("quantized filter has no quantization"))?;
    // per_channel looks each value's scale up by its channel: the filter must have exactly these channels.
    if filter.shape.get(out_dim) != Some(&out_channels) {
        let (shape, n) = (&filter.shape, out_channels);
        return Err(node.fail(format!("filter shape {shape:?} does not have {n} channels along dimension {out_dim}")));
    }
    let zp = |i: usize| zero_point(node, filter, q.zero_point.get(i).or(q.zero_point.first()).copied().unwrap_or(0));
    match q.scale.len() {
        1 => Ok(vec![(q.scale[0], zp(0)?); out_channels]),
        n if n == out_channels && q.quantized_dimension == out_dim => {
            (0..n).map(|c| Ok((q.scale[c], zp(c)?))).collect()
        }
        n => Err(node.fail(format!(
            "filter has {n} scales along dimension {} for {out_channels} output channels",
            q.quantized_dimension
        ))),
    }
}

/// Float weights: stored float, or dequantized (real = scale · (q − zero_point); bias real = q · in_scale · w_scale).
#[cfg_attr(feature = "small", optimize(size))]
pub(super) fn float_weights(layers: &[Found], dequantize: bool) -> Result<Weights, Error> {
    let mut out = Vec::with_capacity(layers.len());
    for f in layers {
        if f.kind == OpKind::AvgPool {
            out.push(None);
            continue;
        }
        let filter = f.node.required(1)?;
        let data = constant(f.node, filter)?;
        let cout = hwc(f.node, f.output)?[2];
        let out_dim = if f.node.op.op == BuiltinOp::DepthwiseConv2d { 3 } else { 0 };
        let (values, scales): (Vec<f32>, Vec<(f32, i32)>) = match (filter.dtype, dequantize) {
            (TensorType::Float32, false) => (le_f32(data), vec![(1.0, 0); cout]),
            (TensorType::Uint8 | TensorType::Int8, true) => {
                let scales = filter_quant(f.node, filter, cout, out_dim)?;
                (dequantize_filter(data, filter.dtype, &scales, cout, out_dim), scales)
            }
            (t, _) => return Err(f.node.fail(format!("filter type {} does not match the input type", t.name()))),
        };
        let (shape, tf) = to_tf_layout(f.node, &values, &filter.shape)?;
        let bias = match f.node.input(2)? {
            None => Vec::new(),
            Some(b) if !dequantize && b.dtype == TensorType::Float32 => le_f32(constant(f.node, b)?),
            Some(b) if dequantize && b.dtype == TensorType::Int32 => {
                let in_scale = activation_quant(f.input, f.node)?.scale;
                le_i32(constant(f.node, b)?).iter().zip(&scales).map(|(&q, (s, _))| q as f32 * in_scale * s).collect()
            }
            Some(b) => return Err(f.node.fail(format!("bias type {} is not supported here", b.dtype.name()))),
        };
        out.push(Some(LayerWeights { filter: FloatTensor { shape: Shape(shape), data: tf }, bias, batch_norm: None }));
    }
    Ok(Weights { layers: out })
}

/// Maps every stored value to `f(value, channel)`: channels are the outermost axis (`out_dim` 0: OHWI, FC)
/// or the innermost (`out_dim` 3: depthwise). Chunked so no division runs per element.
fn per_channel<T>(data: &[u8], channels: usize, out_dim: usize, f: impl Fn(u8, usize) -> T) -> Vec<T> {
    let channels = channels.max(1);
    let mut out = Vec::with_capacity(data.len());
    if out_dim == 0 {
        let per = (data.len() / channels).max(1);
        for (c, chunk) in data.chunks(per).enumerate() {
            out.extend(chunk.iter().map(|&b| f(b, c)));
        }
    } else {
        for px in data.chunks(channels) {
            out.extend(px.iter().enumerate().map(|(c, &b)| f(b, c)));
        }
    }
    out
}

fn stored_value(b: u8, dtype: TensorType) -> i32 {
    if dtype == TensorType::Int8 {
        b as i8 as i32
    } else {
        b as i32
    }
}

fn dequantize_filter(data: &[u8], dtype: TensorType, scales: &[(f32, i32)], cout: usize, out_dim: usize) -> Vec<f32> {
    per_channel(data, cout, out_dim, |b, c| {
        let (s, zp) = scales[c];
        s * (stored_value(b, dtype) - zp) as f32
    })
}

/// Integer layers with TFLite's reference requantization; int8 models shifted into uint8 (+128).
#[cfg_attr(feature = "small", optimize(size))]
pub(super) fn quant_weights(
    graph: &Graph,
    parts: &Parts,
    signed: bool,
    normalization: Normalization,
) -> Result<QuantWeights, Error> {
    let layers = parts.layers();
    let node0 = parts.stem.node;
    let want = if signed { TensorType::Int8 } else { TensorType::Uint8 };
    let shift = if signed { 128 } else { 0 };
    let (qmin, qmax) = if signed { (-128, 127) } else { (0, 255) };
    let mut out = Vec::with_capacity(layers.len());
    let mut pool = PoolQ::Average(AverageQ { min: 0, max: 255, signed_offset: shift });
    let mut embedding = QuantParams { scale: 1.0, zero_point: 0 };
    let shifted = |q: QuantParams| QuantParams { scale: q.scale, zero_point: q.zero_point + shift };
    let mut activations = Vec::with_capacity(layers.len());
    for f in &layers {
        for t in [f.input, f.output] {
            if t.dtype != want {
                return Err(f.node.fail(format!(
                    "activation {:?} is {}, expected {}",
                    t.name,
                    t.dtype.name(),
                    want.name()
                )));
            }
        }
        let (inq, outq) = (activation_quant(f.input, f.node)?, activation_quant(f.output, f.node)?);
        activations.push(shifted(outq));
        if f.kind == OpKind::AvgPool {
            pool = match f.node.op.op {
                BuiltinOp::Mean => mean_pool(f, inq, outq, shift)?,
                _ => average_pool(f, inq, outq, (qmin, qmax), shift)?,
            };
            embedding = outq;
            out.push(None);
            continue;
        }
        out.push(Some(quant_layer(f, inq, outq, signed, (qmin, qmax))?));
    }
    let head = parts.head.logits();
    let logits = activation_quant(head.output, head.node)?;
    let (softmax, output) = match &graph.softmax {
        Some(step) => (Some(softmax(step, logits, shift)?), QuantParams { scale: 1.0 / 256.0, zero_point: 0 }),
        None => (None, shifted(logits)),
    };
    // The edges' QUANTIZE ops only shift (checked): the model's input means what the stem's input means.
    let inq = activation_quant(parts.stem.input, node0)?;
    Ok(QuantWeights {
        layers: out,
        pool,
        input: shifted(inq),
        logits: shifted(logits),
        embedding: shifted(embedding),
        activations,
        softmax,
        output,
        input_signed: graph.input.dtype == TensorType::Int8,
        output_signed: graph.output.dtype == TensorType::Int8,
        signed,
        normalization,
    })
}

/// SOFTMAX: TFLite's quantized softmax writes scale 1/256 with the type's lowest value as zero point.
fn softmax(step: &Step, logits: QuantParams, shift: i32) -> Result<SoftmaxU8, Error> {
    let out = activation_quant(step.output, step.node)?;
    if out.scale != 1.0 / 256.0 || out.zero_point + shift != 0 {
        let (s, zp) = (out.scale, out.zero_point);
        return Err(step.node.fail(format!(
            "output scale {} and zero point {zp}: quantized SOFTMAX writes 1/256 and {}",
            Real::from(s),
            -shift
        )));
    }
    SoftmaxU8::new(logits.scale, 1.0).map_err(|e| step.node.fail(e.to_string()))
}

/// AVERAGE_POOL_2D: TFLite's reference kernel assumes one quantization for input and output.
fn average_pool(f: &Found, inq: QuantParams, outq: QuantParams, range: (i32, i32), shift: i32) -> Result<PoolQ, Error> {
    if inq != outq {
        return Err(f.node.fail("average pool input and output quantization differ"));
    }
    let act = match f.node.op.options {
        Options::Pool2d { activation, .. } => activation,
        _ => Activation::None,
    };
    let (lo, hi) = activation_range(act.fused()?, outq.scale, outq.zero_point, range.0, range.1)?;
    Ok(PoolQ::Average(AverageQ { min: lo + shift, max: hi + shift, signed_offset: shift }))
}

/// MEAN: `PrepareMeanOrSum`'s multiplier of input_scale / output_scale (in double); the two may differ.
fn mean_pool(f: &Found, inq: QuantParams, outq: QuantParams, shift: i32) -> Result<PoolQ, Error> {
    let real = f64::from(inq.scale) / f64::from(outq.scale);
    // TFLite aborts on an infinite or NaN ratio; a negative one would flip the sign of every mean.
    if !(real.is_finite() && real > 0.0) {
        let (i, o) = (inq.scale, outq.scale);
        return Err(f.node.fail(format!(
            "input scale {} / output scale {} is not a positive ratio",
            Real::from(i),
            Real::from(o)
        )));
    }
    Ok(PoolQ::Mean(MeanQ {
        multiplier: quantize_multiplier(real),
        input_zero_point: inq.zero_point + shift,
        output_zero_point: outq.zero_point + shift,
    }))
}

fn quant_layer(
    f: &Found,
    inq: QuantParams,
    outq: QuantParams,
    signed: bool,
    range: (i32, i32),
) -> Result<QuantLayer, Error> {
    let filter = f.node.required(1)?;
    let wanted = if signed { TensorType::Int8 } else { TensorType::Uint8 };
    if filter.dtype != wanted {
        return Err(f.node.fail(format!("filter type {} with {} activations", filter.dtype.name(), wanted.name())));
    }
    let cout = hwc(f.node, f.output)?[2];
    let out_dim = if f.node.op.op == BuiltinOp::DepthwiseConv2d { 3 } else { 0 };
    let scales = filter_quant(f.node, filter, cout, out_dim)?;
    let data = constant(f.node, filter)?;
    let centered = per_channel(data, cout, out_dim, |b, c| (stored_value(b, filter.dtype) - scales[c].1) as i16);
    let (shape, tf) = to_tf_layout(f.node, &centered, &filter.shape)?;
    let bias = match f.node.input(2)? {
        None => vec![0; cout],
        Some(b) if b.dtype == TensorType::Int32 => le_i32(constant(f.node, b)?),
        Some(b) => return Err(f.node.fail(format!("bias type {} (expected INT32)", b.dtype.name()))),
    };
    // Products are at most 255·255 per tap; a bias beyond ±2^30 could overflow the int32 accumulator.
    if let Some(b) = bias.iter().find(|b| b.unsigned_abs() > 1 << 30) {
        return Err(f.node.fail(format!("bias value {b} is out of range")));
    }
    // TFLite: int8 conv and depthwise always, and int8 fully connected with per-channel scales, compute each
    // channel's multiplier in double (PopulateConvolutionQuantizationParams); uint8 layers and per-tensor
    // int8 fully connected round the scale product to float first (GetQuantizedConvolutionMultipler).
    let fc = f.node.op.op == BuiltinOp::FullyConnected;
    let per_channel_scales = filter.quantization.as_ref().is_some_and(|q| q.scale.len() > 1);
    let per_channel = signed && (!fc || per_channel_scales);
    let multipliers = scales
        .iter()
        .map(|&(ws, _)| {
            // TFLite: per-tensor uint8 rounds the scale product to float first; per-channel works in double.
            let real = if per_channel {
                inq.scale as f64 * ws as f64 / outq.scale as f64
            } else {
                conv_output_multiplier(inq.scale, ws, outq.scale)
            };
            quantize_multiplier(real)
        })
        .collect();
    let act = match f.node.op.options {
        Options::Conv2d { activation, .. }
        | Options::DepthwiseConv2d { activation, .. }
        | Options::FullyConnected { activation, .. } => activation,
        _ => Activation::None,
    };
    let (lo, hi) = activation_range(act.fused()?, outq.scale, outq.zero_point, range.0, range.1)?;
    let shift = if signed { 128 } else { 0 };
    let requantize = Requantize {
        multipliers,
        input_zero_point: inq.zero_point + shift,
        output_zero_point: outq.zero_point + shift,
        min: lo + shift,
        max: hi + shift,
    };
    Ok(QuantLayer { filter_shape: shape, filter: tf, bias, requantize })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tflite::schema::{Model, Operator, Quantization};

    /// Runs `f` on operator 4 of an otherwise empty model, running `op`.
    fn with_node<R>(op: BuiltinOp, f: impl FnOnce(&Node) -> R) -> R {
        let model = Model {
            version: 3,
            description: String::new(),
            tensors: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            operators: Vec::new(),
            metadata: Default::default(),
            flatbuffer_len: 0,
        };
        let operator = Operator { op, inputs: Vec::new(), outputs: Vec::new(), options: Options::None };
        f(&Node { file: 0, index: 4, model: &model, op: &operator })
    }

    fn detail(result: Result<impl std::fmt::Debug, Error>) -> String {
        match result {
            Err(Error::Unsupported { operator: Some(4), detail, .. }) => detail,
            other => panic!("expected an unsupported operator 4, got {other:?}"),
        }
    }

    fn filter<'a>(shape: &[usize], data: Option<&'a [u8]>) -> Tensor<'a> {
        let quantization = Some(Quantization { scale: vec![0.5], zero_point: vec![0], quantized_dimension: 0 });
        Tensor { name: "w".into(), shape: shape.to_vec(), dtype: TensorType::Uint8, data, quantization }
    }

    #[test]
    fn to_tf_layout_reorders_or_names_the_shape() {
        let fc = with_node(BuiltinOp::FullyConnected, |n| to_tf_layout(n, &[1, 2, 3, 4, 5, 6], &[2, 3]));
        assert_eq!(fc, Ok(([1, 1, 3, 2], vec![1, 4, 2, 5, 3, 6])));
        let conv = with_node(BuiltinOp::Conv2d, |n| detail(to_tf_layout(n, &[0; 6], &[2, 3])));
        assert_eq!(conv, "filter shape [2, 3] is not a CONV_2D filter");
        let dw = with_node(BuiltinOp::DepthwiseConv2d, |n| detail(to_tf_layout(n, &[0; 9], &[3, 3])));
        assert_eq!(dw, "filter shape [3, 3] is not a DEPTHWISE_CONV_2D filter");
        let short = with_node(BuiltinOp::Conv2d, |n| detail(to_tf_layout(n, &[0; 5], &[2, 1, 1, 3])));
        assert_eq!(short, "filter holds 5 values, not the [2, 1, 1, 3] its shape says");
    }

    #[test]
    fn filter_scales_need_the_output_channels_in_the_shape() {
        let data = [0u8; 6];
        let w = filter(&[2, 1, 1, 3], Some(&data));
        let ok = with_node(BuiltinOp::Conv2d, |n| filter_quant(n, &w, 2, 0));
        assert_eq!(ok, Ok(vec![(0.5, 0); 2]));
        let wrong = with_node(BuiltinOp::Conv2d, |n| detail(filter_quant(n, &w, 3, 0)));
        assert_eq!(wrong, "filter shape [2, 1, 1, 3] does not have 3 channels along dimension 0");
        let depthwise = with_node(BuiltinOp::DepthwiseConv2d, |n| detail(filter_quant(n, &w, 2, 3)));
        assert_eq!(depthwise, "filter shape [2, 1, 1, 3] does not have 2 channels along dimension 3");
    }

    #[test]
    fn weights_must_be_constants() {
        let w = filter(&[2, 1, 1, 3], None);
        let missing = with_node(BuiltinOp::Conv2d, |n| detail(constant(n, &w)));
        assert_eq!(missing, "tensor \"w\" is not a constant");
    }
}
