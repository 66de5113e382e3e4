//! Any bytes as a ZIP appended to a model: the labels reader, from the start and from an offset the first
//! two bytes choose.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobilenet_wasm::tflite::zip;

fuzz_target!(|data: &[u8]| {
    let _ = zip::labels(data, 0, None);
    if let [a, b, ..] = data {
        let _ = zip::labels(data, usize::from(u16::from_le_bytes([*a, *b])), None);
    }
    let _ = zip::find_stored(data, "imagenet_labels.txt");
});
