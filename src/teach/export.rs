//! A taught head written after the source model's backbone as one standalone .tflite.
//!
//! The head computes in the backbone's own numbers: float32 for float models, and for quantized ones the
//! same integer type, so the whole file stays one integer graph that TFLite's integer kernels (and ours)
//! run exactly, with no float island behind a DEQUANTIZE. Quantizing the head follows TFLite's converter:
//! uint8 weights per tensor (asymmetric), int8 weights per output channel (symmetric), int32 bias at the
//! input scale times the weight scale, and each layer's output range taken from the training examples.

use super::head::{Dense, Head};
use crate::error::Error;
use crate::tflite::schema::TensorType;
use crate::tflite::writer::{Affine, Backbone, DenseWeights};
use crate::tflite::{self};

/// The .tflite of the first model file's backbone (up to its global average pool) followed by `head` and a
/// softmax, labelled with `labels`. `examples` are the training embeddings (rows of the head's input
/// width): quantized heads take their activation ranges from them.
#[cfg_attr(feature = "small", optimize(size))]
pub fn tflite(source: &[u8], head: &Head, examples: &[f32], labels: &[String]) -> Result<Vec<u8>, Error> {
    let model = tflite::reader::read(source)?;
    let mut backbone = Backbone::copy(&model)?;
    check(&backbone, head, examples, labels)?;
    let ranges = ranges(head, examples);
    for (i, (layer, range)) in head.layers.iter().zip(ranges).enumerate() {
        let name = if i + 1 == head.layers.len() { "teach/logits".to_string() } else { format!("teach/dense_{i}") };
        let weights = match (backbone.compute(), backbone.embedding()) {
            (TensorType::Float32, _) => {
                DenseWeights::Float { weights: layer.weights.clone(), bias: layer.bias.clone() }
            }
            (compute, Some(input)) => quantized(layer, input, range, compute == TensorType::Int8),
            (other, None) => return Err(Error::unsupported(None, "embedding", format!("type {}", other.name()))),
        };
        backbone.dense(&name, layer.outputs, &weights, layer.relu)?;
    }
    backbone.softmax()?;
    backbone.finish(labels)
}

fn check(backbone: &Backbone, head: &Head, examples: &[f32], labels: &[String]) -> Result<(), Error> {
    if head.dim() != backbone.width() {
        return Err(Error::shape(format!(
            "the head takes {} features but the backbone's embedding has {}",
            head.dim(),
            backbone.width()
        )));
    }
    if labels.len() != head.classes() {
        return Err(Error::shape(format!("{} labels for {} classes", labels.len(), head.classes())));
    }
    if let Some(bad) = labels.iter().position(|l| l.contains(['\n', '\r'])) {
        return Err(Error::teach(format!("label {bad} holds a line break; labels are stored one per line")));
    }
    if examples.is_empty() || examples.len() % head.dim() != 0 {
        return Err(Error::shape(format!("{} example floats are not rows of {}", examples.len(), head.dim())));
    }
    Ok(())
}

/// Per layer, the least and greatest output over the examples, widened to hold 0 (quantized zero must be
/// exact, and ReLU outputs start there).
#[cfg_attr(feature = "small", optimize(size))]
fn ranges(head: &Head, examples: &[f32]) -> Vec<(f32, f32)> {
    let mut ranges = vec![(0.0f32, 0.0f32); head.layers.len()];
    for x in examples.chunks_exact(head.dim()) {
        let mut a = x.to_vec();
        for (layer, r) in head.layers.iter().zip(&mut ranges) {
            a = layer.apply(&a);
            for &v in &a {
                *r = (r.0.min(v), r.1.max(v));
            }
        }
    }
    ranges
}

/// The layer in integers: weights of the compute type, bias in int32, output quantized over `range`.
#[cfg_attr(feature = "small", optimize(size))]
fn quantized(layer: &Dense, input: Affine, range: (f32, f32), signed: bool) -> DenseWeights {
    let (weights, scales, zero_point) = if signed { per_channel_int8(layer) } else { per_tensor_uint8(&layer.weights) };
    let bias = layer
        .bias
        .iter()
        .enumerate()
        .map(|(o, &b)| {
            let s = f64::from(input.scale) * f64::from(scales[if scales.len() == 1 { 0 } else { o }]);
            (f64::from(b) / s).round().clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32
        })
        .collect();
    DenseWeights::Quantized { weights, scales, zero_point, bias, output: output_params(range, signed) }
}

/// Symmetric int8 per output channel: scale max|w| / 127, zero point 0 (TFLite's int8 scheme).
#[cfg_attr(feature = "small", optimize(size))]
fn per_channel_int8(layer: &Dense) -> (Vec<u8>, Vec<f32>, i64) {
    let mut bytes = Vec::with_capacity(layer.weights.len());
    let mut scales = Vec::with_capacity(layer.outputs);
    for row in layer.weights.chunks_exact(layer.inputs) {
        let max = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
        let scale = if max > 0.0 { max / 127.0 } else { 1.0 };
        bytes.extend(row.iter().map(|w| (w / scale).round().clamp(-127.0, 127.0) as i8 as u8));
        scales.push(scale);
    }
    (bytes, scales, 0)
}

/// Asymmetric uint8 for the whole tensor over [min(w, 0), max(w, 0)] (TFLite's uint8 scheme).
#[cfg_attr(feature = "small", optimize(size))]
fn per_tensor_uint8(weights: &[f32]) -> (Vec<u8>, Vec<f32>, i64) {
    let q = output_params(weights.iter().fold((0.0f32, 0.0f32), |(lo, hi), &w| (lo.min(w), hi.max(w))), false);
    let bytes = weights.iter().map(|w| ((w / q.scale).round() + q.zero_point as f32).clamp(0.0, 255.0) as u8).collect();
    (bytes, vec![q.scale], q.zero_point)
}

/// Scale and zero point that cover `[lo, hi]` (which holds 0) in 256 steps of the type.
fn output_params((lo, hi): (f32, f32), signed: bool) -> Affine {
    let span = (hi - lo).max(1e-6);
    let scale = span / 255.0;
    let qmin = if signed { -128.0 } else { 0.0 };
    let zero_point = (qmin - lo / scale).round().clamp(qmin, qmin + 255.0) as i64;
    Affine { scale, zero_point }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_ranges_put_zero_on_a_step() {
        let q = output_params((-2.0, 6.0), false);
        assert!((q.scale - 8.0 / 255.0).abs() < 1e-7);
        assert_eq!(q.zero_point, 64);
        assert_eq!(output_params((-2.0, 6.0), true).zero_point, -64);
        // All-positive ranges start at the type's lowest value.
        assert_eq!(output_params((0.0, 3.0), true).zero_point, -128);
    }

    #[test]
    fn int8_weights_reach_127_in_every_channel() {
        let layer =
            Dense { inputs: 2, outputs: 2, weights: vec![0.5, -1.0, 0.0, 0.0], bias: vec![0.0; 2], relu: false };
        let (w, s, zp) = per_channel_int8(&layer);
        assert_eq!((w.iter().map(|&b| b as i8).collect::<Vec<_>>(), zp), (vec![64, -127, 0, 0], 0));
        assert_eq!(s, vec![1.0 / 127.0, 1.0]);
    }

    #[test]
    fn uint8_weights_dequantize_within_half_a_step() {
        let w = [-0.3f32, 0.0, 0.25, 0.7];
        let (q, s, zp) = per_tensor_uint8(&w);
        for (&q, &w) in q.iter().zip(&w) {
            assert!(((f32::from(q) - zp as f32) * s[0] - w).abs() <= s[0] / 2.0 + 1e-6);
        }
    }
}
