//! Image files to RGB pixels, for native builds only (the browser decodes with its own canvas).
//!
//! Mirrors Pillow's `Image.open(p).convert("RGB")`: no EXIF rotation, no colour management, alpha dropped.
//! BMP and PNG pixels are exact; JPEG pixels can differ from libjpeg-turbo's by a few levels (IDCT rounding).

use crate::error::Error;
use crate::preprocess::{Image, MAX_SIDE};
use image::{ImageReader, Limits};
use std::path::Path;

/// Most memory a decoder may allocate: a guard against files that claim huge sizes (decompression bombs).
pub const MAX_DECODE_BYTES: u64 = 512 << 20;

/// Decodes a BMP, PNG or JPEG file (recognized by content, not extension) into 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<Image, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::image(format!("{}: {e}", path.display()));
    let mut reader = ImageReader::open(path).map_err(|e| fail(&e))?.with_guessed_format().map_err(|e| fail(&e))?;
    reader.limits(limits());
    let decoded = reader.decode().map_err(|e| fail(&e))?;
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
