//! The SIMD128 family's layouts of quantized layers, packed from the kept [`QuantLayer`]s. Built on every target
//! (native tests check them); only `kernels::uint8::simd128` runs them.

use crate::error::Error;
use crate::quant::{QuantizedMultiplier, Requantize};
use crate::weights::QuantLayer;

/// Output channels per register tile of the SIMD quantized kernels (two i32x4 accumulators). Weights, biases and
/// requantization parameters are padded to whole blocks, with zeros.
pub const Q_BLOCK: usize = 8;

/// A quantized 1x1 conv laid out for `i32x4.dot_i16x8_s`: each dot multiplies one pair of input channels by that
/// pair's weights for 4 output channels.
#[derive(Clone, Debug, PartialEq)]
pub struct PointwiseQLanes {
    /// Inputs per pixel the kernel reads, including any padding inputs (weight 0).
    pub in_channels: usize,
    pub out_channels: usize,
    /// Input channels rounded up to whole pairs.
    pub pairs: usize,
    /// [block of 8 outputs][input pair][output in block][input in pair]: a block's pair is two v128 (outputs 0–3,
    /// 4–7). The missing last input of an odd count has weight 0.
    pub weights: Vec<i16>,
    /// bias − input zero point · Σ weights, per output channel (wrapping, as the accumulator): with the zero point
    /// folded in, kernels multiply the raw input bytes. Σ (x − zp)·w = Σ x·w − zp·Σ w holds modulo 2^32.
    pub bias: Vec<i32>,
    pub requant: RequantLanes,
}

impl PointwiseQLanes {
    /// From centered weights [in][out]; a conv's [k][k][in][out] is the same matrix with k·k·in inputs. Inputs
    /// `cin .. padded` get weight 0.
    fn new(
        cin: usize,
        padded: usize,
        cout: usize,
        weights: &[i16],
        bias: &[i32],
        r: &Requantize,
    ) -> Result<Self, Error> {
        let (pairs, blocks) = (padded.div_ceil(2), cout.div_ceil(Q_BLOCK));
        let (packed, sums) = (pair_rows(cin, pairs, cout, weights), column_sums(cin, cout, weights));
        Ok(PointwiseQLanes {
            in_channels: padded,
            out_channels: cout,
            pairs,
            weights: packed,
            bias: folded_bias(bias, sums, r.input_zero_point, blocks * Q_BLOCK),
            requant: RequantLanes::new(r, blocks * Q_BLOCK)?,
        })
    }
}

impl PointwiseQLanes {
    /// From a checked 1x1 layer ([`super::check`]).
    pub fn from_layer(f: &QuantLayer) -> Result<Self, Error> {
        let [_, _, cin, cout] = f.filter_shape;
        Self::new(cin, cin, cout, &f.filter, &f.bias, &f.requantize)
    }
}

/// A quantized full conv (the stem) for the 1x1 GEMM: the k·k·in patch of a pixel is one "input", padded to whole
/// 8-byte steps against zero weights.
#[derive(Clone, Debug, PartialEq)]
pub struct ConvQLanes {
    pub kernel: usize,
    pub in_channels: usize,
    pub out_channels: usize,
    /// What the gather writes for padding pixels; the folded bias cancels it.
    pub input_zero_point: i32,
    pub gemm: PointwiseQLanes,
}

impl ConvQLanes {
    /// From a checked conv layer ([`super::check`]).
    pub fn from_layer(f: &QuantLayer) -> Result<Self, Error> {
        let [k, _, cin, cout] = f.filter_shape;
        let patch = k * k * cin;
        let gemm = PointwiseQLanes::new(patch, patch.next_multiple_of(8), cout, &f.filter, &f.bias, &f.requantize)?;
        let input_zero_point = f.requantize.input_zero_point;
        Ok(ConvQLanes { kernel: k, in_channels: cin, out_channels: cout, input_zero_point, gemm })
    }
}

/// A quantized depthwise conv laid out for `i32x4.dot_i16x8_s` over pairs of taps: the kernel interleaves two taps'
/// inputs for 8 channels and dots them with the pair's weights.
#[derive(Clone, Debug, PartialEq)]
pub struct DepthwiseQLanes {
    /// Kernel height and width (0 where built from a bare tap count).
    pub kernel: usize,
    pub channels: usize,
    /// Taps (k·k) rounded up to whole pairs.
    pub pairs: usize,
    /// [block of 8 channels][tap pair][channel in block][tap in pair]; the missing last tap of an odd count is 0.
    pub weights: Vec<i16>,
    /// bias − input zero point · Σ taps' weights (see [`PointwiseQLanes::bias`]).
    pub bias: Vec<i32>,
    /// The input zero point for every channel: padded taps read this row, whose products the folded bias cancels,
    /// so borders need no branch in the inner loop.
    pub zero_row: Vec<u8>,
    pub requant: RequantLanes,
}

impl DepthwiseQLanes {
    /// From centered weights [tap][channel].
    fn new(taps: usize, c: usize, weights: &[i16], bias: &[i32], r: &Requantize) -> Result<Self, Error> {
        let (pairs, blocks) = (taps.div_ceil(2), c.div_ceil(Q_BLOCK));
        let (packed, sums) = (pair_rows(taps, pairs, c, weights), column_sums(taps, c, weights));
        let requant = RequantLanes::new(r, blocks * Q_BLOCK)?;
        Ok(DepthwiseQLanes {
            kernel: 0,
            channels: c,
            pairs,
            weights: packed,
            bias: folded_bias(bias, sums, r.input_zero_point, blocks * Q_BLOCK),
            // RequantLanes::new checked that the zero point is a byte.
            zero_row: vec![r.input_zero_point as u8; c],
            requant,
        })
    }
}

/// A [row][column] matrix (pointwise: [input][output]; depthwise: [tap][channel]) as
/// [block of 8 columns][row pair][column in block][row in pair], rows padded to `pairs` pairs with zeros.
impl DepthwiseQLanes {
    /// From a checked depthwise layer ([`super::check`]).
    pub fn from_layer(f: &QuantLayer) -> Result<Self, Error> {
        let [k, _, c, _] = f.filter_shape;
        Ok(DepthwiseQLanes { kernel: k, ..Self::new(k * k, c, &f.filter, &f.bias, &f.requantize)? })
    }
}

fn pair_rows(rows: usize, pairs: usize, cols: usize, weights: &[i16]) -> Vec<i16> {
    let mut packed = vec![0; cols.div_ceil(Q_BLOCK) * pairs * 2 * Q_BLOCK];
    for r in 0..rows {
        for c in 0..cols {
            packed[((c / Q_BLOCK * pairs + r / 2) * Q_BLOCK + c % Q_BLOCK) * 2 + r % 2] = weights[r * cols + c];
        }
    }
    packed
}

/// Each column's sum of weights, wrapping as the accumulator does.
fn column_sums(rows: usize, cols: usize, weights: &[i16]) -> impl Iterator<Item = i32> + '_ {
    (0..cols).map(move |c| (0..rows).fold(0i32, |s, r| s.wrapping_add(i32::from(weights[r * cols + c]))))
}

fn folded_bias(bias: &[i32], sums: impl Iterator<Item = i32>, zero_point: i32, padded: usize) -> Vec<i32> {
    let mut folded: Vec<i32> =
        bias.iter().zip(sums).map(|(&b, s)| b.wrapping_sub(zero_point.wrapping_mul(s))).collect();
    folded.resize(padded, 0);
    folded
}

/// [`Requantize`] for 4-lane vectors. wasm shifts every lane by one amount, so per-channel shifts become multiplies
/// ([`RequantQuad`]). A layer whose channels share one multiplier (per-tensor quantization, as in the official
/// models) keeps it in [`Self::per_tensor`]: kernels then hold every constant in registers and shift plainly.
#[derive(Clone, Debug, PartialEq)]
pub struct RequantLanes {
    /// One per 4 output channels, padded to whole blocks (padding multiplies by 0).
    pub quads: Vec<RequantQuad>,
    /// (multiplier, left shift, right shift), every shift below 32, when all channels share them and the
    /// multiplier is not i32::MIN (so the high multiply cannot saturate).
    pub per_tensor: Option<(i32, u32, u32)>,
    pub output_zero_point: i32,
    pub min: i32,
    pub max: i32,
}

/// [`QuantizedMultiplier::apply`] for 4 channels: RoundingDivideByPOT(SRDHM(acc · left, multiplier), e). Aligned to
/// 16 bytes (so is each field) for aligned vector loads.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C, align(16))]
pub struct RequantQuad {
    pub multiplier: [i32; 4],
    /// 2^max(shift, 0): a wrapping multiply, as C++'s `x * (1 << s)`.
    pub left: [i32; 4],
    /// RoundingDivideByPOT's mask 2^e − 1 and threshold mask >> 1, for e = max(−shift, 0).
    pub mask: [i32; 4],
    pub threshold: [i32; 4],
    /// floor(x / 2^e) = high32((x + 2^31) · 2^(32−e)) − 2^(31−e) for e ≥ 1: `pow` holds the u32 bits of 2^(32−e),
    /// `offset` 2^(31−e). `keep` is all ones where e = 0 (x is its own quotient, and 2^32 does not fit).
    pub pow: [i32; 4],
    pub offset: [i32; 4],
    pub keep: [i32; 4],
}

impl RequantLanes {
    fn new(r: &Requantize, padded: usize) -> Result<Self, Error> {
        super::check_bytes(r)?;
        let mut lanes: Vec<(i32, u32, u32)> = r.multipliers.iter().map(|&q| normalized(q)).collect();
        let per_tensor = match lanes.first() {
            Some(&first) if first.0 != i32::MIN && lanes.iter().all(|&l| l == first) => Some(first),
            _ => None,
        };
        lanes.resize(padded.max(lanes.len()).next_multiple_of(4), (0, 0, 0));
        Ok(RequantLanes {
            quads: lanes.chunks_exact(4).map(quad).collect(),
            per_tensor,
            output_zero_point: r.output_zero_point,
            min: r.min,
            max: r.max,
        })
    }
}

/// A channel's (multiplier, left, right) with both shifts below 32. A shift of 32 or more makes every output 0: the
/// left shift wraps to 0, and the high multiply never returns i32::MIN, so a division by 2^32 or more rounds to 0.
/// Multiplier 0 gives the same.
fn normalized(q: QuantizedMultiplier) -> (i32, u32, u32) {
    let left = q.shift.max(0).unsigned_abs();
    let right = q.shift.saturating_neg().max(0).unsigned_abs();
    if left >= 32 || right >= 32 {
        (0, 0, 0)
    } else {
        (q.multiplier, left, right)
    }
}

fn quad(lanes: &[(i32, u32, u32)]) -> RequantQuad {
    let mut q = RequantQuad::default();
    for (j, &(multiplier, left, e)) in lanes.iter().enumerate() {
        q.multiplier[j] = multiplier;
        q.left[j] = (1u32 << left) as i32;
        q.mask[j] = ((1u32 << e) - 1) as i32;
        q.threshold[j] = q.mask[j] >> 1;
        // e ≤ 31, so 2^(32−e) ≤ 2^31 fits in u32 and 2^(31−e) in i32.
        (q.pow[j], q.offset[j], q.keep[j]) = match e {
            0 => (0, 0, -1),
            e => ((1u32 << (32 - e)) as i32, 1 << (31 - e), 0),
        };
    }
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::quantize_multiplier;
    use crate::rng::Rng;

    /// The SIMD high multiply: bits 31..62 of a·b + 2^30, i32::MIN (only from MIN·MIN) flipped to MAX.
    fn high_mul(a: i32, b: i32) -> i32 {
        let high = (((i64::from(a) * i64::from(b) + (1 << 30)) as u64) >> 31) as u32 as i32;
        if high == i32::MIN {
            i32::MAX
        } else {
            high
        }
    }

    /// The rounding of RoundingDivideByPOT on a quotient computed elsewhere.
    fn round(x: i32, quotient: i32, mask: i32, threshold: i32) -> i32 {
        quotient + i32::from(x & mask > threshold - (x >> 31))
    }

    /// The per-lane SIMD requantization of lane `j`, in scalar code: the same operations on the same parameters.
    fn emulate(q: &RequantQuad, j: usize, acc: i32) -> i32 {
        let x = high_mul(acc.wrapping_mul(q.left[j]), q.multiplier[j]);
        let u = u64::from(x as u32 ^ 0x8000_0000);
        let high = (((u * u64::from(q.pow[j] as u32)) >> 32) as i32).wrapping_sub(q.offset[j]);
        let quotient = if q.keep[j] == -1 { x } else { high };
        round(x, quotient, q.mask[j], q.threshold[j])
    }

    /// The per-tensor SIMD requantization: plain shifts, no saturation fix (the multiplier is not i32::MIN).
    fn emulate_per_tensor((multiplier, left, right): (i32, u32, u32), acc: i32) -> i32 {
        let high = ((i64::from(acc << left) * i64::from(multiplier) + (1 << 30)) as u64 >> 31) as u32 as i32;
        let mask = ((1u32 << right) - 1) as i32;
        round(high, high >> right, mask, mask >> 1)
    }

    fn requantize(multipliers: Vec<QuantizedMultiplier>, input_zero_point: i32) -> Requantize {
        Requantize { multipliers, input_zero_point, output_zero_point: 0, min: 0, max: 255 }
    }

    fn edge_accumulators(rng: &mut Rng) -> Vec<i32> {
        let mut accs = vec![0, 1, -1, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];
        for k in 0..31 {
            accs.extend([1 << k, (1 << k) + 1, (1 << k) - 1, -(1 << k), -(1 << k) + 1, -(1 << k) - 1]);
        }
        accs.extend((0..2000).map(|i| ((rng.next_u64() >> 32) as u32 as i32) >> (i % 32)));
        accs
    }

    fn edge_multipliers(rng: &mut Rng) -> Vec<QuantizedMultiplier> {
        let qm = |multiplier, shift| QuantizedMultiplier { multiplier, shift };
        let mut all = vec![
            qm(i32::MIN, 0),
            qm(i32::MIN, 3),
            qm(i32::MAX, 0),
            qm(1 << 30, 31),
            qm(1 << 30, 32),
            qm(1 << 30, -31),
            qm(1 << 30, -32),
            qm(i32::MAX, -31),
            qm(1 << 30, i32::MIN),
            qm(1 << 30, i32::MAX),
            qm(0, -5),
            qm(-(1 << 30), -3),
        ];
        for _ in 0..200 {
            let exponent = rng.range(0, 80) as i32 - 60;
            let sign = if rng.range(0, 3) == 0 { -1.0 } else { 1.0 };
            all.push(quantize_multiplier(sign * f64::from(rng.uniform(0.5, 1.0)) * 2f64.powi(exponent)));
        }
        all
    }

    #[test]
    fn requant_lanes_equal_apply_per_channel_and_per_tensor() {
        let mut rng = Rng::new(5);
        let (accs, multipliers) = (edge_accumulators(&mut rng), edge_multipliers(&mut rng));
        for group in multipliers.chunks(4) {
            let lanes = RequantLanes::new(&requantize(group.to_vec(), 0), 8).unwrap();
            for (j, &m) in group.iter().enumerate() {
                let shared = RequantLanes::new(&requantize(vec![m; 3], 0), 8).unwrap();
                assert_eq!(shared.per_tensor.is_some(), m.multiplier != i32::MIN, "{m:?}");
                for &acc in &accs {
                    assert_eq!(emulate(&lanes.quads[0], j, acc), m.apply(acc), "{m:?} acc {acc}");
                    if let Some(t) = shared.per_tensor {
                        assert_eq!(emulate_per_tensor(t, acc), m.apply(acc), "per tensor {m:?} acc {acc}");
                    }
                }
            }
        }
    }

    #[test]
    fn padding_lanes_give_zero_and_bad_ranges_are_refused() {
        let m = quantize_multiplier(0.3);
        let lanes = RequantLanes::new(&requantize(vec![m; 5], 0), 8).unwrap();
        assert_eq!(lanes.quads.len(), 2);
        assert_eq!(lanes.per_tensor, Some((m.multiplier, 0, 1))); // 0.3 = 0.6 · 2^-1
        assert_eq!(emulate(&lanes.quads[1], 3, 123_456), 0);
        let mut r = requantize(vec![m], 0);
        r.max = 256;
        assert!(RequantLanes::new(&r, 8).is_err());
        r.max = 255;
        r.input_zero_point = -1;
        assert!(RequantLanes::new(&r, 8).is_err());
    }

    /// The dot products the SIMD kernels compute, in scalar code over the packed weights and folded biases, equal the
    /// centered sums of the scalar layout.
    #[test]
    fn lanes_layouts_compute_the_centered_sums() {
        let mut rng = Rng::new(9);
        for _ in 0..50 {
            let (cin, cout, zp) = (rng.range(1, 21), rng.range(1, 21), rng.range(0, 255) as i32);
            let weights: Vec<i16> = (0..cin * cout).map(|_| rng.range(0, 510) as i16 - 255).collect();
            let bias: Vec<i32> = (0..cout).map(|_| rng.range(0, 2000) as i32 - 1000).collect();
            // Inputs past cin (a conv patch's padding) hold anything: their weights are 0.
            let padded = if rng.range(0, 1) == 0 { cin } else { cin.next_multiple_of(8) };
            let x: Vec<i32> = (0..padded.next_multiple_of(2)).map(|_| rng.range(0, 255) as i32).collect();
            let r = requantize(vec![quantize_multiplier(0.01); cout], zp);
            let pw = PointwiseQLanes::new(cin, padded, cout, &weights, &bias, &r).unwrap();
            assert_eq!((pw.in_channels, pw.pairs), (padded, padded.div_ceil(2)));
            for o in 0..cout {
                let want = (0..cin).fold(bias[o], |a, i| a + (x[i] - zp) * i32::from(weights[i * cout + o]));
                let got = (0..pw.pairs).fold(pw.bias[o], |a, k| {
                    let w = &pw.weights[((o / Q_BLOCK * pw.pairs + k) * Q_BLOCK + o % Q_BLOCK) * 2..][..2];
                    a + x[2 * k] * i32::from(w[0]) + x[2 * k + 1] * i32::from(w[1])
                });
                assert_eq!(got, want, "pointwise {cin}→{cout} output {o}");
            }
            let dw = DepthwiseQLanes::new(cin, cout, &weights, &bias, &r).unwrap();
            assert_eq!(dw.zero_row, vec![zp as u8; cout]);
            for ch in 0..cout {
                // Tap t reads x[t] for this channel.
                let want = (0..cin).fold(bias[ch], |a, t| a + (x[t] - zp) * i32::from(weights[t * cout + ch]));
                let got = (0..dw.pairs).fold(dw.bias[ch], |a, k| {
                    let w = &dw.weights[((ch / Q_BLOCK * dw.pairs + k) * Q_BLOCK + ch % Q_BLOCK) * 2..][..2];
                    a + x[2 * k] * i32::from(w[0]) + x[2 * k + 1] * i32::from(w[1])
                });
                assert_eq!(got, want, "depthwise {cin} taps, {cout} channels, channel {ch}");
            }
        }
    }
}
