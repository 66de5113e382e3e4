//! The exported folded weights, read back as an outside engine reads them (JSON manifest + f32 blob,
//! TF layouts, SAME padding), compute what the engine computes.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::export::{folded_weights, Slice, FORMAT};
use mobilenet_wasm::ops::{self, ConvOptions, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Config, Plan, Tensor, Weights};
use serde_json::Value;

fn slice(v: &Value) -> Slice {
    let shape = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    Slice { shape, offset: v["offset"].as_u64().unwrap() as usize }
}

fn tensor(v: &Value, blob: &[u8]) -> Tensor {
    let s = slice(v);
    Tensor::from_vec(s.shape.clone().try_into().unwrap(), s.read(blob)).unwrap()
}

/// The logits of the network the manifest describes, from the reference ops alone.
fn logits_from_export(manifest: &Value, blob: &[u8], input: &[f32]) -> Vec<f32> {
    let [h, w] = [0, 1].map(|i| manifest["config"]["resolution"][i].as_u64().unwrap() as usize);
    let mut x = Tensor::from_vec([1, h, w, 3], input.to_vec()).unwrap();
    for layer in manifest["layers"].as_array().unwrap() {
        let op = layer["op"].as_str().unwrap();
        if op == "avg_pool" {
            x = ops::global_avg_pool(&x).unwrap();
            continue;
        }
        let n = |k: &str| layer[k].as_u64().unwrap() as usize;
        let o = ConvOptions::new(n("stride"), n("rate"), Padding::Same);
        let (filter, bias) = (tensor(&layer["filter"], blob), slice(&layer["bias"]).read(blob));
        x = match op {
            "depthwise" => ops::depthwise_conv2d(&x, &filter, Some(&bias), &o).unwrap(),
            _ => ops::conv2d(&x, &filter, Some(&bias), &o).unwrap(),
        };
        if layer["activation"] == "relu6" {
            x = ops::relu6(&x);
        }
    }
    x.data
}

#[test]
fn exported_weights_rebuild_the_same_network() {
    // Output stride 16 makes the last blocks dilated, so stride and rate both come from the manifest.
    let cfg = Config::new(0.25, 64).unwrap().with_output_stride(16).unwrap();
    let weights = Weights::seeded(&cfg, 3);
    let (manifest, blob) = folded_weights(&cfg, &weights).unwrap();
    assert_eq!(manifest.bytes, blob.len());
    let manifest = serde_json::to_value(&manifest).unwrap();
    assert_eq!(manifest["format"], FORMAT);
    assert_eq!(manifest["layers"][1]["filter"]["shape"], serde_json::json!([3, 3, 8, 1]));
    assert_eq!(manifest["layers"][25]["rate"], 2);

    let input = Rng::new(9).fill_uniform(64 * 64 * 3, -1.0, 1.0);
    let got = logits_from_export(&manifest, &blob, &input);
    let mut plan = Plan::new(cfg, &weights).unwrap();
    let want = plan.run(&input).unwrap().logits;
    assert_eq!(got.len(), want.len());
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff < 1e-4, "max |logit diff| {diff}");
}

#[test]
fn every_offset_is_aligned_and_inside_the_blob() {
    let cfg = Config::new(0.5, 96).unwrap();
    let (manifest, blob) = folded_weights(&cfg, &Weights::seeded(&cfg, 1)).unwrap();
    let mut end = 0;
    for layer in &manifest.layers {
        for s in layer.filter.iter().chain(&layer.bias) {
            assert_eq!(s.offset % 4, 0);
            assert_eq!(s.offset, end, "{}: slices are packed in order", layer.spec.name);
            end = s.offset + 4 * s.shape.iter().product::<usize>();
        }
        assert_eq!(
            layer.bias.as_ref().map(|b| b.shape.clone()),
            layer.filter.as_ref().map(|_| vec![layer.spec.output.c])
        );
    }
    assert_eq!(end, blob.len());
}

#[test]
fn weights_that_do_not_fit_are_rejected() {
    let cfg = Config::new(0.25, 64).unwrap();
    let other = Config::new(0.5, 64).unwrap();
    assert!(folded_weights(&cfg, &Weights::seeded(&other, 1)).is_err());
}
