//! TFLite's uint8 fixed-point arithmetic, bit-exact with the reference kernels (`BUILTIN_REF`).
//!
//! Every function here mirrors one TFLite or gemmlowp function, named in its doc comment, with the same integer
//! semantics: wrapping i32 adds where C++ relies on two's complement, saturation only where gemmlowp saturates, and
//! gemmlowp's round-half-away-from-zero divisions. Where the C++ asserts or has undefined behaviour (a shift out of
//! range, an accumulator that overflows), the Rust result is defined and documented instead of a panic.
//!
//! Rounding of the requantization (conv, depthwise, fully connected): TFLite built without `TFLITE_SINGLE_ROUNDING`
//! (the default, and what the reference dumps in `../shared/reference` show) uses two roundings, see
//! [`QuantizedMultiplier::apply`].

use crate::error::{Error, Real};

/// A fused activation as TFLite defines it; [`activation_range`] turns it into a clamp range.
pub use crate::arch::Activation;

/// A real multiplier as TFLite stores it: real ≈ multiplier · 2^(shift − 31), with multiplier a Q0.31 value in
/// [2^30, 2^31) for positive reals (0 for a zero multiplier).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuantizedMultiplier {
    pub multiplier: i32,
    pub shift: i32,
}

impl QuantizedMultiplier {
    /// The multiplier that maps everything to 0.
    pub const ZERO: QuantizedMultiplier = QuantizedMultiplier { multiplier: 0, shift: 0 };

    /// `tflite::MultiplyByQuantizedMultiplier(int32 x, multiplier, shift)` without `TFLITE_SINGLE_ROUNDING`:
    /// `RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x · 2^max(shift, 0), m), max(−shift, 0))`.
    ///
    /// This is what the uint8 reference kernels call: `reference_ops::Conv` (uint8) and
    /// `reference_ops::FullyConnected` (uint8) directly, `reference_ops::DepthwiseConv` (uint8) through
    /// `DepthwiseConvRound<kUpward>`, which forwards to it. The legacy
    /// `MultiplyByQuantizedMultiplierSmallerThanOneExp(x, m, s)` = `RoundingDivideByPOT(SRDHM(x, m), −s)` is the same
    /// computation for shift ≤ 0, the only shifts it accepts.
    ///
    /// Two roundings: the high multiply rounds to nearest with ties toward +∞, then the shift rounds again with ties
    /// away from zero. The left shift wraps like the C++ `x * (1 << s)` on two's complement
    /// hardware (for s ≥ 32, where C++ is undefined, the product is taken as 0).
    pub fn apply(self, acc: i32) -> i32 {
        let left = self.shift.max(0);
        let right = self.shift.saturating_neg().max(0);
        let scaled = wrapping_shl(acc, left);
        rounding_divide_by_pot(saturating_rounding_doubling_high_mul(scaled, self.multiplier), right)
    }
}

/// `x · 2^k` modulo 2^32, as `x * (1 << k)` computes it on two's complement hardware.
fn wrapping_shl(x: i32, k: i32) -> i32 {
    match u32::try_from(k) {
        Ok(k) if k < 32 => x.wrapping_shl(k),
        _ => 0,
    }
}

/// `tflite::QuantizeMultiplier`: frexp splits `real` into frac · 2^shift with |frac| in [0.5, 1); the multiplier
/// is round(frac · 2^31) (half away from zero, as `TfLiteRound`); a rounding up to 2^31 is renormalized to
/// (2^30, shift + 1); `real == 0` and shifts below −31 (|real| < ~2^-32) give (0, 0).
///
/// TFLite aborts (`TFLITE_CHECK`) on NaN or infinity; here they give [`QuantizedMultiplier::ZERO`].
pub fn quantize_multiplier(real: f64) -> QuantizedMultiplier {
    if real == 0.0 || !real.is_finite() {
        return QuantizedMultiplier::ZERO;
    }
    let (frac, mut shift) = frexp(real);
    // |frac| < 1, so |q| ≤ 2^31 after rounding.
    let mut q = (frac * TWO_POW_31).round() as i64;
    if q == 1 << 31 {
        q /= 2;
        shift += 1;
    }
    if shift < -31 {
        return QuantizedMultiplier::ZERO;
    }
    // q is in [−2^31, 2^31): the renormalization above removed the only value that does not fit.
    QuantizedMultiplier { multiplier: q as i32, shift }
}

const TWO_POW_31: f64 = 2147483648.0;

/// C's `frexp` for a finite non-zero `x`: (frac, exp) with x = frac · 2^exp and |frac| in [0.5, 1).
fn frexp(x: f64) -> (f64, i32) {
    const EXP_MASK: u64 = 0x7ff << 52;
    let bits = x.to_bits();
    let biased = ((bits & EXP_MASK) >> 52) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first (2^64 is exact).
        let (frac, exp) = frexp(x * 18446744073709551616.0);
        return (frac, exp - 64);
    }
    // Keep sign and mantissa, set the exponent of [0.5, 1).
    let frac = f64::from_bits((bits & !EXP_MASK) | (1022 << 52));
    (frac, biased - 1022)
}

/// gemmlowp `SaturatingRoundingDoublingHighMul` (ARM `VQRDMULH`): a · b / 2^31 rounded to nearest with ties toward
/// +∞ (= floor((a · b + 2^30) / 2^31): the nudge 1 − 2^30 of negative products plus C++'s truncating division
/// amount to that); it saturates only for a = b = i32::MIN, the one product that does not fit.
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    let nudge = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
    // i64 division truncates toward zero, as in C++; |ab| ≤ 2^62 so the sum cannot overflow, and the quotient fits
    // in i32 once MIN·MIN is excluded.
    ((ab + nudge) / (1i64 << 31)) as i32
}

/// gemmlowp `RoundingDivideByPOT`: x / 2^exponent rounded to nearest, ties away from zero, computed with the
/// mask/threshold form (remainder = x & mask, compared with mask/2, plus one for negative x).
///
/// gemmlowp asserts 0 ≤ exponent ≤ 31. Here a negative exponent is taken as 0 and larger exponents give the
/// mathematically rounded quotient (0 or −1), so any input is defined.
pub fn rounding_divide_by_pot(x: i32, exponent: i32) -> i32 {
    let e = exponent.clamp(0, 62);
    let x = i64::from(x);
    let mask = (1i64 << e) - 1;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i64::from(x < 0);
    // Same bits as the i32 computation for e ≤ 31; the quotient of an i32 always fits in i32.
    ((x >> e) + i64::from(remainder > threshold)) as i32
}

/// How a quantized layer turns its int32 accumulators back into uint8: one multiplier per output
/// channel (TFLite's per-channel or replicated per-tensor scale), the zero points and the fused
/// activation as a clamp range.
#[derive(Clone, Debug, PartialEq)]
pub struct Requantize {
    pub multipliers: Vec<QuantizedMultiplier>,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
    pub min: i32,
    pub max: i32,
}

impl Requantize {
    /// acc → clamp(multiplier(acc) + output zero point).
    #[inline(always)]
    pub fn output(&self, channel: usize, acc: i32) -> u8 {
        (self.multipliers[channel].apply(acc) + self.output_zero_point).clamp(self.min, self.max) as u8
    }
}

/// The real multiplier of a per-tensor uint8 conv, depthwise or fully connected layer, as
/// `tflite::GetQuantizedConvolutionMultipler` computes it: `(double)(float)(input_scale · weight_scale) /
/// (double)output_scale`. The product is rounded to float32 first; a double product gives ±1 errors.
pub fn conv_output_multiplier(input_scale: f32, weight_scale: f32, output_scale: f32) -> f64 {
    f64::from(input_scale * weight_scale) / f64::from(output_scale)
}

/// `tflite::CalculateActivationRangeQuantized` for an output with `scale` and `zero_point` whose type spans
/// [qmin, qmax] (uint8: 0, 255; int8: −128, 127). NONE → (qmin, qmax); RELU → (max(qmin, q(0)), qmax); RELU6 →
/// (max(qmin, q(0)), min(qmax, q(6))), where q(f) = zero_point + round(f / scale) in float32, ties away from zero
/// (`TfLiteRound`).
///
/// Errors where TFLite fails the same check (`no_integer_overflow_from_quantization`, e.g. a zero or NaN scale
/// with RELU/RELU6) and on a zero point that overflows.
pub fn activation_range(
    activation: Activation,
    scale: f32,
    zero_point: i32,
    qmin: i32,
    qmax: i32,
) -> Result<(i32, i32), Error> {
    match activation {
        Activation::None => Ok((qmin, qmax)),
        Activation::Relu => Ok((qmin.max(quantize_bound(0.0, scale, zero_point)?), qmax)),
        Activation::Relu6 | Activation::ReluN1To1 => {
            let (lo, hi) = activation.bounds();
            let low = quantize_bound(lo, scale, zero_point)?;
            let high = quantize_bound(hi, scale, zero_point)?;
            Ok((qmin.max(low), qmax.min(high)))
        }
    }
}

/// The `Quantize` helper of `CalculateActivationRangeQuantizedImpl`: zero_point + (int)round(f / scale).
fn quantize_bound(f: f32, scale: f32, zero_point: i32) -> Result<i32, Error> {
    let rounded = (f / scale).round();
    // False for NaN. TFLite accepts up to (float)INT32_MAX = 2^31, which does not fit: rejected here.
    let fits = rounded >= -TWO_POW_31 as f32 && rounded < TWO_POW_31 as f32;
    if !fits {
        return Err(Error::malformed(format!(
            "activation bound {} / scale {} does not fit in int32",
            Real::from(f),
            Real::from(scale)
        )));
    }
    zero_point.checked_add(rounded as i32).ok_or_else(|| {
        Error::malformed(format!("activation bound {} with zero point {zero_point} overflows", Real::from(f)))
    })
}

/// AVERAGE_POOL_2D's rounding (`reference_ops::AveragePool` for uint8, `reference_integer_ops::AveragePool` for
/// int8): Σ / n rounded half away from zero, with C++'s truncating division ((Σ ± n/2) / n). The caller clamps the
/// result to the activation range. A count ≤ 0 (TFLite reports an error) gives 0.
pub fn average_u8(sum: i32, count: i32) -> i32 {
    if count <= 0 {
        return 0;
    }
    // In i64 so that Σ ± n/2 cannot overflow; the quotient always fits in i32.
    let half = i64::from(count / 2);
    let sum = i64::from(sum);
    let rounded = if sum > 0 { sum + half } else { sum - half };
    (rounded / i64::from(count)) as i32
}

/// The multiplier of a quantized MEAN over `count` elements: `reference_ops::QuantizedMeanOrSum` (compute_sum
/// false) folds 1/count into the multiplier `PrepareMeanOrSum` made from input_scale / output_scale, so the mean is
/// one requantization with no separate rounding division: k = min(⌊log2 count⌋, 32, 31 + shift), multiplier ·
/// 2^k / count truncated in int64, shift − k. The result is at most the multiplier in magnitude, not normalized.
///
/// A count ≤ 0 (TFLite returns before) leaves `q` unchanged; k is kept ≥ 0 so shifts TFLite never makes stay defined.
pub fn mean_multiplier(q: QuantizedMultiplier, count: i64) -> QuantizedMultiplier {
    if count <= 0 {
        return q;
    }
    let log2 = 63 - count.leading_zeros() as i32;
    let k = log2.min(32).min(q.shift.saturating_add(31)).max(0);
    // |multiplier| < 2^31 and k ≤ 32 keep the product in i64; 2^k ≤ count keeps the quotient in i32.
    let multiplier = ((i64::from(q.multiplier) << k) / count) as i32;
    QuantizedMultiplier { multiplier, shift: q.shift.saturating_sub(k) }
}

/// The global average pool of a quantized model, with the arithmetic of the TFLite op it came from: the two ops
/// round differently, so each keeps its own formula.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PoolQ {
    Average(AverageQ),
    Mean(MeanQ),
}

/// AVERAGE_POOL_2D over the whole map (`reference_ops::AveragePool` for uint8, `reference_integer_ops::AveragePool`
/// for int8): input and output share scale and zero point; out = clamp(round(Σq / n), min, max) on the stored
/// values, ties away from zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AverageQ {
    pub min: i32,
    pub max: i32,
    /// 128 for int8 models run shifted (their rounding is symmetric around the signed zero), else 0.
    pub signed_offset: i32,
}

/// MEAN over axes 1, 2 as the reference kernel of TFLite 2.14+ and LiteRT computes it for int8 and uint8, with any
/// keep_dims (`EvalMean<kReference>` → `EvalQuantizedMean` → `reference_ops::QuantizedMeanOrSum`, compute_sum false):
///
/// - `PrepareMeanOrSum`: (M, s) = `QuantizeMultiplier`((double)input_scale / (double)output_scale);
/// - per call, 1/n folded in ([`crate::quant::mean_multiplier`]): k = min(⌊log2 n⌋, 32, 31 + s),
///   M' = ⌊M · 2^k / n⌋, s' = s − k;
/// - per channel: out = clamp(`MultiplyByQuantizedMultiplier`((int32)(Σq − n · zp_in), M', s') + zp_out, type range).
///
/// Input and output quantization may differ. Zero points here are shifted like the activations (+128 for int8): the
/// formula only sees Σq − n · zp_in, which the shift leaves unchanged, and adds zp_out before clamping to the type
/// range, which moves with it; so the rounding is exactly the signed one and no offset is needed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MeanQ {
    /// (M, s) before 1/n is folded in.
    pub multiplier: QuantizedMultiplier,
    pub input_zero_point: i32,
    pub output_zero_point: i32,
}

/// Integer bits of the exp() input: the input differences are rescaled to Q5.26 (`kScaledDiffIntegerBits`).
const SCALED_DIFF_INTEGER_BITS: i32 = 5;
/// Integer bits of the sum of exps, Q12.19 (`kAccumulationIntegerBits`).
const ACCUMULATION_INTEGER_BITS: i32 = 12;

/// The uint8 SOFTMAX of the reference kernels (`reference_ops::Softmax<uint8_t, uint8_t>`, parameters from
/// `SoftmaxPrepare` with `kReference`), for an output of scale 1/256 and zero point 0 as TFLite requires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SoftmaxU8 {
    /// Q0.31 multiplier of beta · input_scale · 2^26 (`params.input_multiplier`).
    input_multiplier: i32,
    /// Its left shift (`params.input_left_shift`), in [1, 31].
    input_left_shift: i32,
    /// Input differences (x − max) below this give probability 0 (`params.diff_min`).
    diff_min: i32,
}

impl SoftmaxU8 {
    /// `tflite::PreprocessSoftmaxScaling(beta, input_scale, 5)` then `diff_min = −CalculateInputRadius(5,
    /// left_shift)`. The real multiplier beta · input_scale · 2^26 is computed in double and capped at 2^31 − 1;
    /// it must exceed 1 (`QuantizeMultiplierGreaterThanOne`'s check), else an error.
    pub fn new(input_scale: f32, beta: f32) -> Result<Self, Error> {
        let max_real_multiplier = TWO_POW_31 - 1.0;
        let scaled = f64::from(beta) * f64::from(input_scale) * f64::from(1u32 << (31 - SCALED_DIFF_INTEGER_BITS));
        // std::min(scaled, max): a NaN stays NaN (f64::min would drop it) and fails the check below.
        let real = if max_real_multiplier < scaled { max_real_multiplier } else { scaled };
        if real.is_nan() || real <= 1.0 {
            return Err(Error::unsupported(
                None,
                "SOFTMAX",
                format!("beta {} · input scale {} · 2^26 must exceed 1", Real::from(beta), Real::from(input_scale)),
            ));
        }
        let q = quantize_multiplier(real);
        Ok(SoftmaxU8 {
            input_multiplier: q.multiplier,
            input_left_shift: q.shift,
            diff_min: -calculate_input_radius(SCALED_DIFF_INTEGER_BITS, q.shift),
        })
    }

    /// One row of the softmax: `output[i]` = round(256 · softmax(input)[i]) in gemmlowp fixed point, clamped to
    /// 255. Only the first min(input.len(), output.len()) elements are read and written (TFLite requires equal
    /// shapes); an empty row does nothing.
    ///
    /// Limits of the reference, defined here instead: once the sum of exps reaches 512 (e.g. 512 elements at the
    /// maximum) the final shift exceeds 31, where TFLite fails a check or is undefined; here it stays an exact
    /// rounding. From 4096 elements at the maximum the Q12.19 sum overflows (undefined in C++); here it wraps and
    /// the output is defined but meaningless.
    pub fn run(&self, input: &[u8], output: &mut [u8]) {
        let n = input.len().min(output.len());
        let (input, output) = (&input[..n], &mut output[..n]);
        let Some(&max) = input.iter().max() else { return };
        let max = i32::from(max);

        let mut sum_of_exps = 0i32; // Q12.19
        for &x in input {
            if let Some(exp) = self.exp_of_diff(i32::from(x) - max) {
                // Rescale<12> of a Q0.31 value: a rounding division by 2^12.
                sum_of_exps = sum_of_exps.wrapping_add(rounding_divide_by_pot(exp, ACCUMULATION_INTEGER_BITS));
            }
        }

        let (shifted_scale, num_bits_over_unit) = get_reciprocal(sum_of_exps, ACCUMULATION_INTEGER_BITS);
        // To 8 bits: the Q0.31 product scaled by 2^(num_bits_over_unit) lands in [0, 256] after this shift.
        let exponent = num_bits_over_unit + 31 - 8;
        for (out, &x) in output.iter_mut().zip(input) {
            *out = match self.exp_of_diff(i32::from(x) - max) {
                Some(exp) => {
                    let unsat =
                        rounding_divide_by_pot(saturating_rounding_doubling_high_mul(shifted_scale, exp), exponent);
                    unsat.clamp(0, 255) as u8
                }
                None => 0,
            };
        }
    }

    /// exp(beta · input_scale · diff) in Q0.31 for diff = x − max ≤ 0, or None when diff < diff_min (the reference
    /// skips it: probability 0). The rescale is `MultiplyByQuantizedMultiplierGreaterThanOne`:
    /// SRDHM(diff · 2^left_shift, multiplier), a Q5.26 value.
    fn exp_of_diff(&self, diff: i32) -> Option<i32> {
        if diff < self.diff_min {
            return None;
        }
        let rescaled =
            saturating_rounding_doubling_high_mul(wrapping_shl(diff, self.input_left_shift), self.input_multiplier);
        Some(exp_on_negative_values_q5(rescaled))
    }
}

/// `tflite::CalculateInputRadius(input_integer_bits, input_left_shift, 31)`: the largest |diff| whose rescaled
/// value still fits, floor((2^bits − 1) · 2^(31 − bits) / 2^left_shift) in double.
fn calculate_input_radius(input_integer_bits: i32, input_left_shift: i32) -> i32 {
    let max_input_rescaled = f64::from((1i32 << input_integer_bits) - 1) * f64::from(1u32 << (31 - input_integer_bits))
        / 2f64.powi(input_left_shift);
    // In range: at most 31 · 2^26 for left_shift ≥ 0.
    max_input_rescaled.floor() as i32
}

/// `tflite::GetReciprocal(x, x_integer_digits)`: for x > 0 in Q(x_integer_digits), returns (1 / x normalized to
/// [1, 2), as Q0.31) and num_bits_over_unit, such that 1/x = result · 2^(−num_bits_over_unit).
fn get_reciprocal(x: i32, x_integer_digits: i32) -> (i32, i32) {
    let headroom_plus_one = (x as u32).leading_zeros();
    let num_bits_over_unit = x_integer_digits - headroom_plus_one as i32;
    // Shift the leading one out to bit 31 and drop it: the fraction of x normalized to [1, 2), in Q0.31.
    let shifted = (x as u32).checked_shl(headroom_plus_one).unwrap_or(0);
    let shifted_sum_minus_one = shifted.wrapping_sub(1 << 31) as i32;
    (one_over_one_plus_x_for_x_in_0_1(shifted_sum_minus_one), num_bits_over_unit)
}

// gemmlowp fixed point (fixedpoint.h) on raw i32 values. Qm.n below means gemmlowp's FixedPoint<int32, m>, with
// n = 31 − m fractional bits. Products of Qa and Qb values are Q(a+b) (SRDHM); + and − are plain wrapping i32
// operations (gemmlowp's Add/Sub, which do not saturate for int32).

/// `FixedPoint<int32, 0>::One()`: the largest Q0.31 value, standing for 1.
const Q0_ONE: i32 = i32::MAX;

/// gemmlowp `SaturatingRoundingMultiplyByPOT<exponent>` for exponent > 0: x · 2^exponent, saturated to the i32
/// range. Negative exponents are `RoundingDivideByPOT`.
fn saturating_rounding_multiply_by_pot(x: i32, exponent: i32) -> i32 {
    if exponent <= 0 {
        return rounding_divide_by_pot(x, -exponent);
    }
    let threshold = (1i32 << (31 - exponent)) - 1;
    if x > threshold {
        i32::MAX
    } else if x < -threshold {
        i32::MIN
    } else {
        x << exponent
    }
}

/// gemmlowp `RoundingHalfSum` for int32: (a + b) / 2 rounded to nearest, ties away from zero.
fn rounding_half_sum(a: i32, b: i32) -> i32 {
    let sum = i64::from(a) + i64::from(b);
    let sign = if sum >= 0 { 1 } else { -1 };
    ((sum + sign) / 2) as i32
}

/// gemmlowp `exp_on_interval_between_negative_one_quarter_and_0_excl`: exp(a) for a in [−1/4, 0), Q0.31 in and
/// out, by a 4th-order Taylor expansion around −1/8.
fn exp_on_interval_between_negative_one_quarter_and_0_excl(a: i32) -> i32 {
    const EXP_MINUS_ONE_EIGHTH: i32 = 1895147668; // exp(−1/8)
    const ONE_THIRD: i32 = 715827883;
    let mul = saturating_rounding_doubling_high_mul;
    // x = a + 1/8 (1/8 is 1 << 28 in Q0.31).
    let x = a.wrapping_add(1 << 28);
    let x2 = mul(x, x);
    let x3 = mul(x2, x);
    let x4 = mul(x2, x2);
    let x4_over_4 = saturating_rounding_multiply_by_pot(x4, -2);
    let x4_over_24_plus_x3_over_6_plus_x2_over_2 =
        saturating_rounding_multiply_by_pot(mul(x4_over_4.wrapping_add(x3), ONE_THIRD).wrapping_add(x2), -1);
    EXP_MINUS_ONE_EIGHTH
        .wrapping_add(mul(EXP_MINUS_ONE_EIGHTH, x.wrapping_add(x4_over_24_plus_x3_over_6_plus_x2_over_2)))
}

/// gemmlowp `exp_on_negative_values` for a Q5.26 input a ≤ 0, result in Q0.31: exp of (a mod 1/4) − 1/4 by the
/// Taylor series, then one multiplication by exp(−2^k) for each bit k set in the rest (a "barrel shifter").
fn exp_on_negative_values_q5(a: i32) -> i32 {
    const INTEGER_BITS: i32 = SCALED_DIFF_INTEGER_BITS;
    const FRACTIONAL_BITS: i32 = 31 - INTEGER_BITS;
    // exp(−2^k) in Q0.31 for k = −2..=4 (gemmlowp's GEMMLOWP_EXP_BARREL_SHIFTER constants).
    const BARREL: [(i32, i32); 7] =
        [(-2, 1672461947), (-1, 1302514674), (0, 790015084), (1, 290630308), (2, 39332535), (3, 720401), (4, 242)];
    let one_quarter = 1i32 << (FRACTIONAL_BITS - 2);
    let mask = one_quarter - 1;
    let a_mod_quarter_minus_one_quarter = (a & mask).wrapping_sub(one_quarter);
    // Rescale<0> of a Q5.26 value: multiply by 2^5, saturating.
    let mut result = exp_on_interval_between_negative_one_quarter_and_0_excl(saturating_rounding_multiply_by_pot(
        a_mod_quarter_minus_one_quarter,
        INTEGER_BITS,
    ));
    let remainder = a_mod_quarter_minus_one_quarter.wrapping_sub(a);
    for (exponent, multiplier) in BARREL {
        // gemmlowp applies a step only when kIntegerBits > exponent: all seven for Q5.26.
        if INTEGER_BITS > exponent && remainder & (1 << (FRACTIONAL_BITS + exponent)) != 0 {
            result = saturating_rounding_doubling_high_mul(result, multiplier);
        }
    }
    // No clamp to −32 here: gemmlowp only adds it for kIntegerBits > 5.
    if a == 0 {
        Q0_ONE
    } else {
        result
    }
}

/// gemmlowp `one_over_one_plus_x_for_x_in_0_1`: 1 / (1 + a) for a Q0.31 a in [0, 1), by three Newton–Raphson
/// steps on the half denominator in Q2.29, returned in Q0.31.
fn one_over_one_plus_x_for_x_in_0_1(a: i32) -> i32 {
    const Q2_ONE: i32 = 1 << 29;
    const FORTY_EIGHT_OVER_17: i32 = 1515870810; // Q2.29
    const MINUS_THIRTY_TWO_OVER_17: i32 = -1010580540; // Q2.29
    let mul = saturating_rounding_doubling_high_mul;
    let half_denominator = rounding_half_sum(a, Q0_ONE); // Q0.31
    let mut x = FORTY_EIGHT_OVER_17.wrapping_add(mul(half_denominator, MINUS_THIRTY_TWO_OVER_17)); // Q2.29
    for _ in 0..3 {
        let half_denominator_times_x = mul(half_denominator, x); // Q2.29
        let one_minus_half_denominator_times_x = Q2_ONE.wrapping_sub(half_denominator_times_x);
        // Q2 · Q2 = Q4.27; Rescale<2> multiplies by 2^2.
        x = x.wrapping_add(saturating_rounding_multiply_by_pot(mul(x, one_minus_half_denominator_times_x), 2));
    }
    // ExactMulByPot<-1> makes x a Q1.30 of half the value (same bits); Rescale<0> multiplies by 2^1.
    saturating_rounding_multiply_by_pot(x, 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qm(multiplier: i32, shift: i32) -> QuantizedMultiplier {
        QuantizedMultiplier { multiplier, shift }
    }

    fn bits(rng: &mut crate::rng::Rng) -> u32 {
        (rng.next_u64() >> 32) as u32
    }

    #[test]
    fn quantize_multiplier_powers_of_two() {
        assert_eq!(quantize_multiplier(0.5), qm(1 << 30, 0));
        assert_eq!(quantize_multiplier(0.25), qm(1 << 30, -1));
        assert_eq!(quantize_multiplier(1.0), qm(1 << 30, 1));
        assert_eq!(quantize_multiplier(3.0), qm(3 << 29, 2));
        assert_eq!(quantize_multiplier(0.0), QuantizedMultiplier::ZERO);
        assert_eq!(quantize_multiplier(-0.5), qm(-(1 << 30), 0));
    }

    #[test]
    fn quantize_multiplier_renormalizes_a_round_up_to_two_pow_31() {
        // frac = 1 − 2^-40 rounds to 2^31: becomes (2^30, shift + 1).
        let just_below_one = 1.0 - 2f64.powi(-40);
        assert_eq!(quantize_multiplier(just_below_one), qm(1 << 30, 1));
        assert_eq!(quantize_multiplier(just_below_one * 0.125), qm(1 << 30, -2));
        // 1 − 2^-31 is exactly representable: frac · 2^31 = 2^31 − 1, no rounding.
        assert_eq!(quantize_multiplier(1.0 - 2f64.powi(-31)), qm(i32::MAX, 0));
        // Ties round away from zero: frac · 2^31 = 2^30 + 0.5.
        assert_eq!(quantize_multiplier(0.5 + 2f64.powi(-32)), qm((1 << 30) + 1, 0));
    }

    #[test]
    fn quantize_multiplier_flushes_tiny_values_and_non_finite() {
        assert_eq!(quantize_multiplier(2f64.powi(-32)), qm(1 << 30, -31));
        assert_eq!(quantize_multiplier(2f64.powi(-33)), QuantizedMultiplier::ZERO);
        assert_eq!(quantize_multiplier(f64::MIN_POSITIVE / 4.0), QuantizedMultiplier::ZERO);
        // Just below 2^-32 rounds up into shift −31, as TFLite's frexp-then-renormalize does.
        assert_eq!(quantize_multiplier(2f64.powi(-32) * (1.0 - 2f64.powi(-45))), qm(1 << 30, -31));
        assert_eq!(quantize_multiplier(f64::NAN), QuantizedMultiplier::ZERO);
        assert_eq!(quantize_multiplier(f64::INFINITY), QuantizedMultiplier::ZERO);
        assert_eq!(quantize_multiplier(1e300).shift, 997);
    }

    #[test]
    fn frexp_matches_c() {
        assert_eq!(frexp(1.0), (0.5, 1));
        assert_eq!(frexp(-3.0), (-0.75, 2));
        assert_eq!(frexp(0.1), (0.8, -3));
        let tiny = f64::from_bits(1); // 2^-1074
        assert_eq!(frexp(tiny), (0.5, -1073));
    }

    #[test]
    fn srdhm_rounds_half_away_from_zero_and_saturates_only_min_min() {
        let half = 1 << 30; // 0.5 in Q0.31
        assert_eq!(saturating_rounding_doubling_high_mul(half, half), 1 << 29);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MIN), i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MIN, i32::MAX), -i32::MAX);
        assert_eq!(saturating_rounding_doubling_high_mul(i32::MAX, i32::MAX), i32::MAX - 1);
        // Ties go toward +∞ (unlike RoundingDivideByPOT): 3 · 2^30 / 2^31 = 1.5 → 2, −1.5 → −1; ±0.5 → 1, 0.
        assert_eq!(saturating_rounding_doubling_high_mul(3, half), 2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, half), -1);
        assert_eq!(saturating_rounding_doubling_high_mul(1, half), 1);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, half), 0);
        // Not ties: nearest. ±0.25 → 0; −1.75 → −2; −0.75 → −1.
        assert_eq!(saturating_rounding_doubling_high_mul(1, 1 << 29), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(-1, 1 << 29), 0);
        assert_eq!(saturating_rounding_doubling_high_mul(-7, 1 << 29), -2);
        assert_eq!(saturating_rounding_doubling_high_mul(-3, 1 << 29), -1);
    }

    #[test]
    fn rounding_divide_by_pot_signs_and_ties() {
        let cases = [
            (5, 1, 3),   // 2.5 → 3
            (-5, 1, -3), // −2.5 → −3
            (7, 2, 2),   // 1.75 → 2
            (-7, 2, -2),
            (6, 2, 2), // 1.5 → 2
            (-6, 2, -2),
            (5, 2, 1), // 1.25 → 1
            (-5, 2, -1),
            (-1, 1, -1), // −0.5 → −1
            (1, 1, 1),
            (-1, 2, 0), // −0.25 → 0
            (42, 0, 42),
            (i32::MAX, 31, 1),
            (i32::MIN, 31, -1),
            (i32::MIN, 32, -1), // −0.5 → −1, beyond gemmlowp's range
            (i32::MAX, 40, 0),
            (9, -3, 9), // negative exponent: no division
        ];
        for (x, e, want) in cases {
            assert_eq!(rounding_divide_by_pot(x, e), want, "{x} / 2^{e}");
        }
    }

    #[test]
    fn apply_agrees_with_the_legacy_smaller_than_one_form_for_non_positive_shifts() {
        let legacy = |x: i32, m: i32, left_shift: i32| {
            rounding_divide_by_pot(saturating_rounding_doubling_high_mul(x, m), -left_shift)
        };
        let mut rng = crate::rng::Rng::new(7);
        for _ in 0..10_000 {
            let real = f64::from(rng.unit()) * 0.999 + 1e-4;
            let q = quantize_multiplier(real);
            assert!(q.shift <= 0);
            let acc = (bits(&mut rng) as i32) >> 8;
            assert_eq!(q.apply(acc), legacy(acc, q.multiplier, q.shift));
        }
    }

    /// apply() is within one unit of the exact product and equals the two-rounding computation done in exact
    /// arithmetic: floor((acc · m + 2^30) / 2^31) (ties toward +∞), then round(· / 2^right), ties away from zero.
    #[test]
    fn apply_is_two_roundings_of_the_exact_product() {
        fn round_half_up(n: i128, d: i128) -> i128 {
            (n + d / 2).div_euclid(d)
        }
        fn round_div(n: i128, d: i128) -> i128 {
            let q = (2 * n.abs() + d) / (2 * d);
            if n < 0 {
                -q
            } else {
                q
            }
        }
        let mut rng = crate::rng::Rng::new(11);
        for i in 0..20_000 {
            let sign = if i % 2 == 0 { 1.0 } else { -1.0 };
            let real = sign * f64::from(rng.unit()).max(1e-6);
            let q = quantize_multiplier(real);
            let acc = (bits(&mut rng) as i32) >> (bits(&mut rng) % 24);
            let got = q.apply(acc);
            let high = round_half_up(i128::from(acc) * i128::from(q.multiplier), 1 << 31);
            let want = round_div(high, 1i128 << (-q.shift));
            assert_eq!(i128::from(got), want, "acc {acc} real {real} {q:?}");
            let exact = f64::from(acc) * real;
            assert!((f64::from(got) - exact).abs() <= 1.0 + exact.abs() * 1e-8, "acc {acc} real {real}");
        }
        // Dyadic multipliers j/64 and small accumulators: many exact ties in both roundings.
        for j in 1..64 {
            let q = quantize_multiplier(f64::from(j) / 64.0);
            for acc in -300..300 {
                let high = round_half_up(i128::from(acc) * i128::from(q.multiplier), 1 << 31);
                assert_eq!(i128::from(q.apply(acc)), round_div(high, 1i128 << (-q.shift)), "acc {acc} · {j}/64");
            }
        }
    }

    #[test]
    fn apply_shifts_left_for_multipliers_above_one() {
        let q = quantize_multiplier(3.0); // (3 · 2^29, 2)
        assert_eq!(q.apply(100), 300);
        assert_eq!(q.apply(-7), -21);
        // (3 · 2^29, 1): 3 · 2 · 0.75 = 4.5 → 5, but −4.5 → −4: the tie is in the high multiply (toward +∞).
        assert_eq!(quantize_multiplier(1.5).apply(3), 5);
        assert_eq!(quantize_multiplier(1.5).apply(-3), -4);
        // Absurd shifts are defined: the C++ product would be undefined.
        assert_eq!(qm(1 << 30, 40).apply(5), 0);
        assert_eq!(qm(1 << 30, -100).apply(i32::MAX), 0);
        assert_eq!(qm(1 << 30, i32::MIN).apply(1), 0);
    }

    #[test]
    fn activation_ranges_like_tflite() {
        let relu6_scale = 0.023528477_f32;
        assert_eq!(activation_range(Activation::Relu6, relu6_scale, 0, 0, 255), Ok((0, 255)));
        assert_eq!(activation_range(Activation::None, 0.1, 7, 0, 255), Ok((0, 255)));
        assert_eq!(activation_range(Activation::Relu, 0.1, 7, 0, 255), Ok((7, 255)));
        assert_eq!(activation_range(Activation::Relu, 0.1, -3, 0, 255), Ok((0, 255)));
        // 6 / 0.05 = 120; zero point 10 → [10, 130].
        assert_eq!(activation_range(Activation::Relu6, 0.05, 10, 0, 255), Ok((10, 130)));
        assert_eq!(activation_range(Activation::Relu6, 0.05, -128, -128, 127), Ok((-128, -8)));
        assert_eq!(activation_range(Activation::Relu6, 0.5, 0, 0, 255), Ok((0, 12)));
        assert_eq!(activation_range(Activation::Relu6, 4.0, 0, 0, 255), Ok((0, 2))); // 1.5 → 2
        assert!(activation_range(Activation::Relu6, 1e-10, 0, 0, 255).is_err());
        assert!(activation_range(Activation::Relu, 0.0, 0, 0, 255).is_err()); // 0 / 0
        assert!(activation_range(Activation::Relu6, f32::NAN, 0, 0, 255).is_err());
        assert!(activation_range(Activation::Relu6, 1e-8, i32::MAX, 0, 255).is_err());
    }

    #[test]
    fn average_rounds_half_up_for_positive_sums() {
        assert_eq!(average_u8(10, 4), 3); // 2.5 → 3
        assert_eq!(average_u8(9, 4), 2); // 2.25
        assert_eq!(average_u8(11, 4), 3); // 2.75
        assert_eq!(average_u8(255 * 49, 49), 255);
        assert_eq!(average_u8(0, 49), 0);
        assert_eq!(average_u8(5, 0), 0);
        assert_eq!(average_u8(i32::MAX, 1), i32::MAX);
        assert_eq!(average_u8(i32::MAX, 2), 1 << 30);
    }

    #[test]
    fn mean_multiplier_folds_in_the_count() {
        let one = quantize_multiplier(1.0); // (2^30, 1)
        assert_eq!(mean_multiplier(one, 4), qm(1 << 30, -1));
        assert_eq!(mean_multiplier(one, 49), qm(701_219_150, -4)); // ⌊2^35 / 49⌋
        assert_eq!(mean_multiplier(one, 1), one);
        // k is capped by 31 + shift: (2^30, −30) over 49 takes k = 1, ⌊2^31 / 49⌋.
        assert_eq!(mean_multiplier(qm(1 << 30, -30), 49), qm(43_826_196, -31));
        // and by 32: ⌊2^62 / (2^33 + 1)⌋.
        assert_eq!(mean_multiplier(one, (1 << 33) + 1), qm(536_870_911, -31));
        assert_eq!(mean_multiplier(one, 0), one);
        assert_eq!(mean_multiplier(qm(1 << 30, i32::MIN), 7).shift, i32::MIN);
    }

    #[test]
    fn exp_on_negative_values_is_close_to_exp() {
        assert_eq!(exp_on_negative_values_q5(0), i32::MAX);
        for k in 1..(31 << 10) {
            let a = -(k << 16); // Q5.26: −k / 1024
            let got = f64::from(exp_on_negative_values_q5(a)) / TWO_POW_31;
            let want = (f64::from(a) / f64::from(1 << 26)).exp();
            // The Taylor series of degree 4 on [−1/4, 0) is good to (1/8)^5 / 120 ≈ 2.5e-7.
            assert!((got - want).abs() < 3e-7, "exp({}) = {got}, want {want}", f64::from(a) / 67108864.0);
        }
    }

    #[test]
    fn one_over_one_plus_x_is_close() {
        for k in 0..=1000 {
            let a = ((f64::from(k) / 1000.0) * TWO_POW_31).min(f64::from(i32::MAX)) as i32;
            let got = f64::from(one_over_one_plus_x_for_x_in_0_1(a)) / TWO_POW_31;
            let want = 1.0 / (1.0 + f64::from(a) / TWO_POW_31);
            assert!((got - want).abs() < 1e-8, "1/(1+{a}) = {got}, want {want}");
        }
    }

    #[test]
    fn softmax_parameters() {
        // beta · scale · 2^26 = 0.13083284 · 2^26 ≈ 8.78e6 → shift 24; radius floor(31 · 2^26 / 2^24) = 124.
        let s = SoftmaxU8::new(0.13083284, 1.0).unwrap();
        assert_eq!(s.input_left_shift, 24);
        assert_eq!(s.diff_min, -124);
        assert_eq!(s.input_multiplier, quantize_multiplier(f64::from(0.13083284f32) * 67108864.0).multiplier);
        // Capped at 2^31 − 1: shift 31, radius floor(31 · 2^26 / 2^31) = 0.
        let big = SoftmaxU8::new(1e9, 1.0).unwrap();
        assert_eq!((big.input_multiplier, big.input_left_shift, big.diff_min), (i32::MAX, 31, 0));
        assert!(SoftmaxU8::new(1e-9, 1.0).is_err());
        assert!(SoftmaxU8::new(f32::NAN, 1.0).is_err());
        assert!(SoftmaxU8::new(0.1, -1.0).is_err());
        assert!(SoftmaxU8::new(f32::INFINITY, 1.0).is_ok()); // capped, as in TFLite
    }

    #[test]
    fn softmax_edge_rows() {
        let s = SoftmaxU8::new(0.1, 1.0).unwrap();
        let mut out = [7u8; 3];
        s.run(&[], &mut out);
        assert_eq!(out, [7; 3]);
        s.run(&[200], &mut out);
        assert_eq!(out, [255, 7, 7]); // one element: probability 1 saturates to 255
        s.run(&[9, 9], &mut out[..2]);
        assert_eq!(out, [128, 128, 7]);
        let mut short = [0u8; 2];
        s.run(&[0, 0, 0, 255], &mut short); // only the first two are read
        assert_eq!(short, [128, 128]);
        // n equal values: round(256 / n). From n = 512 the final shift exceeds 31 (TFLite: check failure or
        // undefined); it stays an exact rounding here.
        for (n, want) in [(300, 1), (511, 1), (512, 0), (600, 0), (4095, 0)] {
            let mut row = vec![9u8; n];
            s.run(&vec![3u8; n], &mut row);
            assert!(row.iter().all(|&p| p == want), "{n}");
        }
        // 4096 and more overflow the Q12.19 sum: defined, no panic.
        let huge = vec![3u8; 100_000];
        let mut huge_out = vec![0u8; 100_000];
        s.run(&huge, &mut huge_out);
    }

    #[test]
    fn softmax_is_close_to_float_softmax() {
        let mut rng = crate::rng::Rng::new(3);
        let scale = 0.15f32;
        let s = SoftmaxU8::new(scale, 1.0).unwrap();
        let input: Vec<u8> = (0..1001).map(|_| (bits(&mut rng) % 256) as u8).collect();
        let mut out = vec![0u8; input.len()];
        s.run(&input, &mut out);
        let max = f64::from(*input.iter().max().unwrap());
        let exps: Vec<f64> = input.iter().map(|&x| ((f64::from(x) - max) * f64::from(scale)).exp()).collect();
        let sum: f64 = exps.iter().sum();
        for (e, &o) in exps.iter().zip(&out) {
            let want = (e / sum * 256.0).min(255.0);
            assert!((f64::from(o) - want).abs() <= 1.0, "{o} vs {want}");
        }
    }
}
