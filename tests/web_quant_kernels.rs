//! The SIMD128 integer kernels in Chromium (`wasm-pack test --headless --chrome`): each against its scalar twin on
//! random shapes and quantizations (results must be equal: integer arithmetic), the vector requantization against
//! `QuantizedMultiplier::apply`, the official 0.25 model layer by layer, and inference without allocation.
#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use mobilenet_wasm::arch::Hwc;
use mobilenet_wasm::engine::Uint8;
use mobilenet_wasm::kernels::uint8::{lanes, simd128, Uint8Layer};
use mobilenet_wasm::kernels::{self, Family, Geometry, Work};
use mobilenet_wasm::ops::padding::{axis_window, Padding};
use mobilenet_wasm::quant::Requantize;
use mobilenet_wasm::quant::{quantize_multiplier, QuantizedMultiplier};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::weights::QuantLayer;
use mobilenet_wasm::Classifier;
use std::sync::Arc;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/counting.rs"]
mod counting;
use counting::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIMD: &str = "simd128-u8";

fn family(name: &str) -> &'static Family<Uint8> {
    kernels::named::<Uint8>(name).expect("this build has the family")
}

fn filter(filter_shape: [usize; 4], filter: Vec<i16>, bias: Vec<i32>, requantize: Requantize) -> QuantLayer {
    QuantLayer { filter_shape, filter, bias, requantize }
}

fn byte(rng: &mut Rng) -> u8 {
    rng.range(0, 255) as u8
}

fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
    (0..n).map(|_| byte(rng)).collect()
}

/// Centered weights w − w_zp of uint8 weights: anywhere in [−255, 255].
fn weights(rng: &mut Rng, n: usize) -> Vec<i16> {
    let zp = rng.range(0, 255) as i16;
    (0..n).map(|_| rng.range(0, 255) as i16 - zp).collect()
}

fn biases(rng: &mut Rng, n: usize) -> Vec<i32> {
    (0..n).map(|_| rng.range(0, 1 << 21) as i32 - (1 << 20)).collect()
}

/// A multiplier as a conv layer could have one: small reals (large negative shifts), reals above 1 (shift > 0),
/// now and then a raw shift far below −31 and a zero.
fn multiplier(rng: &mut Rng) -> QuantizedMultiplier {
    match rng.range(0, 19) {
        0 => QuantizedMultiplier {
            multiplier: rng.range(1 << 30, (1 << 31) - 1) as i32,
            shift: -(rng.range(31, 40) as i32),
        },
        1 => QuantizedMultiplier::ZERO,
        _ => quantize_multiplier(f64::from(rng.uniform(0.5, 1.0)) * 2f64.powi(rng.range(0, 30) as i32 - 26)),
    }
}

/// Per-tensor (one multiplier repeated, the official models) or per-channel, random zero points and clamp.
fn requantize(rng: &mut Rng, channels: usize) -> Requantize {
    let multipliers = if rng.range(0, 1) == 0 {
        vec![multiplier(rng); channels]
    } else {
        (0..channels).map(|_| multiplier(rng)).collect()
    };
    let (a, b) = (byte(rng) as i32, byte(rng) as i32);
    let (min, max) = if rng.range(0, 2) == 0 { (0, 255) } else { (a.min(b), a.max(b)) };
    Requantize { multipliers, input_zero_point: byte(rng) as i32, output_zero_point: byte(rng) as i32, min, max }
}

/// SAME geometry, or (every other time) arbitrary output size and padding: kernels must take any geometry.
fn geometry(rng: &mut Rng, input: Hwc, cout: usize, kernel: usize) -> Geometry {
    let (stride, rate) = (rng.range(1, 2), [1, 2, 4][rng.range(0, 2)]);
    let wy = axis_window(input.h, kernel, stride, rate, Padding::Same).unwrap();
    let wx = axis_window(input.w, kernel, stride, rate, Padding::Same).unwrap();
    let same = Geometry {
        input,
        output: Hwc { h: wy.output, w: wx.output, c: cout },
        kernel,
        stride,
        rate,
        pad_top: wy.pad_before,
        pad_left: wx.pad_before,
    };
    if rng.range(0, 1) == 0 {
        return same;
    }
    let output = Hwc { h: rng.range(1, 9), w: rng.range(1, 9), c: cout };
    Geometry { output, pad_top: rng.range(0, 4), pad_left: rng.range(0, 4), ..same }
}

fn map(rng: &mut Rng) -> Hwc {
    let (h, w) = match rng.range(0, 5) {
        0 => (1, 1),
        1 => (1, rng.range(2, 17)),
        2 => (rng.range(2, 17), 1),
        _ => (rng.range(2, 13), rng.range(2, 13)),
    };
    Hwc { h, w, c: 0 }
}

/// Packs `layer` for both families and runs each into an output filled with a sentinel; they must be equal byte
/// for byte.
fn same_bytes(what: &str, layer: Uint8Layer, work: Work, input: &[u8], len: usize) {
    let layer = Arc::new(layer);
    let run = |name: &str, out: &mut [u8]| (family(name).pack)(&layer).unwrap().run(work, input, out);
    let mut want = vec![0xA5; len];
    let mut got = vec![0xA5; len];
    run("scalar-u8", &mut want);
    run(SIMD, &mut got);
    let first = got.iter().zip(&want).position(|(a, b)| a != b);
    assert_eq!(first, None, "{what}: first difference at {first:?}");
}

#[wasm_bindgen_test]
fn simd_is_the_best_set_and_listed() {
    assert_eq!(kernels::best::<Uint8>().name, SIMD);
    let names: Vec<&str> = kernels::families::<Uint8>().iter().map(|k| k.name).collect();
    assert_eq!(names, ["scalar-u8", "simd128-u8"]);
}

#[wasm_bindgen_test]
fn pointwise_equals_scalar_on_random_shapes() {
    let mut rng = Rng::new(1);
    for case in 0..400 {
        let (pixels, cin, cout) = (rng.range(1, 21), rng.range(1, 70), rng.range(1, 41));
        let (cin, cout) = if case % 50 == 0 { (rng.range(200, 1100), rng.range(1, 20)) } else { (cin, cout) };
        let r = requantize(&mut rng, cout);
        let what = format!("pointwise {pixels} px {cin}→{cout} {r:?}");
        let p = filter([1, 1, cin, cout], weights(&mut rng, cin * cout), biases(&mut rng, cout), r);
        let input = bytes(&mut rng, pixels * cin);
        same_bytes(&what, Uint8Layer::Pointwise(p), Work::Pixels(pixels), &input, pixels * cout);
    }
}

#[wasm_bindgen_test]
fn logits_layer_equals_scalar() {
    let mut rng = Rng::new(2);
    let (cin, cout) = (1024, 1001);
    let r = requantize(&mut rng, cout);
    let p = filter([1, 1, cin, cout], weights(&mut rng, cin * cout), biases(&mut rng, cout), r);
    let input = bytes(&mut rng, cin);
    same_bytes("logits", Uint8Layer::Pointwise(p), Work::Pixels(1), &input, cout);
}

#[wasm_bindgen_test]
fn depthwise_equals_scalar_on_random_shapes() {
    let mut rng = Rng::new(3);
    for case in 0..400 {
        let kernel = if case % 8 == 7 { [1, 2, 4, 5][rng.range(0, 3)] } else { 3 };
        let input = Hwc { c: rng.range(1, 40), ..map(&mut rng) };
        let g = geometry(&mut rng, input, input.c, kernel);
        let r = requantize(&mut rng, input.c);
        let what = format!("depthwise {g:?} {r:?}");
        let taps = kernel * kernel * input.c;
        let p = filter([kernel, kernel, input.c, 1], weights(&mut rng, taps), biases(&mut rng, input.c), r);
        let x = bytes(&mut rng, input.len());
        same_bytes(&what, Uint8Layer::Depthwise(p), Work::Window(g), &x, g.output.len());
    }
}

#[wasm_bindgen_test]
fn conv_equals_scalar_on_random_shapes() {
    let mut rng = Rng::new(4);
    for case in 0..300 {
        let kernel = if case % 6 == 5 { [1, 2, 5][rng.range(0, 2)] } else { 3 };
        let input = Hwc { c: rng.range(1, 4), ..map(&mut rng) };
        // Now and then a patch too large for the SIMD gather: the scalar fallback.
        let input = if case % 50 == 0 { Hwc { c: 20, ..input } } else { input };
        let cout = rng.range(1, 41);
        let g = geometry(&mut rng, input, cout, kernel);
        let r = requantize(&mut rng, cout);
        let what = format!("conv {g:?} {r:?}");
        let n = kernel * kernel * input.c * cout;
        let p = filter([kernel, kernel, input.c, cout], weights(&mut rng, n), biases(&mut rng, cout), r);
        let x = bytes(&mut rng, input.len());
        same_bytes(&what, Uint8Layer::Conv(p), Work::Window(g), &x, g.output.len());
    }
}

/// Accumulators at the edges of i32 and of both roundings, and random ones at every magnitude.
fn accumulators(rng: &mut Rng) -> Vec<i32> {
    let mut accs = vec![0, 1, -1, i32::MAX, i32::MIN, i32::MAX - 1, i32::MIN + 1];
    for k in 0..31 {
        let p = 1i32 << k;
        accs.extend([p, p + 1, p - 1, -p, 1 - p, -p - 1, p + (p >> 1), -p - (p >> 1)]);
    }
    accs.extend((0..4000).map(|i| ((rng.next_u64() >> 32) as u32 as i32) >> (i % 32)));
    accs
}

fn multipliers(rng: &mut Rng) -> Vec<QuantizedMultiplier> {
    let qm = |multiplier, shift| QuantizedMultiplier { multiplier, shift };
    let mut all = vec![
        qm(i32::MIN, 0),
        qm(i32::MIN, 2),
        qm(i32::MAX, 0),
        qm(1 << 30, 31),
        qm(1 << 30, 32),
        qm(1 << 30, 1),
        qm(1 << 30, -31),
        qm(1 << 30, -32),
        qm(i32::MAX, -31),
        qm(1 << 30, i32::MIN),
        qm(1 << 30, i32::MAX),
        qm(0, -3),
        qm(-(1 << 30), -3),
        quantize_multiplier(1.5),
    ];
    for _ in 0..400 {
        let sign = if rng.range(0, 3) == 0 { -1.0 } else { 1.0 };
        let exponent = rng.range(0, 80) as i32 - 60;
        all.push(quantize_multiplier(sign * f64::from(rng.uniform(0.5, 1.0)) * 2f64.powi(exponent)));
    }
    all
}

fn lanes_of(multipliers: Vec<QuantizedMultiplier>) -> lanes::RequantLanes {
    let n = multipliers.len();
    let r = Requantize { multipliers, input_zero_point: 0, output_zero_point: 0, min: 0, max: 255 };
    lanes::PointwiseQLanes::from_layer(&filter([1, 1, 1, n], vec![0; n], vec![0; n], r)).unwrap().requant
}

/// The vector requantization equals `QuantizedMultiplier::apply` on every lane: four different multipliers per
/// vector (per-lane shifts) and one shared by the layer (the uniform vector shift).
#[wasm_bindgen_test]
fn vector_requantization_equals_apply() {
    let mut rng = Rng::new(5);
    let (accs, ms) = (accumulators(&mut rng), multipliers(&mut rng));
    let mut checked = 0;
    for group in ms.chunks(4) {
        let mixed = lanes_of(group.to_vec());
        let uniform: Vec<_> = group.iter().map(|&m| lanes_of(vec![m; 4])).collect();
        for acc in accs.chunks_exact(4) {
            let acc = [acc[0], acc[1], acc[2], acc[3]];
            let got = simd128::multiply_lanes(&mixed, 0, acc);
            for (j, &m) in group.iter().enumerate() {
                assert_eq!(got[j], m.apply(acc[j]), "{m:?} acc {}", acc[j]);
                let same = simd128::multiply_lanes(&uniform[j], 0, acc);
                assert_eq!(same, acc.map(|a| m.apply(a)), "uniform {m:?} acc {acc:?}");
            }
            checked += 4 * group.len();
        }
    }
    assert!(checked > 1_000_000, "{checked}");
}

const MODEL: &[u8] =
    include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/models/mobilenet_v1_0.25_128_quant.tflite"));
const CAT: &[u8] = include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/reference/inputs/cat_128.rgb"));
const WANT: &[u8] =
    include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/reference/outputs/mobilenet_v1_0.25_128_quant_cat.u8"));

fn official() -> Classifier {
    Classifier::from_tflite(&[MODEL], Precision::AsStored).unwrap()
}

/// Every layer of the official 0.25 model on cat: the SIMD plan equals the scalar plan (which the native tests hold
/// equal to TFLite's per-layer dumps), and the output equals the reference bytes.
#[wasm_bindgen_test]
fn official_model_every_layer_equals_scalar() {
    let mut model = official();
    let Some(a) = model.plan_mut::<Uint8>() else { panic!("not quantized") };
    assert_eq!(a.kernels().name, SIMD);
    let mut b = a.clone().with_kernels(family("scalar-u8")).unwrap();
    let names: Vec<String> = a.layers().map(|l| l.name.clone()).collect();
    for name in &names {
        let got = a.run_to(CAT, name).unwrap().to_vec();
        assert_eq!(got, b.run_to(CAT, name).unwrap(), "{name}");
    }
    assert_eq!(a.run(CAT).unwrap().raw, WANT);
    assert_eq!(b.run(CAT).unwrap().raw, WANT);
}

#[wasm_bindgen_test]
fn simd_inference_does_not_allocate() {
    let mut model = official();
    let Some(plan) = model.plan_mut::<Uint8>() else { panic!() };
    let mut times = vec![0.0; plan.layers().count()];
    plan.run(CAT).unwrap();
    let before = allocations();
    for _ in 0..3 {
        plan.run(CAT).unwrap();
        plan.run_to(CAT, "AvgPool_1a").unwrap();
        plan.profile(CAT, &|| 0.0, &mut times).unwrap();
    }
    assert_eq!(allocations() - before, 0);
}
