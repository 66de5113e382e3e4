//! Image files to RGB pixels, for native builds only (the browser decodes with its own canvas).
//!
//! Mirrors Pillow's `Image.open(p).convert("RGB")`: no EXIF rotation, no colour management, alpha dropped.
//! BMP and PNG pixels are exact; JPEG pixels can differ from libjpeg-turbo's by a few levels (IDCT rounding).

use crate::error::Error;
use crate::preprocess::{Image, MAX_SIDE};
use image::{ImageReader, Limits};
use std::io::Cursor;
use std::path::Path;

/// Most pixels an image file may have: 24 megapixels (a 6000×4000 photo). The model reads at most a few
/// hundred thousand, and a small file can claim billions (decompression bombs: a 13 KB RLE BMP, a 261 KB PNG):
/// the header is checked before anything is decoded.
pub const MAX_PIXELS: u64 = 24_000_000;

/// Most memory a decoder may allocate (24 megapixels of 8-bit RGBA is 96 MB; 16-bit RGBA that large is refused).
/// With the RGB copy after it, a decode peaks well under 256 MB.
pub const MAX_DECODE_BYTES: u64 = 128 << 20;

/// Largest image file read: far beyond any photo of [`MAX_PIXELS`].
pub const MAX_FILE_BYTES: u64 = 64 << 20;

/// Decodes a BMP, PNG or JPEG file (recognized by content, not extension) into 8-bit RGB.
pub fn load_rgb(path: &Path) -> Result<Image, Error> {
    let fail = |e: &dyn std::fmt::Display| Error::image(format!("{}: {e}", path.display()));
    let size = std::fs::metadata(path).map_err(|e| fail(&e))?.len();
    if size > MAX_FILE_BYTES {
        return Err(fail(&format!("{size} bytes, over the limit of {} MiB for an image file", MAX_FILE_BYTES >> 20)));
    }
    let bytes = std::fs::read(path).map_err(|e| fail(&e))?;
    decode_rgb(&bytes).map_err(|e| fail(&e))
}

/// Decodes BMP, PNG or JPEG bytes into 8-bit RGB, within [`MAX_PIXELS`] and [`MAX_DECODE_BYTES`]; errors say
/// what is wrong without naming a file.
pub fn decode_rgb(bytes: &[u8]) -> Result<Image, String> {
    let open = || -> Result<ImageReader<Cursor<&[u8]>>, String> {
        let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
        reader.limits(limits());
        Ok(reader)
    };
    let (width, height) = open()?.into_dimensions().map_err(|e| e.to_string())?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_PIXELS {
        let mp = pixels as f64 / 1e6;
        let limit = MAX_PIXELS / 1_000_000;
        return Err(format!("{width}×{height} is {mp:.0} megapixels, over the limit of {limit}: scale it down first"));
    }
    let decoded = open()?.decode().map_err(|e| e.to_string())?;
    let (width, height) = (decoded.width() as usize, decoded.height() as usize);
    Image::new(width, height, decoded.into_rgb8().into_raw()).map_err(|e| e.to_string())
}

fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE as u32);
    limits.max_image_height = Some(MAX_SIDE as u32);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    limits
}
