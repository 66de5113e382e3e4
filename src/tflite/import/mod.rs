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
mod fold;
mod graph;
mod recognize;
mod validate;

use super::schema::{Model, TensorType};
use crate::arch::Config;
use crate::error::Error;
use crate::preprocess::Normalization;
use crate::weights::{QuantWeights, Weights};
use convert::{float_weights, quant_weights};
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
#[cfg_attr(feature = "small", optimize(size))]
pub fn import(models: &[Model<'_>], precision: Precision) -> Result<Imported, Error> {
    let folded = models.iter().map(fold::constants).collect::<Result<Vec<_>, _>>()?;
    let models: Vec<Model<'_>> = models.iter().zip(&folded).map(|(m, f)| fold::apply(m, f)).collect();
    let nodes = graph::chain(&models)?;
    let graph = graph::linearise(&nodes)?;
    let parts = recognize::parts(&graph.steps)?;
    let (input, first) = (graph.input, graph.first);
    let config = infer_config(input, &parts, graph.softmax.is_some())?;
    let layers = parts.layers();
    check_layers(&config, &layers)?;
    // The input's normalization: what the first file's metadata states, else MobileNet's x/127.5 − 1.
    let normalization = match &models[0].metadata.normalization {
        Some((mean, std)) => Normalization::from_lists(mean, std)?,
        None => Normalization::MINUS_ONE_ONE,
    };
    // What the layers compute in: a full-integer model may take uint8 at its edge and run int8 inside.
    let compute = parts.stem.input.dtype;
    let network = match (compute, precision) {
        (TensorType::Float32, _) => {
            refuse_hybrid(&layers)?;
            Network::Float { weights: float_weights(&layers, false)?, normalization }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::Float) => {
            Network::Float { weights: float_weights(&layers, true)?, normalization }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::AsStored) => {
            Network::Quantized(quant_weights(&graph, &parts, compute == TensorType::Int8, normalization)?)
        }
        (other, _) => return Err(first.fail(format!("input tensor type {} is not supported", other.name()))),
    };
    Ok(Imported { config, network, input_type: input.dtype })
}

/// Dynamic-range models (int8 weights, float activations) run on TFLite's hybrid kernels, which quantize
/// every layer's input on the fly; their results depend on which kernels run (the reference and the default
/// ones differ by up to 0.47 in probability), so they are refused by name rather than approximated.
fn refuse_hybrid(layers: &[recognize::Found]) -> Result<(), Error> {
    let integer = |f: &&recognize::Found| {
        f.node.input(1).ok().flatten().is_some_and(|w| matches!(w.dtype, TensorType::Int8 | TensorType::Uint8))
    };
    let hybrid: Vec<&recognize::Found> = layers.iter().filter(integer).collect();
    let Some(first) = hybrid.first() else { return Ok(()) };
    let hybrid: Vec<String> = hybrid.iter().map(|f| format!("{} {}", f.node.op.op.name(), f.node.index)).collect();
    Err(first.node.fail(format!(
        "a dynamic-range model: {} layers have int8 weights with float activations (hybrid kernels: {}); \
         convert it as full integer (a representative dataset and TFLITE_BUILTINS_INT8) or with \
         supported_types=[tf.float16] instead",
        hybrid.len(),
        hybrid.join(", ")
    )))
}
