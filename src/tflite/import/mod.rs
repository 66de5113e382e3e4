//! Maps verified TFLite models onto the engine: recognizes MobileNet v1 in the operator list (recovering
//! alpha, resolution, output stride and class count), checks every layer against the architecture, and
//! converts the weights to the engine's layouts — float, or integer parameters computed exactly as
//! TFLite's reference kernels compute them. Several files chain into one network when each output
//! matches the next input. Anything else is a typed error naming the operator.
//!
//! The jobs, in order: `graph` flattens the files into one linear op chain, `recognize` names its parts
//! (stem, blocks, pool, head) and reads off the configuration, `validate` checks every layer against it,
//! and `convert` builds the weights.

mod convert;
mod graph;
mod recognize;
mod validate;

use super::schema::{Model, TensorType};
use crate::arch::Config;
use crate::error::Error;
use crate::preprocess::Normalization;
use crate::weights::{QuantWeights, Weights};
use convert::{activation_quant, float_weights, quant_weights};
use recognize::infer_config;
use validate::check_layers;

/// How to run a quantized model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Precision {
    /// As stored: integer arithmetic for quantized models (bit-exact with TFLite), float for float ones.
    AsStored,
    /// Dequantize a quantized model's weights and run it in float.
    Float,
}

/// What the engine runs.
#[derive(Clone, Debug)]
pub enum Network {
    Float { weights: Weights, normalization: Normalization },
    Quantized(QuantWeights),
}

/// A recognized model: the architecture it is, its weights, and what came with it.
#[derive(Clone, Debug)]
pub struct Imported {
    pub config: Config,
    pub network: Network,
    /// The element type of the input tensor as stored.
    pub input_type: TensorType,
}

/// Imports one model, or several chained (e.g. an embedding extractor followed by its head).
pub fn import(models: &[Model<'_>], precision: Precision) -> Result<Imported, Error> {
    let nodes = graph::chain(models)?;
    let graph = graph::linearise(&nodes)?;
    let parts = recognize::parts(&graph.steps)?;
    let (input, first) = (graph.input, graph.first);
    let config = infer_config(input, &parts)?;
    let layers = parts.layers();
    check_layers(&config, &layers)?;
    let input_type = input.dtype;
    let network = match (input_type, precision) {
        (TensorType::Float32, _) => {
            Network::Float { weights: float_weights(&layers, false)?, normalization: Normalization::MINUS_ONE_ONE }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::Float) => {
            let q = activation_quant(input, first)?;
            let offset = if input_type == TensorType::Int8 { 128.0 } else { 0.0 };
            let normalization = Normalization { mean: q.zero_point as f32 + offset, std: 1.0 / q.scale };
            Network::Float { weights: float_weights(&layers, true)?, normalization }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::AsStored) => {
            Network::Quantized(quant_weights(input, &parts, input_type == TensorType::Int8)?)
        }
        (other, _) => return Err(first.fail(format!("input tensor type {} is not supported", other.name()))),
    };
    Ok(Imported { config, network, input_type })
}
