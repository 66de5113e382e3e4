//! The hot loops the engine runs, in families. A [`Family`] owns its layouts: it packs one layer's weights (as
//! the plan keeps them) into whatever its kernels read, and hands back a [`Kernel`] that runs that layer. The
//! engine never sees a layout, so a faster family slots in by packing differently (XNNPACK's configs pick a
//! kernel together with its tile parameters; RTen's GEMM kernels pack their own operands).
//!
//! Two number domains: [`Float`] (f32 activations, batch norm folded) and [`Uint8`] (uint8 activations,
//! TFLite's integer arithmetic; int8 models run shifted into uint8). [`families`] is the one table of which
//! families this build has, per domain.
//!
//! Kernels work on raw NHWC slices (batch 1); they know nothing of MobileNet, TFLite or JS. They trust their
//! arguments: packing checks every size once, at plan time.

pub mod float;
pub mod uint8;

use crate::arch::Hwc;
use crate::error::Error;
use std::fmt::Debug;
use std::sync::Arc;

pub use self::float::{Float, FloatLayer};
pub use self::uint8::{Uint8, Uint8Layer};

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

/// What one call of a layer's kernel covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    /// A windowed layer (conv, depthwise) on this geometry (a band of the layer's rows, or all of them).
    Window(Geometry),
    /// A 1x1 layer or a pool over this many pixels.
    Pixels(usize),
}

/// A number domain: its activation element and one layer's weights as a plan keeps them (an enum over the ops,
/// defined by the domain), the one copy every family of the domain packs from.
pub trait Domain: Sized + 'static {
    type Elem: Copy + Default + Debug + Send + Sync + 'static;
    /// One layer's op and weights.
    type Layer: Debug + Send + Sync;
    /// The families this build has, the reference (scalar) first and the fastest last.
    fn families() -> &'static [&'static Family<Self>];
}

/// A layer packed for one family, ready to run any unit of its work.
pub trait Kernel<E>: Send + Sync {
    /// Runs `work`: `src` and `dst` are exactly the input the unit reads and the output it writes.
    fn run(&self, work: Work, src: &[E], dst: &mut [E]);
}

/// A packed layer, shared by clones of a plan (packed weights never change after packing).
pub type Packed<E> = Arc<dyn Kernel<E>>;

/// Lays one kept layer out for a family's kernels.
pub type PackFn<D> = fn(&Arc<<D as Domain>::Layer>) -> Result<Packed<<D as Domain>::Elem>, Error>;

/// One family of kernels for domain `D`: a name and how it packs a layer.
pub struct Family<D: Domain> {
    pub name: &'static str,
    pub pack: PackFn<D>,
}

impl<D: Domain> Debug for Family<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The one selection table: a domain's scalar family, then its SIMD128 family where the build has `+simd128`.
macro_rules! table {
    ($domain:ty: $scalar:ident, $simd:ident) => {{
        const TABLE: &[&$crate::kernels::Family<$domain>] = &[
            &$scalar,
            #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
            &$simd,
        ];
        TABLE
    }};
}
pub(crate) use table;

/// Every family of domain `D` in this build, the reference first.
pub fn families<D: Domain>() -> &'static [&'static Family<D>] {
    D::families()
}

/// The fastest family of domain `D` in this build: SIMD128 on wasm builds with `+simd128`, scalar elsewhere.
pub fn best<D: Domain>() -> &'static Family<D> {
    let all = D::families();
    all[all.len() - 1]
}

/// The family of domain `D` called `name`, if this build has it.
pub fn named<D: Domain>(name: &str) -> Option<&'static Family<D>> {
    D::families().iter().copied().find(|f| f.name == name)
}

/// The input row (or column) that tap `k` of output `o` reads, or None on padding.
#[inline(always)]
pub(crate) fn source(o: usize, k: usize, stride: usize, rate: usize, pad: usize, size: usize) -> Option<usize> {
    (o * stride + k * rate).checked_sub(pad).filter(|&i| i < size)
}
