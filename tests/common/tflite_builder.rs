//! A small flatbuffer writer for building TFLite models in tests: generic tables and vectors
//! ([`Table`], [`Value`], [`finish`]) and a TFLite layer on top ([`ModelBuilder`]) with helpers for
//! the option tables the reader knows.
//!
//! The layout is written front to back: a table's vtable, then the table, then its children, so
//! every uoffset points forward as the format requires. Values marked [`Value::Shared`] are written
//! once, at the very end, so any number of fields may point at the same object (as a hostile file
//! could).

/// A field value. Scalars are stored inline; everything else is an offset to an object after it.
#[derive(Clone, Debug)]
pub enum Value {
    U8(u8),
    I8(i8),
    Bool(bool),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    F32(f32),
    Table(Table),
    Tables(Vec<Table>),
    Bytes(Vec<u8>),
    Ints(Vec<i32>),
    Floats(Vec<f32>),
    Longs(Vec<i64>),
    Str(String),
    /// An offset to `shared[i]` of [`finish_with_shared`], written once after everything else.
    Shared(usize),
}

/// A table: (field index, value) pairs; absent fields take the schema's default.
#[derive(Clone, Debug, Default)]
pub struct Table {
    pub fields: Vec<(usize, Value)>,
}

impl Table {
    pub fn new() -> Self {
        Table::default()
    }

    /// Sets field `index` (replacing an earlier value of it).
    pub fn set(mut self, index: usize, value: Value) -> Self {
        self.fields.retain(|(i, _)| *i != index);
        self.fields.push((index, value));
        self
    }
}

/// The bytes of a flatbuffer whose root is `root`, with file identifier "TFL3".
pub fn finish(root: &Table) -> Vec<u8> {
    finish_with_shared(root, &[])
}

/// Like [`finish`], with objects that [`Value::Shared`] fields point at.
pub fn finish_with_shared(root: &Table, shared: &[Value]) -> Vec<u8> {
    let mut w = Writer { buf: vec![0, 0, 0, 0], pending: Vec::new() };
    w.buf.extend_from_slice(b"TFL3");
    let root_pos = w.table(root);
    w.patch(0, root_pos);
    let pending = std::mem::take(&mut w.pending);
    let positions: Vec<usize> = shared.iter().map(|v| w.object(v)).collect();
    for (at, index) in pending {
        w.patch(at, positions[index]);
    }
    assert!(w.pending.is_empty(), "shared values may not contain Shared fields");
    w.buf
}

struct Writer {
    buf: Vec<u8>,
    /// (field position, shared index) of Shared offsets to patch at the end.
    pending: Vec<(usize, usize)>,
}

impl Writer {
    fn align(&mut self, n: usize) {
        while self.buf.len() % n != 0 {
            self.buf.push(0);
        }
    }

    /// Stores at `at` the uoffset to `target` (which must lie after it).
    fn patch(&mut self, at: usize, target: usize) {
        let off = u32::try_from(target - at).unwrap();
        self.buf[at..at + 4].copy_from_slice(&off.to_le_bytes());
    }

    fn table(&mut self, t: &Table) -> usize {
        let slots = t.fields.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
        let mut inline = vec![0u8; 4];
        let mut offsets = vec![0u16; slots];
        let mut children = Vec::new();
        for (index, value) in &t.fields {
            offsets[*index] = u16::try_from(inline.len()).unwrap();
            match value {
                Value::U8(v) => inline.push(*v),
                Value::I8(v) => inline.extend_from_slice(&v.to_le_bytes()),
                Value::Bool(v) => inline.push(u8::from(*v)),
                Value::I32(v) => inline.extend_from_slice(&v.to_le_bytes()),
                Value::U32(v) => inline.extend_from_slice(&v.to_le_bytes()),
                Value::I64(v) => inline.extend_from_slice(&v.to_le_bytes()),
                Value::U64(v) => inline.extend_from_slice(&v.to_le_bytes()),
                Value::F32(v) => inline.extend_from_slice(&v.to_le_bytes()),
                _ => {
                    children.push((inline.len(), value));
                    inline.extend_from_slice(&[0; 4]);
                }
            }
        }
        self.align(4);
        let vtable = self.buf.len();
        self.buf.extend_from_slice(&u16::try_from(4 + 2 * slots).unwrap().to_le_bytes());
        self.buf.extend_from_slice(&u16::try_from(inline.len()).unwrap().to_le_bytes());
        for o in offsets {
            self.buf.extend_from_slice(&o.to_le_bytes());
        }
        self.align(4);
        let pos = self.buf.len();
        inline[..4].copy_from_slice(&i32::try_from(pos - vtable).unwrap().to_le_bytes());
        self.buf.extend_from_slice(&inline);
        for (at, value) in children {
            if let Value::Shared(index) = value {
                self.pending.push((pos + at, *index));
            } else {
                let child = self.object(value);
                self.patch(pos + at, child);
            }
        }
        pos
    }

    /// Writes a table, vector or string and returns where it starts.
    fn object(&mut self, value: &Value) -> usize {
        match value {
            Value::Table(t) => self.table(t),
            Value::Tables(ts) => {
                let pos = self.vector_header(ts.len());
                let first = self.buf.len();
                self.buf.resize(first + 4 * ts.len(), 0);
                for (i, t) in ts.iter().enumerate() {
                    let child = self.table(t);
                    self.patch(first + 4 * i, child);
                }
                pos
            }
            Value::Bytes(b) => self.scalars(b.len(), b),
            Value::Ints(v) => self.scalars(v.len(), &v.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()),
            Value::Floats(v) => self.scalars(v.len(), &v.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()),
            Value::Longs(v) => self.scalars(v.len(), &v.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<_>>()),
            Value::Str(s) => {
                let pos = self.scalars(s.len(), s.as_bytes());
                self.buf.push(0);
                pos
            }
            scalar => panic!("{scalar:?} is stored inline, not as an object"),
        }
    }

    fn vector_header(&mut self, count: usize) -> usize {
        self.align(4);
        let pos = self.buf.len();
        self.buf.extend_from_slice(&u32::try_from(count).unwrap().to_le_bytes());
        pos
    }

    /// A vector of `count` scalars whose little-endian bytes are `bytes`.
    fn scalars(&mut self, count: usize, bytes: &[u8]) -> usize {
        let pos = self.vector_header(count);
        self.buf.extend_from_slice(bytes);
        pos
    }
}

/// TensorType codes.
pub const FLOAT32: i8 = 0;
pub const INT32: i8 = 2;
pub const UINT8: i8 = 3;
pub const INT64: i8 = 4;
pub const INT8: i8 = 9;

/// BuiltinOperator codes.
pub const AVERAGE_POOL_2D: i32 = 1;
pub const CONV_2D: i32 = 3;
pub const DEPTHWISE_CONV_2D: i32 = 4;
pub const FULLY_CONNECTED: i32 = 9;
pub const MAX_POOL_2D: i32 = 17;
pub const RESHAPE: i32 = 22;
pub const SOFTMAX: i32 = 25;
pub const CUSTOM: i32 = 32;
pub const MEAN: i32 = 40;
pub const SQUEEZE: i32 = 43;

/// Padding and ActivationFunctionType codes.
pub const SAME: i8 = 0;
pub const VALID: i8 = 1;
pub const NONE: i8 = 0;
pub const RELU: i8 = 1;
pub const RELU6: i8 = 3;

#[derive(Clone, Debug)]
pub struct QuantDef {
    pub scale: Vec<f32>,
    pub zero_point: Vec<i64>,
    pub quantized_dimension: i32,
}

#[derive(Clone, Debug)]
pub struct TensorDef {
    pub name: String,
    pub shape: Vec<i32>,
    pub dtype: i8,
    pub buffer: u32,
    pub quantization: Option<QuantDef>,
    /// Raw fields set last, overriding the ones above (e.g. sparsity at 6, or a Shared value).
    pub extra: Vec<(usize, Value)>,
}

#[derive(Clone, Debug)]
pub struct OpDef {
    pub opcode_index: u32,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    /// BuiltinOptions union type code and table.
    pub options: Option<(u8, Table)>,
}

#[derive(Clone, Debug)]
pub enum OpCodeDef {
    Builtin(i32),
    Custom(String),
}

/// A TFLite model with one subgraph (repeated `subgraphs` times), buffer 0 empty by convention.
#[derive(Clone, Debug)]
pub struct ModelBuilder {
    pub version: u32,
    pub description: String,
    pub opcodes: Vec<OpCodeDef>,
    pub buffers: Vec<Vec<u8>>,
    pub tensors: Vec<TensorDef>,
    pub operators: Vec<OpDef>,
    pub inputs: Vec<i32>,
    pub outputs: Vec<i32>,
    pub subgraphs: usize,
    /// Objects that [`Value::Shared`] fields point at.
    pub shared: Vec<Value>,
}

impl Default for ModelBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl ModelBuilder {
    pub fn new() -> Self {
        ModelBuilder {
            version: 3,
            description: "test model".into(),
            opcodes: Vec::new(),
            buffers: vec![Vec::new()],
            tensors: Vec::new(),
            operators: Vec::new(),
            inputs: Vec::new(),
            outputs: Vec::new(),
            subgraphs: 1,
            shared: Vec::new(),
        }
    }

    /// The index of the operator code for builtin `code`, added if new.
    pub fn opcode(&mut self, code: i32) -> u32 {
        let def = OpCodeDef::Builtin(code);
        let found = self.opcodes.iter().position(|c| matches!(c, OpCodeDef::Builtin(c) if *c == code));
        u32::try_from(found.unwrap_or_else(|| {
            self.opcodes.push(def);
            self.opcodes.len() - 1
        }))
        .unwrap()
    }

    pub fn custom_opcode(&mut self, name: &str) -> u32 {
        self.opcodes.push(OpCodeDef::Custom(name.into()));
        u32::try_from(self.opcodes.len() - 1).unwrap()
    }

    pub fn buffer(&mut self, data: Vec<u8>) -> u32 {
        self.buffers.push(data);
        u32::try_from(self.buffers.len() - 1).unwrap()
    }

    /// A tensor without data (its own empty buffer, as the MLIR converter writes them).
    pub fn activation(&mut self, name: &str, shape: &[i32], dtype: i8) -> i32 {
        let buffer = self.buffer(Vec::new());
        self.push_tensor(name, shape, dtype, buffer)
    }

    /// A constant tensor holding `data`.
    pub fn constant(&mut self, name: &str, shape: &[i32], dtype: i8, data: Vec<u8>) -> i32 {
        let buffer = self.buffer(data);
        self.push_tensor(name, shape, dtype, buffer)
    }

    fn push_tensor(&mut self, name: &str, shape: &[i32], dtype: i8, buffer: u32) -> i32 {
        self.tensors.push(TensorDef {
            name: name.into(),
            shape: shape.to_vec(),
            dtype,
            buffer,
            quantization: None,
            extra: Vec::new(),
        });
        i32::try_from(self.tensors.len() - 1).unwrap()
    }

    pub fn quantize(&mut self, tensor: i32, scale: &[f32], zero_point: &[i64], quantized_dimension: i32) {
        self.tensors[tensor as usize].quantization =
            Some(QuantDef { scale: scale.to_vec(), zero_point: zero_point.to_vec(), quantized_dimension });
    }

    /// Adds an operator running builtin `code`; returns its index.
    pub fn op(&mut self, code: i32, inputs: &[i32], outputs: &[i32], options: Option<(u8, Table)>) -> usize {
        let opcode_index = self.opcode(code);
        self.operators.push(OpDef { opcode_index, inputs: inputs.to_vec(), outputs: outputs.to_vec(), options });
        self.operators.len() - 1
    }

    pub fn build(&self) -> Vec<u8> {
        finish_with_shared(&self.model_table(), &self.shared)
    }

    pub fn model_table(&self) -> Table {
        let opcodes = self.opcodes.iter().map(opcode_table).collect();
        let buffers = self.buffers.iter().map(|d| buffer_table(d)).collect();
        Table::new()
            .set(0, Value::U32(self.version))
            .set(1, Value::Tables(opcodes))
            .set(2, Value::Tables(vec![self.subgraph_table(); self.subgraphs]))
            .set(3, Value::Str(self.description.clone()))
            .set(4, Value::Tables(buffers))
    }

    pub fn subgraph_table(&self) -> Table {
        Table::new()
            .set(0, Value::Tables(self.tensors.iter().map(tensor_table).collect()))
            .set(1, Value::Ints(self.inputs.clone()))
            .set(2, Value::Ints(self.outputs.clone()))
            .set(3, Value::Tables(self.operators.iter().map(operator_table).collect()))
            .set(4, Value::Str("main".into()))
    }
}

fn opcode_table(def: &OpCodeDef) -> Table {
    let (code, custom) = match def {
        OpCodeDef::Builtin(c) => (*c, None),
        OpCodeDef::Custom(name) => (CUSTOM, Some(name.clone())),
    };
    // Codes above 127 live in builtin_code only, with the placeholder 127 in the old byte field.
    let t = Table::new().set(0, Value::I8(i8::try_from(code.min(127)).unwrap())).set(3, Value::I32(code));
    match custom {
        Some(name) => t.set(1, Value::Str(name)),
        None => t,
    }
}

fn buffer_table(data: &[u8]) -> Table {
    if data.is_empty() {
        Table::new()
    } else {
        Table::new().set(0, Value::Bytes(data.to_vec()))
    }
}

fn tensor_table(t: &TensorDef) -> Table {
    let mut table = Table::new()
        .set(0, Value::Ints(t.shape.clone()))
        .set(1, Value::I8(t.dtype))
        .set(2, Value::U32(t.buffer))
        .set(3, Value::Str(t.name.clone()))
        .set(4, Value::Table(quantization_table(t.quantization.as_ref())));
    for (index, value) in &t.extra {
        table = table.set(*index, value.clone());
    }
    table
}

/// An empty table for float tensors, as converters write them.
fn quantization_table(q: Option<&QuantDef>) -> Table {
    match q {
        None => Table::new(),
        Some(q) => Table::new()
            .set(2, Value::Floats(q.scale.clone()))
            .set(3, Value::Longs(q.zero_point.clone()))
            .set(6, Value::I32(q.quantized_dimension)),
    }
}

fn operator_table(op: &OpDef) -> Table {
    let t = Table::new()
        .set(0, Value::U32(op.opcode_index))
        .set(1, Value::Ints(op.inputs.clone()))
        .set(2, Value::Ints(op.outputs.clone()));
    match &op.options {
        Some((code, options)) => t.set(3, Value::U8(*code)).set(4, Value::Table(options.clone())),
        None => t,
    }
}

/// Conv2DOptions; stride and dilation as [h, w] (the file stores w first).
pub fn conv2d_options(padding: i8, stride: [i32; 2], dilation: [i32; 2], activation: i8) -> (u8, Table) {
    let t = Table::new()
        .set(0, Value::I8(padding))
        .set(1, Value::I32(stride[1]))
        .set(2, Value::I32(stride[0]))
        .set(3, Value::I8(activation))
        .set(4, Value::I32(dilation[1]))
        .set(5, Value::I32(dilation[0]));
    (1, t)
}

pub fn depthwise_options(
    padding: i8,
    stride: [i32; 2],
    dilation: [i32; 2],
    depth_multiplier: i32,
    activation: i8,
) -> (u8, Table) {
    let t = Table::new()
        .set(0, Value::I8(padding))
        .set(1, Value::I32(stride[1]))
        .set(2, Value::I32(stride[0]))
        .set(3, Value::I32(depth_multiplier))
        .set(4, Value::I8(activation))
        .set(5, Value::I32(dilation[1]))
        .set(6, Value::I32(dilation[0]));
    (2, t)
}

pub fn pool2d_options(padding: i8, stride: [i32; 2], filter: [i32; 2], activation: i8) -> (u8, Table) {
    let t = Table::new()
        .set(0, Value::I8(padding))
        .set(1, Value::I32(stride[1]))
        .set(2, Value::I32(stride[0]))
        .set(3, Value::I32(filter[1]))
        .set(4, Value::I32(filter[0]))
        .set(5, Value::I8(activation));
    (5, t)
}

pub fn fully_connected_options(activation: i8, weights_format: i8, keep_num_dims: bool) -> (u8, Table) {
    let t =
        Table::new().set(0, Value::I8(activation)).set(1, Value::I8(weights_format)).set(2, Value::Bool(keep_num_dims));
    (8, t)
}

pub fn softmax_options(beta: f32) -> (u8, Table) {
    (9, Table::new().set(0, Value::F32(beta)))
}

pub fn reshape_options(new_shape: &[i32]) -> (u8, Table) {
    (17, Table::new().set(0, Value::Ints(new_shape.to_vec())))
}

pub fn reducer_options(keep_dims: bool) -> (u8, Table) {
    (27, Table::new().set(0, Value::Bool(keep_dims)))
}

pub fn squeeze_options(squeeze_dims: &[i32]) -> (u8, Table) {
    (30, Table::new().set(0, Value::Ints(squeeze_dims.to_vec())))
}

pub fn f32_bytes(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn i32_bytes(values: &[i32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

pub fn i8_bytes(values: &[i8]) -> Vec<u8> {
    values.iter().map(|v| v.to_le_bytes()[0]).collect()
}
