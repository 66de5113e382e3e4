//! A model's backbone copied into a new file, then a new head on its embedding: what "teach your own
//! classes" exports. The operators, tensors (names, shapes, types, quantization) and weights up to the
//! global average pool are taken from the source model as they are; every op the pool does not depend on
//! (the old head, the dequantization of its weights) is left out.

use super::flatbuffer::{Table, Value};
use super::{builtin, dims, f32_bytes, Graph, FULLY_CONNECTED_OPTIONS, RESHAPE_OPTIONS, SOFTMAX_OPTIONS};
use crate::error::Error;
use crate::tflite::reader::options_type;
use crate::tflite::schema::{self, BuiltinOp, Model, Options, Quantization, TensorType};

/// A quantized tensor's scale and zero point (per tensor).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Affine {
    pub scale: f32,
    pub zero_point: i64,
}

/// A fully connected layer's weights, [outputs][inputs] row-major, as the new head stores them.
#[derive(Clone, Debug, PartialEq)]
pub enum DenseWeights {
    Float {
        weights: Vec<f32>,
        bias: Vec<f32>,
    },
    /// Integer weights of the activations' type (uint8 per tensor, int8 per output channel, zero point 0),
    /// int32 bias at scale input · weight, and the output's quantization.
    Quantized {
        weights: Vec<u8>,
        scales: Vec<f32>,
        zero_point: i64,
        bias: Vec<i32>,
        output: Affine,
    },
}

/// The copied backbone, and the head being added after its embedding.
pub struct Backbone {
    graph: Graph,
    input: i32,
    /// The tensor the next op reads: the flattened embedding, then each head layer's output.
    last: i32,
    /// Its width.
    width: usize,
    /// What the layers compute in (float32, uint8 or int8), and the embedding's quantization.
    compute: TensorType,
    embedding: Option<Affine>,
    /// The source's output type, when it differs from `compute` (an int8 model with uint8 edges).
    edge: Option<TensorType>,
    normalization: Option<(Vec<f32>, Vec<f32>)>,
}

impl Backbone {
    /// The source model up to its last global average pool (AVERAGE_POOL_2D or MEAN), flattened to [1, C].
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn copy(source: &Model<'_>) -> Result<Backbone, Error> {
        let pool = source
            .operators
            .iter()
            .rposition(|op| matches!(op.op, BuiltinOp::AveragePool2d | BuiltinOp::Mean))
            .ok_or_else(|| Error::unsupported(None, "model", "no global average pool to take the embedding from"))?;
        let keep = needed(source, pool);
        let mut graph = Graph::new();
        let mut map = vec![None; source.tensors.len()];
        let &[input] = source.inputs.as_slice() else {
            return Err(Error::unsupported(None, "model", "the backbone must have exactly one input"));
        };
        let new_input = copy_tensor(&mut graph, source, input, &mut map)?;
        for &i in &keep {
            copy_op(&mut graph, source, i, &mut map)?;
        }
        let pooled = output_of(source, pool)?;
        let t = &source.tensors[pooled];
        let width = *t.shape.last().ok_or_else(|| Error::shape("the pool's output has no dimensions"))?;
        if t.elements() != width {
            return Err(Error::shape(format!("the pool's output {:?} is not one vector", t.shape)));
        }
        let compute = t.dtype;
        let embedding = match compute {
            TensorType::Float32 => None,
            TensorType::Uint8 | TensorType::Int8 => Some(per_tensor(t.quantization.as_ref())?),
            other => return Err(Error::unsupported(None, "embedding", format!("type {}", other.name()))),
        };
        let edge = single(&source.outputs, "output")
            .map(|o| source.tensors[o].dtype)
            .ok()
            .filter(|&d| d != compute && d != TensorType::Float32);
        let last = map[pooled].ok_or_else(|| Error::shape("the pool's output was not copied"))?;
        let mut b = Backbone {
            graph,
            input: new_input,
            last,
            width,
            compute,
            embedding,
            edge,
            normalization: source.metadata.normalization.clone(),
        };
        if t.shape.len() != 2 {
            b.flatten(&t.name)?;
        }
        Ok(b)
    }

    /// What the layers compute in: Float32, Uint8 or Int8.
    pub fn compute(&self) -> TensorType {
        self.compute
    }

    /// The embedding's quantization (None for float models).
    pub fn embedding(&self) -> Option<Affine> {
        self.embedding
    }

    /// The embedding's width.
    pub fn width(&self) -> usize {
        self.width
    }

    /// RESHAPE [1, 1, 1, C] → [1, C], keeping the quantization.
    fn flatten(&mut self, pooled: &str) -> Result<(), Error> {
        let shape = dims(&[1, self.width])?;
        let bytes = shape.iter().flat_map(|v| v.to_le_bytes()).collect();
        let shape_tensor = self.graph.constant("teach/flatten/shape", &[2], TensorType::Int32, bytes)?;
        let flat = self.activation(&format!("{pooled}/flatten"), self.width, self.embedding)?;
        let options = Table::new().with(0, Value::Ints(shape));
        self.graph.op(builtin(BuiltinOp::Reshape), &[self.last, shape_tensor], flat, RESHAPE_OPTIONS, options);
        self.last = flat;
        Ok(())
    }

    fn activation(&mut self, name: &str, width: usize, q: Option<Affine>) -> Result<i32, Error> {
        let t = self.graph.tensor(name, &[1, width], self.compute, 0)?;
        if let Some(q) = q {
            self.graph.quantize(t, &[q.scale], &[q.zero_point], 0);
        }
        Ok(t)
    }

    /// A FULLY_CONNECTED layer with `outputs` units (ReLU fused when `relu`).
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn dense(&mut self, name: &str, outputs: usize, w: &DenseWeights, relu: bool) -> Result<(), Error> {
        let (filter, bias, out_q) = match w {
            DenseWeights::Float { weights, bias } => {
                let weights = (TensorType::Float32, f32_bytes(weights), weights.len());
                let (f, b) =
                    self.constants(name, outputs, weights, (TensorType::Float32, f32_bytes(bias), bias.len()))?;
                (f, b, None)
            }
            DenseWeights::Quantized { weights, scales, zero_point, bias, output } => {
                let input = self.embedding_of_last()?;
                let bias_bytes = bias.iter().flat_map(|v| v.to_le_bytes()).collect();
                let (f, b) = self.constants(
                    name,
                    outputs,
                    (self.compute, weights.clone(), weights.len()),
                    (TensorType::Int32, bias_bytes, bias.len()),
                )?;
                self.graph.quantize(f, scales, &vec![*zero_point; scales.len()], 0);
                let bias_scales: Vec<f32> = scales.iter().map(|s| s * input.scale).collect();
                self.graph.quantize(b, &bias_scales, &vec![0; bias_scales.len()], 0);
                (f, b, Some(*output))
            }
        };
        let y = self.activation(name, outputs, out_q)?;
        let act =
            schema::Activation::of(if relu { crate::quant::Activation::Relu } else { crate::quant::Activation::None });
        let options = Table::new().with(0, Value::I8(act.code()));
        self.graph.op(
            builtin(BuiltinOp::FullyConnected),
            &[self.last, filter, bias],
            y,
            FULLY_CONNECTED_OPTIONS,
            options,
        );
        self.last = y;
        self.width = outputs;
        self.embedding = out_q;
        Ok(())
    }

    /// A dense layer's weight [outputs, inputs] and bias [outputs] constants: (type, bytes, value count) each.
    fn constants(
        &mut self,
        name: &str,
        outputs: usize,
        (w_type, w_bytes, w_len): (TensorType, Vec<u8>, usize),
        (b_type, b_bytes, b_len): (TensorType, Vec<u8>, usize),
    ) -> Result<(i32, i32), Error> {
        check_len(w_len, outputs * self.width, "weights")?;
        check_len(b_len, outputs, "bias")?;
        let f = self.graph.constant(&format!("{name}/weights"), &[outputs, self.width], w_type, w_bytes)?;
        let b = self.graph.constant(&format!("{name}/bias"), &[outputs], b_type, b_bytes)?;
        Ok((f, b))
    }

    /// The quantization of the tensor the next layer reads.
    fn embedding_of_last(&self) -> Result<Affine, Error> {
        self.embedding.ok_or_else(|| Error::shape("quantized weights on a float model"))
    }

    /// SOFTMAX over the last layer (TFLite's fixed output quantization for integer models: 1/256, the
    /// type's lowest value as zero point), then the source's output type if its edge differs.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn softmax(&mut self) -> Result<(), Error> {
        let q = match self.compute {
            TensorType::Uint8 => Some(Affine { scale: 1.0 / 256.0, zero_point: 0 }),
            TensorType::Int8 => Some(Affine { scale: 1.0 / 256.0, zero_point: -128 }),
            _ => None,
        };
        let y = self.activation("probability", self.width, q)?;
        let options = Table::new().with(0, Value::F32(1.0));
        self.graph.op(builtin(BuiltinOp::Softmax), &[self.last], y, SOFTMAX_OPTIONS, options);
        self.last = y;
        if let (Some(TensorType::Uint8), TensorType::Int8) = (self.edge, self.compute) {
            let out = self.graph.tensor("probability/uint8", &[1, self.width], TensorType::Uint8, 0)?;
            self.graph.quantize(out, &[1.0 / 256.0], &[0], 0);
            self.graph.op(builtin(BuiltinOp::Quantize), &[y], out, 0, Table::new());
            self.last = out;
        }
        Ok(())
    }

    /// The model file: the flatbuffer with metadata naming `labels.txt` as the output's labels (and the
    /// source's input normalization), then a ZIP holding it, as the official MobileNet files carry theirs.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn finish(self, labels: &[String]) -> Result<Vec<u8>, Error> {
        let mut g = self.graph;
        let metadata = super::labelled_metadata(self.normalization.as_ref(), LABELS_FILE)?;
        let metadata = g.buffer(metadata)?;
        let mut bytes = g.finish(self.input, self.last, Some(metadata))?;
        let mut text = labels.join("\n");
        text.push('\n');
        let zip = crate::tflite::zip::stored(LABELS_FILE, text.as_bytes(), bytes.len())?;
        bytes.extend(zip);
        Ok(bytes)
    }
}

/// The labels' file name inside the appended ZIP.
pub const LABELS_FILE: &str = "labels.txt";

fn check_len(got: usize, want: usize, what: &str) -> Result<(), Error> {
    if got == want {
        Ok(())
    } else {
        Err(Error::shape(format!("head {what}: {got} values, expected {want}")))
    }
}

fn single(list: &[usize], what: &str) -> Result<usize, Error> {
    match list {
        [one] => Ok(*one),
        _ => Err(Error::unsupported(None, "model", format!("{} tensors as {what}, expected one", list.len()))),
    }
}

/// Operator `i`'s one output tensor.
fn output_of(source: &Model<'_>, i: usize) -> Result<usize, Error> {
    match source.operators[i].outputs.as_slice() {
        &[t] => usize::try_from(t).map_err(|_| Error::malformed(format!("operator {i} writes no tensor"))),
        list => Err(Error::unsupported(Some(i), "operator", format!("{} outputs, expected one", list.len()))),
    }
}

fn per_tensor(q: Option<&Quantization>) -> Result<Affine, Error> {
    match q {
        Some(Quantization { scale, zero_point, .. }) if scale.len() == 1 && zero_point.len() == 1 => {
            Ok(Affine { scale: scale[0], zero_point: zero_point[0] })
        }
        _ => Err(Error::unsupported(None, "embedding", "a quantized embedding needs one scale and zero point")),
    }
}

/// The operators the pool's output depends on, in their order: a walk back from the pool.
#[cfg_attr(feature = "small", optimize(size))]
fn needed(source: &Model<'_>, pool: usize) -> Vec<usize> {
    let producer = |t: i32| source.operators[..=pool].iter().rposition(|op| op.outputs.contains(&t));
    let mut keep = vec![false; pool + 1];
    let mut stack = vec![pool];
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut keep[i], true) {
            continue;
        }
        for &t in &source.operators[i].inputs {
            if let Some(p) = producer(t) {
                stack.push(p);
            }
        }
    }
    (0..=pool).filter(|&i| keep[i]).collect()
}

/// Copies tensor `t` (once) and returns its new index.
#[cfg_attr(feature = "small", optimize(size))]
fn copy_tensor(g: &mut Graph, source: &Model<'_>, t: usize, map: &mut [Option<i32>]) -> Result<i32, Error> {
    if let Some(new) = map[t] {
        return Ok(new);
    }
    let s = &source.tensors[t];
    let buffer = match s.data {
        Some(data) => g.buffer(data.to_vec())?,
        None => 0,
    };
    let new = g.tensor(&s.name, &s.shape, s.dtype, buffer)?;
    if let Some(q) = &s.quantization {
        g.quantize(new, &q.scale, &q.zero_point, q.quantized_dimension);
    }
    map[t] = Some(new);
    Ok(new)
}

/// Copies operator `i` with its tensors and options.
#[cfg_attr(feature = "small", optimize(size))]
fn copy_op(g: &mut Graph, source: &Model<'_>, i: usize, map: &mut [Option<i32>]) -> Result<(), Error> {
    let op = &source.operators[i];
    let code =
        op.op.code().ok_or_else(|| Error::unsupported(Some(i), op.op.name(), "custom operators are not copied"))?;
    let mut inputs = Vec::with_capacity(op.inputs.len());
    for &t in &op.inputs {
        inputs.push(match usize::try_from(t) {
            Ok(t) => copy_tensor(g, source, t, map)?,
            Err(_) => -1,
        });
    }
    let output = copy_tensor(g, source, output_of(source, i)?, map)?;
    let (kind, table) = options(&op.options);
    let kind = if kind == 0 { 0 } else { options_type(&op.op).unwrap_or(0) };
    g.op(code, &inputs, output, kind, table);
    Ok(())
}

/// The options table of an op the reader parsed (field numbers from schema.fbs; strides stored w, h).
#[cfg_attr(feature = "small", optimize(size))]
fn options(o: &Options) -> (u8, Table) {
    let i8v = |v: i8| Value::I8(v);
    let t = Table::new();
    match o {
        Options::Conv2d { padding, stride, dilation, activation } => (
            1,
            t.with(0, i8v(padding.code()))
                .with(1, Value::I32(stride[1]))
                .with(2, Value::I32(stride[0]))
                .with(3, i8v(activation.code()))
                .with(4, Value::I32(dilation[1]))
                .with(5, Value::I32(dilation[0])),
        ),
        Options::DepthwiseConv2d { padding, stride, dilation, depth_multiplier, activation } => (
            1,
            t.with(0, i8v(padding.code()))
                .with(1, Value::I32(stride[1]))
                .with(2, Value::I32(stride[0]))
                .with(3, Value::I32(*depth_multiplier))
                .with(4, i8v(activation.code()))
                .with(5, Value::I32(dilation[1]))
                .with(6, Value::I32(dilation[0])),
        ),
        Options::Pool2d { padding, stride, filter, activation } => (
            1,
            t.with(0, i8v(padding.code()))
                .with(1, Value::I32(stride[1]))
                .with(2, Value::I32(stride[0]))
                .with(3, Value::I32(filter[1]))
                .with(4, Value::I32(filter[0]))
                .with(5, i8v(activation.code())),
        ),
        Options::FullyConnected { activation, keep_num_dims, weights_format } => (
            1,
            t.with(0, i8v(activation.code()))
                .with(1, i8v(*weights_format))
                .with(2, Value::U8(u8::from(*keep_num_dims))),
        ),
        Options::Softmax { beta } => (1, t.with(0, Value::F32(*beta))),
        Options::Reshape { new_shape } => (1, t.with(0, Value::Ints(new_shape.clone()))),
        Options::Squeeze { squeeze_dims } => (1, t.with(0, Value::Ints(squeeze_dims.clone()))),
        Options::Reducer { keep_dims } => (1, t.with(0, Value::U8(u8::from(*keep_dims)))),
        Options::None => (0, t),
    }
}
