//! The ZIP archive some TFLite models carry after the flatbuffer (the official 0.25/0.5/0.75 MobileNet
//! v1 files append `imagenet_labels.txt`, stored uncompressed). Only stored (method 0) entries are
//! returned, every offset and size is checked, and nothing here panics on bad bytes.

const LOCAL_HEADER: &[u8; 4] = b"PK\x03\x04";
const CENTRAL_HEADER: &[u8; 4] = b"PK\x01\x02";
const END_OF_CENTRAL_DIRECTORY: &[u8; 4] = b"PK\x05\x06";
/// Fixed sizes of the three records, before their variable-length parts.
const LOCAL_LEN: usize = 30;
const CENTRAL_LEN: usize = 46;
const END_LEN: usize = 22;
/// The archive comment's longest length, which bounds the search for the end record.
const MAX_COMMENT: usize = 0xFFFF;
/// Most entries looked at; a ZIP without ZIP64 cannot list more.
const MAX_ENTRIES: usize = 0xFFFF;
/// Set in a local header's flags when its sizes are in a data descriptor after the data instead.
const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

/// The data of the stored (uncompressed) entry called `name`, if `tail` holds a ZIP with one.
pub fn find_stored<'a>(tail: &'a [u8], name: &str) -> Option<&'a [u8]> {
    entries(tail).into_iter().find(|e| e.name == name.as_bytes()).and_then(|e| e.stored())
}

/// Class labels from a `imagenet_labels.txt` (or else any `*labels*.txt`) stored in the ZIP after
/// the flatbuffer, one per line, `\r` trimmed and a final empty line dropped.
pub fn labels(bytes: &[u8], flatbuffer_len: usize, named: Option<&str>) -> Option<Vec<String>> {
    let all = entries(bytes.get(flatbuffer_len..)?);
    let is_labels = |e: &&Entry<'_>| {
        let base = e.name.rsplit(|&b| b == b'/').next().unwrap_or(e.name).to_ascii_lowercase();
        base.ends_with(b".txt") && base.windows(6).any(|w| w == b"labels")
    };
    // The file the model's metadata names for its output, else by name.
    let entry = match named {
        Some(name) => all.iter().find(|e| e.name == name.as_bytes())?,
        None => all.iter().find(|e| e.name == b"imagenet_labels.txt").or_else(|| all.iter().find(is_labels))?,
    };
    let text = std::str::from_utf8(entry.stored()?).ok()?;
    let mut lines: Vec<String> = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l).to_string()).collect();
    if lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    (!lines.is_empty()).then_some(lines)
}

struct Entry<'a> {
    name: &'a [u8],
    method: u16,
    compressed: &'a [u8],
    uncompressed_len: usize,
}

impl<'a> Entry<'a> {
    /// The entry's bytes when they are stored as they are.
    fn stored(&self) -> Option<&'a [u8]> {
        (self.method == 0 && self.compressed.len() == self.uncompressed_len).then_some(self.compressed)
    }
}

fn u16_at(b: &[u8], pos: usize) -> Option<u16> {
    b.get(pos..pos.checked_add(2)?)?.first_chunk::<2>().map(|a| u16::from_le_bytes(*a))
}

fn u32_at(b: &[u8], pos: usize) -> Option<u32> {
    b.get(pos..pos.checked_add(4)?)?.first_chunk::<4>().map(|a| u32::from_le_bytes(*a))
}

fn bytes_at(b: &[u8], pos: usize, len: usize) -> Option<&[u8]> {
    b.get(pos..pos.checked_add(len)?)
}

/// The archive's entries: from the central directory when there is one (its sizes are reliable),
/// else by walking the local headers from the first one.
fn entries(tail: &[u8]) -> Vec<Entry<'_>> {
    central_entries(tail).unwrap_or_else(|| local_entries(tail))
}

/// The end-of-central-directory record: the last signature within reach of the file's end.
fn end_record(tail: &[u8]) -> Option<usize> {
    let last = tail.len().checked_sub(END_LEN)?;
    let first = last.saturating_sub(MAX_COMMENT);
    (first..=last).rev().find(|&p| tail.get(p..p + 4) == Some(END_OF_CENTRAL_DIRECTORY.as_slice()))
}

fn central_entries(tail: &[u8]) -> Option<Vec<Entry<'_>>> {
    let end = end_record(tail)?;
    let count = usize::from(u16_at(tail, end + 10)?);
    let dir_len = u32_at(tail, end + 12)? as usize;
    let dir_offset = i64::from(u32_at(tail, end + 16)?);
    // Offsets in the archive are relative to where it was written: to the archive's own start, or,
    // for one appended with adjusted offsets (as here), to the whole file's. Where the directory
    // really is tells which: `shift` maps a recorded offset to a position in `tail`.
    let dir = end.checked_sub(dir_len)?;
    let shift = i64::try_from(dir).ok()?.checked_sub(dir_offset)?;
    let mut pos = dir;
    let mut out = Vec::new();
    for _ in 0..count.min(MAX_ENTRIES) {
        if bytes_at(tail, pos, 4)? != CENTRAL_HEADER {
            return None;
        }
        let name_len = usize::from(u16_at(tail, pos + 28)?);
        let local = i64::from(u32_at(tail, pos + 42)?).checked_add(shift).and_then(|p| usize::try_from(p).ok())?;
        let compressed_len = u32_at(tail, pos + 20)? as usize;
        out.push(Entry {
            name: bytes_at(tail, pos + CENTRAL_LEN, name_len)?,
            method: u16_at(tail, pos + 10)?,
            compressed: local_data(tail, local, compressed_len)?,
            uncompressed_len: u32_at(tail, pos + 24)? as usize,
        });
        let var_len = name_len + usize::from(u16_at(tail, pos + 30)?) + usize::from(u16_at(tail, pos + 32)?);
        pos = pos.checked_add(CENTRAL_LEN + var_len)?;
    }
    Some(out)
}

/// The `len` data bytes of the entry whose local header is at `pos`.
fn local_data(tail: &[u8], pos: usize, len: usize) -> Option<&[u8]> {
    if bytes_at(tail, pos, 4)? != LOCAL_HEADER {
        return None;
    }
    let skip = LOCAL_LEN + usize::from(u16_at(tail, pos + 26)?) + usize::from(u16_at(tail, pos + 28)?);
    bytes_at(tail, pos.checked_add(skip)?, len)
}

fn local_entries(tail: &[u8]) -> Vec<Entry<'_>> {
    let mut out = Vec::new();
    let Some(mut pos) = tail.windows(4).position(|w| w == LOCAL_HEADER) else { return out };
    while out.len() < MAX_ENTRIES {
        match local_entry(tail, pos) {
            Some((entry, next)) => {
                out.push(entry);
                pos = next;
            }
            None => break,
        }
    }
    out
}

/// The entry whose local header is at `pos`, and where the next header would start.
fn local_entry(tail: &[u8], pos: usize) -> Option<(Entry<'_>, usize)> {
    if bytes_at(tail, pos, 4)? != LOCAL_HEADER {
        return None;
    }
    // Without sizes in the header the data's end is unknown; the central directory would know it.
    if u16_at(tail, pos + 6)? & FLAG_DATA_DESCRIPTOR != 0 {
        return None;
    }
    let name_len = usize::from(u16_at(tail, pos + 26)?);
    let compressed_len = u32_at(tail, pos + 18)? as usize;
    let entry = Entry {
        name: bytes_at(tail, pos.checked_add(LOCAL_LEN)?, name_len)?,
        method: u16_at(tail, pos + 8)?,
        compressed: local_data(tail, pos, compressed_len)?,
        uncompressed_len: u32_at(tail, pos + 22)? as usize,
    };
    let data_start = pos + LOCAL_LEN + name_len + usize::from(u16_at(tail, pos + 28)?);
    Some((entry, data_start.checked_add(compressed_len)?))
}
