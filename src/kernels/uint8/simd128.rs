//! SIMD128 integer kernels, equal byte for byte to [`super::scalar`]: the same int32 sums (input zero points folded
//! into the biases at pack time, so inner loops multiply raw bytes) and TFLite's requantization on 4 lanes at once.
//! Layouts come from [`super::lanes`] (`ConvQLanes`, `PointwiseQLanes`, `DepthwiseQLanes`, `RequantLanes`).
//!
//! Vector loads take raw pointers: each one is derived from a slice sliced (bounds-checked) to cover every byte the
//! loads read, or from a tap pointer whose bounds the depthwise kernel establishes per pixel (see the SAFETY
//! comments). Layers outside what the vector paths hold (kernels above 5x5, conv patches above 128 bytes, 1x1
//! layers above 16 K inputs) and the pool (one add per input byte, cheap next to the layers around it) are packed
//! for the scalar kernels instead: [`pack`] chooses per layer.

mod conv;
mod depthwise;
mod pointwise;
mod requant;

use super::lanes::{ConvQLanes, DepthwiseQLanes, PointwiseQLanes, RequantLanes};
use super::{check, scalar, Uint8Layer};
use crate::error::Error;
use crate::kernels::{Kernel, Packed, Work};
use std::sync::Arc;

/// Packs a layer into this family's lanes, or for the scalar kernels where the vector paths do not hold it.
pub fn pack(layer: &Arc<Uint8Layer>) -> Result<Packed<u8>, Error> {
    check(layer)?;
    Ok(match &**layer {
        Uint8Layer::Conv(f) if conv::fits(f) => Arc::new(Conv(ConvQLanes::from_layer(f)?)),
        Uint8Layer::Depthwise(f) if depthwise::fits(f) => Arc::new(Depthwise(DepthwiseQLanes::from_layer(f)?)),
        Uint8Layer::Pointwise(f) if pointwise::fits(f) => Arc::new(Pointwise(PointwiseQLanes::from_layer(f)?)),
        _ => return scalar::pack(layer),
    })
}

#[derive(Debug)]
struct Conv(ConvQLanes);
#[derive(Debug)]
struct Depthwise(DepthwiseQLanes);
#[derive(Debug)]
struct Pointwise(PointwiseQLanes);

impl Kernel<u8> for Conv {
    fn run(&self, work: Work, src: &[u8], dst: &mut [u8]) {
        let Work::Window(g) = work else { unreachable!("{work:?} for a conv") };
        conv::conv(&g, &self.0, src, dst);
    }
}

impl Kernel<u8> for Depthwise {
    fn run(&self, work: Work, src: &[u8], dst: &mut [u8]) {
        let Work::Window(g) = work else { unreachable!("{work:?} for a depthwise conv") };
        depthwise::depthwise(&g, &self.0, src, dst);
    }
}

impl Kernel<u8> for Pointwise {
    fn run(&self, work: Work, src: &[u8], dst: &mut [u8]) {
        let Work::Pixels(n) = work else { unreachable!("{work:?} for a 1x1 conv") };
        pointwise::pointwise(n, &self.0, src, dst);
    }
}

/// The general vector requantization of channels 4·quad .. 4·quad + 4, without zero point or clamp: equal to
/// [`crate::quant::QuantizedMultiplier::apply`] lane by lane (tests compare the two in the browser).
pub fn multiply_lanes(r: &RequantLanes, quad: usize, acc: [i32; 4]) -> [i32; 4] {
    use core::arch::wasm32::*;
    use requant::Requant;
    let v = requant::PerChannel::new(r).multiply(i32x4(acc[0], acc[1], acc[2], acc[3]), quad);
    [i32x4_extract_lane::<0>(v), i32x4_extract_lane::<1>(v), i32x4_extract_lane::<2>(v), i32x4_extract_lane::<3>(v)]
}

/// The output bytes of channels 8·block .. 8·block + 8 as the kernels make them (each layer's cheapest strategy):
/// tests compare them with the scalar requantization, zero point and clamp.
pub fn bytes_lanes(r: &RequantLanes, block: usize, acc: [i32; 8]) -> [u8; 8] {
    use core::arch::wasm32::*;
    use requant::Requant;
    let v = [i32x4(acc[0], acc[1], acc[2], acc[3]), i32x4(acc[4], acc[5], acc[6], acc[7])];
    let bytes = requant::with_requant!(r, |q| q.bytes(v, block));
    u64x2_extract_lane::<0>(bytes).to_le_bytes()
}
