//! Pixels to the network's input: MobileNet's TF checkpoints take RGB scaled to [-1, 1] (x / 127.5 − 1).

use crate::error::Error;

/// Bytes per pixel of a packed pixel buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PixelFormat {
    Rgb = 3,
    Rgba = 4,
}

/// Scales `pixels` (RGB or RGBA, HWC, exactly `out.len() / 3` pixels) into `out` as RGB floats in [-1, 1].
/// Alpha is dropped.
pub fn to_input(pixels: &[u8], format: PixelFormat, out: &mut [f32]) -> Result<(), Error> {
    let bpp = format as usize;
    let count = out.len() / 3;
    if pixels.len() != count * bpp {
        return Err(Error::shape(format!(
            "expected {count} pixels = {} bytes of {format:?}, got {} bytes",
            count * bpp,
            pixels.len()
        )));
    }
    for (o, p) in out.chunks_exact_mut(3).zip(pixels.chunks_exact(bpp)) {
        for (o, &v) in o.iter_mut().zip(p) {
            *o = v as f32 / 127.5 - 1.0;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_drops_alpha() {
        let mut out = [0.0; 6];
        to_input(&[0, 255, 51, 9, 127, 128, 200, 7], PixelFormat::Rgba, &mut out).unwrap();
        assert_eq!(out[0], -1.0);
        assert_eq!(out[1], 1.0);
        assert!((out[2] - (51.0 / 127.5 - 1.0)).abs() < 1e-7);
        assert!((out[3] - (127.0 / 127.5 - 1.0)).abs() < 1e-7);
        assert!(to_input(&[0; 5], PixelFormat::Rgb, &mut out).is_err());
    }
}
