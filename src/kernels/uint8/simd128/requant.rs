//! TFLite's MultiplyByQuantizedMultiplier on i32x4, bit-exact: SaturatingRoundingDoublingHighMul in i64 lanes, then
//! RoundingDivideByPOT with gemmlowp's mask/threshold rounding, then zero point and clamp. Two strategies behind
//! [`Requant`]: [`PerTensor`] keeps one layer-wide set of constants in registers and shifts plainly; [`PerChannel`]
//! loads each quad's constants and turns the per-lane shifts into multiplies (see `RequantQuad`).

use crate::kernels::uint8::lanes::{RequantLanes, RequantQuad};
use core::arch::wasm32::*;

/// Turns the int32 sums of one block of 8 channels into 8 output bytes.
pub trait Requant: Copy {
    /// `QuantizedMultiplier::apply` on the 4 channels of `quad`.
    fn multiply(self, acc: v128, quad: usize) -> v128;
    /// The zero point (i32 lanes) and the clamp bounds (i16 lanes), as splats.
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

/// One multiplier and shift for the whole layer, never i32::MIN (so the high multiply cannot saturate).
#[derive(Clone, Copy)]
pub struct PerTensor {
    multiplier: v128,
    left: u32,
    right: u32,
    mask: v128,
    threshold: v128,
    bounds: [v128; 3],
}

impl PerTensor {
    pub fn new(r: &RequantLanes) -> Option<Self> {
        let (multiplier, left, right) = r.per_tensor?;
        let mask = ((1u32 << right) - 1) as i32;
        Some(PerTensor {
            multiplier: i32x4_splat(multiplier),
            left,
            right,
            mask: i32x4_splat(mask),
            threshold: i32x4_splat(mask >> 1),
            bounds: bounds(r),
        })
    }
}

impl Requant for PerTensor {
    #[inline(always)]
    fn multiply(self, acc: v128, _quad: usize) -> v128 {
        // Shifts are below 32 (pack time), so the vector shifts equal the scalar ones; the left one wraps as C++.
        let x = high_mul(i32x4_shl(acc, self.left), opaque(&self.multiplier));
        round(x, i32x4_shr(x, self.right), self.mask, self.threshold)
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
