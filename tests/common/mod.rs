//! Helpers the native integration tests share.
#![allow(dead_code)]

use std::path::PathBuf;

/// The read-only data beside the repo: `$MOBILENET_SHARED`, or `../shared`.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("MOBILENET_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

/// A little-endian float32 file from ../shared, e.g. `fixtures/dw_mult2_s2_d2_same_input.f32`.
pub fn read_f32(relative: &str) -> Vec<f32> {
    let path = shared_dir().join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}
