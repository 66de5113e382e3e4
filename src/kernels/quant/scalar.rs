//! Plain integer loops: the reference for faster quantized kernels. Output channels are processed in
//! blocks of [`BLOCK`] so the int32 accumulators live on the stack (no allocation per call).

use super::{PoolQ, QuantKernelSet};
use crate::kernels::pack::{PackedConvQ, PackedDepthwiseQ, PackedPointwiseQ, Requantize};
use crate::kernels::scalar::source;
use crate::kernels::Geometry;

pub static SCALAR_Q: QuantKernelSet = QuantKernelSet { name: "scalar-u8", conv, depthwise, pointwise, global_avg_pool };

const BLOCK: usize = 64;

/// Writes one pixel's block of outputs [start, start + acc.len()).
#[inline(always)]
fn store(r: &Requantize, start: usize, acc: &[i32], out: &mut [u8]) {
    for (j, (&a, o)) in acc.iter().zip(out).enumerate() {
        *o = r.output(start + j, a);
    }
}

pub fn conv(g: &Geometry, p: &PackedConvQ, input: &[u8], output: &mut [u8]) {
    let (cin, cout, k) = (p.in_channels, p.out_channels, p.kernel);
    let zp = p.requantize.input_zero_point;
    let mut acc = [0i32; BLOCK];
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * cout..][..cout];
            for start in (0..cout).step_by(BLOCK) {
                let n = BLOCK.min(cout - start);
                let acc = &mut acc[..n];
                acc.copy_from_slice(&p.bias[start..start + n]);
                for ky in 0..k {
                    let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                        let px = &input[(iy * g.input.w + ix) * cin..][..cin];
                        let taps = &p.weights[(ky * k + kx) * cin * cout..][..cin * cout];
                        for (&x, w) in px.iter().zip(taps.chunks_exact(cout)) {
                            let x = x as i32 - zp;
                            acc.iter_mut().zip(&w[start..start + n]).for_each(|(a, &w)| *a += x * w as i32);
                        }
                    }
                }
                store(&p.requantize, start, acc, &mut out[start..start + n]);
            }
        }
    }
}

pub fn depthwise(g: &Geometry, p: &PackedDepthwiseQ, input: &[u8], output: &mut [u8]) {
    let (c, k) = (p.channels, p.kernel);
    let zp = p.requantize.input_zero_point;
    let mut acc = [0i32; BLOCK];
    for oy in 0..g.output.h {
        for ox in 0..g.output.w {
            let out = &mut output[(oy * g.output.w + ox) * c..][..c];
            for start in (0..c).step_by(BLOCK) {
                let n = BLOCK.min(c - start);
                let acc = &mut acc[..n];
                acc.copy_from_slice(&p.bias[start..start + n]);
                for ky in 0..k {
                    let Some(iy) = source(oy, ky, g.stride, g.rate, g.pad_top, g.input.h) else { continue };
                    for kx in 0..k {
                        let Some(ix) = source(ox, kx, g.stride, g.rate, g.pad_left, g.input.w) else { continue };
                        let px = &input[(iy * g.input.w + ix) * c + start..][..n];
                        let w = &p.weights[(ky * k + kx) * c + start..][..n];
                        for ((a, &x), &w) in acc.iter_mut().zip(px).zip(w) {
                            *a += (x as i32 - zp) * w as i32;
                        }
                    }
                }
                store(&p.requantize, start, acc, &mut out[start..start + n]);
            }
        }
    }
}

pub fn pointwise(pixels: usize, p: &PackedPointwiseQ, input: &[u8], output: &mut [u8]) {
    let (cin, cout) = (p.in_channels, p.out_channels);
    let zp = p.requantize.input_zero_point;
    let mut acc = [0i32; BLOCK];
    for (px, out) in input.chunks_exact(cin).zip(output.chunks_exact_mut(cout)).take(pixels) {
        for start in (0..cout).step_by(BLOCK) {
            let n = BLOCK.min(cout - start);
            let acc = &mut acc[..n];
            acc.copy_from_slice(&p.bias[start..start + n]);
            for (&x, w) in px.iter().zip(p.weights.chunks_exact(cout)) {
                let x = x as i32 - zp;
                acc.iter_mut().zip(&w[start..start + n]).for_each(|(a, &w)| *a += x * w as i32);
            }
            store(&p.requantize, start, acc, &mut out[start..start + n]);
        }
    }
}

/// TFLite's reference average pool: the sum rounded half away from zero, divided by the cell count.
pub fn global_avg_pool(pixels: usize, channels: usize, input: &[u8], output: &mut [u8], pool: &PoolQ) {
    let n = pixels.max(1) as i32;
    for (c, o) in output[..channels].iter_mut().enumerate() {
        let sum: i32 =
            input.iter().skip(c).step_by(channels).take(pixels).map(|&v| v as i32 - pool.signed_offset).sum();
        let mean = if sum > 0 { (sum + n / 2) / n } else { (sum - n / 2) / n };
        *o = (mean + pool.signed_offset).clamp(pool.min, pool.max) as u8;
    }
}
