//! End points kept from one run (feature maps beside the probabilities): every kept layer's output equals what
//! TFLite's reference interpreter wrote for that operator (../shared/reference/outputs/layers, dequantized with
//! the dump's own scale and zero point), and the probabilities equal a plain run's.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{read_bytes, shared_dir};
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::{Classifier, PixelFormat};

const MODEL: &str = "mobilenet_v1_0.25_128_quant";

/// The reference dump of operator `op` (TFLite's order: layer i is op i up to the pool) as real values.
fn dumped(op: usize) -> (Vec<usize>, Vec<f32>) {
    let path = shared_dir().join(format!("reference/outputs/layers/{MODEL}/manifest.json"));
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let entry = &manifest["ops"][op];
    let shape: Vec<usize> = entry["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let (scale, zero) = (entry["scale"].as_f64().unwrap() as f32, entry["zero_point"].as_i64().unwrap() as i32);
    let bytes = read_bytes(&format!("reference/outputs/layers/{MODEL}/{}", entry["file"].as_str().unwrap()));
    (shape[1..].to_vec(), bytes.iter().map(|&q| scale * (i32::from(q) - zero) as f32).collect())
}

#[test]
fn kept_end_points_equal_the_reference_layers_and_the_run_is_unchanged() {
    let model = read_bytes(&format!("models/{MODEL}.tflite"));
    let mut c = Classifier::from_tflite(&[&model], Precision::AsStored).unwrap();
    let cat = read_bytes("reference/inputs/cat_128.rgb");
    let plain = c.run_pixels(&cat, PixelFormat::Rgb).unwrap().to_vec();
    // Out of order, repeated, first and last layers: each comes back where it was asked for.
    let names = ["Conv2d_1_depthwise", "Conv2d_0", "Conv2d_13_pointwise", "Conv2d_1_depthwise", "Logits"];
    let kept = c.run_keeping(&cat, PixelFormat::Rgb, &names.map(String::from)).unwrap();
    assert_eq!(kept.probabilities, plain, "keeping end points changes nothing of the run");
    for (name, op) in
        [("Conv2d_1_depthwise", 1), ("Conv2d_0", 0), ("Conv2d_13_pointwise", 26), ("Conv2d_1_depthwise", 1)]
    {
        let i = names.iter().position(|n| *n == name).unwrap();
        let (shape, want) = dumped(op);
        let (got_shape, got) = &kept.end_points[i];
        assert_eq!(got_shape.to_vec(), shape, "{name}");
        assert_eq!(got, &want, "{name}: dequantized exactly as the reference bytes");
    }
    assert_eq!(kept.end_points[4].0, [1, 1, 1001]);
    assert!(c.run_keeping(&cat, PixelFormat::Rgb, &["Conv2d_99".into()]).is_err());
    assert!(c.run_keeping(&cat[1..], PixelFormat::Rgb, &["Conv2d_0".into()]).is_err());
}

#[test]
fn float_models_keep_their_end_points_too() {
    let cfg = mobilenet_wasm::Config::new(0.25, 96).unwrap();
    let mut c = Classifier::seeded(cfg, 3).unwrap();
    let pixels: Vec<u8> = (0..96 * 96 * 3).map(|i| (i * 7 % 251) as u8).collect();
    let plain = c.run_pixels(&pixels, PixelFormat::Rgb).unwrap().to_vec();
    let kept = c.run_keeping(&pixels, PixelFormat::Rgb, &["AvgPool_1a".into()]).unwrap();
    assert_eq!(kept.probabilities, plain);
    let embedding = c.embedding_pixels(&pixels, PixelFormat::Rgb).unwrap().to_vec();
    assert_eq!(kept.end_points[0], ([1, 1, 256], embedding));
}
