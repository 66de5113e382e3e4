//! Maps verified TFLite models onto the engine: recognizes MobileNet v1 in the operator list (recovering
//! alpha, resolution, output stride and class count), checks every layer against the architecture, and
//! converts the weights to the engine's layouts — float, or integer parameters computed exactly as
//! TFLite's reference kernels compute them. Several files chain into one network when each output
//! matches the next input. Anything else is a typed error naming the operator.

use super::schema::{Activation, BuiltinOp, Model, Operator, Options, Padding, Quantization, Tensor, TensorType};
use crate::arch::{Config, LayerSpec, OpKind, Resolution};
use crate::error::Error;

use crate::preprocess::Normalization;
use crate::quant::{
    activation_range, conv_output_multiplier, quantize_multiplier, AverageQ, MeanQ, PoolQ, Requantize, SoftmaxU8,
};
use crate::tensor::{Shape, Tensor as FloatTensor};
use crate::weights::{LayerWeights, QuantLayer, QuantParams, QuantWeights, Weights};

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

/// One op of the chained models, with where it came from for error messages.
struct Node<'m, 'a> {
    file: usize,
    index: usize,
    model: &'m Model<'a>,
    op: &'m Operator,
}

impl<'m, 'a> Node<'m, 'a> {
    fn fail(&self, detail: impl Into<String>) -> Error {
        let name = self.op.op.name();
        let subject = if self.file > 0 { format!("{name} in file {}", self.file + 1) } else { name };
        Error::unsupported(Some(self.index), subject, detail)
    }

    /// Input `i` (None when omitted with −1).
    fn input(&self, i: usize) -> Result<Option<&'m Tensor<'a>>, Error> {
        match self.op.inputs.get(i) {
            None => Err(self.fail(format!("input {i} is missing"))),
            Some(&t) if t < 0 => Ok(None),
            Some(&t) => tensor(self.model, t as usize).map(Some),
        }
    }

    fn required(&self, i: usize) -> Result<&'m Tensor<'a>, Error> {
        self.input(i)?.ok_or_else(|| self.fail(format!("input {i} is omitted")))
    }

    fn output(&self) -> Result<&'m Tensor<'a>, Error> {
        match self.op.outputs.as_slice() {
            [t] if *t >= 0 => tensor(self.model, *t as usize),
            _ => Err(self.fail("expected exactly one output")),
        }
    }
}

fn tensor<'m, 'a>(model: &'m Model<'a>, i: usize) -> Result<&'m Tensor<'a>, Error> {
    model.tensors.get(i).ok_or_else(|| Error::malformed(format!("tensor index {i} out of range")))
}

/// Imports one model, or several chained (e.g. an embedding extractor followed by its head).
pub fn import(models: &[Model<'_>], precision: Precision) -> Result<Imported, Error> {
    let nodes = chain(models)?;
    let (input, layers) = recognize(&nodes)?;
    let config = infer_config(input, &layers)?;
    check_layers(&config, &layers)?;
    let input_type = input.dtype;
    let network = match (input_type, precision) {
        (TensorType::Float32, _) => {
            Network::Float { weights: float_weights(&layers, false)?, normalization: Normalization::MINUS_ONE_ONE }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::Float) => {
            let q = activation_quant(input, &nodes[0])?;
            let offset = if input_type == TensorType::Int8 { 128.0 } else { 0.0 };
            let normalization = Normalization { mean: q.zero_point as f32 + offset, std: 1.0 / q.scale };
            Network::Float { weights: float_weights(&layers, true)?, normalization }
        }
        (TensorType::Uint8 | TensorType::Int8, Precision::AsStored) => {
            Network::Quantized(quant_weights(input, &layers, input_type == TensorType::Int8)?)
        }
        (other, _) => return Err(nodes[0].fail(format!("input tensor type {} is not supported", other.name()))),
    };
    Ok(Imported { config, network, input_type })
}

/// Flattens the files into one op list, checking that each file's input is the previous file's output.
fn chain<'m, 'a>(models: &'m [Model<'a>]) -> Result<Vec<Node<'m, 'a>>, Error> {
    if models.is_empty() {
        return Err(Error::malformed("no model given"));
    }
    let mut nodes = Vec::new();
    for (file, model) in models.iter().enumerate() {
        if model.inputs.len() != 1 || model.outputs.len() != 1 {
            return Err(Error::unsupported(
                None,
                format!("file {}", file + 1),
                "expected one input and one output tensor",
            ));
        }
        if file > 0 {
            let prev = &models[file - 1];
            check_link(tensor(prev, prev.outputs[0])?, tensor(model, model.inputs[0])?, file)?;
        }
        nodes.extend(model.operators.iter().enumerate().map(|(index, op)| Node { file, index, model, op }));
    }
    if nodes.is_empty() {
        return Err(Error::unsupported(None, "model", "has no operators"));
    }
    Ok(nodes)
}

fn check_link(out: &Tensor, inp: &Tensor, file: usize) -> Result<(), Error> {
    let same = out.dtype == inp.dtype && out.shape == inp.shape && quant_eq(&out.quantization, &inp.quantization);
    if !same {
        return Err(Error::shape(format!(
            "cannot chain file {} after file {}: its input {:?} {} {} does not match the output {:?} {} {}",
            file + 1,
            file,
            inp.shape,
            inp.dtype.name(),
            quant_text(&inp.quantization),
            out.shape,
            out.dtype.name(),
            quant_text(&out.quantization)
        )));
    }
    Ok(())
}

fn quant_eq(a: &Option<Quantization>, b: &Option<Quantization>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.scale == b.scale && a.zero_point == b.zero_point,
        _ => false,
    }
}

fn quant_text(q: &Option<Quantization>) -> String {
    match q {
        None => "unquantized".into(),
        Some(q) => format!("scale {:?} zero point {:?}", q.scale, q.zero_point),
    }
}

/// A compute layer found in the op list, with the tensors it reads and writes.
struct Found<'n, 'm, 'a> {
    node: &'n Node<'m, 'a>,
    kind: OpKind,
    input: &'m Tensor<'a>,
    output: &'m Tensor<'a>,
}

/// Walks the ops as one linear chain and classifies them into MobileNet's layer kinds; RESHAPE and
/// SQUEEZE only relabel shapes, and SOFTMAX must come last.
fn recognize<'n, 'm, 'a>(nodes: &'n [Node<'m, 'a>]) -> Result<(&'m Tensor<'a>, Vec<Found<'n, 'm, 'a>>), Error> {
    let first = &nodes[0];
    let graph_input = tensor(first.model, first.model.inputs[0])?;
    let mut current = graph_input;
    let mut layers = Vec::new();
    let mut softmax_seen = false;
    for (n, node) in nodes.iter().enumerate() {
        let input = node.required(0)?;
        // At a file boundary the next file's input stands for the previous output (checked equal).
        let links =
            n > 0 && node.file != nodes[n - 1].file && std::ptr::eq(input, tensor(node.model, node.model.inputs[0])?);
        if !std::ptr::eq(input, current) && !links {
            return Err(node.fail("does not read the previous operator's output: only linear networks are supported"));
        }
        if softmax_seen {
            return Err(node.fail("comes after SOFTMAX"));
        }
        let output = node.output()?;
        let kind = match &node.op.op {
            BuiltinOp::Conv2d => Some(classify_conv(node)?),
            BuiltinOp::DepthwiseConv2d => Some(OpKind::Depthwise),
            BuiltinOp::AveragePool2d | BuiltinOp::Mean => Some(OpKind::AvgPool),
            BuiltinOp::FullyConnected => Some(OpKind::Logits),
            BuiltinOp::Reshape | BuiltinOp::Squeeze => {
                check_relabel(node, input, output)?;
                None
            }
            BuiltinOp::Softmax => {
                check_softmax(node, input, output)?;
                softmax_seen = true;
                None
            }
            other => return Err(node.fail(format!("{} is not supported", other.name()))),
        };
        if let Some(mut kind) = kind {
            // A 1x1 conv after the pool is the logits layer.
            if kind == OpKind::Pointwise && layers.iter().any(|l: &Found| l.kind == OpKind::AvgPool) {
                kind = OpKind::Logits;
            }
            layers.push(Found { node, kind, input, output });
        }
        current = output;
    }
    let last = &nodes[nodes.len() - 1];
    if !softmax_seen {
        return Err(last.fail("the network must end with SOFTMAX (chain the head model after an embedding extractor)"));
    }
    if !std::ptr::eq(current, tensor(last.model, last.model.outputs[0])?) {
        return Err(last.fail("the graph output is not the SOFTMAX output"));
    }
    Ok((graph_input, layers))
}

/// A CONV_2D is the stem (3x3), a pointwise (1x1 inside the backbone) or the logits (1x1 after the pool).
fn classify_conv(node: &Node) -> Result<OpKind, Error> {
    let filter = node.required(1)?;
    match filter.shape.as_slice() {
        [_, 1, 1, _] => Ok(OpKind::Pointwise),
        [_, _, _, _] => Ok(OpKind::Conv),
        s => Err(node.fail(format!("filter shape {s:?} is not 4-D"))),
    }
}

fn check_relabel(node: &Node, input: &Tensor, output: &Tensor) -> Result<(), Error> {
    if input.elements() != output.elements()
        || input.dtype != output.dtype
        || !quant_eq(&input.quantization, &output.quantization)
    {
        return Err(node.fail("changes the number of elements or the quantization"));
    }
    Ok(())
}

fn check_softmax(node: &Node, input: &Tensor, output: &Tensor) -> Result<(), Error> {
    match node.op.options {
        Options::Softmax { beta: 1.0 } => {}
        Options::Softmax { beta } => return Err(node.fail(format!("beta {beta} (only 1.0 is supported)"))),
        _ => return Err(node.fail("missing SoftmaxOptions")),
    }
    if input.shape != output.shape || input.dtype != output.dtype {
        return Err(node.fail("output shape or type differs from the input"));
    }
    Ok(())
}

/// Shape of an activation as (h, w, c): 4-D [1, h, w, c] or 2-D [1, c].
fn hwc(node: &Node, t: &Tensor) -> Result<[usize; 3], Error> {
    match t.shape.as_slice() {
        [1, h, w, c] => Ok([*h, *w, *c]),
        [1, c] => Ok([1, 1, *c]),
        s => Err(node.fail(format!("activation shape {s:?} is not [1, h, w, c] (batch 1)"))),
    }
}

/// Alpha, resolution, output stride and classes from the layer list; the caller then checks every layer.
fn infer_config(input: &Tensor, layers: &[Found]) -> Result<Config, Error> {
    let expected = Config::default().layers();
    if layers.len() != expected.len() {
        let at = layers.get(expected.len().min(layers.len()).saturating_sub(1)).map(|f| f.node);
        let detail = format!(
            "not a MobileNet v1: found {} compute layers (conv, depthwise, pointwise, pool, logits), expected {}",
            layers.len(),
            expected.len()
        );
        return Err(match at {
            Some(node) => node.fail(detail),
            None => Error::unsupported(None, "model", detail),
        });
    }
    for (found, want) in layers.iter().zip(&expected) {
        if found.kind != want.op {
            return Err(found.node.fail(format!(
                "found a {} layer where MobileNet v1 has {} ({})",
                found.kind.name(),
                want.op.name(),
                want.name
            )));
        }
    }
    let stem = &layers[0];
    let [h, w, c] = hwc(stem.node, input)?;
    if c != 3 {
        return Err(stem.node.fail(format!("input has {c} channels, MobileNet v1 takes 3 (RGB)")));
    }
    let depth = hwc(layers[26].node, layers[26].output)?[2];
    let classes = hwc(layers[28].node, layers[28].output)?[2];
    let base = Config::default()
        .with_resolution(Resolution { height: h, width: w })
        .and_then(|c| c.with_num_classes(classes))
        .map_err(|e| stem.node.fail(e.to_string()))?;
    for alpha in alpha_candidates(depth) {
        for os in [32, 16, 8] {
            let Ok(cfg) = base.with_alpha(alpha).and_then(|c| c.with_output_stride(os)) else { continue };
            if shapes_match(&cfg, layers) {
                return Ok(cfg);
            }
        }
    }
    // No configuration fits: report the first layer that differs from the closest one.
    let cfg = base.with_alpha(depth as f64 / 1024.0).map_err(|e| stem.node.fail(e.to_string()))?;
    check_layers(&cfg, layers)?;
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

fn shapes_match(cfg: &Config, layers: &[Found]) -> bool {
    cfg.layers().iter().zip(layers).all(|(spec, f)| {
        let (i, o) = (hwc(f.node, f.input), hwc(f.node, f.output));
        matches!((i, o), (Ok(i), Ok(o)) if i == [spec.input.h, spec.input.w, spec.input.c]
            && o == [spec.output.h, spec.output.w, spec.output.c])
            && options_match(spec, f.node.op).is_ok()
    })
}

/// Checks each found layer against the architecture: shapes, kernel, stride, dilation, padding, activation.
fn check_layers(cfg: &Config, layers: &[Found]) -> Result<(), Error> {
    for (spec, f) in cfg.layers().iter().zip(layers) {
        let (i, o) = (hwc(f.node, f.input)?, hwc(f.node, f.output)?);
        let (wi, wo) = ([spec.input.h, spec.input.w, spec.input.c], [spec.output.h, spec.output.w, spec.output.c]);
        if i != wi || o != wo {
            return Err(f.node.fail(format!(
                "{}: shapes {i:?} -> {o:?}, MobileNet v1 alpha {} has {wi:?} -> {wo:?}",
                spec.name, cfg.alpha
            )));
        }
        options_match(spec, f.node.op).map_err(|d| f.node.fail(format!("{}: {d}", spec.name)))?;
        check_filter(spec, f)?;
    }
    Ok(())
}

fn options_match(spec: &LayerSpec, op: &Operator) -> Result<(), String> {
    let want_act = if spec.relu6 { Activation::Relu6 } else { Activation::None };
    let one_by_one = spec.kernel == [1, 1];
    let window = |padding: Padding, stride: [i32; 2], dilation: [i32; 2], act: Activation| -> Result<(), String> {
        let s = spec.stride as i32;
        let r = spec.rate as i32;
        if stride != [s, s] {
            return Err(format!("stride {stride:?}, expected {s}"));
        }
        if !one_by_one && dilation != [r, r] {
            return Err(format!("dilation {dilation:?}, expected {r}"));
        }
        if padding != Padding::Same && !one_by_one {
            return Err("VALID padding, expected SAME".into());
        }
        if act != want_act {
            return Err(format!("fused activation {act:?}, expected {want_act:?}"));
        }
        Ok(())
    };
    match (&op.options, spec.op) {
        (Options::Conv2d { padding, stride, dilation, activation }, _) => {
            window(*padding, *stride, *dilation, *activation)
        }
        (Options::DepthwiseConv2d { padding, stride, dilation, depth_multiplier, activation }, OpKind::Depthwise) => {
            if *depth_multiplier != 1 {
                return Err(format!("depth_multiplier {depth_multiplier}, MobileNet v1 uses 1"));
            }
            window(*padding, *stride, *dilation, *activation)
        }
        (Options::Pool2d { filter, activation, .. }, OpKind::AvgPool) => {
            let whole = [spec.input.h as i32, spec.input.w as i32];
            if *filter != whole {
                return Err(format!("pool window {filter:?}, expected the whole {whole:?} map"));
            }
            (*activation == Activation::None)
                .then_some(())
                .ok_or_else(|| format!("fused activation {activation:?} on the pool"))
        }
        (Options::Reducer { .. }, OpKind::AvgPool) => Ok(()),
        (Options::FullyConnected { activation, .. }, OpKind::Logits) => (*activation == Activation::None)
            .then_some(())
            .ok_or_else(|| format!("fused activation {activation:?} on the logits")),
        (other, _) => Err(format!("unexpected options {other:?}")),
    }
}

/// The filter of a conv layer as TFLite stores it: conv OHWI, depthwise [1, kh, kw, C], FC [out, in].
fn check_filter(spec: &LayerSpec, f: &Found) -> Result<(), Error> {
    if spec.op == OpKind::AvgPool {
        return check_mean_axes(f);
    }
    let filter = f.node.required(1)?;
    let [kh, kw] = spec.kernel;
    let (cin, cout) = (spec.input.c, spec.output.c);
    let want: Vec<usize> = match (&f.node.op.op, spec.op) {
        (BuiltinOp::DepthwiseConv2d, _) => vec![1, kh, kw, cout],
        (BuiltinOp::FullyConnected, _) => vec![cout, cin],
        _ => vec![cout, kh, kw, cin],
    };
    if filter.shape != want {
        return Err(f.node.fail(format!("{}: filter shape {:?}, expected {want:?}", spec.name, filter.shape)));
    }
    if filter.data.is_none() {
        return Err(f.node.fail(format!("{}: filter is not a constant", spec.name)));
    }
    if let Some(bias) = f.node.input(2)? {
        if bias.shape != [cout] || bias.data.is_none() {
            return Err(f.node.fail(format!("{}: bias shape {:?}, expected [{cout}] constant", spec.name, bias.shape)));
        }
    }
    Ok(())
}

fn check_mean_axes(f: &Found) -> Result<(), Error> {
    if f.node.op.op != BuiltinOp::Mean {
        return Ok(());
    }
    let axes = f.node.required(1)?;
    let values = match (axes.dtype, axes.data) {
        (TensorType::Int32, Some(d)) => le_i32(d),
        _ => return Err(f.node.fail("axes must be a constant INT32 tensor")),
    };
    let mut sorted = values.clone();
    sorted.sort_unstable();
    if sorted != [1, 2] {
        return Err(f.node.fail(format!("MEAN over axes {values:?}; only axes [1, 2] (global pool) is supported")));
    }
    Ok(())
}

fn le_i32(d: &[u8]) -> Vec<i32> {
    d.chunks_exact(4).map(|b| i32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

fn le_f32(d: &[u8]) -> Vec<f32> {
    d.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

/// Reorders TFLite's filter into TF's layout: OHWI → HWIO, [1, kh, kw, C] → [kh, kw, C, 1], [O, I] → [1, 1, I, O].
fn to_tf_layout<T: Copy + Default>(values: &[T], tflite_shape: &[usize], op: &BuiltinOp) -> ([usize; 4], Vec<T>) {
    match (op, tflite_shape) {
        (BuiltinOp::DepthwiseConv2d, [_, kh, kw, c]) => ([*kh, *kw, *c, 1], values.to_vec()),
        (BuiltinOp::FullyConnected, [o, i]) => ([1, 1, *i, *o], transpose_oi(values, *o, *i, 1)),
        (_, [o, kh, kw, i]) => ([*kh, *kw, *i, *o], transpose_oi(values, *o, *i, kh * kw)),
        _ => ([0; 4], Vec::new()),
    }
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
fn activation_quant(t: &Tensor, node: &Node) -> Result<QuantParams, Error> {
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
fn float_weights(layers: &[Found], dequantize: bool) -> Result<Weights, Error> {
    let mut out = Vec::with_capacity(layers.len());
    for f in layers {
        if f.kind == OpKind::AvgPool {
            out.push(None);
            continue;
        }
        let filter = f.node.required(1)?;
        let data = filter.data.unwrap_or_default();
        let cout = *hwc(f.node, f.output)?.last().unwrap_or(&0);
        let out_dim = if f.node.op.op == BuiltinOp::DepthwiseConv2d { 3 } else { 0 };
        let (values, scales): (Vec<f32>, Vec<(f32, i32)>) = match (filter.dtype, dequantize) {
            (TensorType::Float32, false) => (le_f32(data), vec![(1.0, 0); cout]),
            (TensorType::Uint8 | TensorType::Int8, true) => {
                let scales = filter_quant(f.node, filter, cout, out_dim)?;
                (dequantize_filter(data, filter.dtype, &scales, cout, out_dim), scales)
            }
            (t, _) => return Err(f.node.fail(format!("filter type {} does not match the input type", t.name()))),
        };
        let (shape, tf) = to_tf_layout(&values, &filter.shape, &f.node.op.op);
        let bias = match f.node.input(2)? {
            None => Vec::new(),
            Some(b) if !dequantize && b.dtype == TensorType::Float32 => le_f32(b.data.unwrap_or_default()),
            Some(b) if dequantize && b.dtype == TensorType::Int32 => {
                let in_scale = activation_quant(f.input, f.node)?.scale;
                le_i32(b.data.unwrap_or_default())
                    .iter()
                    .zip(&scales)
                    .map(|(&q, (s, _))| q as f32 * in_scale * s)
                    .collect()
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
fn quant_weights(input: &Tensor, layers: &[Found], signed: bool) -> Result<QuantWeights, Error> {
    let node0 = layers[0].node;
    let want = if signed { TensorType::Int8 } else { TensorType::Uint8 };
    let shift = if signed { 128 } else { 0 };
    let (qmin, qmax) = if signed { (-128, 127) } else { (0, 255) };
    let mut out = Vec::with_capacity(layers.len());
    let mut pool = PoolQ::Average(AverageQ { min: 0, max: 255, signed_offset: shift });
    let mut embedding = QuantParams { scale: 1.0, zero_point: 0 };
    for f in layers {
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
    let logits_tensor = layers[layers.len() - 1].output;
    let logits = activation_quant(logits_tensor, layers[layers.len() - 1].node)?;
    let softmax = SoftmaxU8::new(logits.scale, 1.0)?;
    let inq = activation_quant(input, node0)?;
    let shifted = |q: QuantParams| QuantParams { scale: q.scale, zero_point: q.zero_point + shift };
    Ok(QuantWeights {
        layers: out,
        pool,
        input: shifted(inq),
        logits: shifted(logits),
        embedding: shifted(embedding),
        softmax,
        output: QuantParams { scale: 1.0 / 256.0, zero_point: 0 },
        signed,
    })
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
        return Err(f.node.fail(format!("input scale {i} / output scale {o} is not a positive ratio")));
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
    let data = filter.data.unwrap_or_default();
    let centered = per_channel(data, cout, out_dim, |b, c| (stored_value(b, filter.dtype) - scales[c].1) as i16);
    let (shape, tf) = to_tf_layout(&centered, &filter.shape, &f.node.op.op);
    let bias = match f.node.input(2)? {
        None => vec![0; cout],
        Some(b) if b.dtype == TensorType::Int32 => le_i32(b.data.unwrap_or_default()),
        Some(b) => return Err(f.node.fail(format!("bias type {} (expected INT32)", b.dtype.name()))),
    };
    // Products are at most 255·255 per tap; a bias beyond ±2^30 could overflow the int32 accumulator.
    if let Some(b) = bias.iter().find(|b| b.unsigned_abs() > 1 << 30) {
        return Err(f.node.fail(format!("bias value {b} is out of range")));
    }
    let per_channel = scales.windows(2).any(|w| w[0].0 != w[1].0);
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
