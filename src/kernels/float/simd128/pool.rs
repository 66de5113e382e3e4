//! Global average pool, vectorized over channels: each group of 4 channels sums its column of pixels in
//! a register, in the scalar twin's order (0 + x0 + x1 + …, then / pixels, as TFLite's reference divides).

use core::arch::wasm32::*;

pub fn global_avg_pool(pixels: usize, channels: usize, input: &[f32], output: &mut [f32]) {
    assert!(input.len() >= pixels * channels && output.len() >= channels, "pool buffers too small");
    let n = pixels.max(1) as f32;
    let mut ch = 0;
    while ch + 4 <= channels {
        let mut acc = f32x4_splat(0.0);
        for px in 0..pixels {
            // SAFETY: px < pixels and ch + 4 ≤ channels, inside the asserted input.
            acc = f32x4_add(acc, unsafe { v128_load(input.as_ptr().add(px * channels + ch).cast()) });
        }
        // SAFETY: ch + 4 ≤ channels ≤ output.len().
        unsafe { v128_store(output.as_mut_ptr().add(ch).cast(), f32x4_div(acc, f32x4_splat(n))) };
        ch += 4;
    }
    for ch in ch..channels {
        let sum = (0..pixels).fold(0.0, |s, px| s + input[px * channels + ch]);
        output[ch] = sum / n;
    }
}
