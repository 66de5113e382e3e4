//! Pixels to the network's input: MobileNet's TF checkpoints take RGB scaled to [-1, 1] (x / 127.5 − 1).

use crate::error::Error;

/// input = (pixel − mean) / std, per channel alike.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
    pub mean: f32,
    pub std: f32,
}

impl Normalization {
    /// The TF checkpoints' [-1, 1] (Keras "tf" mode).
    pub const MINUS_ONE_ONE: Normalization = Normalization { mean: 127.5, std: 127.5 };
}

/// Bytes per pixel of a packed pixel buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Rgb = 3,
    Rgba = 4,
}

/// Bytes per pixel, once `pixels` is known to hold exactly `count` pixels.
fn check_pixels(pixels: &[u8], format: PixelFormat, count: usize) -> Result<usize, Error> {
    let bpp = format as usize;
    if pixels.len() != count * bpp {
        return Err(Error::shape(format!(
            "expected {count} pixels = {} bytes of {format:?}, got {} bytes",
            count * bpp,
            pixels.len()
        )));
    }
    Ok(bpp)
}

/// Scales `pixels` (RGB or RGBA, HWC, exactly `out.len() / 3` pixels) into `out` as normalized RGB floats.
/// Alpha is dropped.
pub fn to_input(pixels: &[u8], format: PixelFormat, norm: Normalization, out: &mut [f32]) -> Result<(), Error> {
    let bpp = check_pixels(pixels, format, out.len() / 3)?;
    for (o, p) in out.chunks_exact_mut(3).zip(pixels.chunks_exact(bpp)) {
        for (o, &v) in o.iter_mut().zip(p) {
            *o = (v as f32 - norm.mean) / norm.std;
        }
    }
    Ok(())
}

/// Copies RGB or RGBA pixels as RGB bytes into `out` (`out.len() / 3` pixels): a quantized model's input.
pub fn to_rgb(pixels: &[u8], format: PixelFormat, out: &mut [u8]) -> Result<(), Error> {
    let bpp = check_pixels(pixels, format, out.len() / 3)?;
    for (o, p) in out.chunks_exact_mut(3).zip(pixels.chunks_exact(bpp)) {
        o.copy_from_slice(&p[..3]);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_drops_alpha() {
        let mut out = [0.0; 6];
        to_input(&[0, 255, 51, 9, 127, 128, 200, 7], PixelFormat::Rgba, Normalization::MINUS_ONE_ONE, &mut out)
            .unwrap();
        assert_eq!(out[0], -1.0);
        assert_eq!(out[1], 1.0);
        assert!((out[2] - (51.0 / 127.5 - 1.0)).abs() < 1e-7);
        assert!((out[3] - (127.0 / 127.5 - 1.0)).abs() < 1e-7);
        let n = Normalization { mean: 128.0, std: 128.0 };
        to_input(&[0, 128, 255], PixelFormat::Rgb, n, &mut out[..3]).unwrap();
        assert_eq!(&out[..3], &[-1.0, 0.0, 127.0 / 128.0]);
        assert!(to_input(&[0; 5], PixelFormat::Rgb, Normalization::MINUS_ONE_ONE, &mut out).is_err());
    }
}

// TEMP-STUB
pub fn resize_bilinear(_s: &[u8], _w: usize, _h: usize, _c: usize, _dw: usize, _dh: usize) -> Result<Vec<u8>, Error> {
    Err(Error::shape("stub"))
}
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}
