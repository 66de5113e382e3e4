//! Helpers the native integration tests share.
#![allow(dead_code)]

use mobilenet_wasm::Tensor;
use std::path::PathBuf;

/// The read-only data beside the repo: `$MOBILENET_SHARED`, or `../shared`.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("MOBILENET_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    }
}

pub mod mobilenet_builder;
pub mod tflite_builder;

/// A little-endian float32 file from ../shared, e.g. `fixtures/dw_mult2_s2_d2_same_input.f32`.
pub fn read_f32(relative: &str) -> Vec<f32> {
    let path = shared_dir().join(relative);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", path.display()));
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

pub fn read_bytes(relative: &str) -> Vec<u8> {
    let path = shared_dir().join(relative);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", path.display()))
}

/// The official uint8 models: (name used in reference file names, files to chain, input side).
pub const OFFICIAL: [(&str, &[&str], usize); 4] = [
    ("mobilenet_v1_0.25_128_quant", &["models/mobilenet_v1_0.25_128_quant.tflite"], 128),
    ("mobilenet_v1_0.5_160_quant", &["models/mobilenet_v1_0.5_160_quant.tflite"], 160),
    ("mobilenet_v1_0.75_192_quant", &["models/mobilenet_v1_0.75_192_quant.tflite"], 192),
    (
        "mobilenet_v1_1.0_224_quant",
        &[
            "models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
            "models/mobilenet_v1_1.0_224_quant_head.tflite",
        ],
        224,
    ),
];

pub const IMAGES: [&str; 6] = ["bird", "cat", "dragonfly", "hot_dog", "owl", "parrot"];

/// The bytes of each file of an official model.
pub fn official_files(files: &[&str]) -> Vec<Vec<u8>> {
    files.iter().map(|f| read_bytes(f)).collect()
}

/// The seed example: input (1,4,4,2) with channel 0 rows [1,2,3,4] and channel 1 all ones;
/// filter (3,3,2,2) with [:,:,0,0]=0, [:,:,1,0]=1, [:,:,0,1]=2, [:,:,1,1]=3.
pub fn seed_example() -> (Tensor, Tensor) {
    let mut input = Tensor::zeros([1, 4, 4, 2]);
    for y in 0..4 {
        for x in 0..4 {
            input.set(0, y, x, 0, (x + 1) as f32);
            input.set(0, y, x, 1, 1.0);
        }
    }
    let mut filter = Tensor::zeros([3, 3, 2, 2]);
    for ky in 0..3 {
        for kx in 0..3 {
            filter.set(ky, kx, 0, 0, 0.0);
            filter.set(ky, kx, 1, 0, 1.0);
            filter.set(ky, kx, 0, 1, 2.0);
            filter.set(ky, kx, 1, 1, 3.0);
        }
    }
    (input, filter)
}
