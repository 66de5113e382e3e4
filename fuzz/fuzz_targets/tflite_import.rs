//! Any bytes through the TFLite reader and the import (graph order, recognition, validation, weight
//! conversion), as stored and dequantized to float; no plan, no inference, so it runs thousands of times a
//! second. The first byte splits the input into a chain of two files now and then.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobilenet_wasm::tflite::{self, import, import::Precision};

fuzz_target!(|data: &[u8]| {
    let files: Vec<&[u8]> = match data.split_first() {
        Some((&cut, rest)) if cut & 1 == 1 && rest.len() > 2 => {
            let at = (usize::from(cut) * rest.len() / 256).min(rest.len());
            vec![&rest[..at], &rest[at..]]
        }
        _ => vec![data],
    };
    let Ok(models) = files.iter().map(|f| tflite::read(f)).collect::<Result<Vec<_>, _>>() else { return };
    for precision in [Precision::AsStored, Precision::Float] {
        let _ = import::import(&models, precision);
    }
});
