//! Whether `f32x4.relaxed_madd` fuses on this machine, probed once at run time as XNNPACK's hardware
//! config does (`use_wasm_fma`). The engine lowers it to one FMA where the CPU has one (x86 with FMA3, every
//! arm64), else to a multiply then an add, which needs a temporary register per tile row: the taller
//! pointwise tile then spills (measured in Chromium 156 on Zen 3: the unfused 6x8 ran 1.6x slower than 4x8,
//! the fused one 5% faster). Plain builds have no relaxed instruction, so their answer is always no.

#[cfg(target_feature = "relaxed-simd")]
use core::sync::atomic::{AtomicU8, Ordering::Relaxed};

#[cfg(target_feature = "relaxed-simd")]
static FUSED: AtomicU8 = AtomicU8::new(UNKNOWN);
#[cfg(target_feature = "relaxed-simd")]
const UNKNOWN: u8 = 0;

/// True when this machine fuses relaxed multiply-adds (always false in plain builds).
#[cfg(not(target_feature = "relaxed-simd"))]
pub fn fused() -> bool {
    false
}

/// True when this machine fuses relaxed multiply-adds (probed on the first call, then cached).
#[cfg(target_feature = "relaxed-simd")]
pub fn fused() -> bool {
    match FUSED.load(Relaxed) {
        UNKNOWN => {
            let fused = probe();
            FUSED.store(1 + fused as u8, Relaxed);
            fused
        }
        answer => answer == 2,
    }
}

/// (1 + 2^-23)(1 - 2^-23) - 1 is -2^-46 with one rounding, but 0 after the product rounds to 1.
/// The inputs pass through `black_box` so the compiler cannot fold the instruction to either answer.
#[cfg(target_feature = "relaxed-simd")]
fn probe() -> bool {
    use core::arch::wasm32::*;
    use core::hint::black_box;
    let a = f32x4_splat(black_box(1.0 + f32::EPSILON));
    let b = f32x4_splat(black_box(1.0 - f32::EPSILON));
    let c = f32x4_splat(black_box(-1.0));
    f32x4_extract_lane::<0>(f32x4_relaxed_madd(a, b, c)) != 0.0
}
