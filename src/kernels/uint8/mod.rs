//! The uint8 domain: uint8 activations, centered int16 weights, int32 accumulators, requantized exactly as
//! TFLite's reference kernels do. Int8 models run here too, shifted by 128 (x − zero_point is unchanged when both
//! move by 128). The plan keeps each layer's weights in TF's layout ([`QuantLayer`]); the scalar family reads them
//! as they are, the SIMD128 family packs its own lanes ([`lanes`]) from them.

pub mod lanes;
pub mod scalar;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub mod simd128;

use super::{Domain, Family};
use crate::error::Error;
use crate::quant::{PoolQ, Requantize};
use crate::weights::QuantLayer;

/// One quantized layer as the plan keeps it.
#[derive(Clone, Debug, PartialEq)]
pub enum Uint8Layer {
    Conv(QuantLayer),
    Depthwise(QuantLayer),
    Pointwise(QuantLayer),
    Pool { channels: usize, pool: PoolQ },
}

/// The uint8 domain.
#[derive(Clone, Copy, Debug)]
pub struct Uint8;

static SCALAR: Family<Uint8> = Family { name: "scalar-u8", pack: scalar::pack };
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
static SIMD128: Family<Uint8> = Family { name: "simd128-u8", pack: simd128::pack };

impl Domain for Uint8 {
    type Elem = u8;
    type Layer = Uint8Layer;

    fn families() -> &'static [&'static Family<Uint8>] {
        crate::kernels::table!(Uint8: SCALAR, SIMD128)
    }
}

/// Checks what every family relies on: sizes that match the filter shape, a square kernel, 1x1 pointwise and
/// depth_multiplier-1 depthwise filters, and a zero point and clamp range that are bytes (outputs narrow to bytes,
/// and padded taps read the zero point as one).
pub fn check(layer: &Uint8Layer) -> Result<(), Error> {
    let (f, out) = match layer {
        Uint8Layer::Pool { .. } => return Ok(()),
        Uint8Layer::Conv(f) | Uint8Layer::Pointwise(f) => (f, f.filter_shape[3]),
        Uint8Layer::Depthwise(f) => (f, f.filter_shape[2] * f.filter_shape[3]),
    };
    let shape = f.filter_shape;
    let r = &f.requantize;
    let n: usize = shape.iter().product();
    if f.filter.len() != n || f.bias.len() != out || r.multipliers.len() != out {
        return Err(Error::shape(format!(
            "quantized layer {shape:?}: {} weights, {} biases, {} multipliers for {out} channels",
            f.filter.len(),
            f.bias.len(),
            r.multipliers.len()
        )));
    }
    let [kh, kw, _, mult] = shape;
    let fits = match layer {
        Uint8Layer::Conv(_) => kh == kw && kh > 0,
        Uint8Layer::Depthwise(_) => kh == kw && kh > 0 && mult == 1,
        _ => (kh, kw) == (1, 1),
    };
    if !fits {
        return Err(Error::shape(format!("the integer kernels do not take a {shape:?} filter for this op")));
    }
    check_bytes(&f.requantize)
}

/// Padded taps read the input zero point as a byte; outputs narrow to bytes with saturation, exact only when the
/// clamp range already lies in [0, 255]. TFLite's uint8 (and shifted int8) ranges always do.
pub(crate) fn check_bytes(r: &Requantize) -> Result<(), Error> {
    let byte = 0..=255;
    if !(byte.contains(&r.input_zero_point) && byte.contains(&r.min) && byte.contains(&r.max) && r.min <= r.max) {
        return Err(Error::shape(format!(
            "quantized layer: input zero point {} and clamp [{}, {}] must be bytes",
            r.input_zero_point, r.min, r.max
        )));
    }
    Ok(())
}
