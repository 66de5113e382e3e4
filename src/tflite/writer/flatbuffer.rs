//! A minimal flatbuffer builder: tables (with their vtables), vectors, strings and unions, written front to
//! back so every uoffset points forward, as the format requires. Everything is aligned to its size (and
//! byte vectors to 16, schema.fbs's `force_align` for buffers), so a verifying reader with alignment checks,
//! such as TFLite's own, accepts the result.

use crate::error::Error;

/// A field's value: scalars are stored inline in the table, everything else behind a uoffset.
#[derive(Clone, Debug)]
pub(crate) enum Value {
    U8(u8),
    I8(i8),
    I32(i32),
    U32(u32),
    F32(f32),
    Table(Table),
    Tables(Vec<Table>),
    Ints(Vec<i32>),
    Floats(Vec<f32>),
    Longs(Vec<i64>),
    /// A `[ubyte]` whose data starts 16-byte aligned.
    Bytes(Vec<u8>),
    Str(String),
}

impl Value {
    /// Bytes the value takes inside its table: the scalar, or a uoffset.
    fn inline_size(&self) -> usize {
        match self {
            Value::U8(_) | Value::I8(_) => 1,
            _ => 4,
        }
    }

    fn inline_bytes(&self) -> Option<Vec<u8>> {
        Some(match self {
            Value::U8(v) => vec![*v],
            Value::I8(v) => v.to_le_bytes().to_vec(),
            Value::I32(v) => v.to_le_bytes().to_vec(),
            Value::U32(v) => v.to_le_bytes().to_vec(),
            Value::F32(v) => v.to_le_bytes().to_vec(),
            _ => return None,
        })
    }
}

/// A table: (field index, value) pairs; absent fields take the schema's default.
#[derive(Clone, Debug, Default)]
pub(crate) struct Table {
    fields: Vec<(usize, Value)>,
}

impl Table {
    pub fn new() -> Table {
        Table::default()
    }

    /// Sets field `index` (the field's position in the schema, counting a union as two).
    pub fn with(mut self, index: usize, value: Value) -> Table {
        self.fields.retain(|(i, _)| *i != index);
        self.fields.push((index, value));
        self
    }

    /// Sets the union at `index`: its type code there, its table at `index + 1`.
    pub fn union(self, index: usize, code: u8, table: Table) -> Table {
        self.with(index, Value::U8(code)).with(index + 1, Value::Table(table))
    }
}

/// The bytes of a flatbuffer whose root is `root`, with `identifier` at bytes 4..8.
#[cfg_attr(feature = "small", optimize(size))]
pub(crate) fn finish(root: &Table, identifier: &[u8; 4]) -> Result<Vec<u8>, Error> {
    let mut w = Writer { buf: vec![0; 4] };
    w.buf.extend_from_slice(identifier);
    let pos = w.table(root)?;
    w.patch(0, pos)?;
    // Offsets are 32-bit, and readers (TFLite's verifier among them) stop at 2 GiB.
    if i32::try_from(w.buf.len()).is_err() {
        return Err(too_large());
    }
    Ok(w.buf)
}

fn too_large() -> Error {
    Error::unsupported(None, "model", "too large for a flatbuffer (over 2 GiB)")
}

struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn align(&mut self, n: usize) {
        let pad = (n - self.buf.len() % n) % n;
        self.buf.resize(self.buf.len() + pad, 0);
    }

    /// Stores at `at` the uoffset to `target`, which lies after it.
    fn patch(&mut self, at: usize, target: usize) -> Result<(), Error> {
        let offset = target.checked_sub(at).and_then(|d| u32::try_from(d).ok()).ok_or_else(too_large)?;
        self.buf[at..at + 4].copy_from_slice(&offset.to_le_bytes());
        Ok(())
    }

    fn u32(&mut self, v: usize) -> Result<(), Error> {
        let v = u32::try_from(v).map_err(|_| too_large())?;
        self.buf.extend_from_slice(&v.to_le_bytes());
        Ok(())
    }

    /// The vtable, then the table (4-byte fields first, so each is aligned), then the objects it points at.
    #[cfg_attr(feature = "small", optimize(size))]
    fn table(&mut self, t: &Table) -> Result<usize, Error> {
        // 4-byte fields first (so each stays aligned), each group by index: two passes, no sort (its code is
        // 3 KB of .wasm).
        let mut fields: Vec<&(usize, Value)> = Vec::with_capacity(t.fields.len());
        for size in [4, 1] {
            let start = fields.len();
            fields.extend(t.fields.iter().filter(|(_, v)| v.inline_size() == size));
            for i in start + 1..fields.len() {
                let mut j = i;
                while j > start && fields[j - 1].0 > fields[j].0 {
                    fields.swap(j - 1, j);
                    j -= 1;
                }
            }
        }
        let slots = fields.iter().map(|(i, _)| i + 1).max().unwrap_or(0);
        let mut vtable = vec![0u16; slots];
        let mut inline = vec![0u8; 4];
        let mut children = Vec::new();
        for (index, value) in fields {
            vtable[*index] = u16::try_from(inline.len()).map_err(|_| too_large())?;
            match value.inline_bytes() {
                Some(bytes) => inline.extend_from_slice(&bytes),
                None => {
                    children.push((inline.len(), value));
                    inline.extend_from_slice(&[0; 4]);
                }
            }
        }
        self.align(4);
        let vtable_pos = self.buf.len();
        let header = [4 + 2 * slots, inline.len()].map(|n| u16::try_from(n).map_err(|_| too_large()));
        for entry in header.into_iter().chain(vtable.into_iter().map(Ok)) {
            self.buf.extend_from_slice(&entry?.to_le_bytes());
        }
        self.align(4);
        let pos = self.buf.len();
        // The soffset from the table back to its vtable (positive: the vtable comes first).
        let back = i32::try_from(pos - vtable_pos).map_err(|_| too_large())?;
        inline[..4].copy_from_slice(&back.to_le_bytes());
        self.buf.extend_from_slice(&inline);
        for (at, value) in children {
            let child = self.object(value)?;
            self.patch(pos + at, child)?;
        }
        Ok(pos)
    }

    /// Writes a table, vector or string and returns where it starts.
    #[cfg_attr(feature = "small", optimize(size))]
    fn object(&mut self, value: &Value) -> Result<usize, Error> {
        match value {
            Value::Table(t) => self.table(t),
            Value::Tables(ts) => self.tables(ts),
            Value::Ints(v) => self.scalars(v.len(), 4, v.iter().flat_map(|v| v.to_le_bytes())),
            Value::Floats(v) => self.scalars(v.len(), 4, v.iter().flat_map(|v| v.to_le_bytes())),
            Value::Longs(v) => self.scalars(v.len(), 8, v.iter().flat_map(|v| v.to_le_bytes())),
            Value::Bytes(b) => self.scalars(b.len(), 16, b.iter().copied()),
            Value::Str(s) => {
                let pos = self.scalars(s.len(), 4, s.bytes())?;
                self.buf.push(0);
                Ok(pos)
            }
            // Scalars never get here: `table` stores them inline.
            _ => Err(Error::shape("a scalar is stored inline, not as an object")),
        }
    }

    /// A vector of tables: the count, a uoffset per element, then each table.
    #[cfg_attr(feature = "small", optimize(size))]
    fn tables(&mut self, ts: &[Table]) -> Result<usize, Error> {
        self.align(4);
        let pos = self.buf.len();
        self.u32(ts.len())?;
        let first = self.buf.len();
        self.buf.resize(first + 4 * ts.len(), 0);
        for (i, t) in ts.iter().enumerate() {
            let child = self.table(t)?;
            self.patch(first + 4 * i, child)?;
        }
        Ok(pos)
    }

    /// A vector of `count` scalars, its data aligned to `align` bytes (the count just before it).
    #[cfg_attr(feature = "small", optimize(size))]
    fn scalars(&mut self, count: usize, align: usize, bytes: impl Iterator<Item = u8>) -> Result<usize, Error> {
        self.align(4);
        while (self.buf.len() + 4) % align != 0 {
            self.buf.extend_from_slice(&[0; 4]);
        }
        let pos = self.buf.len();
        self.u32(count)?;
        self.buf.extend(bytes);
        Ok(pos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u32_at(b: &[u8], at: usize) -> usize {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
    }

    #[test]
    fn tables_have_vtables_and_aligned_fields() -> Result<(), Error> {
        let root = Table::new().with(2, Value::I8(-3)).with(0, Value::I32(7)).with(1, Value::Str("ab".into()));
        let b = finish(&root, b"TEST")?;
        assert_eq!(&b[4..8], b"TEST");
        let pos = u32_at(&b, 0);
        assert_eq!(pos % 4, 0);
        let vtable = pos - i32::from_le_bytes([b[pos], b[pos + 1], b[pos + 2], b[pos + 3]]) as usize;
        let slot = |i: usize| u16::from_le_bytes([b[vtable + 4 + 2 * i], b[vtable + 5 + 2 * i]]) as usize;
        assert_eq!(u16::from_le_bytes([b[vtable], b[vtable + 1]]), 4 + 2 * 3);
        // The 4-byte fields come first and stay aligned; the byte field follows them.
        assert_eq!((slot(0), slot(1), slot(2)), (4, 8, 12));
        assert_eq!(u32_at(&b, pos + 4), 7);
        assert_eq!(b[pos + 12] as i8, -3);
        let s = pos + 8 + u32_at(&b, pos + 8);
        assert_eq!((u32_at(&b, s), &b[s + 4..s + 7]), (2, &b"ab\0"[..]));
        Ok(())
    }

    #[test]
    fn byte_vectors_start_16_aligned() -> Result<(), Error> {
        let root = Table::new().with(0, Value::Str("x".into())).with(1, Value::Bytes(vec![1, 2, 3]));
        let b = finish(&root, b"TEST")?;
        let pos = u32_at(&b, 0);
        let v = pos + 8 + u32_at(&b, pos + 8);
        assert_eq!((v + 4) % 16, 0);
        assert_eq!(&b[v + 4..v + 7], &[1, 2, 3]);
        Ok(())
    }
}
