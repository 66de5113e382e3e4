//! The trained numbers of one network, in TensorFlow's layouts, one entry per layer of
//! [`Config::layers`]. Comes from a seeded initialization today (every alpha and resolution runs
//! without a file) and from model files later.

use crate::arch::{Config, LayerSpec, OpKind};
use crate::error::Error;
use crate::ops::BatchNorm;
use crate::quant::SoftmaxU8;
use crate::quant::{PoolQ, Requantize};
use crate::rng::Rng;
use crate::tensor::Tensor;

/// TF-slim's batch-norm epsilon for MobileNet v1.
pub const BATCH_NORM_EPSILON: f32 = 0.001;

/// One conv layer's weights: the filter in TF layout (conv [k,k,in,out], depthwise [k,k,in,1],
/// pointwise and logits [1,1,in,out]), a bias (may be empty) and the batch norm that follows, if any.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerWeights {
    pub filter: Tensor,
    pub bias: Vec<f32>,
    pub batch_norm: Option<BatchNorm>,
}

impl LayerWeights {
    /// The filter and bias with the batch norm folded in: what the engine runs, and what
    /// [`crate::export`] hands to other engines.
    pub fn folded(&self) -> Result<(Tensor, Vec<f32>), Error> {
        let mut filter = self.filter.clone();
        let mut bias = self.bias.clone();
        if let Some(bn) = &self.batch_norm {
            bn.fold(&mut filter.data, &mut bias)?;
        }
        Ok((filter, bias))
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Weights {
    /// Aligned with `Config::layers()`; `None` for layers without weights (the average pool).
    pub layers: Vec<Option<LayerWeights>>,
}

/// The filter shape TF gives a layer.
pub fn filter_shape(l: &LayerSpec) -> Option<[usize; 4]> {
    let [kh, kw] = l.kernel;
    match l.op {
        OpKind::Conv | OpKind::Pointwise | OpKind::Dense | OpKind::Logits => Some([kh, kw, l.input.c, l.output.c]),
        OpKind::Depthwise => Some([kh, kw, l.input.c, 1]),
        OpKind::AvgPool => None,
    }
}

impl Weights {
    /// Deterministic weights for any configuration: He-normal filters, batch norm with non-trivial
    /// statistics after every conv (as a trained network has), logits with a bias.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn seeded(cfg: &Config, seed: u64) -> Weights {
        let mut rng = Rng::new(seed);
        let layers = cfg.layers().iter().map(|l| seeded_layer(l, &mut rng)).collect();
        Weights { layers }
    }

    /// Checks that every filter, bias and batch norm has the size its layer needs.
    pub fn check(&self, cfg: &Config) -> Result<(), Error> {
        let specs = cfg.layers();
        if specs.len() != self.layers.len() {
            return Err(Error::shape(format!("{} layers of weights for {} layers", self.layers.len(), specs.len())));
        }
        for (spec, w) in specs.iter().zip(&self.layers) {
            check_layer(spec, w.as_ref())?;
        }
        Ok(())
    }
}

fn check_layer(spec: &LayerSpec, w: Option<&LayerWeights>) -> Result<(), Error> {
    let bad = |what: String| Err(Error::shape(format!("{}: {what}", spec.name)));
    match (filter_shape(spec), w) {
        (None, None) => Ok(()),
        (None, Some(_)) => bad("has no weights, but some were given".into()),
        (Some(_), None) => bad("weights missing".into()),
        (Some(shape), Some(w)) => {
            let c = spec.output.c;
            if w.filter.shape.0 != shape {
                return bad(format!("filter is {}, expected {:?}", w.filter.shape, shape));
            }
            if !(w.bias.is_empty() || w.bias.len() == c) {
                return bad(format!("bias has {} values for {c} channels", w.bias.len()));
            }
            if w.batch_norm.as_ref().is_some_and(|bn| bn.channels() != c) {
                return bad(format!("batch norm does not have {c} channels"));
            }
            if w.filter.data.iter().chain(&w.bias).any(|v| !v.is_finite()) {
                return Err(Error::NonFinite(format!("{}: weights contain NaN or infinity", spec.name)));
            }
            Ok(())
        }
    }
}

fn seeded_layer(l: &LayerSpec, rng: &mut Rng) -> Option<LayerWeights> {
    let shape = filter_shape(l)?;
    let [kh, kw, cin, _] = shape;
    let fan_in = if l.op == OpKind::Depthwise { kh * kw } else { kh * kw * cin };
    let std = (2.0 / fan_in as f32).sqrt();
    let n: usize = shape.iter().product();
    let data = (0..n).map(|_| rng.normal() * std).collect();
    let filter = Tensor { shape: crate::tensor::Shape(shape), data };
    let c = l.output.c;
    if matches!(l.op, OpKind::Dense | OpKind::Logits) {
        let filter = Tensor { data: filter.data.iter().map(|w| w * 0.7).collect(), ..filter };
        return Some(LayerWeights { filter, bias: rng.fill_uniform(c, -0.5, 0.5), batch_norm: None });
    }
    let batch_norm = BatchNorm {
        gamma: rng.fill_uniform(c, 0.5, 1.5),
        beta: rng.fill_uniform(c, -0.3, 0.6),
        mean: rng.fill_uniform(c, -0.4, 0.4),
        variance: rng.fill_uniform(c, 0.6, 1.8),
        epsilon: BATCH_NORM_EPSILON,
    };
    Some(LayerWeights { filter, bias: Vec::new(), batch_norm: Some(batch_norm) })
}

/// Scale and zero point of an activation tensor of a quantized model (real = scale · (q − zero_point)),
/// in the uint8 domain the engine runs in.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QuantParams {
    pub scale: f32,
    pub zero_point: i32,
}

impl QuantParams {
    pub fn dequantize(&self, q: u8) -> f32 {
        self.scale * (q as i32 - self.zero_point) as f32
    }
}

/// One quantized conv layer, ready for the integer kernels: filter minus its zero point in the TF layout
/// of [`LayerWeights::filter`], int32 bias, and the requantization TFLite's reference kernels apply.
#[derive(Clone, Debug, PartialEq)]
pub struct QuantLayer {
    pub filter_shape: [usize; 4],
    pub filter: Vec<i16>,
    pub bias: Vec<i32>,
    pub requantize: Requantize,
}

/// A quantized network: integer layers aligned with `Config::layers()`, plus what the edges need.
#[derive(Clone, Debug)]
pub struct QuantWeights {
    pub layers: Vec<Option<QuantLayer>>,
    /// The global average pool: AVERAGE_POOL_2D or MEAN arithmetic, with its quantization.
    pub pool: PoolQ,
    pub input: QuantParams,
    pub logits: QuantParams,
    /// The pool's output (`AvgPool_1a`, the embedding).
    pub embedding: QuantParams,
    /// Every layer's output quantization, aligned with `layers` (the int8 shift included), so an end point's
    /// bytes can be read as real values.
    pub activations: Vec<QuantParams>,
    /// TFLite's fixed-point softmax after the logits, if the network ends in one.
    pub softmax: Option<SoftmaxU8>,
    /// The output tensor's quantization: the softmax's (1/256), or the logits'.
    pub output: QuantParams,
    /// Whether the model's input and output tensors are int8. The engine runs int8 shifted into uint8 (+128:
    /// the same arithmetic on the same real values), so their bytes are XORed with 0x80 at the edges.
    pub input_signed: bool,
    pub output_signed: bool,
    /// Whether the activations inside are int8 (an end point's bytes are then signed).
    pub signed: bool,
    /// How pixels map to the input's real values (its metadata's, else [-1, 1]).
    pub normalization: crate::preprocess::Normalization,
}

impl QuantWeights {
    /// Checks every layer's sizes against the configuration.
    pub fn check(&self, cfg: &Config) -> Result<(), Error> {
        let specs = cfg.layers();
        if specs.len() != self.layers.len() {
            return Err(Error::shape(format!("{} quantized layers for {} layers", self.layers.len(), specs.len())));
        }
        for (spec, layer) in specs.iter().zip(&self.layers) {
            match (filter_shape(spec), layer) {
                (None, None) => {}
                (Some(shape), Some(q)) if q.filter_shape == shape => {}
                _ => return Err(Error::shape(format!("{}: quantized weights do not fit the layer", spec.name))),
            }
        }
        Ok(())
    }
}
