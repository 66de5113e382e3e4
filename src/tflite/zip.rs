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

/// A ZIP archive of one stored (uncompressed) file, to be appended at byte `at` of a model: its offsets
/// count from the start of the whole file, as in the official MobileNet files.
#[cfg_attr(feature = "small", optimize(size))]
pub fn stored(name: &str, data: &[u8], at: usize) -> Result<Vec<u8>, crate::Error> {
    let too_big = || crate::Error::shape("a labels file over 4 GiB cannot be stored in a ZIP without ZIP64");
    let u32_of = |n: usize| u32::try_from(n).map_err(|_| too_big());
    let name_len = u16::try_from(name.len()).map_err(|_| crate::Error::shape("a file name over 64 KiB"))?;
    let (crc, size, local_at) = (crc32(data), u32_of(data.len())?, u32_of(at)?);
    // Version needed 1.0, no flags, method 0 (stored), time 00:00 and date 1980-01-01.
    let common = |b: &mut Vec<u8>| {
        for v in [10u16, 0, 0, 0, 0x21] {
            b.extend(v.to_le_bytes());
        }
        for v in [crc, size, size] {
            b.extend(v.to_le_bytes());
        }
        b.extend(name_len.to_le_bytes());
    };
    let mut zip = LOCAL_HEADER.to_vec();
    common(&mut zip);
    zip.extend(0u16.to_le_bytes()); // no extra field
    zip.extend(name.as_bytes());
    zip.extend(data);
    let dir_at = zip.len();
    zip.extend(CENTRAL_HEADER);
    zip.extend(20u16.to_le_bytes()); // made by version 2.0
    common(&mut zip);
    // Extra field, comment, disk number, internal and external attributes, then the local header's offset.
    zip.extend([0u8; 2 + 2 + 2 + 2 + 4]);
    zip.extend(local_at.to_le_bytes());
    zip.extend(name.as_bytes());
    let dir_len = u32_of(zip.len() - dir_at)?;
    let dir_offset = u32_of(at.checked_add(dir_at).ok_or_else(too_big)?)?;
    zip.extend(END_OF_CENTRAL_DIRECTORY);
    for v in [0u16, 0, 1, 1] {
        zip.extend(v.to_le_bytes());
    }
    zip.extend(dir_len.to_le_bytes());
    zip.extend(dir_offset.to_le_bytes());
    zip.extend(0u16.to_le_bytes()); // no comment
    Ok(zip)
}

/// CRC-32 (IEEE 802.3, reflected, as ZIP uses), bit by bit: labels files are small.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod writing {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The CRC-32 catalogue's check value for "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn a_stored_archive_reads_back_wherever_it_is_appended() -> Result<(), crate::Error> {
        for prefix in [0usize, 13, 4096] {
            let mut file = vec![7u8; prefix];
            file.extend(stored("labels.txt", b"cat\ndog\n", prefix)?);
            assert_eq!(labels(&file, prefix, Some("labels.txt")), Some(vec!["cat".to_string(), "dog".to_string()]));
            assert_eq!(central_entries(&file[prefix..]).map(|e| e.len()), Some(1), "found through the directory");
        }
        Ok(())
    }
}
