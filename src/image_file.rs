//! Image files to RGB pixels, for native builds only (the browser decodes with its own canvas).
//!
//! Mirrors Pillow's `Image.open(p).convert("RGB")`: no EXIF rotation, no colour management, alpha dropped.
//! BMP and PNG pixels are exact; JPEG pixels can differ from libjpeg-turbo's by a few levels (IDCT rounding).

use crate::error::Error;
use crate::preprocess::{Image, MAX_SIDE};
use image::{ImageReader, Limits};
use std::path::Path;

/// Most pixels an image file may have: 24 megapixels (a 6000×4000 photo). The model reads at most a few
/// hundred thousand, and a small file can claim billions (decompression bombs: a 13 KB RLE BMP, a 261 KB PNG):
/// the header is checked before anything is decoded.
pub const MAX_PIXELS: u64 = 24_000_000;

/// Most memory a decoder may allocate (24 megapixels of 8-bit RGBA is 96 MB; 16-bit RGBA that large is refused).
/// With the RGB copy after it, a decode peaks well under 256 MB.
pub const MAX_DECODE_BYTES: u64 = 128 << 20;

/// Decodes a BMP, PNG or JPEG file (recognized by content, not extension) into 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<Image, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::image(format!("{}: {e}", path.display()));
    let open = || -> Result<ImageReader<_>, Error> {
        let reader = ImageReader::open(path).map_err(|e| fail(&e))?;
        let mut reader = reader.with_guessed_format().map_err(|e| fail(&e))?;
        reader.limits(limits());
        Ok(reader)
    };
    let (width, height) = open()?.into_dimensions().map_err(|e| fail(&e))?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        let mp = pixels as f64 / 1e6;
        let limit = MAX_PIXELS / 1_000_000;
        return Err(fail(&format!(
            "{width}×{height} is {mp:.0} megapixels, over the limit of {limit}: scale it down first"
        )));
    }
    let decoded = open()?.decode().map_err(|e| fail(&e))?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    Image::new(width, height, decoded.into_rgb8().into_raw())
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}
