//! Pixels to the network's input: MobileNet's TF checkpoints take RGB scaled to [-1, 1] (x / 127.5 − 1).
//!
//! Resizing mirrors Pillow 13's `Image.resize(size, Image.Resampling.BILINEAR)` bit for bit, because that is how
//! the reference inputs were made: an antialiased triangle filter (its support widens with the downscale factor),
//! fixed-point weights, and two 1-D passes through an 8-bit buffer, in the order Pillow picks.

use crate::error::{reals, Error};
use std::borrow::Cow;
use std::ops::Range;

/// input = (pixel − mean) / std, per channel (R, G, B).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Normalization {
    pub mean: [f32; 3],
    pub std: [f32; 3],
}

impl Normalization {
    /// The TF checkpoints' [-1, 1] (Keras "tf" mode).
    pub const MINUS_ONE_ONE: Normalization = Normalization::uniform(127.5, 127.5);

    /// The same mean and std for every channel.
    pub const fn uniform(mean: f32, std: f32) -> Normalization {
        Normalization { mean: [mean; 3], std: [std; 3] }
    }

    /// One mean and std, or one per channel, as TFLite Metadata's NormalizationOptions state them; other
    /// counts, and a std that is not finite and non-zero, are refused.
    pub fn from_lists(mean: &[f32], std: &[f32]) -> Result<Normalization, Error> {
        let per_channel = |v: &[f32]| match *v {
            [x] => Some([x; 3]),
            [r, g, b] => Some([r, g, b]),
            _ => None,
        };
        match (per_channel(mean), per_channel(std)) {
            (Some(mean), Some(std))
                if mean.iter().all(|m| m.is_finite()) && std.iter().all(|s| s.is_finite() && *s != 0.0) =>
            {
                Ok(Normalization { mean, std })
            }
            _ => Err(Error::unsupported(
                None,
                "metadata",
                format!(
                    "NormalizationOptions mean {} std {}: one or three finite values each, std not 0",
                    reals(mean),
                    reals(std)
                ),
            )),
        }
    }
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
        for (c, (o, &v)) in o.iter_mut().zip(p).enumerate() {
            *o = (v as f32 - norm.mean[c]) / norm.std[c];
        }
    }
    Ok(())
}

/// Maps RGB or RGBA pixels through one table per channel into `out` (`out.len() / 3` pixels, RGB), or copies
/// them without tables: a quantized model's input.
pub fn to_quantized(
    pixels: &[u8],
    format: PixelFormat,
    lut: Option<&[[u8; 256]; 3]>,
    out: &mut [u8],
) -> Result<(), Error> {
    let bpp = check_pixels(pixels, format, out.len() / 3)?;
    for (o, p) in out.chunks_exact_mut(3).zip(pixels.chunks_exact(bpp)) {
        match lut {
            Some(lut) => o.iter_mut().zip(p).zip(lut).for_each(|((o, &v), lut)| *o = lut[v as usize]),
            None => o.copy_from_slice(&p[..3]),
        }
    }
    Ok(())
}

/// The byte each pixel value becomes in a quantized model's input: the pixel normalized as for a float model,
/// then quantized with the input's scale and zero point (given in uint8 terms) as TFLite's QUANTIZE does it:
/// round half away from zero, clamped to the byte range.
pub fn quantize_lut(norm: Normalization, channel: usize, scale: f32, zero_point: i32) -> [u8; 256] {
    let mut lut = [0u8; 256];
    for (p, q) in lut.iter_mut().enumerate() {
        let real = (p as f32 - norm.mean[channel]) / norm.std[channel];
        let level = (real / scale).round();
        // NaN (a zero scale is refused at import) and far-out values clamp like TFLite's.
        *q = if level.is_nan() { 0 } else { (level.clamp(-512.0, 512.0) as i32 + zero_point).clamp(0, 255) as u8 };
    }
    lut
}

/// Largest width or height accepted: checked before anything is allocated.
pub const MAX_SIDE: usize = 16384;

/// A picture as `height` rows of `width` RGB pixels (HWC, 3 bytes a pixel).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Image {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<u8>,
}

impl Image {
    /// Wraps `rgb` after checking that it holds exactly `width × height` RGB pixels.
    pub fn new(width: usize, height: usize, rgb: Vec<u8>) -> Result<Self, Error> {
        let len = buffer_len(width, height, 3, "image")?;
        if rgb.len() != len {
            return Err(Error::shape(format!("{width}x{height} RGB needs {len} bytes, got {}", rgb.len())));
        }
        Ok(Image { width, height, rgb })
    }

    /// From RGBA bytes (e.g. a canvas), dropping alpha as Pillow's `convert("RGB")` does.
    pub fn from_rgba(width: usize, height: usize, rgba: &[u8]) -> Result<Self, Error> {
        let len = buffer_len(width, height, 4, "image")?;
        if rgba.len() != len {
            return Err(Error::shape(format!("{width}x{height} RGBA needs {len} bytes, got {}", rgba.len())));
        }
        Image::new(width, height, rgba_to_rgb(rgba)?)
    }

    /// This image at `width × height`, exactly as Pillow's bilinear `resize` makes it.
    pub fn resized(&self, width: usize, height: usize) -> Result<Image, Error> {
        let rgb = resize_bilinear(&self.rgb, self.width, self.height, 3, width, height)?;
        Ok(Image { width, height, rgb })
    }
}

/// Drops the alpha byte of every RGBA pixel (no compositing, like Pillow's `convert("RGB")`).
pub fn rgba_to_rgb(rgba: &[u8]) -> Result<Vec<u8>, Error> {
    if rgba.len() % 4 != 0 {
        return Err(Error::shape(format!("RGBA data must be a multiple of 4 bytes, got {}", rgba.len())));
    }
    Ok(rgba.chunks_exact(4).flat_map(|p| [p[0], p[1], p[2]]).collect())
}

/// Resizes `src` (`src_h` rows of `src_w` pixels of `channels` interleaved bytes, 1 to 4) to `dst_w × dst_h`
/// with Pillow's antialiased bilinear filter, byte for byte as `Image.resize((dst_w, dst_h), BILINEAR)`.
///
/// Channels are filtered independently: for RGBA, Pillow would premultiply alpha first, so drop alpha
/// ([`rgba_to_rgb`]) to match `convert("RGB").resize(...)`.
#[cfg_attr(feature = "small", optimize(size))]
pub fn resize_bilinear(
    src: &[u8],
    src_w: usize,
    src_h: usize,
    channels: usize,
    dst_w: usize,
    dst_h: usize,
) -> Result<Vec<u8>, Error> {
    if !(1..=4).contains(&channels) {
        return Err(Error::shape(format!("channels must be 1 to 4, got {channels}")));
    }
    let src_len = buffer_len(src_w, src_h, channels, "source")?;
    buffer_len(dst_w, dst_h, channels, "destination")?;
    if src.len() != src_len {
        return Err(Error::shape(format!(
            "source {src_w}x{src_h}x{channels} needs {src_len} bytes, got {}",
            src.len()
        )));
    }
    let src = Pixels { data: src, width: src_w, height: src_h, channels };
    Ok(if vertical_first(src_w, src_h, dst_w, dst_h) {
        vertical_then_horizontal(src, dst_w, dst_h)
    } else {
        horizontal_then_vertical(src, dst_w, dst_h)
    })
}

/// A borrowed interleaved pixel buffer whose size has been checked.
#[derive(Clone, Copy)]
struct Pixels<'a> {
    data: &'a [u8],
    width: usize,
    height: usize,
    channels: usize,
}

/// Pillow 13's pass order: vertical first when the height loses more than twice as many pixels as the width
/// (Pillow ≤ 12 always went horizontal first; the 8-bit buffer between passes makes the order visible, ±1).
fn vertical_first(src_w: usize, src_h: usize, dst_w: usize, dst_h: usize) -> bool {
    // Sides are ≤ MAX_SIDE, so these fit in i64 with room to spare.
    let lost_h = src_h as i64 - dst_h as i64;
    let lost_w = src_w as i64 - dst_w as i64;
    lost_h > 0 && lost_h > lost_w * 2
}

/// Horizontal pass over only the rows the vertical pass reads (Pillow crops them), then the vertical pass.
/// A pass whose axis keeps its size is skipped, as in Pillow.
#[cfg_attr(feature = "small", optimize(size))]
fn horizontal_then_vertical(src: Pixels, dst_w: usize, dst_h: usize) -> Vec<u8> {
    let vertical = (dst_h != src.height).then(|| Taps::new(src.height, dst_h));
    let (mid, first_row) = if dst_w == src.width {
        (Cow::Borrowed(src.data), 0)
    } else {
        let rows = vertical.as_ref().map_or(0..src.height, Taps::source_range);
        let first = rows.start;
        (Cow::Owned(horizontal_pass(src, rows, &Taps::new(src.width, dst_w))), first)
    };
    match vertical {
        Some(taps) => vertical_pass(&mid, dst_w * src.channels, first_row, &taps),
        None => mid.into_owned(),
    }
}

/// Vertical pass over the full width, then the horizontal pass (skipped if the width keeps its size).
#[cfg_attr(feature = "small", optimize(size))]
fn vertical_then_horizontal(src: Pixels, dst_w: usize, dst_h: usize) -> Vec<u8> {
    let mid = vertical_pass(src.data, src.width * src.channels, 0, &Taps::new(src.height, dst_h));
    if dst_w == src.width {
        return mid;
    }
    let mid = Pixels { data: &mid, height: dst_h, ..src };
    horizontal_pass(mid, 0..dst_h, &Taps::new(src.width, dst_w))
}

/// `width × height × channels` after checking that both sides are in 1..=[`MAX_SIDE`].
fn buffer_len(width: usize, height: usize, channels: usize, what: &str) -> Result<usize, Error> {
    if width == 0 || height == 0 || width > MAX_SIDE || height > MAX_SIDE {
        return Err(Error::shape(format!("{what} size {width}x{height} must be 1 to {MAX_SIDE} per side")));
    }
    width
        .checked_mul(height)
        .and_then(|n| n.checked_mul(channels))
        .ok_or_else(|| Error::shape(format!("{what} size {width}x{height}x{channels} overflows")))
}

/// Fraction bits of Pillow's fixed-point weights: a 32-bit int keeps 8 bits for the value and 2 for overshoot.
const PRECISION_BITS: u32 = 32 - 8 - 2;
/// Accumulators start at one half so that the final shift rounds to nearest (halves up). Bilinear weights are
/// ≥ 0 and each row sums to 2^22 plus at most half a unit per tap, so 255 × that stays far below i32::MAX.
const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// The triangle (bilinear) kernel; its support is 1 before scaling.
fn triangle(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// A weight in fixed point, rounded half away from zero as Pillow's `normalize_coeffs_8bpc` does.
fn to_fixed(w: f64) -> i32 {
    let scaled = w * f64::from(1u32 << PRECISION_BITS);
    (if scaled < 0.0 { scaled - 0.5 } else { scaled + 0.5 }) as i32
}

/// Back to a byte: Pillow's `clip8` (an arithmetic shift, then clamping through a lookup table).
fn clip8(acc: i32) -> u8 {
    (acc >> PRECISION_BITS).clamp(0, 255) as u8
}

/// The filter taps of one axis, as Pillow's `precompute_coeffs` builds them: output `i` reads
/// `len[i]` inputs from `start[i]` with the fixed-point weights in row `i` of `weights` (`stride` wide).
struct Taps {
    start: Vec<usize>,
    len: Vec<usize>,
    stride: usize,
    weights: Vec<i32>,
}

impl Taps {
    #[cfg_attr(feature = "small", optimize(size))]
    fn new(in_size: usize, out_size: usize) -> Taps {
        // Pillow scales from a float box (0, 0, w, h); sides ≤ MAX_SIDE make that exact in f64.
        let scale = in_size as f64 / out_size as f64;
        let filter_scale = scale.max(1.0);
        let support = filter_scale; // the triangle's support (1) widened on downscale: the antialiasing
        let stride = support.ceil() as usize * 2 + 1;
        let inv = 1.0 / filter_scale;
        let mut taps = Taps {
            start: Vec::with_capacity(out_size),
            len: Vec::with_capacity(out_size),
            stride,
            weights: vec![0; out_size * stride],
        };
        let mut row = vec![0.0f64; stride];
        for (i, fixed) in taps.weights.chunks_exact_mut(stride).enumerate() {
            let center = (i as f64 + 0.5) * scale;
            // `as` truncates toward zero like C's (int) cast; Pillow then clamps to the image.
            let lo = ((center - support + 0.5) as i64).max(0);
            let hi = ((center + support + 0.5) as i64).min(in_size as i64);
            let n = (hi - lo).clamp(0, stride as i64) as usize;
            // Same operation order as Pillow so every weight rounds to the same double.
            let mut sum = 0.0;
            for (x, w) in row[..n].iter_mut().enumerate() {
                *w = triangle(((x as i64 + lo) as f64 - center + 0.5) * inv);
                sum += *w;
            }
            for (f, &w) in fixed.iter_mut().zip(&row[..n]) {
                *f = to_fixed(if sum != 0.0 { w / sum } else { w });
            }
            taps.start.push(lo as usize);
            taps.len.push(n);
        }
        taps
    }

    /// First input index and weights of output `i`.
    fn of(&self, i: usize) -> (usize, &[i32]) {
        (self.start[i], &self.weights[i * self.stride..][..self.len[i]])
    }

    /// The inputs that any output reads: outputs' windows move forward, so first and last bound them.
    fn source_range(&self) -> Range<usize> {
        let last = self.start.len() - 1;
        self.start[0]..self.start[last] + self.len[last]
    }
}

/// Filters each of the source `rows` along x: returns `rows.len()` rows of the taps' output width.
#[cfg_attr(feature = "small", optimize(size))]
fn horizontal_pass(src: Pixels, rows: Range<usize>, taps: &Taps) -> Vec<u8> {
    let channels = src.channels;
    let (in_row, out_row) = (src.width * channels, taps.start.len() * channels);
    let mut out = vec![0u8; rows.len() * out_row];
    for (dst, y) in out.chunks_exact_mut(out_row).zip(rows) {
        let line = &src.data[y * in_row..][..in_row];
        for (x, px) in dst.chunks_exact_mut(channels).enumerate() {
            let (start, k) = taps.of(x);
            let window = &line[start * channels..][..k.len() * channels];
            for (c, o) in px.iter_mut().enumerate() {
                let acc = k.iter().zip(window.chunks_exact(channels)).fold(HALF, |a, (&w, p)| a + i32::from(p[c]) * w);
                *o = clip8(acc);
            }
        }
    }
    out
}

/// Filters along y: `src` holds rows of `row_len` bytes, the first being source row `first_row`.
#[cfg_attr(feature = "small", optimize(size))]
fn vertical_pass(src: &[u8], row_len: usize, first_row: usize, taps: &Taps) -> Vec<u8> {
    let mut out = vec![0u8; taps.start.len() * row_len];
    let mut acc = vec![0i32; row_len];
    for (y, dst) in out.chunks_exact_mut(row_len).enumerate() {
        let (start, k) = taps.of(y);
        acc.fill(HALF);
        // Row by row so the inner loop is contiguous; integer sums do not depend on the order.
        for (j, &w) in k.iter().enumerate() {
            let line = &src[(start - first_row + j) * row_len..][..row_len];
            for (a, &p) in acc.iter_mut().zip(line) {
                *a += i32::from(p) * w;
            }
        }
        for (o, &a) in dst.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_and_drops_alpha() -> Result<(), Error> {
        let mut out = [0.0; 6];
        to_input(&[0, 255, 51, 9, 127, 128, 200, 7], PixelFormat::Rgba, Normalization::MINUS_ONE_ONE, &mut out)?;
        assert_eq!(out[0], -1.0);
        assert_eq!(out[1], 1.0);
        assert!((out[2] - (51.0 / 127.5 - 1.0)).abs() < 1e-7);
        assert!((out[3] - (127.0 / 127.5 - 1.0)).abs() < 1e-7);
        let n = Normalization::uniform(128.0, 128.0);
        to_input(&[0, 128, 255], PixelFormat::Rgb, n, &mut out[..3])?;
        assert_eq!(&out[..3], &[-1.0, 0.0, 127.0 / 128.0]);
        assert!(to_input(&[0; 5], PixelFormat::Rgb, Normalization::MINUS_ONE_ONE, &mut out).is_err());
        Ok(())
    }

    /// Halving 4 → 2: the support doubles to 2 source pixels, so output 0 (centre 1.0) reads inputs 0..3 with
    /// triangle weights 0.75, 0.75, 0.25, normalized to 3/7, 3/7, 1/7 and rounded to 22 fraction bits.
    #[test]
    fn downscale_taps_widen_and_normalize() {
        let taps = Taps::new(4, 2);
        assert_eq!(taps.of(0), (0, &[1797559, 1797559, 599186][..]));
        assert_eq!(taps.of(1), (1, &[599186, 1797559, 1797559][..]));
        assert_eq!(taps.source_range(), 0..4);
        assert_eq!(clip8(HALF + 255 * (1797559 * 2 + 599186)), 255);
    }
}
