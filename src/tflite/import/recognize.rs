//! Which MobileNet v1 the compute ops form. The parts are found by their role: the backbone (the stem conv and
//! the depthwise/pointwise blocks) ends at the global pool, and whatever follows the pool is the head. Today
//! head is any chain of fully connected layers (MobileNet's own logits alone, or Keras' Dense layers); the configuration (alpha, resolution, output
//! stride, classes) is then read off the shapes.

use super::graph::{hwc, Node, Step};
use super::validate::{check_layers, shapes_match};
use crate::arch::{Activation, Config, Dense, LayerSpec, OpKind, Resolution, MAX_HIDDEN, MIN_DEPTH};
use crate::error::Error;
use crate::tflite::schema::{BuiltinOp, Options, Tensor};

/// A compute layer with the kind of MobileNet layer it is.
#[derive(Clone, Copy)]
pub(super) struct Found<'n, 'm, 'a> {
    pub node: &'n Node<'m, 'a>,
    pub kind: OpKind,
    pub input: &'m Tensor<'a>,
    pub output: &'m Tensor<'a>,
}

/// One depthwise-separable block of the backbone.
pub(super) struct Block<'n, 'm, 'a> {
    pub depthwise: Found<'n, 'm, 'a>,
    pub pointwise: Found<'n, 'm, 'a>,
}

/// The classifier after the pool: fully connected layers (FULLY_CONNECTED, or 1x1 CONV_2D), the last of
/// which gives the logits. MobileNet v1's own head is the logits layer alone; Keras heads add `Dense` layers.
pub(super) struct Head<'n, 'm, 'a> {
    /// The layers between the pool and the logits.
    pub hidden: Vec<Found<'n, 'm, 'a>>,
    pub logits: Found<'n, 'm, 'a>,
}

impl<'n, 'm, 'a> Head<'n, 'm, 'a> {
    pub fn layers(&self) -> Vec<Found<'n, 'm, 'a>> {
        self.hidden.iter().copied().chain([self.logits]).collect()
    }

    /// The layer whose output the SOFTMAX reads.
    pub fn logits(&self) -> &Found<'n, 'm, 'a> {
        &self.logits
    }
}

/// The network by part: backbone (stem and blocks), pool, head. The SOFTMAX after the head is the graph's.
pub(super) struct Parts<'n, 'm, 'a> {
    pub stem: Found<'n, 'm, 'a>,
    pub blocks: Vec<Block<'n, 'm, 'a>>,
    pub pool: Found<'n, 'm, 'a>,
    pub head: Head<'n, 'm, 'a>,
}

impl<'n, 'm, 'a> Parts<'n, 'm, 'a> {
    /// Every layer in the order of `Config::layers()`, which the weights follow.
    pub fn layers(&self) -> Vec<Found<'n, 'm, 'a>> {
        let blocks = self.blocks.iter().flat_map(|b| [b.depthwise, b.pointwise]);
        std::iter::once(self.stem).chain(blocks).chain([self.pool]).chain(self.head.layers()).collect()
    }

    /// The backbone's last layer: its depth is 1024·alpha.
    fn features(&self) -> &Found<'n, 'm, 'a> {
        self.blocks.last().map_or(&self.stem, |b| &b.pointwise)
    }
}

/// Names the compute ops by role: the backbone up to the first pool, the pool, and the head after it.
pub(super) fn parts<'n, 'm, 'a>(steps: &[Step<'n, 'm, 'a>]) -> Result<Parts<'n, 'm, 'a>, Error> {
    let layers = steps.iter().map(classify).collect::<Result<Vec<_>, _>>()?;
    let at = layers.iter().position(|l| l.kind == OpKind::AvgPool).unwrap_or(layers.len());
    let (backbone, [pool, head @ ..]) = layers.split_at(at) else { return Err(no_pool(&layers)) };
    let (stem, blocks) = split_backbone(backbone, pool)?;
    Ok(Parts { stem, blocks, pool: *pool, head: find_head(pool, head)? })
}

/// What an op looks like: a CONV_2D is the stem (kxk) or a pointwise (1x1); FULLY_CONNECTED can only be logits.
fn classify<'n, 'm, 'a>(step: &Step<'n, 'm, 'a>) -> Result<Found<'n, 'm, 'a>, Error> {
    let kind = match &step.node.op.op {
        BuiltinOp::Conv2d => classify_conv(step.node)?,
        BuiltinOp::DepthwiseConv2d => OpKind::Depthwise,
        BuiltinOp::AveragePool2d | BuiltinOp::Mean => OpKind::AvgPool,
        BuiltinOp::FullyConnected => OpKind::Logits,
        other => return Err(step.node.fail(format!("{} is not a compute op", other.name()))),
    };
    Ok(Found { node: step.node, kind, input: step.input, output: step.output })
}

fn classify_conv(node: &Node) -> Result<OpKind, Error> {
    let filter = node.required(1)?;
    match filter.shape.as_slice() {
        [_, 1, 1, _] => Ok(OpKind::Pointwise),
        [_, _, _, _] => Ok(OpKind::Conv),
        s => Err(node.fail(format!("filter shape {s:?} is not 4-D"))),
    }
}

fn no_pool(layers: &[Found]) -> Error {
    let detail = format!(
        "not a MobileNet v1: none of the {} compute layers is a global pool (AVERAGE_POOL_2D or MEAN)",
        layers.len()
    );
    match layers.last() {
        Some(f) => f.node.fail(detail),
        None => Error::unsupported(None, "model", detail),
    }
}

/// MobileNet v1's layers before the pool, as the architecture lists them: the stem, then each block's
/// depthwise and pointwise.
fn backbone_spec() -> Vec<LayerSpec> {
    Config::default().layers().into_iter().take_while(|s| s.op != OpKind::AvgPool).collect()
}

/// The layers before the pool as the stem and its blocks, in the architecture's order of kinds.
fn split_backbone<'n, 'm, 'a>(
    backbone: &[Found<'n, 'm, 'a>],
    pool: &Found<'n, 'm, 'a>,
) -> Result<(Found<'n, 'm, 'a>, Vec<Block<'n, 'm, 'a>>), Error> {
    let spec = backbone_spec();
    if let Some((found, want)) = backbone.iter().zip(&spec).find(|(f, s)| f.kind != s.op) {
        return Err(mismatch(found, want));
    }
    match backbone.split_first() {
        Some((&stem, rest)) if backbone.len() == spec.len() => Ok((stem, blocks(rest))),
        _ => Err(wrong_length(backbone, pool, &spec)),
    }
}

fn blocks<'n, 'm, 'a>(layers: &[Found<'n, 'm, 'a>]) -> Vec<Block<'n, 'm, 'a>> {
    let pairs = layers.chunks_exact(2).filter_map(|pair| match *pair {
        [depthwise, pointwise] => Some(Block { depthwise, pointwise }),
        _ => None,
    });
    pairs.collect()
}

/// Names the first extra layer, or the pool when it came early.
fn wrong_length(backbone: &[Found], pool: &Found, spec: &[LayerSpec]) -> Error {
    let at = backbone.get(spec.len()).unwrap_or(pool);
    let blocks = spec.iter().filter(|s| s.op == OpKind::Depthwise).count();
    at.node.fail(format!(
        "not a MobileNet v1: found {} compute layers before the pool, expected {} (the stem conv and {blocks} \
         depthwise/pointwise blocks)",
        backbone.len(),
        spec.len(),
    ))
}

fn mismatch(found: &Found, want: &LayerSpec) -> Error {
    found.node.fail(format!(
        "found a {} layer where MobileNet v1 has {} ({})",
        found.kind.name(),
        want.op.name(),
        want.name
    ))
}

/// The layers after the pool: any chain of fully connected layers (or 1x1 convs), the last being the logits.
fn find_head<'n, 'm, 'a>(pool: &Found<'n, 'm, 'a>, after: &[Found<'n, 'm, 'a>]) -> Result<Head<'n, 'm, 'a>, Error> {
    if let Some(f) = after.iter().find(|f| !matches!(f.kind, OpKind::Pointwise | OpKind::Logits)) {
        return Err(f.node.fail(format!(
            "{} after the pool: a head is fully connected layers only (FULLY_CONNECTED or 1x1 CONV_2D)",
            f.node.op.op.name()
        )));
    }
    let Some((logits, hidden)) = after.split_last() else {
        return Err(pool.node.fail(
            "nothing after the pool: the network needs a logits layer (FULLY_CONNECTED or 1x1 \
             CONV_2D; chain the head model after an embedding extractor)",
        ));
    };
    if hidden.len() > MAX_HIDDEN {
        return Err(hidden[MAX_HIDDEN]
            .node
            .fail(format!("more than {MAX_HIDDEN} fully connected layers before the logits")));
    }
    Ok(Head {
        hidden: hidden.iter().map(|f| Found { kind: OpKind::Dense, ..*f }).collect(),
        logits: Found { kind: OpKind::Logits, ..*logits },
    })
}

/// A head layer's fused activation.
fn activation(f: &Found) -> Result<Activation, Error> {
    let act = match f.node.op.options {
        Options::FullyConnected { activation, .. } | Options::Conv2d { activation, .. } => activation,
        _ => return Err(f.node.fail("missing options")),
    };
    act.fused().map_err(|e| f.node.fail(e.to_string()))
}

/// The head's hidden layers as the configuration records them.
fn hidden(parts: &Parts) -> Result<Vec<Dense>, Error> {
    let dense = |f: &Found| Ok(Dense { units: hwc(f.node, f.output)?[2], activation: activation(f)? });
    parts.head.hidden.iter().map(dense).collect()
}

/// Alpha, resolution, output stride and classes from the parts; the caller then checks every layer.
pub(super) fn infer_config(input: &Tensor, parts: &Parts, softmax: bool) -> Result<Config, Error> {
    let layers = parts.layers();
    let stem = &parts.stem;
    let [h, w, c] = hwc(stem.node, input)?;
    if c != 3 {
        return Err(stem.node.fail(format!("input has {c} channels, MobileNet v1 takes 3 (RGB)")));
    }
    let features = parts.features();
    let depth = hwc(features.node, features.output)?[2];
    let logits = parts.head.logits();
    let classes = hwc(logits.node, logits.output)?[2];
    let logits_activation = activation(logits)?;
    let base = Config::default()
        .with_resolution(Resolution { height: h, width: w })
        .and_then(|c| c.with_num_classes(classes))
        .and_then(|c| c.with_hidden(hidden(parts)?))
        .map(|c| Config { logits_activation, softmax, ..c })
        .map_err(|e| stem.node.fail(e.to_string()))?;
    // TF-slim floors every depth at 8; Keras' MobileNet has no floor (it differs below alpha 0.25).
    for min_depth in [MIN_DEPTH, 1] {
        for alpha in alpha_candidates(depth) {
            for os in [32, 16, 8] {
                let Ok(cfg) = base.clone().with_alpha(alpha).and_then(|c| c.with_output_stride(os)) else { continue };
                let cfg = Config { min_depth, ..cfg };
                if shapes_match(&cfg, &layers) {
                    return Ok(cfg);
                }
            }
        }
    }
    // No configuration fits: report the first layer that differs from the closest one.
    let cfg = base.with_alpha(depth as f64 / 1024.0).map_err(|e| stem.node.fail(e.to_string()))?;
    check_layers(&cfg, &layers)?;
    Err(stem.node.fail("no MobileNet v1 configuration matches the layer shapes"))
}

/// Alpha from the last depth (1024·alpha): the two-decimal value first (0.25, 0.35, 0.75 …), then exact.
fn alpha_candidates(depth: usize) -> Vec<f64> {
    let exact = depth as f64 / 1024.0;
    let rounded = (exact * 100.0).round() / 100.0;
    let mut v = vec![rounded, (exact * 1000.0).round() / 1000.0, exact];
    v.dedup();
    v.retain(|a| *a > 0.0);
    v
}
