//! What a plan needs from a number domain beyond its kernels: how the network's weights become kept layers, and
//! the network's edges (how inputs enter, how outputs leave). The float domain scales pixels and takes a float
//! softmax; the uint8 domain shifts int8 bytes, runs TFLite's fixed-point softmax and dequantizes.

use super::geometry;
use crate::arch::{Config, LayerSpec, OpKind};
use crate::error::{Error, Real};
use crate::kernels::float::{pack, Clamp, Float, FloatLayer};
use crate::kernels::uint8::{Uint8, Uint8Layer};
use crate::kernels::Domain;
use crate::ops::softmax as softmax_f32;
use crate::preprocess::{self, Normalization, PixelFormat};
use crate::quant::SoftmaxU8;
use crate::weights::{LayerWeights, QuantParams, QuantWeights, Weights};
use std::borrow::Cow;
use std::fmt::Debug;

/// The outputs a plan fills after a full run: logits, probabilities, and the output tensor as the model stores it.
#[derive(Clone, Debug)]
pub struct Outputs<E> {
    pub logits: Vec<f32>,
    pub probabilities: Vec<f32>,
    pub raw: Vec<E>,
}

/// A number domain as the plan sees it.
pub trait PlanDomain: Domain + Clone + Debug {
    /// The conversions at the network's edges.
    type Edges: Clone + Debug + Send + Sync;
    /// Whether the domain runs a quantized model's integer arithmetic.
    const QUANTIZED: bool;
    /// A raw input tensor from its bytes (little-endian for floats; bytes are borrowed as they are).
    fn decode(raw: &[u8]) -> Result<Cow<'_, [Self::Elem]>, Error>;
    /// A raw output tensor as bytes.
    fn encode(values: &[Self::Elem]) -> Vec<u8>;
    /// Copies a raw input tensor in, checking it.
    fn load(edges: &Self::Edges, raw: &[Self::Elem], input: &mut [Self::Elem]) -> Result<(), Error>;
    /// Pixels (RGB or RGBA of the input size) to the input tensor.
    fn load_pixels(
        edges: &Self::Edges,
        pixels: &[u8],
        format: PixelFormat,
        input: &mut [Self::Elem],
    ) -> Result<(), Error>;
    /// The logits layer's output to logits, probabilities and the stored output tensor (the probabilities
    /// where the network ends in a softmax, else the logits).
    fn finish(edges: &Self::Edges, logits: &[Self::Elem], softmax: bool, out: &mut Outputs<Self::Elem>);
    /// Turns an end point's output into the values the model stores, in place.
    fn stored(edges: &Self::Edges, out: &mut [Self::Elem]);
    /// The embedding (the pool's output) as floats.
    fn embedding(edges: &Self::Edges, pooled: &[Self::Elem], out: &mut [f32]);
    /// Layer `layer`'s output as real values (dequantized for quantized models), appended to `out`.
    fn activation(edges: &Self::Edges, layer: usize, output: &[Self::Elem], out: &mut Vec<f32>) -> Result<(), Error>;
    /// The number type the layers compute in: "float32", "uint8" or "int8".
    fn number_type(edges: &Self::Edges) -> &'static str;
}

/// A network's weights as [`super::Plan::new`] takes them; their type says the plan's domain.
pub trait NetworkWeights {
    type Domain: PlanDomain;
    /// Checks the weights against the configuration (whose layers are `specs`) and turns them into one kept
    /// layer per spec, plus the edges.
    #[allow(clippy::type_complexity)]
    fn prepare(self, config: &Config, specs: &[LayerSpec]) -> Result<(Vec<LayerOf<Self>>, EdgesOf<Self>), Error>;
}

type LayerOf<W> = <<W as NetworkWeights>::Domain as Domain>::Layer;
type EdgesOf<W> = <<W as NetworkWeights>::Domain as PlanDomain>::Edges;

impl NetworkWeights for &Weights {
    type Domain = Float;

    fn prepare(self, config: &Config, specs: &[LayerSpec]) -> Result<(Vec<FloatLayer>, Normalization), Error> {
        self.check(config)?;
        let layers = specs.iter().zip(&self.layers).map(|(s, w)| float_layer(s, w.as_ref()));
        Ok((layers.collect::<Result<_, _>>()?, Normalization::MINUS_ONE_ONE))
    }
}

impl PlanDomain for Float {
    type Edges = Normalization;
    const QUANTIZED: bool = false;

    fn decode(raw: &[u8]) -> Result<Cow<'_, [f32]>, Error> {
        if raw.len() % 4 != 0 {
            return Err(Error::shape(format!("float input has {} bytes, not a multiple of 4", raw.len())));
        }
        Ok(Cow::Owned(raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()))
    }

    fn encode(values: &[f32]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    fn load(_: &Normalization, raw: &[f32], input: &mut [f32]) -> Result<(), Error> {
        if raw.len() != input.len() {
            return Err(Error::shape(format!(
                "input has {} values, the model takes {} (height·width·3)",
                raw.len(),
                input.len()
            )));
        }
        if let Some(i) = raw.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFinite(format!("input value {i} is {}", Real::from(raw[i]))));
        }
        input.copy_from_slice(raw);
        Ok(())
    }

    fn load_pixels(n: &Normalization, pixels: &[u8], format: PixelFormat, input: &mut [f32]) -> Result<(), Error> {
        preprocess::to_input(pixels, format, *n, input)
    }

    fn finish(_: &Normalization, logits: &[f32], softmax: bool, out: &mut Outputs<f32>) {
        out.logits.copy_from_slice(logits);
        softmax_f32(logits, &mut out.probabilities);
        out.raw.copy_from_slice(if softmax { &out.probabilities } else { logits });
    }

    fn stored(_: &Normalization, _: &mut [f32]) {}

    fn embedding(_: &Normalization, pooled: &[f32], out: &mut [f32]) {
        out.copy_from_slice(pooled);
    }

    fn activation(_: &Normalization, _: usize, output: &[f32], out: &mut Vec<f32>) -> Result<(), Error> {
        out.extend_from_slice(output);
        Ok(())
    }

    fn number_type(_: &Normalization) -> &'static str {
        "float32"
    }
}

/// Folds the layer's batch norm into its filter and bias, then packs them in the float families' layout.
fn float_layer(spec: &LayerSpec, w: Option<&LayerWeights>) -> Result<FloatLayer, Error> {
    let clamp = Clamp::of(spec.activation);
    let Some(w) = w else { return Ok(FloatLayer::Pool { channels: spec.input.c }) };
    let (filter, bias) = w.folded()?;
    Ok(match spec.op {
        OpKind::Conv => FloatLayer::Conv(pack::conv(&filter, &bias)?, clamp),
        OpKind::Depthwise => FloatLayer::Depthwise(pack::depthwise(&filter, &bias)?, clamp),
        OpKind::Pointwise | OpKind::Dense | OpKind::Logits => {
            FloatLayer::Pointwise(pack::pointwise(&filter, &bias)?, clamp)
        }
        OpKind::AvgPool => FloatLayer::Pool { channels: spec.input.c },
    })
}

/// Quantization at a quantized network's edges, in the uint8 terms the engine runs in.
#[derive(Clone, Debug)]
pub struct QuantEdges {
    pub input: QuantParams,
    pub logits: QuantParams,
    pub embedding: QuantParams,
    /// Each layer's output quantization (see [`QuantWeights::activations`]).
    pub activations: Vec<QuantParams>,
    pub output: QuantParams,
    /// TFLite's fixed-point softmax after the logits, if the network ends in one.
    pub softmax: Option<SoftmaxU8>,
    /// 0x80 where the model's input (output) tensor is int8: its bytes are the engine's XOR 0x80.
    pub input_flip: u8,
    pub output_flip: u8,
    /// 0x80 where the activations inside are int8.
    pub flip: u8,
    /// Pixel value → input byte, per channel (see [`pixel_inputs`]); None where every byte stays as it is, so
    /// the per-frame path is a plain copy.
    pub pixels: Option<Box<[[u8; 256]; 3]>>,
}

impl NetworkWeights for QuantWeights {
    type Domain = Uint8;

    fn prepare(self, config: &Config, specs: &[LayerSpec]) -> Result<(Vec<Uint8Layer>, QuantEdges), Error> {
        let weights = self;
        weights.check(config)?;
        let pool = weights.pool;
        let layers = specs.iter().zip(weights.layers).map(|(spec, w)| match (spec.op, w) {
            (OpKind::Conv, Some(f)) => Ok(Uint8Layer::Conv(f)),
            (OpKind::Depthwise, Some(f)) => Ok(Uint8Layer::Depthwise(f)),
            (OpKind::Pointwise | OpKind::Dense | OpKind::Logits, Some(f)) => Ok(Uint8Layer::Pointwise(f)),
            (OpKind::AvgPool, None) => Ok(Uint8Layer::Pool { channels: spec.input.c, pool }),
            _ => Err(Error::shape(format!("{}: quantized weights do not fit the layer", spec.name))),
        });
        let layers = layers.collect::<Result<_, _>>()?;
        let flip = |signed: bool| if signed { 0x80 } else { 0 };
        let input = weights.input;
        let edges = QuantEdges {
            input,
            logits: weights.logits,
            embedding: weights.embedding,
            activations: weights.activations,
            output: weights.output,
            softmax: weights.softmax,
            input_flip: flip(weights.input_signed),
            output_flip: flip(weights.output_signed),
            flip: flip(weights.signed),
            pixels: Some(pixel_inputs(weights.normalization, input))
                .filter(|luts| luts.iter().any(|lut| lut.iter().zip(0..=255).any(|(&q, p)| q != p)))
                .map(Box::new),
        };
        Ok((layers, edges))
    }
}

impl PlanDomain for Uint8 {
    type Edges = QuantEdges;
    const QUANTIZED: bool = true;

    fn decode(raw: &[u8]) -> Result<Cow<'_, [u8]>, Error> {
        Ok(Cow::Borrowed(raw))
    }

    fn encode(values: &[u8]) -> Vec<u8> {
        values.to_vec()
    }

    fn load(edges: &QuantEdges, raw: &[u8], input: &mut [u8]) -> Result<(), Error> {
        if raw.len() != input.len() {
            return Err(Error::shape(format!(
                "input has {} bytes, the model takes {} (height·width·3)",
                raw.len(),
                input.len()
            )));
        }
        input.iter_mut().zip(raw).for_each(|(d, &s)| *d = s ^ edges.input_flip);
        Ok(())
    }

    /// Pixels are normalized as for a float model ([-1, 1]) and quantized with the input's scale and zero point.
    fn load_pixels(edges: &QuantEdges, pixels: &[u8], format: PixelFormat, input: &mut [u8]) -> Result<(), Error> {
        preprocess::to_quantized(pixels, format, edges.pixels.as_deref(), input)
    }

    fn finish(edges: &QuantEdges, logits: &[u8], _: bool, out: &mut Outputs<u8>) {
        for (l, &q) in out.logits.iter_mut().zip(logits) {
            *l = edges.logits.dequantize(q);
        }
        match &edges.softmax {
            Some(softmax) => {
                softmax.run(logits, &mut out.raw);
                for (p, &q) in out.probabilities.iter_mut().zip(&out.raw) {
                    *p = edges.output.dequantize(q);
                }
            }
            // A network ending in its logits: the stored output is the logits, and probabilities a float softmax.
            None => {
                out.raw.copy_from_slice(logits);
                softmax_f32(&out.logits, &mut out.probabilities);
            }
        }
        out.raw.iter_mut().for_each(|v| *v ^= edges.output_flip);
    }

    fn stored(edges: &QuantEdges, out: &mut [u8]) {
        out.iter_mut().for_each(|v| *v ^= edges.flip);
    }

    fn embedding(edges: &QuantEdges, pooled: &[u8], out: &mut [f32]) {
        for (e, &q) in out.iter_mut().zip(pooled) {
            *e = edges.embedding.dequantize(q);
        }
    }

    fn activation(edges: &QuantEdges, layer: usize, output: &[u8], out: &mut Vec<f32>) -> Result<(), Error> {
        let q =
            edges.activations.get(layer).ok_or_else(|| Error::shape(format!("no quantization for layer {layer}")))?;
        out.extend(output.iter().map(|&v| q.dequantize(v)));
        Ok(())
    }

    fn number_type(edges: &QuantEdges) -> &'static str {
        if edges.flip != 0 {
            "int8"
        } else {
            "uint8"
        }
    }
}

/// Pixel value → input byte, per channel: the pixel normalized (as the model's metadata says, else to [-1, 1])
/// and quantized with the input's own scale and zero point. Where that is the pixel byte itself to within one
/// step (the official files, and every converter calibration on [-1, 1] images), the byte is kept as it is,
/// as TFLite's image classifiers feed it.
fn pixel_inputs(normalization: Normalization, input: QuantParams) -> [[u8; 256]; 3] {
    let mut luts = [[0u8; 256]; 3];
    for (c, lut) in luts.iter_mut().enumerate() {
        *lut = preprocess::quantize_lut(normalization, c, input.scale, input.zero_point);
    }
    let near = luts.iter().all(|lut| lut.iter().zip(0..).all(|(&q, p): (&u8, i32)| (i32::from(q) - p).abs() <= 1));
    if near {
        for lut in &mut luts {
            lut.iter_mut().zip(0..=255).for_each(|(q, p)| *q = p);
        }
    }
    luts
}

/// The window of a layer that has one (conv, depthwise).
pub(crate) fn window(spec: &LayerSpec) -> Result<Option<crate::kernels::Geometry>, Error> {
    match spec.op {
        OpKind::Conv | OpKind::Depthwise => geometry(spec).map(Some),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pixels_become_input_bytes_by_the_inputs_own_quantization() {
        let identity: [u8; 256] = std::array::from_fn(|p| p as u8);
        let n = Normalization::MINUS_ONE_ONE;
        // The official files (1/128, 128) and Keras full-integer files (1/127.5, 127; int8 −1 is 127 here).
        assert_eq!(pixel_inputs(n, QuantParams { scale: 1.0 / 128.0, zero_point: 128 }), [identity; 3]);
        assert_eq!(pixel_inputs(n, QuantParams { scale: 1.0 / 127.5, zero_point: 127 }), [identity; 3]);
        // An input calibrated on [-2, 2]: pixels are quantized, not copied.
        let wide = pixel_inputs(n, QuantParams { scale: 1.0 / 64.0, zero_point: 128 });
        assert_eq!((wide[0][0], wide[1][128], wide[2][255]), (64, 128, 192));
        // Metadata's per-channel normalization (ImageNet's mean and std in pixels) quantized per channel.
        let imagenet = Normalization { mean: [123.7, 116.3, 103.5], std: [58.4, 57.1, 57.4] };
        let q = pixel_inputs(imagenet, QuantParams { scale: 0.02, zero_point: 128 });
        assert_eq!((q[0][124], q[1][116], q[2][104]), (128, 128, 128));
        assert_ne!(q[0], q[2]);
    }
}
