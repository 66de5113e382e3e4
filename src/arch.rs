//! What MobileNet v1 is: the conv defs of Howard et al. (2017) as TF-slim writes them, the configuration
//! knobs (width multiplier `alpha`, `resolution`, `output_stride`, `num_classes`) and the list of layers
//! they imply, with every shape. Pure data: no weights, no arithmetic beyond shapes.

use crate::error::{Error, Real};
use serde::Serialize;

/// TF-slim's `min_depth`: no layer gets fewer channels than this, however small alpha is.
pub const MIN_DEPTH: usize = 8;
/// The smallest input side we accept: five stride-2 layers bring 32 down to 1.
pub const MIN_RESOLUTION: usize = 32;
/// Input sides above this are refused before anything is sized from them.
pub const MAX_RESOLUTION: usize = 4096;
/// Classes above this are refused (the logits weights would be gigabytes).
pub const MAX_CLASSES: usize = 100_000;
/// Alpha above this is refused for the same reason.
pub const MAX_ALPHA: f64 = 16.0;

/// One convolution of `_CONV_DEFS` in TF-slim's mobilenet_v1.py.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvDef {
    /// A full 3x3 convolution (the stem).
    Conv { stride: usize, depth: usize },
    /// A depthwise 3x3 followed by a pointwise 1x1.
    Separable { stride: usize, depth: usize },
}

/// The 14 conv defs of MobileNet v1: the stem and 13 depthwise-separable blocks.
pub const CONV_DEFS: [ConvDef; 14] = [
    ConvDef::Conv { stride: 2, depth: 32 },
    ConvDef::Separable { stride: 1, depth: 64 },
    ConvDef::Separable { stride: 2, depth: 128 },
    ConvDef::Separable { stride: 1, depth: 128 },
    ConvDef::Separable { stride: 2, depth: 256 },
    ConvDef::Separable { stride: 1, depth: 256 },
    ConvDef::Separable { stride: 2, depth: 512 },
    ConvDef::Separable { stride: 1, depth: 512 },
    ConvDef::Separable { stride: 1, depth: 512 },
    ConvDef::Separable { stride: 1, depth: 512 },
    ConvDef::Separable { stride: 1, depth: 512 },
    ConvDef::Separable { stride: 1, depth: 512 },
    ConvDef::Separable { stride: 2, depth: 1024 },
    ConvDef::Separable { stride: 1, depth: 1024 },
];

/// Input size in pixels; MobileNet calls the scaling of it the resolution multiplier ρ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resolution {
    pub height: usize,
    pub width: usize,
}

impl Resolution {
    pub fn square(side: usize) -> Self {
        Resolution { height: side, width: side }
    }
}

impl Serialize for Resolution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.height, self.width].serialize(s)
    }
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}", self.height, self.width)
    }
}

/// An activation fused into a layer, as TFLite's `fused_activation_function` names them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    #[default]
    None,
    Relu,
    Relu6,
    ReluN1To1,
}

impl Activation {
    /// The real-valued range the activation clamps to.
    pub fn bounds(self) -> (f32, f32) {
        match self {
            Activation::None => (f32::NEG_INFINITY, f32::INFINITY),
            Activation::Relu => (0.0, f32::INFINITY),
            Activation::Relu6 => (0.0, 6.0),
            Activation::ReluN1To1 => (-1.0, 1.0),
        }
    }
}

/// The most fully connected layers a head may have between the pool and the logits.
pub const MAX_HIDDEN: usize = 16;
/// Units above this in a hidden layer are refused, as classes are.
pub const MAX_UNITS: usize = 100_000;

/// One fully connected layer of a head between the pool and the logits (Keras' `Dense(units, activation)`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Dense {
    pub units: usize,
    pub activation: Activation,
}

/// How one MobileNet is shaped. Build it with [`Config::new`] and the `with_*` setters, which validate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Config {
    /// Width multiplier α: every depth d becomes `max(int(d·α), min_depth)`.
    pub alpha: f64,
    pub resolution: Resolution,
    pub min_depth: usize,
    /// Ratio of input to final feature-map size: 32 (plain), or 16 / 8 (dilated, as in TF-slim).
    pub output_stride: usize,
    /// 1001 in the TF checkpoints (class 0 is "background"); 1000 for the paper's counts.
    pub num_classes: usize,
    /// Fully connected layers between the pool and the logits (none in MobileNet v1; Teachable Machine's
    /// head has one `Dense(100, relu)`), named `Dense_1`, `Dense_2`, …
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hidden: Vec<Dense>,
    /// The activation fused into the logits layer (none in MobileNet v1).
    pub logits_activation: Activation,
    /// Whether the network ends in a softmax (its output is probabilities) or in the logits.
    pub softmax: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            alpha: 1.0,
            resolution: Resolution::square(224),
            min_depth: MIN_DEPTH,
            output_stride: 32,
            num_classes: 1001,
            hidden: Vec::new(),
            logits_activation: Activation::None,
            softmax: true,
        }
    }
}

impl Config {
    pub fn new(alpha: f64, resolution: usize) -> Result<Self, Error> {
        Config::default().with_alpha(alpha)?.with_resolution(Resolution::square(resolution))
    }

    pub fn with_alpha(mut self, alpha: f64) -> Result<Self, Error> {
        if !(alpha.is_finite() && alpha > 0.0 && alpha <= MAX_ALPHA) {
            return Err(Error::config(format!(
                "alpha must be a number in (0, {}], got {}",
                Real(MAX_ALPHA),
                Real(alpha)
            )));
        }
        self.alpha = alpha;
        Ok(self)
    }

    pub fn with_resolution(mut self, r: Resolution) -> Result<Self, Error> {
        for side in [r.height, r.width] {
            if !(MIN_RESOLUTION..=MAX_RESOLUTION).contains(&side) {
                return Err(Error::config(format!(
                    "resolution must be between {MIN_RESOLUTION} and {MAX_RESOLUTION} pixels, got {r}"
                )));
            }
        }
        self.resolution = r;
        Ok(self)
    }

    pub fn with_output_stride(mut self, output_stride: usize) -> Result<Self, Error> {
        if ![8, 16, 32].contains(&output_stride) {
            return Err(Error::config(format!("output_stride must be 8, 16 or 32, got {output_stride}")));
        }
        self.output_stride = output_stride;
        Ok(self)
    }

    pub fn with_num_classes(mut self, num_classes: usize) -> Result<Self, Error> {
        if !(1..=MAX_CLASSES).contains(&num_classes) {
            return Err(Error::config(format!("num_classes must be between 1 and {MAX_CLASSES}, got {num_classes}")));
        }
        self.num_classes = num_classes;
        Ok(self)
    }

    /// A head of fully connected layers between the pool and the logits.
    pub fn with_hidden(mut self, hidden: Vec<Dense>) -> Result<Self, Error> {
        if hidden.len() > MAX_HIDDEN {
            return Err(Error::config(format!("{} hidden layers, at most {MAX_HIDDEN}", hidden.len())));
        }
        if let Some(d) = hidden.iter().find(|d| !(1..=MAX_UNITS).contains(&d.units)) {
            return Err(Error::config(format!("a hidden layer has {} units, not 1 to {MAX_UNITS}", d.units)));
        }
        self.hidden = hidden;
        Ok(self)
    }

    /// TF-slim's depth rule: `max(int(d * alpha), min_depth)`.
    pub fn depth(&self, d: usize) -> usize {
        ((d as f64 * self.alpha) as usize).max(self.min_depth)
    }

    /// Every layer of the network, in order, with its shapes.
    pub fn layers(&self) -> Vec<LayerSpec> {
        build_layers(self)
    }
}

/// What a layer computes. The engine has one fast kernel family per kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// Full convolution (the 3x3 stem).
    Conv,
    /// Per-channel 3x3 convolution, depth_multiplier 1.
    Depthwise,
    /// 1x1 convolution mixing channels.
    Pointwise,
    /// Global average pool over the final feature map.
    AvgPool,
    /// The 1x1 convolution to class logits (the paper's FC layer), with bias and no activation.
    Logits,
    /// A fully connected layer of a head, between the pool and the logits.
    Dense,
}

impl OpKind {
    pub const ALL: [OpKind; 6] =
        [OpKind::Conv, OpKind::Depthwise, OpKind::Pointwise, OpKind::AvgPool, OpKind::Dense, OpKind::Logits];

    pub fn name(self) -> &'static str {
        match self {
            OpKind::Conv => "conv",
            OpKind::Depthwise => "depthwise",
            OpKind::Pointwise => "pointwise",
            OpKind::AvgPool => "avg_pool",
            OpKind::Logits => "logits",
            OpKind::Dense => "dense",
        }
    }
}

/// A feature map's height, width and channels (batch is always 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Hwc {
    pub h: usize,
    pub w: usize,
    pub c: usize,
}

impl Hwc {
    pub fn len(&self) -> usize {
        self.h * self.w * self.c
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Serialize for Hwc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        [self.h, self.w, self.c].serialize(s)
    }
}

impl std::fmt::Display for Hwc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}x{}x{}", self.h, self.w, self.c)
    }
}

/// One layer: its TF-slim end point name, what it does and the shapes around it.
/// Padding is SAME for every conv, as in TF-slim's MobileNet.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerSpec {
    pub name: String,
    pub op: OpKind,
    /// Kernel height and width.
    pub kernel: [usize; 2],
    pub stride: usize,
    /// Dilation rate (TF's `rate`).
    pub rate: usize,
    pub input: Hwc,
    pub output: Hwc,
    /// The activation after the layer: ReLU6 (after BN) for every conv, none for the pool and MobileNet's logits.
    pub activation: Activation,
    /// Which separable block (1..=13) the layer belongs to, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block: Option<usize>,
}

/// Output size of a SAME-padded layer: ceil(in / stride), independent of kernel and rate.
pub fn same_output(size: usize, stride: usize) -> usize {
    size.div_ceil(stride)
}

/// Walks the conv defs as TF-slim's `mobilenet_v1_base` does: once the running stride reaches
/// `output_stride`, later strides become 1 and the following depthwise convs are dilated instead.
fn build_layers(cfg: &Config) -> Vec<LayerSpec> {
    let mut layers = Vec::with_capacity(2 * CONV_DEFS.len() + 1);
    let mut shape = Hwc { h: cfg.resolution.height, w: cfg.resolution.width, c: 3 };
    let mut current_stride = 1;
    let mut rate = 1;
    for (i, def) in CONV_DEFS.iter().enumerate() {
        let (def_stride, depth) = match *def {
            ConvDef::Conv { stride, depth } | ConvDef::Separable { stride, depth } => (stride, cfg.depth(depth)),
        };
        let (stride, layer_rate) = if current_stride == cfg.output_stride {
            let r = rate;
            rate *= def_stride;
            (1, r)
        } else {
            current_stride *= def_stride;
            (def_stride, 1)
        };
        let spatial = Hwc { h: same_output(shape.h, stride), w: same_output(shape.w, stride), c: 0 };
        match def {
            ConvDef::Conv { .. } => {
                let out = Hwc { c: depth, ..spatial };
                layers.push(conv_layer(format!("Conv2d_{i}"), OpKind::Conv, 3, stride, layer_rate, shape, out, None));
                shape = out;
            }
            ConvDef::Separable { .. } => {
                let dw_out = Hwc { c: shape.c, ..spatial };
                let name = format!("Conv2d_{i}_depthwise");
                layers.push(conv_layer(name, OpKind::Depthwise, 3, stride, layer_rate, shape, dw_out, Some(i)));
                let pw_out = Hwc { c: depth, ..dw_out };
                let name = format!("Conv2d_{i}_pointwise");
                layers.push(conv_layer(name, OpKind::Pointwise, 1, 1, 1, dw_out, pw_out, Some(i)));
                shape = pw_out;
            }
        }
    }
    let pooled = Hwc { h: 1, w: 1, c: shape.c };
    layers.push(LayerSpec {
        name: "AvgPool_1a".into(),
        op: OpKind::AvgPool,
        kernel: [shape.h, shape.w],
        stride: 1,
        rate: 1,
        input: shape,
        output: pooled,
        activation: Activation::None,
        block: None,
    });
    let mut features = pooled;
    let head = cfg.hidden.iter().map(|d| (d.units, d.activation, OpKind::Dense));
    let logits = std::iter::once((cfg.num_classes, cfg.logits_activation, OpKind::Logits));
    for (i, (units, activation, op)) in head.chain(logits).enumerate() {
        let out = Hwc { c: units, ..pooled };
        let name = if op == OpKind::Logits { "Logits".into() } else { format!("Dense_{}", i + 1) };
        layers.push(LayerSpec { activation, ..conv_layer(name, op, 1, 1, 1, features, out, None) });
        features = out;
    }
    layers
}

#[allow(clippy::too_many_arguments)]
fn conv_layer(
    name: String,
    op: OpKind,
    k: usize,
    stride: usize,
    rate: usize,
    input: Hwc,
    output: Hwc,
    block: Option<usize>,
) -> LayerSpec {
    LayerSpec { name, op, kernel: [k, k], stride, rate, input, output, activation: Activation::Relu6, block }
}

/// The end point names a network of this shape has, in order (TF-slim's names).
pub fn end_points(cfg: &Config) -> Vec<String> {
    cfg.layers().into_iter().map(|l| l.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_rule_matches_tf_slim() {
        let c = Config::new(0.25, 224).unwrap();
        assert_eq!(c.depth(32), 8);
        assert_eq!(c.depth(64), 16);
        assert_eq!(c.depth(1024), 256);
        let c = Config::new(0.1, 224).unwrap();
        assert_eq!(c.depth(32), 8, "min_depth floor");
        assert_eq!(c.depth(1024), 102, "int() truncates");
        assert_eq!(Config::new(0.75, 224).unwrap().depth(32), 24);
    }

    #[test]
    fn layer_names_and_shapes_at_224() {
        let layers = Config::default().layers();
        assert_eq!(layers.len(), 1 + 26 + 2);
        assert_eq!(layers[0].name, "Conv2d_0");
        assert_eq!(layers[1].name, "Conv2d_1_depthwise");
        assert_eq!(layers[2].name, "Conv2d_1_pointwise");
        assert_eq!(layers[26].name, "Conv2d_13_pointwise");
        assert_eq!(layers[27].name, "AvgPool_1a");
        assert_eq!(layers[28].name, "Logits");
        assert_eq!(layers[0].output, Hwc { h: 112, w: 112, c: 32 });
        assert_eq!(layers[26].output, Hwc { h: 7, w: 7, c: 1024 });
        assert_eq!(layers[27].kernel, [7, 7]);
        assert_eq!(layers[28].output, Hwc { h: 1, w: 1, c: 1001 });
        let strides: Vec<usize> = layers.iter().filter(|l| l.op == OpKind::Depthwise).map(|l| l.stride).collect();
        assert_eq!(strides, [1, 2, 1, 2, 1, 2, 1, 1, 1, 1, 1, 2, 1]);
    }

    #[test]
    fn output_stride_dilates_like_tf_slim() {
        let dw = |os| {
            let c = Config::default().with_output_stride(os).unwrap();
            let l = c.layers();
            let last = l[26].output;
            let v: Vec<(usize, usize)> =
                l.iter().filter(|l| l.op == OpKind::Depthwise).map(|l| (l.stride, l.rate)).collect();
            (v, last.h)
        };
        let (v, h) = dw(16);
        assert_eq!(h, 14);
        assert_eq!(&v[10..], &[(1, 1), (1, 1), (1, 2)]);
        let (v, h) = dw(8);
        assert_eq!(h, 28);
        assert_eq!(&v[4..], &[(1, 1), (1, 1), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 2), (1, 4)]);
    }

    #[test]
    fn non_square_and_odd_sizes_use_same_padding() {
        let c = Config::default().with_resolution(Resolution { height: 33, width: 100 }).unwrap();
        let l = c.layers();
        assert_eq!(l[0].output, Hwc { h: 17, w: 50, c: 32 });
        assert_eq!(l[26].output, Hwc { h: 2, w: 4, c: 1024 });
    }

    #[test]
    fn bad_configs_are_typed_errors() {
        assert!(Config::new(0.0, 224).is_err());
        assert!(Config::new(-1.0, 224).is_err());
        assert!(Config::new(f64::NAN, 224).is_err());
        assert!(Config::new(1.0, 31).is_err());
        assert!(Config::default().with_output_stride(4).is_err());
        assert!(Config::default().with_num_classes(0).is_err());
    }
}
