//! Plain integer loops: the reference for faster quantized kernels. Output channels are processed in
//! blocks of [`BLOCK`] so the int32 accumulators live on the stack (no allocation per call).

use super::{check, Uint8Layer};
use crate::error::Error;
use crate::kernels::{source, Geometry, Kernel, Packed, Work};
use crate::quant::{average_u8, mean_multiplier, AverageQ, MeanQ, PoolQ, Requantize};
use crate::weights::QuantLayer;
use std::sync::Arc;

/// The scalar kernels read the kept layer as it is: packing only checks it.
pub fn pack(layer: &Arc<Uint8Layer>) -> Result<Packed<u8>, Error> {
    check(layer)?;
    Ok(Arc::new(Scalar(Arc::clone(layer))))
}

#[derive(Debug)]
struct Scalar(Arc<Uint8Layer>);

impl Kernel<u8> for Scalar {
    fn run(&self, work: Work, src: &[u8], dst: &mut [u8]) {
        match (&*self.0, work) {
            (Uint8Layer::Conv(f), Work::Window(g)) => conv(&g, f, src, dst),
            (Uint8Layer::Depthwise(f), Work::Window(g)) => depthwise(&g, f, src, dst),
            (Uint8Layer::Pointwise(f), Work::Pixels(n)) => pointwise(n, f, src, dst),
            (Uint8Layer::Pool { channels, pool }, Work::Pixels(n)) => global_avg_pool(n, *channels, src, dst, pool),
            // The plan pairs windowed layers with windows and the others with pixel counts.
            (_, work) => unreachable!("{work:?} for another kind of layer"),
        }
    }
}

const BLOCK: usize = 64;

/// Writes one pixel's block of outputs [start, start + acc.len()).
#[inline(always)]
fn store(r: &Requantize, start: usize, acc: &[i32], out: &mut [u8]) {
    for (j, (&a, o)) in acc.iter().zip(out).enumerate() {
        *o = r.output(start + j, a);
    }
}

/// The loop nest of a windowed layer: per output pixel and block of output channels, the accumulators
/// start at the bias, `tap(acc, start, pixel, tap)` adds input pixel `pixel` under kernel tap `tap`
/// (row-major, padding skipped), and the block is requantized.
fn windowed(
    g: &Geometry,
    p: &QuantLayer,
    cout: usize,
    output: &mut [u8],
    mut tap: impl FnMut(&mut [i32], usize, usize, usize),
) {
    let k = p.filter_shape[0];
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
                        tap(acc, start, iy * g.input.w + ix, ky * k + kx);
                    }
                }
                store(&p.requantize, start, acc, &mut out[start..start + n]);
            }
        }
    }
}

/// acc[j] += Σ_ci (px[ci] − zp) · w[ci][start + j]: one pixel through a [cin][cout] weight matrix.
#[inline(always)]
fn matvec(acc: &mut [i32], start: usize, px: &[u8], zp: i32, w: &[i16], cout: usize) {
    for (&x, w) in px.iter().zip(w.chunks_exact(cout)) {
        let x = x as i32 - zp;
        acc.iter_mut().zip(&w[start..]).for_each(|(a, &w)| *a += x * w as i32);
    }
}

pub fn conv(g: &Geometry, p: &QuantLayer, input: &[u8], output: &mut [u8]) {
    let [_, _, cin, cout] = p.filter_shape;
    let zp = p.requantize.input_zero_point;
    windowed(g, p, cout, output, |acc, start, pixel, tap| {
        let taps = &p.filter[tap * cin * cout..][..cin * cout];
        matvec(acc, start, &input[pixel * cin..][..cin], zp, taps, cout);
    });
}

pub fn depthwise(g: &Geometry, p: &QuantLayer, input: &[u8], output: &mut [u8]) {
    let [_, _, c, _] = p.filter_shape;
    let zp = p.requantize.input_zero_point;
    windowed(g, p, c, output, |acc, start, pixel, tap| {
        let px = &input[pixel * c + start..][..acc.len()];
        let w = &p.filter[tap * c + start..][..acc.len()];
        for ((a, &x), &w) in acc.iter_mut().zip(px).zip(w) {
            *a += (x as i32 - zp) * w as i32;
        }
    });
}

pub fn pointwise(pixels: usize, p: &QuantLayer, input: &[u8], output: &mut [u8]) {
    let [_, _, cin, cout] = p.filter_shape;
    let zp = p.requantize.input_zero_point;
    let mut acc = [0i32; BLOCK];
    for (px, out) in input.chunks_exact(cin).zip(output.chunks_exact_mut(cout)).take(pixels) {
        for start in (0..cout).step_by(BLOCK) {
            let n = BLOCK.min(cout - start);
            let acc = &mut acc[..n];
            acc.copy_from_slice(&p.bias[start..start + n]);
            matvec(acc, start, px, zp, &p.filter, cout);
            store(&p.requantize, start, acc, &mut out[start..start + n]);
        }
    }
}

/// The global pool of a quantized model: AVERAGE_POOL_2D or MEAN arithmetic, as the model's op (see [`PoolQ`]).
pub fn global_avg_pool(pixels: usize, channels: usize, input: &[u8], output: &mut [u8], pool: &PoolQ) {
    match pool {
        PoolQ::Average(q) => average(pixels, channels, input, output, q),
        PoolQ::Mean(q) => mean(pixels, channels, input, output, q),
    }
}

/// Channel `c` of an HWC map of `pixels` pixels.
fn channel(input: &[u8], c: usize, channels: usize, pixels: usize) -> impl Iterator<Item = i32> + '_ {
    input.iter().skip(c).step_by(channels).take(pixels).map(|&v| i32::from(v))
}

/// TFLite's reference average pool: the sum rounded half away from zero, divided by the cell count.
fn average(pixels: usize, channels: usize, input: &[u8], output: &mut [u8], pool: &AverageQ) {
    let n = pixels.max(1) as i32;
    for (c, o) in output[..channels].iter_mut().enumerate() {
        let sum: i32 = channel(input, c, channels, pixels).map(|v| v - pool.signed_offset).sum();
        *o = (average_u8(sum, n) + pool.signed_offset).clamp(pool.min, pool.max) as u8;
    }
}

/// TFLite's reference MEAN: one requantization of the centered sum by a multiplier with 1/n folded in.
fn mean(pixels: usize, channels: usize, input: &[u8], output: &mut [u8], q: &MeanQ) {
    let n = pixels.max(1) as i64;
    let m = mean_multiplier(q.multiplier, n);
    let offset = n * i64::from(q.input_zero_point);
    for (c, o) in output[..channels].iter_mut().enumerate() {
        let sum: i64 = channel(input, c, channels, pixels).map(i64::from).sum();
        // static_cast<int32_t> of TFLite's int64 difference (wraps only for maps of millions of pixels).
        let centered = (sum - offset) as i32;
        *o = m.apply(centered).saturating_add(q.output_zero_point).clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::{quantize_multiplier, QuantizedMultiplier};

    fn mean_pool(input_scale: f32, output_scale: f32, input_zero_point: i32, output_zero_point: i32) -> PoolQ {
        let multiplier = quantize_multiplier(f64::from(input_scale) / f64::from(output_scale));
        PoolQ::Mean(MeanQ { multiplier, input_zero_point, output_zero_point })
    }

    /// Interleaves per-channel pixel lists into an HWC map.
    fn hwc(channels: &[Vec<u8>]) -> Vec<u8> {
        let pixels = channels[0].len();
        (0..pixels).flat_map(|p| channels.iter().map(move |c| c[p])).collect()
    }

    /// Int8 run shifted (+128), one scale in and out, a 7x7 map: (M, s) = (2^30, 1) for the ratio 1, and 1/49 folds
    /// in as k = 5, M' = ⌊2^35 / 49⌋ = 701219150, s' = −4. A centered sum of 23 (mean 0.47): SRDHM(23, M') =
    /// round(7.51) = 8, then 8 / 2^4 = 0.5 → 1 (ties away from zero). −24 (mean −0.49): SRDHM = round(−7.84) = −8,
    /// −0.5 → −1. AVERAGE_POOL_2D would give 0 for both: the first rounding decides.
    #[test]
    fn int8_mean_rounds_through_the_multiplier() {
        let q = mean_pool(0.02, 0.02, -100 + 128, -100 + 128);
        let PoolQ::Mean(m) = q else { unreachable!() };
        assert_eq!(mean_multiplier(m.multiplier, 49), QuantizedMultiplier { multiplier: 701_219_150, shift: -4 });
        let zp = (-100i32 + 128) as u8;
        let one = |v: i32| {
            let mut c = vec![zp; 49];
            c[17] = (v + 128) as u8;
            c
        };
        // −100 + 23 = −77, −100 − 24 = −124 (int8), and a channel of 127s: mean 227 above zp, 127 out.
        let input = hwc(&[one(-77), one(-124), vec![255; 49]]);
        let mut out = [0u8; 3];
        global_avg_pool(49, 3, &input, &mut out, &q);
        let signed: Vec<i32> = out.iter().map(|&o| i32::from(o) - 128).collect();
        assert_eq!(signed, [-99, -101, 127]);
    }

    /// Uint8, input scale 0.75 and output 0.5: QuantizeMultiplier(1.5) = (0.75 · 2^31, 1); over 2x2, k = 2,
    /// M' = 0.75 · 2^31, s' = −1, so out = round(round(0.75 · x) / 2) + 5 for the centered sum x.
    /// x = 6: 4.5 → 5 (ties toward +∞), 2.5 → 3, out 8 (the exact mean 2.25 would give 7).
    /// x = −6: −4.5 → −4, −2, out 3. x = −40: −15 + 5 clamps to 0. x = 980: 735 / 2 → 368 + 5 clamps to 255.
    #[test]
    fn uint8_mean_requantizes_between_scales() {
        let q = mean_pool(0.75, 0.5, 10, 5);
        let PoolQ::Mean(m) = q else { unreachable!() };
        assert_eq!(m.multiplier, QuantizedMultiplier { multiplier: 1_610_612_736, shift: 1 });
        let channels = [vec![10, 10, 10, 16], vec![10, 4, 10, 10], vec![0; 4], vec![255; 4]];
        let mut out = [0u8; 4];
        global_avg_pool(4, 4, &hwc(&channels), &mut out, &q);
        assert_eq!(out, [8, 3, 0, 255]);
    }

    /// The shifted uint8 run equals the signed formula computed directly: x = Σq − n · zp_in on the int8 values, two
    /// roundings of the exact product (floor((x · 2^max(s', 0) · M' + 2^30) / 2^31), then / 2^max(−s', 0) ties away
    /// from zero), + zp_out, clamped to [−128, 127].
    #[test]
    fn shifted_int8_mean_equals_the_signed_formula() {
        fn round_div(n: i128, d: i128) -> i128 {
            let q = (2 * n.abs() + d) / (2 * d);
            if n < 0 {
                -q
            } else {
                q
            }
        }
        let mut rng = crate::rng::Rng::new(21);
        let channels = 3;
        for _ in 0..2000 {
            let pixels = rng.range(1, 64);
            let (zp_in, zp_out) = (rng.range(0, 255) as i32 - 128, rng.range(0, 255) as i32 - 128);
            let (in_scale, out_scale) = (rng.uniform(0.005, 0.1), rng.uniform(0.005, 0.1));
            let raw: Vec<i32> = (0..pixels * channels).map(|_| rng.range(0, 255) as i32 - 128).collect();
            let input: Vec<u8> = raw.iter().map(|&v| (v + 128) as u8).collect();
            let q = mean_pool(in_scale, out_scale, zp_in + 128, zp_out + 128);
            let mut out = vec![0u8; channels];
            global_avg_pool(pixels, channels, &input, &mut out, &q);

            let PoolQ::Mean(m) = q else { unreachable!() };
            let folded = mean_multiplier(m.multiplier, pixels as i64);
            let (left, right) = (folded.shift.max(0), (-folded.shift).max(0));
            for (c, &o) in out.iter().enumerate() {
                let x: i32 = raw.iter().skip(c).step_by(channels).map(|&v| v - zp_in).sum();
                let product = (i128::from(x) << left) * i128::from(folded.multiplier);
                let high = (product + (1 << 30)).div_euclid(1 << 31);
                let want = (round_div(high, 1 << right) as i32 + zp_out).clamp(-128, 127);
                assert_eq!(i32::from(o) - 128, want, "x {x} n {pixels} {folded:?}");
            }
        }
    }

    /// The same maps through AVERAGE_POOL_2D: round(Σ / n) on the stored values, ties away from zero.
    #[test]
    fn average_pool_rounds_the_plain_mean() {
        let q = PoolQ::Average(AverageQ { min: 0, max: 255, signed_offset: 128 });
        let zp = 28u8;
        let mut c0 = vec![zp; 49];
        c0[3] = zp + 23;
        let mut c1 = vec![zp; 49];
        c1[3] = zp - 24;
        let mut out = [0u8; 2];
        global_avg_pool(49, 2, &hwc(&[c0, c1]), &mut out, &q);
        // Signed sums −100 · 49 ± 23 / 24 round to −100.
        assert_eq!(out, [28, 28]);
    }
}
