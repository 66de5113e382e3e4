//! Plain loops over the packed layouts: the reference for every faster kernel family, and what runs
//! where SIMD is not available.

mod conv;
mod depthwise;
mod pointwise;
mod pool;

pub use conv::conv;
pub use depthwise::depthwise;
pub use pointwise::pointwise;
pub use pool::global_avg_pool;

use super::pack::BLOCK;
use super::{Clamp, FloatLayer, KernelSet};
use crate::error::Error;
use crate::kernels::Packed;
use std::sync::Arc;

pub static SCALAR: KernelSet = KernelSet { name: "scalar", conv, depthwise, pointwise, global_avg_pool };

/// Binds a layer to these kernels (they read the shared layout as it is).
pub fn pack(layer: &Arc<FloatLayer>) -> Result<Packed<f32>, Error> {
    super::bind(&SCALAR, layer)
}

/// A block's sums start at zero; the bias is added after them, as TFLite's reference kernels do.
#[inline(always)]
fn zero() -> [f32; BLOCK] {
    [0.0; BLOCK]
}

/// Row `r` of a packed block's weights (after its biases).
#[inline(always)]
fn row(block: &[f32], r: usize) -> &[f32] {
    &block[(r + 1) * BLOCK..][..BLOCK]
}

/// acc += x·w, lane by lane.
#[inline(always)]
fn madd(acc: &mut [f32; BLOCK], x: f32, w: &[f32]) {
    acc.iter_mut().zip(w).for_each(|(a, w)| *a += x * w);
}

/// Writes the block's real channels (`out` may be shorter than a block): sum + bias (the block's head), clamped.
#[inline(always)]
fn store(out: &mut [f32], acc: &[f32; BLOCK], block: &[f32], clamp: Clamp) {
    out.iter_mut().zip(acc).zip(&block[..BLOCK]).for_each(|((o, a), b)| *o = clamp.apply(*a + *b));
}
