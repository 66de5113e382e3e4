//! The hot loops the engine runs, behind one seam: a [`KernelSet`] of function pointers. The engine
//! never calls a kernel by name, so a faster family (SIMD128, quantized) slots in by providing another
//! set, and tests can run two sets side by side on the same data.
//!
//! Kernels work on raw NHWC slices (batch 1) and weights laid out by [`pack`]; they know nothing of
//! MobileNet, TFLite or JS. They trust their arguments: the engine checks every size once at plan time.

pub mod pack;
pub mod quant;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

use crate::arch::Hwc;
pub use pack::{PackedConv, PackedDepthwise, PackedPointwise};

/// Where a windowed kernel reads: input/output shapes, square kernel size, stride, dilation rate and the
/// SAME padding before the first row and column (TF's floor(total / 2)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub input: Hwc,
    pub output: Hwc,
    pub kernel: usize,
    pub stride: usize,
    pub rate: usize,
    pub pad_top: usize,
    pub pad_left: usize,
}

/// The fused activation as a clamp: ReLU6 is [0, 6], none is (-inf, inf).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
}

impl Clamp {
    pub const RELU6: Clamp = Clamp { min: 0.0, max: 6.0 };
    pub const NONE: Clamp = Clamp { min: f32::NEG_INFINITY, max: f32::INFINITY };

    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        x.max(self.min).min(self.max)
    }
}

/// Full convolution (the stem): `input` g.input, `output` g.output.
pub type ConvFn = fn(&Geometry, &PackedConv, &[f32], &mut [f32], Clamp);
/// Depthwise convolution, depth_multiplier 1.
pub type DepthwiseFn = fn(&Geometry, &PackedDepthwise, &[f32], &mut [f32], Clamp);
/// 1x1 convolution over `pixels` pixels (also the logits layer, with one pixel).
pub type PointwiseFn = fn(pixels: usize, &PackedPointwise, &[f32], &mut [f32], Clamp);
/// Mean over `pixels` pixels of `channels` channels into `channels` outputs.
pub type GlobalAvgPoolFn = fn(pixels: usize, channels: usize, &[f32], &mut [f32]);

/// One family of kernels; the engine holds a `&'static KernelSet`.
#[derive(Clone, Copy, Debug)]
pub struct KernelSet {
    pub name: &'static str,
    pub conv: ConvFn,
    pub depthwise: DepthwiseFn,
    pub pointwise: PointwiseFn,
    pub global_avg_pool: GlobalAvgPoolFn,
}

/// The fastest set this build has: SIMD128 on wasm builds with `+simd128` (named "relaxed-simd128" when
/// also built with `+relaxed-simd`), scalar elsewhere.
pub fn best() -> &'static KernelSet {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    return &simd128::SIMD128;
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    return &scalar::SCALAR;
}

/// Every set this build can run, the reference first; kernel tests check each against the reference ops.
pub fn all() -> Vec<&'static KernelSet> {
    vec![
        &scalar::SCALAR,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        &simd128::SIMD128,
    ]
}

/// The set called `name` ("scalar", and "simd128" or "relaxed-simd128"), if this build has it.
pub fn named(name: &str) -> Option<&'static KernelSet> {
    all().into_iter().find(|k| k.name == name)
}
