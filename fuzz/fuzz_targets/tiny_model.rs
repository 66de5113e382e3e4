//! Any bytes as a model, end to end: load (read, import, plan) and, for small enough networks, one
//! inference on a mid-grey input and one to the embedding. Slow by nature (hundreds of runs a second).
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::{Classifier, PixelFormat};

/// Networks up to this many MACs run; larger ones only load.
const MAX_MACS: u64 = 20_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(mut model) = Classifier::from_tflite(&[data], Precision::AsStored) else { return };
    let cfg = model.config().clone();
    if mobilenet_wasm::inspect::totals(&mobilenet_wasm::inspect::layer_costs(&cfg)).macs > MAX_MACS {
        return;
    }
    let pixels = vec![128u8; cfg.resolution.height * cfg.resolution.width * 3];
    let _ = model.run_pixels(&pixels, PixelFormat::Rgb);
    let _ = model.embedding_pixels(&pixels, PixelFormat::Rgb);
});
