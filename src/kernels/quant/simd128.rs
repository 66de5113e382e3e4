//! SIMD128 integer kernels, equal byte for byte to [`super::scalar`]: the same int32 sums (input zero points folded
//! into the biases at pack time, so inner loops multiply raw bytes) and TFLite's requantization on 4 lanes at once.
//! Layouts come from [`crate::kernels::pack`] (`PointwiseQLanes`, `DepthwiseQLanes`, `RequantLanes`).
//!
//! Vector loads take raw pointers: each one is derived from a slice sliced (bounds-checked) to cover every byte the
//! loads read, or from a tap pointer whose bounds the depthwise kernel establishes per pixel (see the SAFETY
//! comments). Layers outside what the vector paths hold (kernels above 5x5, conv patches above 128 bytes, 1x1
//! layers above 16 K inputs) run the scalar kernels.

mod conv;
mod depthwise;
mod pointwise;
mod requant;

use super::{scalar, QuantKernelSet};
use crate::kernels::pack::RequantLanes;

pub static SIMD128_Q: QuantKernelSet = QuantKernelSet {
    name: "simd128-u8",
    conv: conv::conv,
    depthwise: depthwise::depthwise,
    pointwise: pointwise::pointwise,
    // One add per input byte: the scalar loop is cheap next to the layers around it.
    global_avg_pool: scalar::global_avg_pool,
};

/// The vector requantization of channels 4·quad .. 4·quad + 4, without zero point or clamp: equal to
/// [`crate::quant::QuantizedMultiplier::apply`] lane by lane (tests compare the two in the browser).
/// Takes the per-tensor path when `r` has one, as the kernels do.
pub fn multiply_lanes(r: &RequantLanes, quad: usize, acc: [i32; 4]) -> [i32; 4] {
    use core::arch::wasm32::*;
    use requant::Requant;
    let v = i32x4(acc[0], acc[1], acc[2], acc[3]);
    let v = requant::with_requant!(r, |q| q.multiply(v, quad));
    [i32x4_extract_lane::<0>(v), i32x4_extract_lane::<1>(v), i32x4_extract_lane::<2>(v), i32x4_extract_lane::<3>(v)]
}
