//! The worked example: `tf.nn.conv2d`, `tf.nn.depthwise_conv2d` and `tf.nn.separable_conv2d` on small
//! tensors, by the reference ops (src/ops), so a page can show every number of the seed's example and
//! recompute them as the reader edits them. Small on purpose: it ships in the engine's .wasm.

use super::{js_error, to_js};
use crate::error::{Error, Real};
use crate::ops::{conv2d, depthwise_conv2d, separable_conv2d, ConvOptions, Padding};
use crate::tensor::{Shape, Tensor};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// The largest size of any one dimension (and of the stride).
pub const WORKED_MAX_DIM: usize = 64;
/// The most values any one tensor may hold; with it no op of the example exceeds 16M multiply-adds.
pub const WORKED_MAX_VALUES: usize = 4096;

/// One op's output as `tf.nn` returns it: NHWC shape and the values in that order.
#[derive(Serialize, Debug, PartialEq)]
pub struct WorkedOutput {
    pub shape: [u32; 4],
    pub data: Vec<f32>,
}

/// Multiply-adds of each op: `conv2d` reads the depthwise filter [kh, kw, c, m] as a standard filter with m
/// outputs; `standard` is a kh x kw conv2d with as many outputs as the separable one, to compare it with
/// `depthwise + pointwise`.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct WorkedMacs {
    pub conv2d: u64,
    pub depthwise: u64,
    pub pointwise: u64,
    pub standard: u64,
}

/// The three outputs of the worked example and their multiply-adds.
#[derive(Serialize, Debug, PartialEq)]
pub struct Worked {
    pub conv2d: WorkedOutput,
    pub depthwise: WorkedOutput,
    pub separable: WorkedOutput,
    pub macs: WorkedMacs,
}

/// A tensor of `rank` dimensions (1 to 64 each, batch 1 added in front of a 3-D shape) holding `data`,
/// every value finite.
fn tensor(name: &str, data: &[f32], shape: &[u32], rank: usize) -> Result<Tensor, Error> {
    if shape.len() != rank || shape.iter().any(|&d| d == 0 || d as usize > WORKED_MAX_DIM) {
        return Err(Error::shape(format!("{name} needs {rank} sizes from 1 to {WORKED_MAX_DIM}")));
    }
    let mut full = [1; 4];
    full[4 - rank..].iter_mut().zip(shape).for_each(|(f, &d)| *f = d as usize);
    let shape = Shape(full);
    let count = shape.len();
    if count > WORKED_MAX_VALUES {
        return Err(Error::shape(format!("{name} {shape} has {count} values, more than {WORKED_MAX_VALUES}")));
    }
    if count != data.len() {
        return Err(Error::shape(format!("{name} {shape} needs {count} values, got {}", data.len())));
    }
    if let Some(i) = data.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("{name} value {i} is {}", Real::from(data[i]))));
    }
    Ok(Tensor { shape, data: data.to_vec() })
}

fn output(t: Tensor) -> WorkedOutput {
    WorkedOutput { shape: t.shape.0.map(|d| d as u32), data: t.data }
}

/// The worked example (plain Rust; [`separable_example`] binds it): `input` [h, w, c] (batch 1), `filter`
/// [kh, kw, c, m] used both as conv2d's filter (m outputs) and as depthwise_conv2d's (multiplier m), and
/// `pointwise` [1, 1, c·m, out] for separable_conv2d; one stride and padding for all three.
#[allow(clippy::too_many_arguments)]
#[cfg_attr(feature = "small", optimize(size))]
pub fn worked_example(
    input: &[f32],
    input_shape: &[u32],
    filter: &[f32],
    filter_shape: &[u32],
    pointwise: &[f32],
    pointwise_shape: &[u32],
    padding: Padding,
    stride: u32,
) -> Result<Worked, Error> {
    let input = tensor("input", input, input_shape, 3)?;
    let filter = tensor("filter", filter, filter_shape, 4)?;
    let pointwise = tensor("pointwise filter", pointwise, pointwise_shape, 4)?;
    if stride == 0 || stride as usize > WORKED_MAX_DIM {
        return Err(Error::config(format!("stride must be from 1 to {WORKED_MAX_DIM}, got {stride}")));
    }
    let options = ConvOptions::new(stride as usize, 1, padding);
    let conv = conv2d(&input, &filter, None, &options)?;
    let depthwise = depthwise_conv2d(&input, &filter, None, &options)?;
    let separable = separable_conv2d(&input, &filter, &pointwise, None, &options)?;
    let [_, oh, ow, _] = depthwise.shape.0;
    let [kh, kw, c, m] = filter.shape.0;
    let out = pointwise.shape.0[3];
    let per_pixel = |n: usize| (oh * ow * n) as u64;
    let macs = WorkedMacs {
        conv2d: per_pixel(kh * kw * c * m),
        depthwise: per_pixel(kh * kw * c * m),
        pointwise: per_pixel(c * m * out),
        standard: per_pixel(kh * kw * c * out),
    };
    Ok(Worked { conv2d: output(conv), depthwise: output(depthwise), separable: output(separable), macs })
}

/// The worked example for JS: `input` [h, w, c], `filter` [kh, kw, c, m], `pointwise` [1, 1, c·m, out],
/// `padding` "VALID" or "SAME", `stride` ≥ 1 → {conv2d, depthwise, separable: {shape, data}, macs:
/// {conv2d, depthwise, pointwise, standard}}. Sizes are capped (64 per dimension, 4096 values per tensor);
/// a wrong size is a "shape" error, a NaN or infinity a "non_finite" one.
#[wasm_bindgen(js_name = separableExample)]
#[allow(clippy::too_many_arguments)]
#[cfg_attr(feature = "small", optimize(size))]
pub fn separable_example(
    input: &[f32],
    input_shape: &[u32],
    filter: &[f32],
    filter_shape: &[u32],
    pointwise: &[f32],
    pointwise_shape: &[u32],
    padding: JsValue,
    stride: u32,
) -> Result<JsValue, JsValue> {
    let padding = match padding.as_string().as_deref() {
        Some("VALID") => Padding::Valid,
        Some("SAME") => Padding::Same,
        _ => return Err(js_error(Error::config("padding must be \"VALID\" or \"SAME\""))),
    };
    let worked = worked_example(input, input_shape, filter, filter_shape, pointwise, pointwise_shape, padding, stride)
        .map_err(js_error)?;
    to_js(&worked)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The seed's numbers: input channel 0 = column + 1, channel 1 = 1; filter taps [.., .., i, o] =
    /// 0, 2 (i = 0) and 1, 3 (i = 1); pointwise ones.
    fn seed() -> (Vec<f32>, Vec<f32>) {
        let input = (0..16).flat_map(|p| [(p % 4 + 1) as f32, 1.0]).collect();
        let filter = (0..9).flat_map(|_| [0.0, 2.0, 1.0, 3.0]).collect();
        (input, filter)
    }

    fn run(input: &[f32], filter: &[f32], padding: Padding) -> Result<Worked, Error> {
        worked_example(input, &[4, 4, 2], filter, &[3, 3, 2, 2], &[1.0; 16], &[1, 1, 4, 4], padding, 1)
    }

    #[test]
    fn seed_numbers() {
        let (input, filter) = seed();
        let w = run(&input, &filter, Padding::Valid).unwrap();
        assert_eq!(w.conv2d, WorkedOutput { shape: [1, 2, 2, 2], data: vec![9., 63., 9., 81., 9., 63., 9., 81.] });
        #[rustfmt::skip]
        let depthwise = vec![0., 36., 9., 27.,  0., 54., 9., 27.,  0., 36., 9., 27.,  0., 54., 9., 27.];
        assert_eq!(w.depthwise, WorkedOutput { shape: [1, 2, 2, 4], data: depthwise });
        let separable = vec![72.; 4].into_iter().chain([90.; 4]).cycle().take(16).collect();
        assert_eq!(w.separable, WorkedOutput { shape: [1, 2, 2, 4], data: separable });
        assert_eq!(w.macs, WorkedMacs { conv2d: 144, depthwise: 144, pointwise: 64, standard: 288 });
        // SAME keeps 4x4.
        assert_eq!(run(&input, &filter, Padding::Same).unwrap().separable.shape, [1, 4, 4, 4]);
    }

    #[test]
    fn bad_data_is_a_typed_error() {
        let (mut input, filter) = seed();
        let kind = |r: Result<Worked, Error>| r.unwrap_err().kind();
        assert_eq!(kind(run(&input[1..], &filter, Padding::Valid)), "shape");
        assert_eq!(kind(run(&input, &filter[..35], Padding::Valid)), "shape");
        let w = |shape: &[u32]| {
            worked_example(&input, shape, &filter, &[3, 3, 2, 2], &[1.0; 16], &[1, 1, 4, 4], Padding::Valid, 1)
        };
        assert_eq!(kind(w(&[4, 4])), "shape");
        assert_eq!(kind(w(&[0, 4, 2])), "shape");
        assert_eq!(kind(w(&[65, 4, 2])), "shape");
        assert_eq!(kind(w(&[2, 2, 2])), "shape"); // wrong length, and VALID 3x3 would not fit either
        let p = |shape: &[u32], n: usize| {
            worked_example(&input, &[4, 4, 2], &filter, &[3, 3, 2, 2], &vec![1.0; n], shape, Padding::Valid, 1)
        };
        assert_eq!(kind(p(&[1, 1, 3, 4], 12)), "shape"); // c·m is 4
        assert_eq!(kind(p(&[3, 1, 4, 1], 12)), "shape"); // not 1x1
        let s =
            worked_example(&input, &[4, 4, 2], &filter, &[3, 3, 2, 2], &[1.0; 16], &[1, 1, 4, 4], Padding::Valid, 0);
        assert_eq!(kind(s), "config");
        input[5] = f32::NAN;
        let e = run(&input, &filter, Padding::Valid).unwrap_err();
        assert_eq!(e, Error::NonFinite("input value 5 is NaN".into()));
    }
}
