//! The full convolution (MobileNet's stem, 3x3/2 over 3 channels): each output pixel's k·k·in patch is gathered
//! into a small buffer (padding as the input zero point, which the folded bias cancels; the patch is padded to whole
//! 8-byte steps against zero weights) and run through the 1x1 GEMM, so the output channels are the vector lanes.

use super::pointwise::gemm_rows;
use super::requant::{with_requant, Requant};
use crate::kernels::uint8::lanes::ConvQLanes;
use crate::kernels::{source, Geometry};
use crate::weights::QuantLayer;

/// Largest patch (k·k·in bytes) gathered on the stack; larger convs run the scalar loop.
const MAX_PATCH: usize = 128;
/// Output pixels gathered per GEMM call: one register tile.
const PIXELS: usize = 4;

/// Whether the patch fits the stack buffer.
pub fn fits(f: &QuantLayer) -> bool {
    let [k, _, cin, _] = f.filter_shape;
    (1..=MAX_PATCH).contains(&(k * k * cin).next_multiple_of(8))
}

pub fn conv(g: &Geometry, p: &ConvQLanes, input: &[u8], output: &mut [u8]) {
    assert!((1..=MAX_PATCH).contains(&p.gemm.in_channels), "patch of {} bytes", p.gemm.in_channels);
    assert_eq!((g.input.c, g.output.c), (p.in_channels, p.out_channels));
    with_requant!(&p.gemm.requant, |q| rows(g, p, input, output, q));
}

fn rows(g: &Geometry, p: &ConvQLanes, input: &[u8], output: &mut [u8], q: impl Requant) {
    // The padded patch length, which the GEMM reads as its row stride.
    let (patch, cout) = (p.gemm.in_channels, p.out_channels);
    // RequantLanes::new checked that the zero point is a byte.
    let zero = p.input_zero_point as i16;
    // Zeroed once: the padding after each patch meets zero weights.
    let mut patches = [0i16; PIXELS * MAX_PATCH];
    for oy in 0..g.output.h {
        for x0 in (0..g.output.w).step_by(PIXELS) {
            let n = PIXELS.min(g.output.w - x0);
            for (j, dst) in patches.chunks_exact_mut(patch).take(n).enumerate() {
                gather(g, p, input, (oy, x0 + j), zero, dst);
            }
            let at = (oy * g.output.w + x0) * cout;
            gemm_rows(&p.gemm, &patches[..n * patch], n, &mut output[at..at + n * cout], q);
        }
    }
}

/// The patch of output pixel (oy, ox) in [ky][kx][in] order (the rows of the packed weight matrix), widened.
fn gather(g: &Geometry, p: &ConvQLanes, input: &[u8], (oy, ox): (usize, usize), zero: i16, dst: &mut [i16]) {
    let (k, cin) = (p.kernel, p.in_channels);
    let span = (k - 1) * g.rate;
    let inside = |o: usize, pad: usize, size: usize| (o * g.stride).checked_sub(pad).filter(|&i| i + span < size);
    if let (1, Some(iy), Some(ix)) = (g.rate, inside(oy, g.pad_top, g.input.h), inside(ox, g.pad_left, g.input.w)) {
        // Every tap inside and undilated: each kernel row is k·cin contiguous input bytes.
        for (ky, row) in dst.chunks_exact_mut(k * cin).take(k).enumerate() {
            copy(row, &input[((iy + ky) * g.input.w + ix) * cin..][..k * cin]);
        }
        return;
    }
    for (ky, row) in dst.chunks_exact_mut(k * cin).take(k).enumerate() {
        let iy = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h);
        for (kx, d) in row.chunks_exact_mut(cin).enumerate() {
            match (iy, source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w)) {
                (Some(iy), Some(ix)) => copy(d, &input[(iy * g.input.w + ix) * cin..][..cin]),
                _ => d.fill(zero),
            }
        }
    }
}

/// Bytes widened to i16; the stem's lengths (a 3x3 row of RGB, one RGB pixel) as fixed-size copies.
#[inline(always)]
fn copy(dst: &mut [i16], src: &[u8]) {
    fn fixed<const N: usize>(dst: &mut [i16], src: &[u8]) {
        dst[..N].iter_mut().zip(&src[..N]).for_each(|(d, &s)| *d = i16::from(s));
    }
    match dst.len() {
        9 => fixed::<9>(dst, src),
        3 => fixed::<3>(dst, src),
        _ => dst.iter_mut().zip(src).for_each(|(d, &s)| *d = i16::from(s)),
    }
}
