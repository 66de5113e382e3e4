//! Writes synthetic MobileNet v1 TFLite files from the engine's seeded weights, in the layouts and
//! conventions a converter uses: float32, or int8 with per-channel symmetric weights (today's
//! post-training quantization), with a choice of pool (AVERAGE_POOL_2D or MEAN) and logits (CONV_2D 1x1
//! + RESHAPE, or RESHAPE + FULLY_CONNECTED).
#![allow(dead_code)]

use super::tflite_builder::{self as tb, ModelBuilder};
use mobilenet_wasm::arch::{Config, LayerSpec, OpKind};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Plan, Weights};

const FLOAT32: i8 = 0;
const INT32: i8 = 2;
const INT8: i8 = 9;
const AVERAGE_POOL_2D: i32 = 1;
const CONV_2D: i32 = 3;
const DEPTHWISE_CONV_2D: i32 = 4;
const FULLY_CONNECTED: i32 = 9;
const RESHAPE: i32 = 22;
const SOFTMAX: i32 = 25;
const MEAN: i32 = 40;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Style {
    /// AVERAGE_POOL_2D, CONV_2D logits, RESHAPE, SOFTMAX (the TF-slim export).
    Slim,
    /// MEAN over axes 1, 2, RESHAPE, FULLY_CONNECTED, SOFTMAX.
    Dense,
}

/// A conv layer's TF-layout filter shape, filter and bias, batch norm folded in.
pub type Folded = (Vec<usize>, Vec<f32>, Vec<f32>);

/// Folded float weights of each conv layer, in TF layout ([k, k, in, out] / [k, k, c, 1]) with a bias.
pub fn folded(cfg: &Config, seed: u64) -> Vec<Option<Folded>> {
    let weights = Weights::seeded(cfg, seed);
    weights
        .layers
        .iter()
        .map(|w| {
            w.as_ref().map(|w| {
                let (mut f, mut b) = (w.filter.data.clone(), w.bias.clone());
                if let Some(bn) = &w.batch_norm {
                    bn.fold(&mut f, &mut b).unwrap();
                }
                (w.filter.shape.0.to_vec(), f, b)
            })
        })
        .collect()
}

/// TF layout → TFLite layout: conv HWIO → OHWI, depthwise [k,k,c,1] → [1,k,k,c], logits → FC [out, in].
fn tflite_filter(spec: &LayerSpec, shape: &[usize], data: &[f32], dense: bool) -> (Vec<i32>, Vec<f32>) {
    let (kh, kw, cin, cout) = (shape[0], shape[1], shape[2], shape[3]);
    if spec.op == OpKind::Depthwise {
        return (vec![1, kh as i32, kw as i32, cin as i32], data.to_vec());
    }
    let taps = kh * kw;
    let mut out = vec![0.0; data.len()];
    for t in 0..taps {
        for ci in 0..cin {
            for co in 0..cout {
                out[(co * taps + t) * cin + ci] = data[(t * cin + ci) * cout + co];
            }
        }
    }
    if dense {
        (vec![cout as i32, cin as i32], out)
    } else {
        (vec![cout as i32, kh as i32, kw as i32, cin as i32], out)
    }
}

/// How an activation tensor is stored: float, or int8 with (scale, zero point).
#[derive(Clone, Copy, Debug)]
enum Act {
    Float,
    Int8(f32, i64),
}

fn activation(b: &mut ModelBuilder, name: &str, shape: &[i32], act: Act) -> i32 {
    match act {
        Act::Float => b.activation(name, shape, FLOAT32),
        Act::Int8(scale, zp) => {
            let t = b.activation(name, shape, INT8);
            b.quantize(t, &[scale], &[zp], 0);
            t
        }
    }
}

/// Calibration: the largest |logit| the seeded float network gives on a few random inputs.
fn logit_range(cfg: &Config, seed: u64) -> f32 {
    let mut plan = Plan::seeded(cfg.clone(), seed).unwrap();
    let mut rng = Rng::new(seed ^ 77);
    let mut m = 0.0f32;
    for _ in 0..4 {
        let input = rng.fill_uniform(plan.input_len(), -1.0, 1.0);
        m = plan.run(&input).unwrap().logits.iter().fold(m, |m, v| m.max(v.abs()));
    }
    m * 1.25
}

/// A MobileNet v1 .tflite for `cfg` with the seeded weights (`Plan::seeded(cfg, seed)` computes the same
/// network in float). `int8`: activations int8, weights int8 per output channel, biases int32. The seed also varies
/// the Dense style's MEAN: keep_dims or not, and (int8) its own output quantization or the input's.
pub fn build(cfg: &Config, seed: u64, style: Style, int8: bool) -> Vec<u8> {
    model(cfg, seed, style, int8).build()
}

/// The model [`build`] writes, before it is written: tests edit its operators to make networks that are not
/// quite MobileNet v1.
pub fn model(cfg: &Config, seed: u64, style: Style, int8: bool) -> ModelBuilder {
    let mut b = ModelBuilder::new();
    let specs = cfg.layers();
    let layers = folded(cfg, seed);
    let relu6 = if int8 { Act::Int8(6.0 / 255.0, -128) } else { Act::Float };
    let r = cfg.resolution;
    let in_act = if int8 { Act::Int8(1.0 / 128.0, 0) } else { Act::Float };
    let mut x = activation(&mut b, "input", &[1, r.height as i32, r.width as i32, 3], in_act);
    b.inputs = vec![x];
    let mut x_act = in_act;
    let logits_act = if int8 {
        let range = logit_range(cfg, seed);
        Act::Int8(2.0 * range / 255.0, 0)
    } else {
        Act::Float
    };
    for (i, (spec, w)) in specs.iter().zip(&layers).enumerate() {
        let o = spec.output;
        let dense = style == Style::Dense && matches!(spec.op, OpKind::Dense | OpKind::Logits);
        let out_shape: Vec<i32> = if dense { vec![1, o.c as i32] } else { vec![1, o.h as i32, o.w as i32, o.c as i32] };
        if spec.op == OpKind::AvgPool {
            match style {
                Style::Slim => {
                    let y = activation(&mut b, &spec.name, &out_shape, x_act);
                    let opts =
                        tb::pool2d_options(tb::VALID, [1, 1], [spec.input.h as i32, spec.input.w as i32], tb::NONE);
                    b.op(AVERAGE_POOL_2D, &[x], &[y], Some(opts));
                    x = y;
                }
                Style::Dense => {
                    // Seeds 2 and 3 mod 4 drop the reduced dims.
                    x_act = mean_output(x_act, seed);
                    x = mean(&mut b, spec, x, x_act, seed % 4 < 2);
                }
            }
            continue;
        }
        let Some((shape, data, bias)) = w else { unreachable!() };
        if dense && specs.get(i.wrapping_sub(1)).is_some_and(|p| p.op == OpKind::AvgPool) {
            // [1, 1, 1, C] → [1, C] before the first fully connected layer.
            let flat = activation(&mut b, "flatten", &[1, spec.input.c as i32], x_act);
            let shape_t = b.constant("flatten_shape", &[2], INT32, tb::i32_bytes(&[1, spec.input.c as i32]));
            b.op(RESHAPE, &[x, shape_t], &[flat], Some(tb::reshape_options(&[1, spec.input.c as i32])));
            x = flat;
        }
        let (fshape, fdata) = tflite_filter(spec, shape, data, dense);
        let out_act = if spec.op == OpKind::Logits { logits_act } else { relu6 };
        let (filter, bias_t) = if int8 {
            let in_scale = match x_act {
                Act::Int8(s, _) => s,
                Act::Float => unreachable!(),
            };
            quantized_filter(&mut b, spec, &fshape, &fdata, bias, in_scale)
        } else {
            let f = b.constant(&format!("{}/weights", spec.name), &fshape, FLOAT32, tb::f32_bytes(&fdata));
            let bt = b.constant(&format!("{}/bias", spec.name), &[bias.len() as i32], FLOAT32, tb::f32_bytes(bias));
            (f, bt)
        };
        let y = activation(&mut b, &spec.name, &out_shape, out_act);
        let (s, rate) = (spec.stride as i32, spec.rate as i32);
        let act = activation_code(spec.activation);
        match spec.op {
            OpKind::Depthwise => b.op(
                DEPTHWISE_CONV_2D,
                &[x, filter, bias_t],
                &[y],
                Some(tb::depthwise_options(tb::SAME, [s, s], [rate, rate], 1, act)),
            ),
            OpKind::Dense | OpKind::Logits if dense => {
                b.op(FULLY_CONNECTED, &[x, filter, bias_t], &[y], Some(tb::fully_connected_options(act, 0, false)))
            }
            _ => {
                b.op(CONV_2D, &[x, filter, bias_t], &[y], Some(tb::conv2d_options(tb::SAME, [s, s], [rate, rate], act)))
            }
        };
        x = y;
        x_act = out_act;
    }
    let n = cfg.num_classes as i32;
    if style == Style::Slim {
        let flat = activation(&mut b, "logits_flat", &[1, n], logits_act);
        let shape_t = b.constant("logits_shape", &[2], INT32, tb::i32_bytes(&[1, n]));
        b.op(RESHAPE, &[x, shape_t], &[flat], Some(tb::reshape_options(&[1, n])));
        x = flat;
    }
    let out_act = if int8 { Act::Int8(1.0 / 256.0, -128) } else { Act::Float };
    let probs = activation(&mut b, "predictions", &[1, n], out_act);
    b.op(SOFTMAX, &[x], &[probs], Some(tb::softmax_options(1.0)));
    b.outputs = vec![probs];
    b
}

/// The MEAN's output quantization: odd seeds give it its own scale and zero point (as a calibrating converter
/// would; the range [−0.49, 6.51] still holds every ReLU6 mean) so the import must requantize.
fn mean_output(input: Act, seed: u64) -> Act {
    match input {
        Act::Int8(..) if seed % 2 == 1 => Act::Int8(7.0 / 255.0, -110),
        other => other,
    }
}

/// MEAN over axes [1, 2]; without keep_dims the output is [1, C], as Keras' GlobalAveragePooling2D exports.
fn mean(b: &mut ModelBuilder, spec: &LayerSpec, x: i32, act: Act, keep_dims: bool) -> i32 {
    let c = spec.output.c as i32;
    let shape: &[i32] = if keep_dims { &[1, 1, 1, c] } else { &[1, c] };
    let y = activation(b, &spec.name, shape, act);
    let axes = b.constant("axes", &[2], INT32, tb::i32_bytes(&[1, 2]));
    b.op(MEAN, &[x, axes], &[y], Some(tb::reducer_options(keep_dims)));
    y
}

/// Per-output-channel symmetric int8 weights and int32 biases at scale in_scale · w_scale.
fn quantized_filter(
    b: &mut ModelBuilder,
    spec: &LayerSpec,
    shape: &[i32],
    data: &[f32],
    bias: &[f32],
    in_scale: f32,
) -> (i32, i32) {
    let cout = spec.output.c;
    let channel = |i: usize| if spec.op == OpKind::Depthwise { i % cout } else { i / (data.len() / cout) };
    let mut max = vec![0.0f32; cout];
    for (i, v) in data.iter().enumerate() {
        max[channel(i)] = max[channel(i)].max(v.abs());
    }
    let scales: Vec<f32> = max.iter().map(|m| (m / 127.0).max(1e-8)).collect();
    let q: Vec<i8> =
        data.iter().enumerate().map(|(i, v)| (v / scales[channel(i)]).round().clamp(-127.0, 127.0) as i8).collect();
    let f = b.constant(&format!("{}/weights", spec.name), shape, INT8, tb::i8_bytes(&q));
    let dim = if spec.op == OpKind::Depthwise { 3 } else { 0 };
    b.quantize(f, &scales, &vec![0; cout], dim);
    let qb: Vec<i32> = bias.iter().zip(&scales).map(|(b, s)| (b / (in_scale * s)).round() as i32).collect();
    let bt = b.constant(&format!("{}/bias", spec.name), &[cout as i32], INT32, tb::i32_bytes(&qb));
    let bias_scales: Vec<f32> = scales.iter().map(|s| s * in_scale).collect();
    b.quantize(bt, &bias_scales, &vec![0; cout], 0);
    (f, bt)
}

/// TFLite's fused_activation_function code.
pub fn activation_code(a: mobilenet_wasm::arch::Activation) -> i8 {
    use mobilenet_wasm::arch::Activation;
    match a {
        Activation::None => tb::NONE,
        Activation::Relu => 1,
        Activation::ReluN1To1 => 2,
        Activation::Relu6 => tb::RELU6,
    }
}
