//! Browser tests, run in Chromium by `wasm-pack test --headless --chrome`: the seed example through the
//! reference ops, the inspector's paper totals through the JS API, and a seeded model end to end.
#![cfg(target_arch = "wasm32")]

use js_sys::Reflect;
use mobilenet_wasm::ops::{self, ConvOptions};
use mobilenet_wasm::{inspect, web, Config, Tensor};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

mod common;

wasm_bindgen_test_configure!(run_in_browser);

/// Built with `+relaxed-simd`: the SIMD family ("relaxed-simd128") may fuse its multiply-adds.
const RELAXED: bool = cfg!(target_feature = "relaxed-simd");
const SIMD: &str = if RELAXED { "relaxed-simd128" } else { "simd128" };

/// Probabilities of the SIMD family against the scalar one: the same bits in plain SIMD builds; in
/// relaxed builds within 1e-7, the whole-network bound of tests/web_kernels.rs.
fn assert_close(got: &[f32], want: &[f32]) {
    if !RELAXED {
        assert_eq!(got, want);
        return;
    }
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-7, "class {i}: simd {a} vs scalar {b}");
    }
}

#[wasm_bindgen_test]
fn seed_example_in_the_browser() {
    let (input, filter) = common::seed_example();
    let conv = ops::conv2d(&input, &filter, None, &ConvOptions::valid()).unwrap();
    assert_eq!(conv.data, [9.0, 63.0, 9.0, 81.0, 9.0, 63.0, 9.0, 81.0]);
    let dw = ops::depthwise_conv2d(&input, &filter, None, &ConvOptions::valid()).unwrap();
    assert_eq!(dw.shape.0, [1, 2, 2, 4]);
    assert_eq!(dw.data, [0., 36., 9., 27., 0., 54., 9., 27., 0., 36., 9., 27., 0., 54., 9., 27.]);
    let ones = Tensor::from_vec([1, 1, 4, 4], vec![1.0; 16]).unwrap();
    let sep = ops::separable_conv2d(&input, &filter, &ones, None, &ConvOptions::valid()).unwrap();
    assert_eq!(sep.data, [72., 72., 72., 72., 90., 90., 90., 90., 72., 72., 72., 72., 90., 90., 90., 90.]);
    assert_eq!(inspect::weights_standard_vs_separable(3, 256), (6_912, 795));
}

fn get(v: &JsValue, path: &[&str]) -> JsValue {
    path.iter().fold(v.clone(), |v, k| Reflect::get(&v, &JsValue::from_str(k)).unwrap())
}

fn totals_via_js(alpha: f64, resolution: u32) -> (f64, f64) {
    let report = web::inspect(alpha, resolution, Some(1000), None, None).unwrap_or_else(|_| panic!("inspect"));
    let t = |k| get(&report, &["totals", k]).as_f64().unwrap();
    (t("macs"), t("params"))
}

#[wasm_bindgen_test]
fn inspector_totals_in_the_browser() {
    assert_eq!(totals_via_js(1.0, 224), (568_740_352.0, 4_209_088.0));
    assert_eq!(totals_via_js(0.75, 224), (325_400_448.0, 2_568_144.0));
    assert_eq!(totals_via_js(0.5, 224), (149_497_088.0, 1_319_648.0));
    assert_eq!(totals_via_js(0.25, 224), (41_030_272.0, 463_600.0));
    assert_eq!(totals_via_js(1.0, 192).0, 418_121_728.0);
    assert_eq!(totals_via_js(1.0, 160).0, 290_675_200.0);
    assert_eq!(totals_via_js(1.0, 128).0, 186_400_768.0);
    let cfg = Config::default().with_num_classes(1000).unwrap();
    let r = inspect::report(&cfg);
    let pw = r.shares.iter().find(|s| s.op == mobilenet_wasm::OpKind::Pointwise).unwrap();
    assert_eq!(format!("{:.2}/{:.2}", pw.macs_percent, pw.params_percent), "94.86/74.59");
}

#[wasm_bindgen_test]
fn inspect_report_is_a_plain_object() {
    let report = web::inspect(0.25, 128, None, None, None).unwrap_or_else(|_| panic!("inspect"));
    let layers = get(&report, &["layers"]);
    assert!(js_sys::Array::is_array(&layers));
    assert_eq!(js_sys::Array::from(&layers).length(), 29);
    let first = js_sys::Array::from(&layers).get(0);
    assert_eq!(get(&first, &["name"]).as_string().unwrap(), "Conv2d_0");
    assert_eq!(get(&report, &["config", "num_classes"]).as_f64(), Some(1001.0));
}

#[wasm_bindgen_test]
fn bad_arguments_throw_errors_not_panics() {
    assert!(web::inspect(0.0, 224, None, None, None).is_err());
    assert!(web::inspect(1.0, 16, None, None, None).is_err());
    assert!(web::inspect(f64::NAN, 224, None, None, None).is_err());
    assert!(web::Model::seeded(1.0, 224, 1, Some(0)).is_err());
    let mut m = web::Model::seeded(0.25, 32, 1, None).unwrap_or_else(|_| panic!("seeded"));
    assert!(m.run(&[0.0; 10]).is_err());
    assert!(m.run_pixels(&[0; 32 * 32 * 3], 2).is_err());
    assert!(m.run_to(&[0.0; 32 * 32 * 3], "nope").is_err());
    assert!(m.run(&[f32::NAN; 32 * 32 * 3]).is_err());
}

#[wasm_bindgen_test]
fn seeded_model_runs_in_the_browser() {
    let mut m = web::Model::seeded(0.25, 128, 7, None).unwrap_or_else(|_| panic!("seeded"));
    assert_eq!(m.resolution(), [128, 128]);
    let input: Vec<f32> = (0..128 * 128 * 3).map(|i| ((i % 255) as f32) / 127.5 - 1.0).collect();
    let probs = m.run(&input).unwrap_or_else(|_| panic!("run"));
    assert_eq!(probs.len(), 1001);
    assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    // The browser build computes what the native build (the scalar kernels) computes.
    let mut native = mobilenet_wasm::Plan::seeded(Config::new(0.25, 128).unwrap(), 7).unwrap();
    let want = native.run(&input).unwrap().probabilities.to_vec();
    assert_close(&probs, &want);
    let embedding = m.run_to(&input, "AvgPool_1a").unwrap_or_else(|_| panic!("run_to"));
    assert_eq!(embedding.len(), 256);
    let pixels: Vec<u8> = (0..128 * 128 * 4).map(|i| (i % 251) as u8).collect();
    assert_eq!(m.run_pixels(&pixels, 4).unwrap_or_else(|_| panic!("pixels")).len(), 1001);
}

#[wasm_bindgen_test]
fn profile_times_every_layer_in_the_browser() {
    let mut m = web::Model::seeded(0.25, 64, 7, None).unwrap_or_else(|_| panic!("seeded"));
    let input = vec![0u8; 64 * 64 * 3 * 4]; // f32 zeros, little-endian
    let times = js_sys::Array::from(&m.profile_raw(&input).unwrap_or_else(|_| panic!("profile")));
    assert_eq!(times.length(), 29);
    assert_eq!(get(&times.get(0), &["name"]).as_string().unwrap(), "Conv2d_0");
    assert_eq!(get(&times.get(28), &["name"]).as_string().unwrap(), "Logits");
    assert!(times.iter().all(|t| get(&t, &["ms"]).as_f64().is_some_and(|ms| ms >= 0.0)));
    assert!(m.profile_raw(&input[1..]).is_err());
}

#[wasm_bindgen_test]
fn kernel_families_switch_and_profile_in_the_browser() {
    assert_eq!(web::kernel_families(), ["scalar", SIMD]);
    assert_eq!(web::kernel_name(), SIMD);
    let mut m = web::Model::seeded(0.25, 64, 3, None).unwrap_or_else(|_| panic!("seeded"));
    assert_eq!(m.kernels(), SIMD);
    let input: Vec<f32> = (0..64 * 64 * 3).map(|i| ((i % 97) as f32) / 48.5 - 1.0).collect();
    let simd = m.run(&input).unwrap_or_else(|_| panic!("run"));
    m.use_kernels("scalar").unwrap_or_else(|_| panic!("scalar"));
    assert_eq!(m.kernels(), "scalar");
    let scalar = m.run(&input).unwrap_or_else(|_| panic!("run"));
    // Same summation order in both families: the same bits (within rounding in relaxed builds).
    assert_close(&simd, &scalar);
    assert!(m.use_kernels("nope").is_err());
    let times = m.profile_float(&input).unwrap_or_else(|_| panic!("profile"));
    assert_eq!(times.len(), 29);
    assert!(times.iter().all(|t| t.is_finite() && *t >= 0.0));
    assert!(m.profile_float(&[0.0; 3]).is_err());
}

fn kind(result: Result<impl Sized, JsValue>) -> String {
    match result {
        Ok(_) => "ok".into(),
        Err(e) => get(&e, &["kind"]).as_string().unwrap_or_else(|| format!("no kind: {e:?}")),
    }
}

/// A configuration whose plan would not fit the memory budget is a typed error before anything is
/// allocated (α 4 at 4096 pixels once grew the memory to 558 MB, then trapped).
#[wasm_bindgen_test]
fn configurations_over_the_memory_budget_are_refused() {
    assert_eq!(kind(web::Model::seeded(4.0, 4096, 1, None)), "config");
    assert_eq!(kind(web::Model::seeded(16.0, 224, 1, None)), "config");
    assert_eq!(kind(web::Model::seeded(0.25, 128, 1, None)), "ok");
}

/// Labels are a labels file's text; any other JS value is a typed error, not a trap in the glue (a number
/// passed where the glue expected a string read memory out of bounds). The npm wrapper turns arrays into text.
#[wasm_bindgen_test]
fn labels_of_the_wrong_type_are_refused() {
    let mut m = web::Model::seeded(0.25, 64, 1, Some(3)).unwrap_or_else(|_| panic!("seeded"));
    assert_eq!(kind(m.set_labels(JsValue::from_str("a\nb\nc\n"))), "ok");
    let names = js_sys::Array::of3(&"x".into(), &"y".into(), &"z".into()).into();
    let object = js_sys::Object::new().into();
    for wrong in [JsValue::from(5), JsValue::TRUE, object, JsValue::from(f64::NAN), JsValue::NULL, names] {
        assert_eq!(kind(m.set_labels(wrong)), "config");
    }
    assert_eq!(kind(m.set_labels(JsValue::from_str("a\nb"))), "shape", "two labels for three classes");
    assert!(m.has_labels());
}
