//! The SIMD128 integer kernels in Chromium (`wasm-pack test --headless --chrome`): each against its scalar twin on
//! random shapes and quantizations through the shared tester (tests/common/kernel_tester.rs; results must be
//! equal: integer arithmetic), the vector requantization against
//! `QuantizedMultiplier::apply`, the official 0.25 model layer by layer, and inference without allocation.
#![cfg(all(target_arch = "wasm32", target_feature = "simd128"))]

use kernel_tester::uint8::layer;
use kernel_tester::{sweep_conv, sweep_depthwise, sweep_pointwise, sweep_pool};
use kernel_tester::{Reference, Tester};
use mobilenet_wasm::engine::Uint8;
use mobilenet_wasm::kernels::uint8::{lanes, simd128};
use mobilenet_wasm::kernels::{self, Family};
use mobilenet_wasm::quant::Requantize;
use mobilenet_wasm::quant::{quantize_multiplier, QuantizedMultiplier};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::Classifier;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[path = "common/counting.rs"]
mod counting;
#[path = "common/kernel_tester.rs"]
mod kernel_tester;
use counting::{allocations, Counting};

#[global_allocator]
static GLOBAL: Counting = Counting;

const SIMD: &str = "simd128-u8";

fn family(name: &str) -> &'static Family<Uint8> {
    kernels::named::<Uint8>(name).expect("this build has the family")
}

/// The SIMD family, held byte for byte to its scalar twin.
fn tester() -> Tester<Uint8> {
    Tester { family: family(SIMD), reference: Reference::Twin(family("scalar-u8")) }
}

#[wasm_bindgen_test]
fn simd_is_the_best_set_and_listed() {
    assert_eq!(kernels::best::<Uint8>().name, SIMD);
    let names: Vec<&str> = kernels::families::<Uint8>().iter().map(|k| k.name).collect();
    assert_eq!(names, ["scalar-u8", "simd128-u8"]);
}

#[wasm_bindgen_test]
fn pointwise_equals_scalar_on_random_shapes() {
    sweep_pointwise(&tester(), 1);
}

#[wasm_bindgen_test]
fn depthwise_equals_scalar_on_random_shapes() {
    sweep_depthwise(&tester(), 3);
}

#[wasm_bindgen_test]
fn conv_equals_scalar_on_random_shapes() {
    sweep_conv(&tester(), 4);
}

#[wasm_bindgen_test]
fn pool_equals_scalar() {
    sweep_pool(&tester(), 6);
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
    lanes::PointwiseQLanes::from_layer(&layer([1, 1, 1, n], vec![0; n], vec![0; n], r)).unwrap().requant
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

/// The bytes the kernels write equal the scalar requantization, zero point and clamp: per-tensor layers whose clamp
/// starts at or above the zero point (ReLU, ReLU6: the one-shift path, inexact below zero but clamped) and every
/// other clamp (the general path), across all the multipliers and accumulators above.
#[wasm_bindgen_test]
fn vector_bytes_equal_scalar_requantization() {
    let mut rng = Rng::new(9);
    let (accs, ms) = (accumulators(&mut rng), multipliers(&mut rng));
    let mut checked = 0;
    for &m in &ms {
        let zero_point = rng.range(0, 255) as i32;
        let top = rng.range(zero_point as usize, 255) as i32;
        let clamps = [(zero_point, 255), (zero_point, top), (top, 255), (0, zero_point), (0, 255)];
        for (min, max) in clamps {
            let r =
                Requantize { multipliers: vec![m; 8], input_zero_point: 0, output_zero_point: zero_point, min, max };
            let lanes = lanes::PointwiseQLanes::from_layer(&layer([1, 1, 1, 8], vec![0; 8], vec![0; 8], r.clone()))
                .unwrap()
                .requant;
            for acc in accs.chunks_exact(8) {
                let acc = [acc[0], acc[1], acc[2], acc[3], acc[4], acc[5], acc[6], acc[7]];
                // The zero point adds with wrapping, as the kernels' i32 lanes (and C++ on two's complement) do.
                let want = acc.map(|a| m.apply(a).wrapping_add(zero_point).clamp(min, max) as u8);
                assert_eq!(simd128::bytes_lanes(&lanes, 0, acc), want, "{m:?} zp {zero_point} [{min}, {max}] {acc:?}");
                checked += 8;
            }
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
