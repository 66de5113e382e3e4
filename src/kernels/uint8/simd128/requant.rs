//! TFLite's MultiplyByQuantizedMultiplier on i32x4, bit-exact, then zero point and clamp. Two strategies behind
//! [`Requant`]: [`PerTensor`] is the layer-wide case whose clamp removes every negative result (the ReLU and ReLU6
//! layers of the official models), where both of TFLite's roundings fold into one 64-bit floor shift; [`PerChannel`]
//! is the general one: SaturatingRoundingDoublingHighMul in i64 lanes, then RoundingDivideByPOT with gemmlowp's
//! mask/threshold rounding, each quad with its own constants (per-lane shifts turned into multiplies, see
//! `RequantQuad`).

use crate::kernels::uint8::lanes::{RequantLanes, RequantQuad};
use core::arch::wasm32::*;

/// Turns the int32 sums of one block of 8 channels into 8 output bytes.
pub trait Requant: Copy {
    /// The 4 channels of `quad` scaled: `multiply(acc) + bounds()[0]` is `QuantizedMultiplier::apply(acc)` plus the
    /// output zero point wherever the clamp keeps the difference (exactly so for [`PerChannel`]).
    fn multiply(self, acc: v128, quad: usize) -> v128;
    /// The zero point (i32 lanes, with any offset of `multiply` taken out) and the clamp bounds (i16 lanes).
    fn bounds(self) -> [v128; 3];

    /// 8 outputs of `block` in the low 8 bytes. The zero point adds in i32 with wrapping, as the C++ int32 add on
    /// two's complement hardware. The clamp happens after the saturating narrow to i16, on 8 lanes at once: the
    /// narrow keeps the order and [min, max] lies in [0, 255] (checked at pack time), so the result is the i32
    /// clamp's. The bytes are then the low halves of the i16 lanes: a shuffle, where a narrow would make LLVM clamp
    /// once more.
    #[inline(always)]
    fn bytes(self, acc: [v128; 2], block: usize) -> v128 {
        let [zero_point, min, max] = self.bounds();
        let lo = i32x4_add(self.multiply(acc[0], 2 * block), zero_point);
        let hi = i32x4_add(self.multiply(acc[1], 2 * block + 1), zero_point);
        let h = i16x8_min(i16x8_max(i16x8_narrow_i32x4(lo, hi), min), max);
        i8x16_shuffle::<0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14>(h, h)
    }
}

/// Calls `body` with the cheapest strategy for `r` (each kernel is instantiated for both).
macro_rules! with_requant {
    ($r:expr, |$q:ident| $body:expr) => {
        match $crate::kernels::uint8::simd128::requant::PerTensor::new($r) {
            Some($q) => $body,
            None => {
                let $q = $crate::kernels::uint8::simd128::requant::PerChannel::new($r);
                $body
            }
        }
    };
}
pub(crate) use with_requant;

/// One multiplier M for the whole layer, no left shift, a right shift e in 1..=31, and a clamp whose lower bound is at
/// or above the zero point. TFLite computes y = SRDHM(a, M) = floor((a·M + 2^30) / 2^31), then z = RDBPOT(y, e),
/// which is floor((y + 2^(e−1)) / 2^e) for y ≥ 0. Nested floors of divisions by powers of two are one floor, so
/// z = floor((a·M + 2^30 + 2^(30+e)) / 2^(31+e)): one 64-bit add and shift. For y < 0 this can differ from TFLite's
/// rounding (ties), but both are then ≤ 0, so both outputs are ≤ the zero point and clamp to the same lower bound.
/// |a·M| < 2^62, so adding 2^62 makes the sum a u64 and the shift a logical one (V8 has no cheap i64x2 arithmetic
/// shift); the 2^(31−e) it leaves in the quotient is taken out of the zero point.
#[derive(Clone, Copy)]
pub struct PerTensor {
    multiplier: v128,
    nudge: v128,
    shift: u32,
    bounds: [v128; 3],
}

impl PerTensor {
    pub fn new(r: &RequantLanes) -> Option<Self> {
        let (multiplier, left, right) = r.per_tensor?;
        if left != 0 || !(1..=31).contains(&right) || r.min < r.output_zero_point {
            return None;
        }
        let nudge = (1u64 << 62) + (1 << 30) + (1 << (30 + right));
        let zero_point = r.output_zero_point.wrapping_sub(1 << (31 - right));
        let [_, min, max] = bounds(r);
        Some(PerTensor {
            multiplier: i32x4_splat(multiplier),
            nudge: u64x2_splat(nudge),
            shift: 31 + right,
            bounds: [i32x4_splat(zero_point), min, max],
        })
    }
}

impl Requant for PerTensor {
    #[inline(always)]
    fn multiply(self, acc: v128, _quad: usize) -> v128 {
        let m = opaque(&self.multiplier);
        let lo = u64x2_shr(i64x2_add(i64x2_extmul_low_i32x4(acc, m), self.nudge), self.shift);
        let hi = u64x2_shr(i64x2_add(i64x2_extmul_high_i32x4(acc, m), self.nudge), self.shift);
        i32x4_shuffle::<0, 2, 4, 6>(lo, hi)
    }

    #[inline(always)]
    fn bounds(self) -> [v128; 3] {
        self.bounds
    }
}

/// Each quad's own multipliers and shifts.
#[derive(Clone, Copy)]
pub struct PerChannel<'a> {
    quads: &'a [RequantQuad],
    bounds: [v128; 3],
}

impl<'a> PerChannel<'a> {
    pub fn new(r: &'a RequantLanes) -> Self {
        PerChannel { quads: &r.quads, bounds: bounds(r) }
    }
}

impl Requant for PerChannel<'_> {
    #[inline(always)]
    fn multiply(self, acc: v128, quad: usize) -> v128 {
        let q = &self.quads[quad];
        let x = high_mul(i32x4_mul(acc, load(&q.left)), opaque_lanes(&q.multiplier));
        // The one overflow of the high multiply, MIN·MIN → 2^31, wraps to i32::MIN, which no other product gives:
        // flipped to i32::MAX as gemmlowp saturates.
        let x = v128_xor(x, i32x4_eq(x, i32x4_splat(i32::MIN)));
        round(x, shr_lanes(x, opaque_lanes(&q.pow), q), load(&q.mask), load(&q.threshold))
    }

    #[inline(always)]
    fn bounds(self) -> [v128; 3] {
        self.bounds
    }
}

/// The operand of an extending multiply, loaded afresh at each use. A multiplier shared by several multiplies gets
/// one sign extension, hoisted or reused, and LLVM then emits i64x2.mul (V8 expands it to about 8 instructions)
/// instead of i64x2.extmul (one or two); a volatile load cannot be hoisted or shared, and costs a load, not an ALU op.
#[inline(always)]
fn opaque(v: &v128) -> v128 {
    // SAFETY: a reference to a v128 is valid and aligned for reading one.
    unsafe { core::ptr::read_volatile(v) }
}

/// [`opaque`] for 4 lanes of a [`RequantQuad`].
#[inline(always)]
fn opaque_lanes(a: &[i32; 4]) -> v128 {
    // SAFETY: 16 readable bytes; RequantQuad is 16-aligned and each of its fields is 16 bytes, so every field is.
    unsafe { core::ptr::read_volatile(a.as_ptr().cast::<v128>()) }
}

fn bounds(r: &RequantLanes) -> [v128; 3] {
    // min and max are bytes (pack time), so they fit i16.
    [i32x4_splat(r.output_zero_point), i16x8_splat(r.min as i16), i16x8_splat(r.max as i16)]
}

#[inline(always)]
fn load(a: &[i32; 4]) -> v128 {
    // SAFETY: a [i32; 4] is 16 readable bytes; v128 loads need no alignment.
    unsafe { v128_load(a.as_ptr().cast()) }
}

/// SaturatingRoundingDoublingHighMul without the saturation: floor((a·b + 2^30) / 2^31) (the C++ nudge with its
/// truncating division is the same), as the low 32 bits.
#[inline(always)]
fn high_mul(a: v128, b: v128) -> v128 {
    let nudge = i64x2_splat(1 << 30);
    // Bits 31..62 of the sum: a logical shift leaves the same low 32 bits as an arithmetic one.
    let lo = u64x2_shr(i64x2_add(i64x2_extmul_low_i32x4(a, b), nudge), 31);
    let hi = u64x2_shr(i64x2_add(i64x2_extmul_high_i32x4(a, b), nudge), 31);
    i32x4_shuffle::<0, 2, 4, 6>(lo, hi)
}

/// floor(x / 2^e) with its own e per lane: u = x + 2^31 is unsigned, floor(u / 2^e) = high32(u · 2^(32−e)), and
/// 2^(31−e) undoes the bias. Lanes with e = 0 keep x.
#[inline(always)]
fn shr_lanes(x: v128, pow: v128, q: &RequantQuad) -> v128 {
    let u = v128_xor(x, i32x4_splat(i32::MIN));
    let high = i32x4_shuffle::<1, 3, 5, 7>(u64x2_extmul_low_u32x4(u, pow), u64x2_extmul_high_u32x4(u, pow));
    v128_bitselect(x, i32x4_sub(high, load(&q.offset)), load(&q.keep))
}

/// RoundingDivideByPOT's rounding of a quotient: +1 where the remainder exceeds mask/2 (+1 more for negative x), so
/// ties go away from zero.
#[inline(always)]
fn round(x: v128, quotient: v128, mask: v128, threshold: v128) -> v128 {
    let remainder = v128_and(x, mask);
    i32x4_sub(quotient, i32x4_gt(remainder, i32x4_sub(threshold, i32x4_shr(x, 31))))
}

/// Writes the low `n` ≤ 8 bytes of `v` to `out`: a whole block as one fixed-size store, a tail byte by byte.
#[inline(always)]
pub fn store_bytes(v: v128, out: &mut [u8], n: usize) {
    let bytes = u64x2_extract_lane::<0>(v).to_le_bytes();
    if n == bytes.len() {
        out[..8].copy_from_slice(&bytes);
    } else {
        out.iter_mut().zip(&bytes[..n]).for_each(|(o, &b)| *o = b);
    }
}
