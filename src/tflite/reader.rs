//! A verifying reader for TFLite flatbuffers (schema.fbs version 3), written for untrusted bytes.
//!
//! Every offset, vtable, vector and string is bounds-checked before it is used, all arithmetic on
//! values from the file is checked, and nothing is allocated from a count until that count has been
//! checked against the bytes that must hold it and against the caps below. Buffers are borrowed, not
//! copied. Alignment is not required: every scalar is read unaligned, little-endian.

use super::schema::{
    Activation, BuiltinOp, Metadata, Model, Operator, Options, Padding, Quantization, Tensor, TensorType,
};
use crate::error::{Error, Real};
use std::cell::Cell;

/// Most operator codes a model may list.
pub const MAX_OPERATOR_CODES: usize = 10_000;
/// Most tensors in the subgraph.
pub const MAX_TENSORS: usize = 100_000;
/// Most operators in the subgraph.
pub const MAX_OPERATORS: usize = 100_000;
/// Most entries in the model's buffer list.
pub const MAX_BUFFERS: usize = 100_000;
/// Most tensor indices in one operator's inputs or outputs, or in the graph's.
pub const MAX_TENSOR_LIST: usize = 4096;
/// Highest tensor rank (TFLite's kernels stop at 6).
pub const MAX_RANK: usize = 8;
/// Longest string (names, description, custom op code), in bytes.
pub const MAX_STRING: usize = 64 * 1024;
/// Most elements in one tensor (2^28: 1 GiB of float32).
pub const MAX_TENSOR_ELEMENTS: u64 = 1 << 28;
/// Most bytes in all activations (non-constant tensors) together.
pub const MAX_ACTIVATION_BYTES: u64 = 1 << 30;
/// Most bytes the reader itself allocates (names, shapes, scales, the tensor and operator lists).
/// Flatbuffer offsets may alias, so without it a small file could make many tables share one big
/// vector and multiply what gets decoded.
pub const MAX_DECODED_BYTES: usize = 64 << 20;

/// The identifier schema.fbs declares (`file_identifier "TFL3"`), at bytes 4..8.
const IDENTIFIER: &[u8; 4] = b"TFL3";
const CUSTOM_OPCODE: i32 = 32;

/// Reads and verifies a TFLite model. Bytes after the flatbuffer (an appended ZIP) are ignored; see
/// [`Model::flatbuffer_len`].
#[cfg_attr(feature = "small", optimize(size))]
pub fn read(bytes: &[u8]) -> Result<Model<'_>, Error> {
    let fb = Fb::new(bytes);
    let root = fb.root()?;
    let version = root.u32_or(0, 0)?;
    if version != 3 {
        return Err(Error::unsupported(None, "model", format!("schema version {version}; only version 3 is read")));
    }
    let codes = read_operator_codes(&root)?;
    let subgraph = single_subgraph(&root)?;
    let description = root.string(3, "Model.description")?.unwrap_or_default();
    let buffers = read_buffers(&root)?;
    let tensors = read_tensors(&subgraph, &buffers)?;
    let inputs = graph_indices(&subgraph, 1, "input", tensors.len())?;
    let outputs = graph_indices(&subgraph, 2, "output", tensors.len())?;
    let operators = read_operators(&subgraph, &codes, tensors.len())?;
    // The subgraph's name is not used, but is part of the flatbuffer's extent.
    subgraph.string(4, "SubGraph.name")?;
    check_activation_bytes(&tensors)?;
    check_order(&tensors, &inputs, &outputs, &operators)?;
    let metadata = read_metadata(&root, &buffers)?;
    let flatbuffer_len = fb.extent.get();
    Ok(Model { version, description, tensors, inputs, outputs, operators, metadata, flatbuffer_len })
}

fn malformed(msg: impl Into<String>) -> Error {
    Error::malformed(msg)
}

fn add(a: usize, b: usize) -> Result<usize, Error> {
    a.checked_add(b).ok_or_else(|| malformed(format!("offset {a} + {b} overflows")))
}

fn mul(a: usize, b: usize) -> Result<usize, Error> {
    a.checked_mul(b).ok_or_else(|| malformed(format!("size {a} × {b} overflows")))
}

/// The input bytes, plus what has been learnt while reading them.
struct Fb<'a> {
    bytes: &'a [u8],
    /// The end of the furthest byte read so far: the flatbuffer's extent.
    extent: Cell<usize>,
    /// Bytes the reader may still allocate (see [`MAX_DECODED_BYTES`]).
    budget: Cell<usize>,
}

impl<'a> Fb<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Fb { bytes, extent: Cell::new(0), budget: Cell::new(MAX_DECODED_BYTES) }
    }

    /// `len` bytes at `pos`, or an error if they are not all inside the input.
    fn slice(&self, pos: usize, len: usize) -> Result<&'a [u8], Error> {
        let end = pos.checked_add(len).filter(|&end| end <= self.bytes.len()).ok_or_else(|| {
            malformed(format!("{len} bytes at offset {pos} run past the end of the {}-byte file", self.bytes.len()))
        })?;
        let s = self.bytes.get(pos..end).ok_or_else(|| malformed(format!("bad range {pos}..{end}")))?;
        self.extent.set(self.extent.get().max(end));
        Ok(s)
    }

    fn fixed<const N: usize>(&self, pos: usize) -> Result<[u8; N], Error> {
        let s = self.slice(pos, N)?;
        s.first_chunk::<N>().copied().ok_or_else(|| malformed(format!("short read at offset {pos}")))
    }

    fn u16(&self, pos: usize) -> Result<u16, Error> {
        self.fixed(pos).map(u16::from_le_bytes)
    }

    fn u32(&self, pos: usize) -> Result<u32, Error> {
        self.fixed(pos).map(u32::from_le_bytes)
    }

    fn i32(&self, pos: usize) -> Result<i32, Error> {
        self.fixed(pos).map(i32::from_le_bytes)
    }

    /// Takes `n` bytes from the allocation budget; call before allocating them.
    fn charge(&self, n: usize) -> Result<(), Error> {
        let left = self.budget.get().checked_sub(n).ok_or_else(|| {
            Error::unsupported(
                None,
                "model",
                format!("decoding it needs more than the reader's {MAX_DECODED_BYTES} bytes"),
            )
        })?;
        self.budget.set(left);
        Ok(())
    }

    fn root(&self) -> Result<Table<'_, 'a>, Error> {
        if self.bytes.get(4..8) != Some(IDENTIFIER.as_slice()) {
            return Err(malformed("not a TFLite model: file identifier \"TFL3\" missing at bytes 4..8"));
        }
        self.root_table("Model")
    }

    /// The root table, whatever the file identifier says.
    fn root_table(&self, what: &'static str) -> Result<Table<'_, 'a>, Error> {
        self.slice(0, 8)?;
        let pos = self.u32(0)? as usize;
        self.table(pos, what)
    }

    /// Follows the uoffset stored at `pos` (unsigned, relative to `pos`).
    fn follow(&self, pos: usize) -> Result<usize, Error> {
        add(pos, self.u32(pos)? as usize)
    }

    /// The table at `pos`: its vtable is found through the soffset there and both are bounds-checked.
    #[inline(never)] // one copy: the reader runs once per model, its size counts in every download
    fn table(&self, pos: usize, what: &'static str) -> Result<Table<'_, 'a>, Error> {
        let soffset = self.i32(pos)?;
        let vtable = i64::try_from(pos)
            .ok()
            .and_then(|p| p.checked_sub(i64::from(soffset)))
            .and_then(|v| usize::try_from(v).ok())
            .ok_or_else(|| {
                malformed(format!("{what} at offset {pos}: vtable offset {soffset} points outside the file"))
            })?;
        let vtable_len = self.u16(vtable)? as usize;
        let inline_len = self.u16(add(vtable, 2)?)? as usize;
        if vtable_len < 4 || vtable_len % 2 != 0 || inline_len < 4 {
            return Err(malformed(format!(
                "{what} at offset {pos}: bad vtable (size {vtable_len}, table size {inline_len})"
            )));
        }
        self.slice(vtable, vtable_len)?;
        self.slice(pos, inline_len)?;
        Ok(Table { fb: self, pos, vtable, vtable_len, inline_len, what })
    }

    /// The vector whose uoffset is at `pos`: `count` elements of `elem` bytes, all inside the file.
    /// More than `max` elements is refused as unsupported, after the bounds check.
    #[inline(never)] // one copy: the reader runs once per model, its size counts in every download
    fn vector(&self, pos: usize, elem: usize, max: usize, what: &'static str) -> Result<Vector<'_, 'a>, Error> {
        let start = self.follow(pos)?;
        let count = self.u32(start)? as usize;
        let first = add(start, 4)?;
        let data = self.slice(first, mul(count, elem)?).map_err(|_| {
            malformed(format!("{what}: {count} elements at offset {first} run past the end of the file"))
        })?;
        if count > max {
            return Err(Error::unsupported(None, what, format!("{count} entries; the reader's limit is {max}")));
        }
        Ok(Vector { fb: self, first, data, count, elem })
    }

    /// The string whose uoffset is at `pos` (flatbuffers strings end with a NUL byte).
    #[inline(never)] // one copy: the reader runs once per model, its size counts in every download
    fn string(&self, pos: usize, what: &'static str) -> Result<String, Error> {
        let v = self.vector(pos, 1, MAX_STRING, what)?;
        let nul = self.slice(add(v.first, v.count)?, 1)?;
        if nul != [0] {
            return Err(malformed(format!("{what}: string at offset {} is not NUL-terminated", v.first)));
        }
        self.charge(v.count)?;
        Ok(String::from_utf8_lossy(v.data).into_owned())
    }
}

/// A verified table: `vtable_len` bytes of vtable and `inline_len` bytes of table are in the file.
struct Table<'f, 'a> {
    fb: &'f Fb<'a>,
    pos: usize,
    vtable: usize,
    vtable_len: usize,
    inline_len: usize,
    what: &'static str,
}

impl<'f, 'a> Table<'f, 'a> {
    /// Where field `index` (of `size` bytes) is stored, or None when absent (default value).
    #[inline(never)] // one copy: the reader runs once per model, its size counts in every download
    fn field(&self, index: usize, size: usize) -> Result<Option<usize>, Error> {
        let slot = 4 + 2 * index;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let offset = self.fb.u16(add(self.vtable, slot)?)? as usize;
        if offset == 0 {
            return Ok(None);
        }
        if add(offset, size)? > self.inline_len {
            return Err(malformed(format!(
                "{} at offset {}: field {index} at +{offset} lies outside the table's {} bytes",
                self.what, self.pos, self.inline_len
            )));
        }
        add(self.pos, offset).map(Some)
    }

    fn scalar<const N: usize>(&self, index: usize) -> Result<Option<[u8; N]>, Error> {
        match self.field(index, N)? {
            Some(pos) => self.fb.fixed(pos).map(Some),
            None => Ok(None),
        }
    }

    fn u8_or(&self, index: usize, default: u8) -> Result<u8, Error> {
        Ok(self.scalar::<1>(index)?.map_or(default, u8::from_le_bytes))
    }

    fn i8_or(&self, index: usize, default: i8) -> Result<i8, Error> {
        Ok(self.scalar::<1>(index)?.map_or(default, i8::from_le_bytes))
    }

    fn bool_or(&self, index: usize, default: bool) -> Result<bool, Error> {
        Ok(self.scalar::<1>(index)?.map_or(default, |b| b != [0]))
    }

    fn i32_or(&self, index: usize, default: i32) -> Result<i32, Error> {
        Ok(self.scalar::<4>(index)?.map_or(default, i32::from_le_bytes))
    }

    fn u32_or(&self, index: usize, default: u32) -> Result<u32, Error> {
        Ok(self.scalar::<4>(index)?.map_or(default, u32::from_le_bytes))
    }

    fn u64_or(&self, index: usize, default: u64) -> Result<u64, Error> {
        Ok(self.scalar::<8>(index)?.map_or(default, u64::from_le_bytes))
    }

    fn f32_or(&self, index: usize, default: f32) -> Result<f32, Error> {
        Ok(self.scalar::<4>(index)?.map_or(default, f32::from_le_bytes))
    }

    fn table(&self, index: usize, what: &'static str) -> Result<Option<Table<'f, 'a>>, Error> {
        match self.field(index, 4)? {
            Some(pos) => self.fb.table(self.fb.follow(pos)?, what).map(Some),
            None => Ok(None),
        }
    }

    fn vector(
        &self,
        index: usize,
        elem: usize,
        max: usize,
        what: &'static str,
    ) -> Result<Option<Vector<'f, 'a>>, Error> {
        match self.field(index, 4)? {
            Some(pos) => self.fb.vector(pos, elem, max, what).map(Some),
            None => Ok(None),
        }
    }

    fn string(&self, index: usize, what: &'static str) -> Result<Option<String>, Error> {
        match self.field(index, 4)? {
            Some(pos) => self.fb.string(pos, what).map(Some),
            None => Ok(None),
        }
    }

    /// A `[int]` field as a Vec (empty when absent).
    fn i32s(&self, index: usize, max: usize, what: &'static str) -> Result<Vec<i32>, Error> {
        match self.vector(index, 4, max, what)? {
            Some(v) => v.decode::<4, i32>(i32::from_le_bytes),
            None => Ok(Vec::new()),
        }
    }
}

/// A verified vector: `count` elements of `elem` bytes starting at `first`, all inside the file.
struct Vector<'f, 'a> {
    fb: &'f Fb<'a>,
    first: usize,
    data: &'a [u8],
    count: usize,
    elem: usize,
}

impl<'f, 'a> Vector<'f, 'a> {
    /// Decodes every element (scalars of N bytes), charging the allocation to the budget first.
    fn decode<const N: usize, T>(&self, f: fn([u8; N]) -> T) -> Result<Vec<T>, Error> {
        self.fb.charge(mul(self.count, std::mem::size_of::<T>())?)?;
        Ok(self.data.chunks_exact(N).filter_map(|c| c.first_chunk::<N>().copied()).map(f).collect())
    }

    /// Element `i` of a vector of tables (each element is a uoffset relative to itself).
    #[inline(never)] // one copy: the reader runs once per model, its size counts in every download
    fn table(&self, i: usize, what: &'static str) -> Result<Table<'f, 'a>, Error> {
        let pos = add(self.first, mul(i, self.elem)?)?;
        self.fb.table(self.fb.follow(pos)?, what)
    }

    /// Every element of a vector of tables, parsed by `f` (which gets the element's index). The list
    /// grows as entries verify rather than being sized up front from a count that may be corrupt.
    fn tables<T>(
        &self,
        what: &'static str,
        mut f: impl FnMut(usize, Table<'f, 'a>) -> Result<T, Error>,
    ) -> Result<Vec<T>, Error> {
        self.fb.charge(mul(self.count, std::mem::size_of::<T>())?)?;
        let mut out = Vec::new();
        for i in 0..self.count {
            out.push(f(i, self.table(i, what)?)?);
        }
        Ok(out)
    }
}

/// What TFLite Metadata (metadata_schema.fbs, in the buffer named `TFLITE_METADATA`) says of the input's
/// normalization and the output's labels. Interpreters never read metadata: one that does not verify is
/// ignored as a whole, never half-used.
#[cfg_attr(feature = "small", optimize(size))]
fn read_metadata(model: &Table<'_, '_>, buffers: &[&[u8]]) -> Result<Metadata, Error> {
    let Some(list) = model.vector(6, 4, MAX_BUFFERS, "Model.metadata")? else { return Ok(Metadata::default()) };
    for i in 0..list.count {
        let entry = list.table(i, "Metadata")?;
        if entry.string(0, "Metadata.name")?.as_deref() == Some("TFLITE_METADATA") {
            let index = entry.u32_or(1, 0)? as usize;
            let bytes = buffers.get(index).ok_or_else(|| malformed(format!("metadata buffer {index} out of range")))?;
            return Ok(model_metadata(bytes).unwrap_or_default());
        }
    }
    Ok(Metadata::default())
}

/// The first table of a vector-of-tables field, if any.
fn first<'f, 'a>(t: &Table<'f, 'a>, field: usize, what: &'static str) -> Result<Option<Table<'f, 'a>>, Error> {
    match t.vector(field, 4, MAX_TENSOR_LIST, what)? {
        Some(v) if v.count > 0 => v.table(0, what).map(Some),
        _ => Ok(None),
    }
}

/// ModelMetadata → subgraph_metadata[0] → the first input's NormalizationOptions and the first output's
/// TENSOR_AXIS_LABELS file.
#[cfg_attr(feature = "small", optimize(size))]
fn model_metadata(bytes: &[u8]) -> Result<Metadata, Error> {
    let fb = Fb::new(bytes);
    let root = fb.root_table("ModelMetadata")?;
    let Some(subgraph) = first(&root, 3, "SubGraphMetadata")? else { return Ok(Metadata::default()) };
    let mut metadata = Metadata::default();
    if let Some(input) = first(&subgraph, 2, "input TensorMetadata")? {
        if let Some(units) = input.vector(4, 4, MAX_TENSOR_LIST, "ProcessUnit")? {
            for i in 0..units.count {
                let unit = units.table(i, "ProcessUnit")?;
                // The ProcessUnitOptions union: type 1 is NormalizationOptions {mean: [float], std: [float]}.
                if unit.u8_or(0, 0)? == 1 {
                    if let Some(o) = unit.table(1, "NormalizationOptions")? {
                        let floats = |f| {
                            o.vector(f, 4, 16, "NormalizationOptions").and_then(|v| match v {
                                Some(v) => v.decode::<4, f32>(f32::from_le_bytes),
                                None => Ok(Vec::new()),
                            })
                        };
                        metadata.normalization = Some((floats(0)?, floats(1)?));
                    }
                }
            }
        }
    }
    if let Some(output) = first(&subgraph, 3, "output TensorMetadata")? {
        if let Some(files) = output.vector(6, 4, MAX_TENSOR_LIST, "AssociatedFile")? {
            for i in 0..files.count {
                let file = files.table(i, "AssociatedFile")?;
                // AssociatedFileType 2: TENSOR_AXIS_LABELS, one label per line.
                if file.i8_or(2, 0)? == 2 && metadata.labels_file.is_none() {
                    metadata.labels_file = file.string(0, "AssociatedFile.name")?;
                }
            }
        }
    }
    Ok(metadata)
}

fn read_operator_codes(model: &Table<'_, '_>) -> Result<Vec<BuiltinOp>, Error> {
    let Some(codes) = model.vector(1, 4, MAX_OPERATOR_CODES, "Model.operator_codes")? else {
        return Ok(Vec::new());
    };
    codes.tables("OperatorCode", |_, code| {
        // Old files only have the byte field; new ones put codes ≥ 127 in the int field and 127
        // (PLACEHOLDER_FOR_GREATER_OP_CODES) in the byte. The larger of the two is the op.
        let op = i32::from(code.i8_or(0, 0)?).max(code.i32_or(3, 0)?);
        if op == CUSTOM_OPCODE {
            return Ok(BuiltinOp::Custom(code.string(1, "OperatorCode.custom_code")?.unwrap_or_default()));
        }
        Ok(BuiltinOp::from_code(op))
    })
}

fn single_subgraph<'f, 'a>(model: &Table<'f, 'a>) -> Result<Table<'f, 'a>, Error> {
    let subgraphs = model.vector(2, 4, usize::MAX, "Model.subgraphs")?;
    match subgraphs.as_ref().map_or(0, |v| v.count) {
        0 => Err(malformed("the model has no subgraph")),
        1 => subgraphs.ok_or_else(|| malformed("no subgraph"))?.table(0, "SubGraph"),
        n => Err(Error::unsupported(None, "model", format!("{n} subgraphs; only single-subgraph models run"))),
    }
}

/// Every buffer's inline data (empty when absent). Buffers stored outside the flatbuffer (offset or
/// size set, for models over 2 GB) are refused.
fn read_buffers<'a>(model: &Table<'_, 'a>) -> Result<Vec<&'a [u8]>, Error> {
    let Some(buffers) = model.vector(4, 4, MAX_BUFFERS, "Model.buffers")? else {
        return Ok(Vec::new());
    };
    buffers.tables("Buffer", |i, buffer| {
        if buffer.u64_or(1, 0)? != 0 || buffer.u64_or(2, 0)? != 0 {
            return Err(Error::unsupported(None, format!("buffer {i}"), "data stored outside the flatbuffer"));
        }
        Ok(buffer.vector(0, 1, usize::MAX, "Buffer.data")?.map_or(&[][..], |v| v.data))
    })
}

#[cfg_attr(feature = "small", optimize(size))]
fn read_tensors<'a>(subgraph: &Table<'_, 'a>, buffers: &[&'a [u8]]) -> Result<Vec<Tensor<'a>>, Error> {
    let Some(tensors) = subgraph.vector(0, 4, MAX_TENSORS, "SubGraph.tensors")? else {
        return Ok(Vec::new());
    };
    tensors.tables("Tensor", |i, t| read_tensor(i, &t, buffers))
}

#[cfg_attr(feature = "small", optimize(size))]
fn read_tensor<'a>(index: usize, t: &Table<'_, 'a>, buffers: &[&'a [u8]]) -> Result<Tensor<'a>, Error> {
    let name = t.string(3, "Tensor.name")?.unwrap_or_default();
    let subject = || format!("tensor {index} ({name})");
    let dims = t.i32s(0, MAX_RANK, "Tensor.shape")?;
    let shape = dims
        .iter()
        .map(|&d| usize::try_from(d).map_err(|_| malformed(format!("{}: negative dimension in {dims:?}", subject()))))
        .collect::<Result<Vec<usize>, Error>>()?;
    let dtype = TensorType::from_code(t.i8_or(1, 0)?);
    let buffer_index = t.u32_or(2, 0)?;
    let buffer = buffers.get(buffer_index as usize).copied().ok_or_else(|| {
        malformed(format!("{}: buffer {buffer_index} out of range ({} buffers)", subject(), buffers.len()))
    })?;
    if t.bool_or(5, false)? {
        return Err(Error::unsupported(None, subject(), "variable tensor"));
    }
    if t.field(6, 4)?.is_some() {
        return Err(Error::unsupported(None, subject(), "sparse tensor"));
    }
    let data = check_data(&subject, &dims, dtype, buffer)?;
    let quantization = match t.table(4, "QuantizationParameters")? {
        Some(q) => read_quantization(&q, &shape, &subject)?,
        None => None,
    };
    Ok(Tensor { name, shape, dtype, data, quantization })
}

/// The tensor's constant data (None for an empty buffer), after checking that its size is exactly
/// what the shape and type need, then that the tensor is within the element cap.
#[cfg_attr(feature = "small", optimize(size))]
fn check_data<'a>(
    subject: &dyn Fn() -> String,
    dims: &[i32],
    dtype: TensorType,
    buffer: &'a [u8],
) -> Result<Option<&'a [u8]>, Error> {
    // u64 so that the count is exact on wasm32 too; None on overflow.
    let elements = dims.iter().try_fold(1u64, |n, &d| n.checked_mul(u64::try_from(d).ok()?));
    let data = if buffer.is_empty() {
        None
    } else {
        let size = dtype
            .size()
            .ok_or_else(|| Error::unsupported(None, subject(), format!("constant data of {}", dtype.name())))?;
        if elements.and_then(|n| n.checked_mul(size as u64)) != Some(buffer.len() as u64) {
            return Err(malformed(format!(
                "{}: buffer holds {} bytes but shape {dims:?} of {} needs {} × {size}",
                subject(),
                buffer.len(),
                dtype.name(),
                elements.map_or("more than 2^64".into(), |n| n.to_string())
            )));
        }
        Some(buffer)
    };
    match elements {
        Some(n) if n <= MAX_TENSOR_ELEMENTS => Ok(data),
        _ => Err(Error::unsupported(
            None,
            subject(),
            format!("shape {dims:?} has more than the reader's limit of {MAX_TENSOR_ELEMENTS} elements"),
        )),
    }
}

/// Affine quantization, or None when the table holds no scale (float tensors). Counts are checked
/// against the shape before the vectors are decoded.
#[cfg_attr(feature = "small", optimize(size))]
fn read_quantization(
    q: &Table<'_, '_>,
    shape: &[usize],
    subject: &dyn Fn() -> String,
) -> Result<Option<Quantization>, Error> {
    if q.u8_or(4, 0)? != 0 {
        return Err(Error::unsupported(None, subject(), "custom quantization details"));
    }
    // min and max are only for importing back into TensorFlow: bounds-checked, not decoded.
    q.vector(0, 4, usize::MAX, "QuantizationParameters.min")?;
    q.vector(1, 4, usize::MAX, "QuantizationParameters.max")?;
    let Some(scale) = q.vector(2, 4, usize::MAX, "QuantizationParameters.scale")?.filter(|v| v.count > 0) else {
        return Ok(None);
    };
    // TFLite's own loader also refuses a scale without zero points.
    let zero_point = q.vector(3, 8, usize::MAX, "QuantizationParameters.zero_point")?;
    let dim = q.i32_or(6, 0)?;
    let quantized_dimension =
        usize::try_from(dim).map_err(|_| malformed(format!("{}: quantized_dimension {dim}", subject())))?;
    check_counts(scale.count, zero_point.as_ref().map_or(0, |v| v.count), quantized_dimension, shape, subject)?;
    let scale = scale.decode::<4, f32>(f32::from_le_bytes)?;
    if let Some(bad) = scale.iter().find(|s| !(s.is_finite() && **s > 0.0)) {
        return Err(malformed(format!(
            "{}: quantization scale {} is not finite and positive",
            subject(),
            Real::from(*bad)
        )));
    }
    let zero_point = match zero_point {
        Some(v) => v.decode::<8, i64>(i64::from_le_bytes)?,
        None => Vec::new(),
    };
    Ok(Some(Quantization { scale, zero_point, quantized_dimension }))
}

/// One scale and zero point per tensor, or one per slice along `dim`.
fn check_counts(
    n: usize,
    zero_points: usize,
    dim: usize,
    shape: &[usize],
    subject: &dyn Fn() -> String,
) -> Result<(), Error> {
    if zero_points != n {
        return Err(malformed(format!("{}: {n} scales but {zero_points} zero points", subject())));
    }
    // A scalar may be per-tensor quantized with quantized_dimension 0.
    if dim >= shape.len().max(1) {
        return Err(malformed(format!("{}: quantized_dimension {dim} of a rank-{} tensor", subject(), shape.len())));
    }
    if n > 1 && shape.get(dim) != Some(&n) {
        return Err(malformed(format!("{}: {n} scales along dimension {dim} of shape {shape:?}", subject())));
    }
    Ok(())
}

/// The graph's inputs or outputs (field 1 or 2 of the subgraph), each an existing tensor.
fn graph_indices(subgraph: &Table<'_, '_>, field: usize, role: &str, n_tensors: usize) -> Result<Vec<usize>, Error> {
    let raw = subgraph.i32s(field, MAX_TENSOR_LIST, "SubGraph inputs/outputs")?;
    raw.iter()
        .map(|&t| {
            usize::try_from(t)
                .ok()
                .filter(|&t| t < n_tensors)
                .ok_or_else(|| malformed(format!("graph {role} tensor {t} out of range ({n_tensors} tensors)")))
        })
        .collect()
}

#[cfg_attr(feature = "small", optimize(size))]
fn read_operators(subgraph: &Table<'_, '_>, codes: &[BuiltinOp], n_tensors: usize) -> Result<Vec<Operator>, Error> {
    let Some(ops) = subgraph.vector(3, 4, MAX_OPERATORS, "SubGraph.operators")? else {
        return Ok(Vec::new());
    };
    ops.tables("Operator", |i, t| read_operator(i, &t, codes, n_tensors))
}

#[cfg_attr(feature = "small", optimize(size))]
fn read_operator(index: usize, t: &Table<'_, '_>, codes: &[BuiltinOp], n_tensors: usize) -> Result<Operator, Error> {
    let opcode = t.u32_or(0, 0)?;
    let op = codes.get(opcode as usize).cloned().ok_or_else(|| {
        malformed(format!("operator {index}: opcode_index {opcode} out of range ({} operator codes)", codes.len()))
    })?;
    let inputs = t.i32s(1, MAX_TENSOR_LIST, "Operator.inputs")?;
    let outputs = t.i32s(2, MAX_TENSOR_LIST, "Operator.outputs")?;
    let in_range = |t: i32| usize::try_from(t).is_ok_and(|t| t < n_tensors);
    // -1 marks an omitted optional input; outputs must all exist.
    if let Some(bad) = inputs.iter().find(|&&t| t != -1 && !in_range(t)).or(outputs.iter().find(|&&t| !in_range(t))) {
        return Err(malformed(format!(
            "operator {index} ({}): tensor index {bad} out of range ({n_tensors} tensors)",
            op.name()
        )));
    }
    let options = read_options(index, &op, t)?;
    Ok(Operator { op, inputs, outputs, options })
}

/// The BuiltinOptions union type code each op we read must carry (schema.fbs's union order).
pub(crate) fn options_type(op: &BuiltinOp) -> Option<u8> {
    match op {
        BuiltinOp::Conv2d => Some(1),
        BuiltinOp::DepthwiseConv2d => Some(2),
        BuiltinOp::AveragePool2d => Some(5),
        BuiltinOp::FullyConnected => Some(8),
        BuiltinOp::Softmax => Some(9),
        BuiltinOp::Reshape => Some(17),
        BuiltinOp::Mean => Some(27),
        BuiltinOp::Squeeze => Some(30),
        BuiltinOp::Quantize | BuiltinOp::Dequantize | BuiltinOp::Other(_) | BuiltinOp::Custom(_) => None,
    }
}

/// The operator's builtin options (union type at field 3, table at field 4). An absent table gives
/// `Options::None`, and so does any op we do not run (its table is not looked at).
#[cfg_attr(feature = "small", optimize(size))]
fn read_options(index: usize, op: &BuiltinOp, t: &Table<'_, '_>) -> Result<Options, Error> {
    let Some(expected) = options_type(op) else { return Ok(Options::None) };
    let code = t.u8_or(3, 0)?;
    if code == 0 {
        return Ok(Options::None);
    }
    if code != expected {
        return Err(malformed(format!("operator {index} ({}) carries options of union type {code}", op.name())));
    }
    let Some(o) = t.table(4, "builtin options")? else { return Ok(Options::None) };
    let ctx = |field: &str| format!("operator {index} ({}): {field}", op.name());
    Ok(match op {
        BuiltinOp::Conv2d => Options::Conv2d {
            padding: padding(&o, &ctx)?,
            stride: [positive(&o, 2, 0, "stride_h", &ctx)?, positive(&o, 1, 0, "stride_w", &ctx)?],
            activation: Activation::from_code(o.i8_or(3, 0)?),
            dilation: [positive(&o, 5, 1, "dilation_h_factor", &ctx)?, positive(&o, 4, 1, "dilation_w_factor", &ctx)?],
        },
        BuiltinOp::DepthwiseConv2d => Options::DepthwiseConv2d {
            padding: padding(&o, &ctx)?,
            stride: [positive(&o, 2, 0, "stride_h", &ctx)?, positive(&o, 1, 0, "stride_w", &ctx)?],
            depth_multiplier: o.i32_or(3, 0)?,
            activation: Activation::from_code(o.i8_or(4, 0)?),
            dilation: [positive(&o, 6, 1, "dilation_h_factor", &ctx)?, positive(&o, 5, 1, "dilation_w_factor", &ctx)?],
        },
        BuiltinOp::AveragePool2d => Options::Pool2d {
            padding: padding(&o, &ctx)?,
            stride: [positive(&o, 2, 0, "stride_h", &ctx)?, positive(&o, 1, 0, "stride_w", &ctx)?],
            filter: [positive(&o, 4, 0, "filter_height", &ctx)?, positive(&o, 3, 0, "filter_width", &ctx)?],
            activation: Activation::from_code(o.i8_or(5, 0)?),
        },
        BuiltinOp::FullyConnected => Options::FullyConnected {
            activation: Activation::from_code(o.i8_or(0, 0)?),
            weights_format: o.i8_or(1, 0)?,
            keep_num_dims: o.bool_or(2, false)?,
        },
        BuiltinOp::Softmax => Options::Softmax { beta: o.f32_or(0, 0.0)? },
        BuiltinOp::Reshape => Options::Reshape { new_shape: o.i32s(0, MAX_RANK, "ReshapeOptions.new_shape")? },
        BuiltinOp::Squeeze => Options::Squeeze { squeeze_dims: o.i32s(0, MAX_RANK, "SqueezeOptions.squeeze_dims")? },
        BuiltinOp::Mean => Options::Reducer { keep_dims: o.bool_or(0, false)? },
        BuiltinOp::Quantize | BuiltinOp::Dequantize | BuiltinOp::Other(_) | BuiltinOp::Custom(_) => Options::None,
    })
}

fn padding(o: &Table<'_, '_>, ctx: &dyn Fn(&str) -> String) -> Result<Padding, Error> {
    let code = o.i8_or(0, 0)?;
    Padding::from_code(code)
        .ok_or_else(|| malformed(format!("{} {code} is neither SAME (0) nor VALID (1)", ctx("padding"))))
}

/// A stride, dilation or filter size: zero or less would divide by zero further on.
fn positive(
    o: &Table<'_, '_>,
    index: usize,
    default: i32,
    name: &str,
    ctx: &dyn Fn(&str) -> String,
) -> Result<i32, Error> {
    let v = o.i32_or(index, default)?;
    if v < 1 {
        return Err(malformed(format!("{} is {v}", ctx(name))));
    }
    Ok(v)
}

/// Activations are allocated by the engine, so their total is capped here, where it is cheap.
fn check_activation_bytes(tensors: &[Tensor<'_>]) -> Result<(), Error> {
    let total = tensors.iter().filter(|t| t.data.is_none()).try_fold(0u64, |sum, t| {
        // Types we cannot size count as the widest we know.
        let bytes = (t.elements() as u64).checked_mul(t.dtype.size().unwrap_or(8) as u64)?;
        sum.checked_add(bytes).filter(|&s| s <= MAX_ACTIVATION_BYTES)
    });
    if total.is_none() {
        return Err(Error::unsupported(
            None,
            "model",
            format!("its activations need more than the reader's limit of {MAX_ACTIVATION_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Operators must be in execution order: each reads only constants, graph inputs and earlier
/// outputs, and each tensor is written at most once (never a constant or a graph input).
fn check_order(
    tensors: &[Tensor<'_>],
    inputs: &[usize],
    outputs: &[usize],
    operators: &[Operator],
) -> Result<(), Error> {
    let mut ready: Vec<bool> = tensors.iter().map(|t| t.data.is_some()).collect();
    for &i in inputs {
        if let Some(r) = ready.get_mut(i) {
            *r = true;
        }
    }
    for (index, op) in operators.iter().enumerate() {
        for &t in op.inputs.iter().filter(|&&t| t >= 0) {
            if !ready.get(t as usize).copied().unwrap_or(false) {
                return Err(malformed(format!(
                    "operator {index} ({}) reads tensor {t} before any operator produces it",
                    op.op.name()
                )));
            }
        }
        for &t in &op.outputs {
            match ready.get_mut(t as usize) {
                Some(r) if !*r => *r = true,
                _ => {
                    return Err(malformed(format!(
                    "operator {index} ({}) writes tensor {t}, which is a constant, a graph input or already written",
                    op.op.name()
                )))
                }
            }
        }
    }
    if let Some(t) = outputs.iter().find(|&&t| !ready.get(t).copied().unwrap_or(false)) {
        return Err(malformed(format!("graph output tensor {t} is never produced")));
    }
    Ok(())
}
