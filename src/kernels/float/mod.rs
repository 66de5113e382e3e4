//! The float domain: f32 activations, batch norm folded into filters and biases, a clamp for ReLU6. Every float
//! family reads the one blocked layout of [`pack`], so the plan keeps its layers packed that way and a family
//! binds its kernels to them without copying.

pub mod pack;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

use super::{Domain, Family, Geometry, Kernel, Packed, Work};
use crate::error::Error;
use std::sync::Arc;

pub use pack::{PackedConv, PackedDepthwise, PackedPointwise};

/// The fused activation as a clamp: ReLU6 is [0, 6], none is (-inf, inf).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Clamp {
    pub min: f32,
    pub max: f32,
}

impl Clamp {
    pub const RELU6: Clamp = Clamp { min: 0.0, max: 6.0 };
    pub const NONE: Clamp = Clamp { min: f32::NEG_INFINITY, max: f32::INFINITY };

    pub fn of(activation: crate::arch::Activation) -> Clamp {
        let (min, max) = activation.bounds();
        Clamp { min, max }
    }

    #[inline(always)]
    pub fn apply(self, x: f32) -> f32 {
        x.max(self.min).min(self.max)
    }
}

/// One float layer as the plan keeps it: weights in the shared blocked layout, with the clamp that follows.
#[derive(Clone, Debug, PartialEq)]
pub enum FloatLayer {
    Conv(PackedConv, Clamp),
    Depthwise(PackedDepthwise, Clamp),
    Pointwise(PackedPointwise, Clamp),
    Pool { channels: usize },
}

/// Full convolution (the stem): `input` g.input, `output` g.output.
pub type ConvFn = fn(&Geometry, &PackedConv, &[f32], &mut [f32], Clamp);
/// Depthwise convolution, depth_multiplier 1.
pub type DepthwiseFn = fn(&Geometry, &PackedDepthwise, &[f32], &mut [f32], Clamp);
/// 1x1 convolution over `pixels` pixels (also the logits layer, with one pixel).
pub type PointwiseFn = fn(pixels: usize, &PackedPointwise, &[f32], &mut [f32], Clamp);
/// Mean over `pixels` pixels of `channels` channels into `channels` outputs.
pub type GlobalAvgPoolFn = fn(pixels: usize, channels: usize, &[f32], &mut [f32]);

/// The kernels of one float family. All read the same layout, so a family is its functions.
#[derive(Clone, Copy, Debug)]
pub struct KernelSet {
    pub name: &'static str,
    pub conv: ConvFn,
    pub depthwise: DepthwiseFn,
    pub pointwise: PointwiseFn,
    pub global_avg_pool: GlobalAvgPoolFn,
}

/// The float domain.
#[derive(Clone, Copy, Debug)]
pub struct Float;

static SCALAR: Family<Float> = Family { name: scalar::SCALAR.name, pack: scalar::pack };
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
static SIMD128: Family<Float> = Family { name: simd128::SIMD128.name, pack: simd128::pack };

impl Domain for Float {
    type Elem = f32;
    type Layer = FloatLayer;

    fn families() -> &'static [&'static Family<Float>] {
        crate::kernels::table!(Float: SCALAR, SIMD128)
    }
}

/// The function table of the float family called `name` (tests call the kernels directly).
pub fn kernel_set(name: &str) -> Option<&'static KernelSet> {
    let sets: &[&'static KernelSet] = &[
        &scalar::SCALAR,
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        &simd128::SIMD128,
    ];
    sets.iter().copied().find(|k| k.name == name)
}

/// A float layer bound to a family's kernels: the weights stay where the plan keeps them.
#[derive(Debug)]
struct Bound {
    kernels: &'static KernelSet,
    layer: Arc<FloatLayer>,
}

pub(crate) fn bind(kernels: &'static KernelSet, layer: &Arc<FloatLayer>) -> Result<Packed<f32>, Error> {
    Ok(Arc::new(Bound { kernels, layer: Arc::clone(layer) }))
}

impl Kernel<f32> for Bound {
    fn run(&self, work: Work, src: &[f32], dst: &mut [f32]) {
        let k = self.kernels;
        match (&*self.layer, work) {
            (FloatLayer::Conv(w, c), Work::Window(g)) => (k.conv)(&g, w, src, dst, *c),
            (FloatLayer::Depthwise(w, c), Work::Window(g)) => (k.depthwise)(&g, w, src, dst, *c),
            (FloatLayer::Pointwise(w, c), Work::Pixels(n)) => (k.pointwise)(n, w, src, dst, *c),
            (FloatLayer::Pool { channels }, Work::Pixels(n)) => (k.global_avg_pool)(n, *channels, src, dst),
            // The plan pairs windowed layers with windows and the others with pixel counts.
            (_, work) => unreachable!("{work:?} for another kind of layer"),
        }
    }
}
