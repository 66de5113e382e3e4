//! Writes our own float networks as TFLite models (schema.fbs version 3), so that other runtimes (TFLite's
//! own, MediaPipe) run exactly the weights the engine runs: the folded filters and biases of
//! [`crate::export::folded_weights`], in TFLite's layouts, NHWC float32. Optionally with TFLite Metadata
//! (metadata_schema.fbs) stating the input's normalization, which MediaPipe needs for float models.
//!
//! The graph: CONV_2D 3x3 (the stem), per block DEPTHWISE_CONV_2D 3x3 and CONV_2D 1x1 (SAME, stride and
//! dilation as the architecture says, activations fused), AVERAGE_POOL_2D over the whole map (VALID),
//! RESHAPE to [1, C], one FULLY_CONNECTED per head layer, and SOFTMAX when the network ends in one. This is
//! the shape the importer recognizes, so a written model reads back as the same configuration.

mod backbone;
mod flatbuffer;

pub use backbone::{Affine, Backbone, DenseWeights, LABELS_FILE};

use super::schema::{self, BuiltinOp, Padding, TensorType};
use crate::arch::{Activation, Config, LayerSpec, OpKind};
use crate::error::Error;
use crate::export::{folded_weights, Layer, Slice};
use crate::preprocess::Normalization;
use crate::weights::Weights;
use flatbuffer::{finish, Table, Value};

/// `Model.description` of every file we write.
pub const DESCRIPTION: &str = "mobilenet-wasm";
/// The graph input's tensor name.
pub const INPUT_NAME: &str = "input";

// BuiltinOptions union type codes.
const CONV_2D_OPTIONS: u8 = 1;
const DEPTHWISE_CONV_2D_OPTIONS: u8 = 2;
const POOL_2D_OPTIONS: u8 = 5;
const FULLY_CONNECTED_OPTIONS: u8 = 8;
const SOFTMAX_OPTIONS: u8 = 9;
const RESHAPE_OPTIONS: u8 = 17;

/// The builtin code of an op the writer emits (each has one).
fn builtin(op: BuiltinOp) -> i32 {
    op.code().unwrap_or_default()
}

/// A float32 .tflite of the network `cfg` describes, with `weights` (batch norm folded in as the engine
/// folds it). With `normalization`, the file carries TFLite Metadata saying how pixels map to the input.
pub fn write_float(cfg: &Config, weights: &Weights, normalization: Option<Normalization>) -> Result<Vec<u8>, Error> {
    let (manifest, blob) = folded_weights(cfg, weights)?;
    let mut g = Graph::new();
    let r = cfg.resolution;
    let input = g.activation(INPUT_NAME, &[1, r.height, r.width, 3])?;
    let mut x = input;
    for layer in &manifest.layers {
        x = g.layer(layer, &blob, x)?;
    }
    if cfg.softmax {
        let out = g.activation("probability", &[1, cfg.num_classes])?;
        g.op(builtin(BuiltinOp::Softmax), &[x], out, SOFTMAX_OPTIONS, Table::new().with(0, Value::F32(1.0)));
        x = out;
    }
    let metadata = match normalization {
        Some(n) => Some(g.buffer(model_metadata(n, cfg.softmax)?)?),
        None => None,
    };
    g.finish(input, x, metadata)
}

/// The subgraph and buffers as they are built.
struct Graph {
    /// Builtin codes, one OperatorCode each, in order of first use.
    opcodes: Vec<i32>,
    /// Buffer 0 stays empty: TFLite reserves it for tensors without data.
    buffers: Vec<Vec<u8>>,
    tensors: Vec<Table>,
    operators: Vec<Table>,
}

fn dims(shape: &[usize]) -> Result<Vec<i32>, Error> {
    let dim = |&d: &usize| i32::try_from(d).map_err(|_| Error::shape(format!("dimension {d} does not fit int32")));
    shape.iter().map(dim).collect()
}

fn index(i: usize) -> Result<i32, Error> {
    i32::try_from(i).map_err(|_| Error::unsupported(None, "model", "more tensors than int32 indices"))
}

fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// TFLite's fused_activation_function code.
fn activation_code(a: Activation) -> i8 {
    schema::Activation::of(a).code()
}

impl Graph {
    fn new() -> Graph {
        Graph { opcodes: Vec::new(), buffers: vec![Vec::new()], tensors: Vec::new(), operators: Vec::new() }
    }

    fn buffer(&mut self, data: Vec<u8>) -> Result<u32, Error> {
        self.buffers.push(data);
        u32::try_from(self.buffers.len() - 1).map_err(|_| Error::unsupported(None, "model", "too many buffers"))
    }

    fn tensor(&mut self, name: &str, shape: &[usize], dtype: TensorType, buffer: u32) -> Result<i32, Error> {
        let t = Table::new()
            .with(0, Value::Ints(dims(shape)?))
            .with(1, Value::I8(dtype.code()))
            .with(2, Value::U32(buffer))
            .with(3, Value::Str(name.into()));
        self.tensors.push(t);
        index(self.tensors.len() - 1)
    }

    /// A tensor computed at run time (buffer 0).
    fn activation(&mut self, name: &str, shape: &[usize]) -> Result<i32, Error> {
        self.tensor(name, shape, TensorType::Float32, 0)
    }

    fn constant(&mut self, name: &str, shape: &[usize], dtype: TensorType, data: Vec<u8>) -> Result<i32, Error> {
        let buffer = self.buffer(data)?;
        self.tensor(name, shape, dtype, buffer)
    }

    /// Appends an operator; `options_type` 0 writes no options table.
    fn op(&mut self, code: i32, inputs: &[i32], output: i32, options_type: u8, options: Table) {
        let opcode = self.opcodes.iter().position(|&c| c == code).unwrap_or_else(|| {
            self.opcodes.push(code);
            self.opcodes.len() - 1
        });
        let t = Table::new()
            .with(0, Value::U32(opcode as u32))
            .with(1, Value::Ints(inputs.to_vec()))
            .with(2, Value::Ints(vec![output]));
        let t = if options_type == 0 { t } else { t.union(3, options_type, options) };
        self.operators.push(t);
    }

    /// Gives tensor `t` affine quantization: one scale and zero point, or one per slice along `dimension`.
    fn quantize(&mut self, t: i32, scales: &[f32], zero_points: &[i64], dimension: usize) {
        let q = Table::new()
            .with(2, Value::Floats(scales.to_vec()))
            .with(3, Value::Longs(zero_points.to_vec()))
            .with(6, Value::I32(i32::try_from(dimension).unwrap_or(0)));
        if let Some(tensor) = usize::try_from(t).ok().and_then(|t| self.tensors.get_mut(t)) {
            *tensor = std::mem::take(tensor).with(4, Value::Table(q));
        }
    }

    /// One layer of the manifest, reading `x`; returns its output tensor.
    fn layer(&mut self, layer: &Layer, blob: &[u8], x: i32) -> Result<i32, Error> {
        let spec = &layer.spec;
        let (Some(filter), Some(bias)) = (&layer.filter, &layer.bias) else {
            return self.pool(spec, x);
        };
        let (code, options_type, options) = layer_options(spec)?;
        let fc = code == builtin(BuiltinOp::FullyConnected);
        let (shape, values) = tflite_filter(spec.op, filter, blob)?;
        let filter =
            self.constant(&format!("{}/weights", spec.name), &shape, TensorType::Float32, f32_bytes(&values))?;
        let bias = self.constant(
            &format!("{}/bias", spec.name),
            &[spec.output.c],
            TensorType::Float32,
            f32_bytes(&bias.read(blob)),
        )?;
        let o = spec.output;
        let out_shape: &[usize] = if fc { &[1, o.c] } else { &[1, o.h, o.w, o.c] };
        let y = self.activation(&spec.name, out_shape)?;
        self.op(code, &[x, filter, bias], y, options_type, options);
        Ok(y)
    }

    /// The global average pool, then RESHAPE [1, 1, 1, C] → [1, C] for the fully connected head.
    fn pool(&mut self, spec: &LayerSpec, x: i32) -> Result<i32, Error> {
        let c = spec.output.c;
        let pooled = self.activation(&spec.name, &[1, 1, 1, c])?;
        let &[h, w] = dims(&[spec.input.h, spec.input.w])?.as_slice() else { return Err(Error::shape("pool window")) };
        let options = Table::new()
            .with(0, Value::I8(Padding::Valid.code()))
            .with(1, Value::I32(1))
            .with(2, Value::I32(1))
            .with(3, Value::I32(w))
            .with(4, Value::I32(h))
            .with(5, Value::I8(activation_code(Activation::None)));
        self.op(builtin(BuiltinOp::AveragePool2d), &[x], pooled, POOL_2D_OPTIONS, options);
        let new_shape = dims(&[1, c])?;
        let shape = self.constant(
            "flatten/shape",
            &[2],
            TensorType::Int32,
            new_shape.iter().flat_map(|v| v.to_le_bytes()).collect(),
        )?;
        let flat = self.activation("flatten", &[1, c])?;
        self.op(
            builtin(BuiltinOp::Reshape),
            &[pooled, shape],
            flat,
            RESHAPE_OPTIONS,
            Table::new().with(0, Value::Ints(new_shape)),
        );
        Ok(flat)
    }

    #[cfg_attr(feature = "small", optimize(size))]
    fn finish(self, input: i32, output: i32, metadata: Option<u32>) -> Result<Vec<u8>, Error> {
        let opcodes = self.opcodes.iter().map(|&code| operator_code(code)).collect();
        let buffers = self.buffers.into_iter().map(buffer_table).collect();
        let subgraph = Table::new()
            .with(0, Value::Tables(self.tensors))
            .with(1, Value::Ints(vec![input]))
            .with(2, Value::Ints(vec![output]))
            .with(3, Value::Tables(self.operators))
            .with(4, Value::Str("main".into()));
        let mut model = Table::new()
            .with(0, Value::U32(3))
            .with(1, Value::Tables(opcodes))
            .with(2, Value::Tables(vec![subgraph]))
            .with(3, Value::Str(DESCRIPTION.into()))
            .with(4, Value::Tables(buffers));
        if let Some(buffer) = metadata {
            let entry = Table::new().with(0, Value::Str("TFLITE_METADATA".into())).with(1, Value::U32(buffer));
            model = model.with(6, Value::Tables(vec![entry]));
        }
        finish(&model, b"TFL3")
    }
}

/// Old readers only know the byte field: codes from 127 on put the placeholder 127 there.
fn operator_code(code: i32) -> Table {
    let deprecated = i8::try_from(code.min(127)).unwrap_or(127);
    Table::new().with(0, Value::I8(deprecated)).with(2, Value::I32(1)).with(3, Value::I32(code))
}

fn buffer_table(data: Vec<u8>) -> Table {
    if data.is_empty() {
        Table::new()
    } else {
        Table::new().with(0, Value::Bytes(data))
    }
}

/// The op, its options' union type and table for a layer with weights.
fn layer_options(spec: &LayerSpec) -> Result<(i32, u8, Table), Error> {
    let act = Value::I8(activation_code(spec.activation));
    let &[s, r] = dims(&[spec.stride, spec.rate])?.as_slice() else { return Err(Error::shape("stride and rate")) };
    let [s, r] = [Value::I32(s), Value::I32(r)];
    // Conv2DOptions and DepthwiseConv2DOptions store w before h; ours are square.
    match spec.op {
        OpKind::Depthwise => {
            let t = Table::new()
                .with(0, Value::I8(Padding::Same.code()))
                .with(1, s.clone())
                .with(2, s)
                .with(3, Value::I32(1));
            Ok((
                builtin(BuiltinOp::DepthwiseConv2d),
                DEPTHWISE_CONV_2D_OPTIONS,
                t.with(4, act).with(5, r.clone()).with(6, r),
            ))
        }
        OpKind::Dense | OpKind::Logits => {
            Ok((builtin(BuiltinOp::FullyConnected), FULLY_CONNECTED_OPTIONS, Table::new().with(0, act)))
        }
        _ => {
            let t = Table::new().with(0, Value::I8(Padding::Same.code())).with(1, s.clone()).with(2, s).with(3, act);
            Ok((builtin(BuiltinOp::Conv2d), CONV_2D_OPTIONS, t.with(4, r.clone()).with(5, r)))
        }
    }
}

/// A TF-layout filter in TFLite's layout: conv [kh,kw,I,O] → [O,kh,kw,I], depthwise [kh,kw,C,1] → [1,kh,kw,C]
/// (the same order), fully connected [1,1,I,O] → [O,I].
fn tflite_filter(op: OpKind, filter: &Slice, blob: &[u8]) -> Result<(Vec<usize>, Vec<f32>), Error> {
    let values = filter.read(blob);
    let &[kh, kw, cin, cout] = filter.shape.as_slice() else {
        return Err(Error::shape(format!("filter shape {:?} is not 4-D", filter.shape)));
    };
    Ok(match op {
        OpKind::Depthwise => (vec![1, kh, kw, cin], values),
        OpKind::Dense | OpKind::Logits => (vec![cout, cin], transpose(&values, kh * kw * cin, cout)),
        _ => (vec![cout, kh, kw, cin], transpose(&values, kh * kw * cin, cout)),
    })
}

/// A row-major `rows`×`cols` matrix transposed.
fn transpose(v: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0; v.len()];
    for (r, row) in v.chunks_exact(cols).enumerate().take(rows) {
        for (c, &x) in row.iter().enumerate() {
            out[c * rows + r] = x;
        }
    }
    out
}

// metadata_schema.fbs codes: ContentProperties, ColorSpaceType, ProcessUnitOptions.
const FEATURE_PROPERTIES: u8 = 1;
const IMAGE_PROPERTIES: u8 = 2;
const RGB: i8 = 1;
const NORMALIZATION_OPTIONS: u8 = 1;

/// A ModelMetadata flatbuffer ("M001"): the input is an RGB image normalized as `n` says, the output the
/// class probabilities (or logits).
fn model_metadata(n: Normalization, softmax: bool) -> Result<Vec<u8>, Error> {
    metadata(lists(n), if softmax { "probability" } else { "logits" }, None)
}

/// Metadata for a taught model: the source's input normalization (MobileNet's x/127.5 − 1 when it stated
/// none) and `labels` as the probabilities' TENSOR_AXIS_LABELS file.
#[cfg_attr(feature = "small", optimize(size))]
fn labelled_metadata(normalization: Option<&(Vec<f32>, Vec<f32>)>, labels: &str) -> Result<Vec<u8>, Error> {
    let lists = normalization.cloned().unwrap_or_else(|| self::lists(Normalization::MINUS_ONE_ONE));
    metadata(lists, "probability", Some(labels))
}

// AssociatedFileType TENSOR_AXIS_LABELS: one label per line.
const TENSOR_AXIS_LABELS: i8 = 2;

#[cfg_attr(feature = "small", optimize(size))]
fn metadata((mean, std): (Vec<f32>, Vec<f32>), output: &str, labels: Option<&str>) -> Result<Vec<u8>, Error> {
    let normalization = Table::new().with(0, Value::Floats(mean)).with(1, Value::Floats(std));
    let image = Table::new().with(0, Value::I8(RGB));
    let input = Table::new()
        .with(0, Value::Str("image".into()))
        .with(3, Value::Table(Table::new().union(0, IMAGE_PROPERTIES, image)))
        .with(4, Value::Tables(vec![Table::new().union(0, NORMALIZATION_OPTIONS, normalization)]));
    let mut output = Table::new()
        .with(0, Value::Str(output.into()))
        .with(3, Value::Table(Table::new().union(0, FEATURE_PROPERTIES, Table::new())));
    if let Some(name) = labels {
        let file = Table::new().with(0, Value::Str(name.into())).with(2, Value::I8(TENSOR_AXIS_LABELS));
        output = output.with(6, Value::Tables(vec![file]));
    }
    let subgraph = Table::new().with(2, Value::Tables(vec![input])).with(3, Value::Tables(vec![output]));
    let root = Table::new()
        .with(0, Value::Str("MobileNet v1".into()))
        .with(1, Value::Str("MobileNet v1 written by mobilenet-wasm".into()))
        .with(2, Value::Str("1".into()))
        .with(3, Value::Tables(vec![subgraph]))
        .with(7, Value::Str("1.0.0".into()));
    finish(&root, b"M001")
}

/// NormalizationOptions' mean and std: one value each when every channel shares it, else one per channel.
fn lists(n: Normalization) -> (Vec<f32>, Vec<f32>) {
    let uniform = |v: [f32; 3]| v.iter().all(|x| x.to_bits() == v[0].to_bits());
    if uniform(n.mean) && uniform(n.std) {
        (vec![n.mean[0]], vec![n.std[0]])
    } else {
        (n.mean.to_vec(), n.std.to_vec())
    }
}
