//! ReLU6 = min(max(x, 0), 6): MobileNet's activation, kept bounded for low-precision inference.

use crate::tensor::Tensor;

#[inline]
pub fn relu6_scalar(x: f32) -> f32 {
    x.clamp(0.0, 6.0)
}

pub fn relu6_in_place(data: &mut [f32]) {
    data.iter_mut().for_each(|v| *v = relu6_scalar(*v));
}

pub fn relu6(t: &Tensor) -> Tensor {
    let mut out = t.clone();
    relu6_in_place(&mut out.data);
    out
}
