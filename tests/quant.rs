//! `quant` against the TFLite interpreter's own uint8 outputs (BUILTIN_REF) in ../shared/reference: SOFTMAX and
//! AVERAGE_POOL_2D byte for byte, and the conv requantization multiplier against float64.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use mobilenet_wasm::quant::{average_u8, conv_output_multiplier, quantize_multiplier, QuantizedMultiplier, SoftmaxU8};
use std::path::{Path, PathBuf};

/// One operator of a layer-dump manifest.
struct Op {
    kind: String,
    file: String,
    shape: Vec<usize>,
    scale: f32,
    zero_point: i32,
}

fn layers_dir() -> PathBuf {
    common::shared_dir().join("reference/outputs/layers")
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", path.display()))
}

fn manifest(model_dir: &Path) -> Vec<Op> {
    let text = read(&model_dir.join("manifest.json"));
    let v: serde_json::Value = serde_json::from_slice(&text).expect("manifest.json is JSON");
    let ops = v["ops"].as_array().expect("manifest has ops");
    ops.iter()
        .map(|op| Op {
            kind: op["type"].as_str().expect("type").to_string(),
            file: op["file"].as_str().expect("file").to_string(),
            shape: op["shape"].as_array().expect("shape").iter().map(|d| d.as_u64().expect("dim") as usize).collect(),
            // The manifest writes each float32 scale as the double it converts to: the cast back is exact.
            scale: op["scale"].as_f64().expect("scale") as f32,
            zero_point: op["zero_point"].as_i64().expect("zero_point") as i32,
        })
        .collect()
}

fn model_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(layers_dir())
        .unwrap_or_else(|e| panic!("{}: {e} (set MOBILENET_SHARED)", layers_dir().display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.join("manifest.json").is_file())
        .collect();
    dirs.sort();
    dirs
}

/// Each model dump with an op of the given type after the first: (dir, its ops, the op's index).
fn ops_of(kind: &str) -> Vec<(PathBuf, Vec<Op>, usize)> {
    let mut found = Vec::new();
    for dir in model_dirs() {
        let ops = manifest(&dir);
        if let Some(i) = (1..ops.len()).find(|&i| ops[i].kind == kind) {
            found.push((dir, ops, i));
        }
    }
    found
}

fn first_difference(got: &[u8], want: &[u8]) -> Option<(usize, u8, u8)> {
    got.iter().zip(want).enumerate().find(|(_, (g, w))| g != w).map(|(i, (&g, &w))| (i, g, w))
}

#[test]
fn softmax_matches_every_reference_layer_dump() {
    let cases = ops_of("SOFTMAX");
    // 0.25, 0.5, 0.75 and the 1.0 head.
    assert_eq!(cases.len(), 4, "softmax dumps found");
    let mut compared = 0;
    for (dir, ops, i) in cases {
        let (input_op, output_op) = (&ops[i - 1], &ops[i]);
        assert_eq!(input_op.kind, "RESHAPE");
        assert_eq!((output_op.scale, output_op.zero_point), (1.0 / 256.0, 0));
        let input = read(&dir.join(&input_op.file));
        let want = read(&dir.join(&output_op.file));
        assert_eq!(input.len(), 1001);
        assert_eq!(want.len(), input.len());

        let softmax = SoftmaxU8::new(input_op.scale, 1.0).expect("softmax parameters");
        let mut got = vec![0u8; input.len()];
        softmax.run(&input, &mut got);
        assert_eq!(first_difference(&got, &want), None, "{}", dir.display());
        compared += got.len();
    }
    assert_eq!(compared, 4 * 1001);
}

/// The final outputs for cat.bmp are the same bytes as the SOFTMAX dumps; run from the RESHAPE dumps, the softmax
/// reproduces them.
#[test]
fn softmax_reproduces_the_final_outputs_for_cat() {
    let outputs = common::shared_dir().join("reference/outputs");
    let mut checked = 0;
    for (dir, ops, i) in ops_of("SOFTMAX") {
        let name = dir.file_name().and_then(|n| n.to_str()).expect("dir name");
        let model = name.strip_suffix("_head").unwrap_or(name);
        let final_output = read(&outputs.join(format!("{model}_cat.u8")));
        let input = read(&dir.join(&ops[i - 1].file));
        let mut got = vec![0u8; input.len()];
        SoftmaxU8::new(ops[i - 1].scale, 1.0).expect("softmax parameters").run(&input, &mut got);
        assert_eq!(first_difference(&got, &final_output), None, "{model}");
        checked += 1;
    }
    assert_eq!(checked, 4);
}

#[test]
fn average_pool_matches_every_reference_layer_dump() {
    let cases = ops_of("AVERAGE_POOL_2D");
    // 0.25, 0.5, 0.75 and the 1.0 embedding extractor.
    assert_eq!(cases.len(), 4, "average pool dumps found");
    let mut compared = 0;
    for (dir, ops, i) in cases {
        let (input_op, output_op) = (&ops[i - 1], &ops[i]);
        // Same scale and zero point in and out, so the op is a plain rounded mean (no requantization).
        assert_eq!((input_op.scale, input_op.zero_point), (output_op.scale, output_op.zero_point));
        let &[1, k, k2, channels] = input_op.shape.as_slice() else { panic!("input shape {:?}", input_op.shape) };
        assert_eq!(k, k2);
        assert_eq!(output_op.shape, [1, 1, 1, channels]);
        let input = read(&dir.join(&input_op.file));
        let want = read(&dir.join(&output_op.file));
        assert_eq!(input.len(), k * k * channels);

        let count = (k * k) as i32;
        let got: Vec<u8> = (0..channels)
            .map(|c| {
                let sum: i32 = input.iter().skip(c).step_by(channels).map(|&x| i32::from(x)).sum();
                // Activation NONE on uint8: clamp to [0, 255].
                average_u8(sum, count).clamp(0, 255) as u8
            })
            .collect();
        assert_eq!(first_difference(&got, &want), None, "{}", dir.display());
        compared += got.len();
    }
    assert_eq!(compared, 256 + 512 + 768 + 1024);
}

/// The multiplier TFLite derives, checked against float64: conv_output_multiplier is the float32 product over the
/// output scale, and the quantized multiplier reproduces it to within 2^-31 relative.
#[test]
fn conv_multiplier_against_float64() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 40) as f32 / (1u64 << 24) as f32
    };
    for _ in 0..10_000 {
        let input_scale = 0.001 + next() * 0.05;
        let weight_scale = 0.0005 + next() * 0.05;
        let output_scale = 0.01 + next() * 0.2;
        let real = conv_output_multiplier(input_scale, weight_scale, output_scale);
        let product32 = f64::from(input_scale * weight_scale);
        assert_eq!(real, product32 / f64::from(output_scale));
        let exact = f64::from(input_scale) * f64::from(weight_scale) / f64::from(output_scale);
        // The float32 rounding of the product: within half an ulp of f32.
        assert!((real - exact).abs() <= exact * 2f64.powi(-24) * 1.0001, "{real} vs {exact}");

        let q = quantize_multiplier(real);
        assert!((1 << 30..=i32::MAX).contains(&q.multiplier));
        let back = f64::from(q.multiplier) * 2f64.powi(q.shift - 31);
        assert!((back - real).abs() <= real * 2f64.powi(-31), "{q:?} vs {real}");
    }
}

/// The README's fact: the product is rounded to float32 before the division. A double product gives a different
/// multiplier, and requantized outputs that differ by one.
#[test]
fn the_float32_product_changes_the_requantized_output() {
    // The models' activation scale, in and out, and a weight scale of the size the models have.
    let (input_scale, weight_scale, output_scale) = (0.023528477_f32, 0.0010003101_f32, 0.023528477_f32);
    let product32 = f64::from(input_scale * weight_scale);
    let product64 = f64::from(input_scale) * f64::from(weight_scale);
    assert_ne!(product32, product64);

    let tflite = quantize_multiplier(conv_output_multiplier(input_scale, weight_scale, output_scale));
    let naive = quantize_multiplier(product64 / f64::from(output_scale));
    assert_eq!(tflite, QuantizedMultiplier { multiplier: 1_099_852_566, shift: -9 });
    assert_eq!(naive, QuantizedMultiplier { multiplier: 1_099_852_544, shift: -9 });
    // An accumulator where the two multipliers requantize to different bytes.
    assert_eq!((tflite.apply(77_475), naive.apply(77_475)), (78, 77));
    let differing = (0..1_000_000).filter(|&acc| tflite.apply(acc) != naive.apply(acc)).count();
    assert!(differing > 0);

    // Not a rare case: over many weight scales the two multipliers almost never agree.
    let agree = (1..10_000u32)
        .filter(|&k| {
            let w = 0.001 + k as f32 * 3.1e-7;
            let a = quantize_multiplier(conv_output_multiplier(input_scale, w, output_scale));
            let b = quantize_multiplier(f64::from(input_scale) * f64::from(w) / f64::from(output_scale));
            a == b
        })
        .count();
    assert!(agree < 1_000, "{agree} of 9999 agree");
}
