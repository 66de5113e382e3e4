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

use super::KernelSet;

pub static SCALAR: KernelSet = KernelSet { name: "scalar", conv, depthwise, pointwise, global_avg_pool };

/// The input row (or column) that tap `k` of output `o` reads, or None on padding.
#[inline(always)]
pub(crate) fn source(o: usize, k: usize, stride: usize, rate: usize, pad: usize, size: usize) -> Option<usize> {
    (o * stride + k * rate).checked_sub(pad).filter(|&i| i < size)
}
