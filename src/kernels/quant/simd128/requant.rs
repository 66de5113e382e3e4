//! TFLite's MultiplyByQuantizedMultiplier on i32x4, bit-exact: SaturatingRoundingDoublingHighMul in i64 lanes, then
//! RoundingDivideByPOT with gemmlowp's mask/threshold rounding. Per-channel shifts are multiplies (wasm shifts every
//! lane alike); see [`RequantQuad`] for the constants.

use crate::kernels::pack::{RequantLanes, RequantQuad};
use core::arch::wasm32::*;

#[inline(always)]
fn load(a: &[i32; 4]) -> v128 {
    // SAFETY: a [i32; 4] is 16 readable bytes; v128 loads need no alignment.
    unsafe { v128_load(a.as_ptr().cast()) }
}

/// `QuantizedMultiplier::apply` on 4 lanes (4 channels of one quad).
#[inline(always)]
pub fn multiply(acc: v128, q: &RequantQuad, uniform_right: Option<u32>) -> v128 {
    let x = high_mul(i32x4_mul(acc, load(&q.left)), load(&q.multiplier));
    let quotient = match uniform_right {
        Some(e) => i32x4_shr(x, e),
        None => shr_lanes(x, q),
    };
    round_quotient(x, quotient, q)
}

/// SaturatingRoundingDoublingHighMul = floor((a·b + 2^30) / 2^31) (the C++ nudge with its truncating division is
/// the same). Only a = b = i32::MIN overflows: 2^31 wraps to i32::MIN, which no other product gives, and is
/// flipped to i32::MAX as gemmlowp saturates.
#[inline(always)]
fn high_mul(a: v128, b: v128) -> v128 {
    let nudge = i64x2_splat(1 << 30);
    // Bits 31..62 of the sum: a logical shift leaves the same low 32 bits as an arithmetic one.
    let lo = u64x2_shr(i64x2_add(i64x2_extmul_low_i32x4(a, b), nudge), 31);
    let hi = u64x2_shr(i64x2_add(i64x2_extmul_high_i32x4(a, b), nudge), 31);
    let x = i32x4_shuffle::<0, 2, 4, 6>(lo, hi);
    v128_xor(x, i32x4_eq(x, i32x4_splat(i32::MIN)))
}

/// floor(x / 2^e) with its own e per lane: u = x + 2^31 is unsigned, floor(u / 2^e) = high32(u · 2^(32−e)), and
/// 2^(31−e) undoes the bias. Lanes with e = 0 keep x.
#[inline(always)]
fn shr_lanes(x: v128, q: &RequantQuad) -> v128 {
    let u = v128_xor(x, i32x4_splat(i32::MIN));
    let pow = load(&q.pow);
    let high = i32x4_shuffle::<1, 3, 5, 7>(u64x2_extmul_low_u32x4(u, pow), u64x2_extmul_high_u32x4(u, pow));
    v128_bitselect(x, i32x4_sub(high, load(&q.offset)), load(&q.keep))
}

/// RoundingDivideByPOT's rounding: +1 where the remainder exceeds mask/2 (+1 more for negative x), so ties go away
/// from zero.
#[inline(always)]
fn round_quotient(x: v128, quotient: v128, q: &RequantQuad) -> v128 {
    let remainder = v128_and(x, load(&q.mask));
    let threshold = i32x4_sub(load(&q.threshold), i32x4_shr(x, 31));
    i32x4_sub(quotient, i32x4_gt(remainder, threshold))
}

/// `Requantize::output` on 4 lanes: + output zero point (wrapping, as the C++ int32 add), clamped.
#[inline(always)]
pub fn output(acc: v128, q: &RequantQuad, r: &RequantLanes) -> v128 {
    let y = i32x4_add(multiply(acc, q, r.uniform_right), i32x4_splat(r.output_zero_point));
    i32x4_min(i32x4_max(y, i32x4_splat(r.min)), i32x4_splat(r.max))
}

/// 8 requantized outputs of channel block `block` as bytes in the low half. The clamp range lies in [0, 255]
/// (checked at pack time), so the saturating narrows change nothing.
#[inline(always)]
pub fn block_bytes(acc: [v128; 2], r: &RequantLanes, block: usize) -> v128 {
    let a = output(acc[0], &r.quads[2 * block], r);
    let b = output(acc[1], &r.quads[2 * block + 1], r);
    let h = i16x8_narrow_i32x4(a, b);
    u8x16_narrow_i16x8(h, h)
}

/// Writes the low `n` ≤ 8 bytes of `v` to `out`.
#[inline(always)]
pub fn store_bytes(v: v128, out: &mut [u8], n: usize) {
    let bytes = u64x2_extract_lane::<0>(v).to_le_bytes();
    out[..n].copy_from_slice(&bytes[..n]);
}
