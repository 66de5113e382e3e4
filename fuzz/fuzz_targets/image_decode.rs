//! Any bytes as an image file (BMP, PNG, JPEG) through the decoder with its pixel and memory limits, then
//! the Pillow-exact resize to a model input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mobilenet_wasm::image_file::decode_rgb;

fuzz_target!(|data: &[u8]| {
    if let Ok(image) = decode_rgb(data) {
        let _ = image.resized(32, 32);
    }
});
