//! The official uint8 models, run by the integer path, against what TFLite's reference interpreter
//! outputs on the same input bytes: every output byte and every layer of every model must be equal.
//! The float fixtures against TFLite's float outputs. Data comes from ../shared (never committed).
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::{official_files, read_bytes, read_f32, IMAGES, OFFICIAL};
use mobilenet_wasm::engine::{Float, Uint8};
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::{top_k, Classifier};

fn classifier(files: &[Vec<u8>], precision: Precision) -> Classifier {
    let parts: Vec<&[u8]> = files.iter().map(|f| f.as_slice()).collect();
    Classifier::from_tflite(&parts, precision).unwrap()
}

#[test]
fn uint8_outputs_equal_the_reference_byte_for_byte() {
    let mut compared = 0;
    for (name, files, side) in OFFICIAL {
        let mut model = classifier(&official_files(files), Precision::AsStored);
        assert!(model.is_quantized());
        assert_eq!(model.config().resolution.height, side);
        for image in IMAGES {
            let input = read_bytes(&format!("reference/inputs/{image}_{side}.rgb"));
            let want = read_bytes(&format!("reference/outputs/{name}_{image}.u8"));
            let got = model.run_raw(&input).unwrap();
            let diffs = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert_eq!(got.len(), want.len(), "{name} {image}");
            assert_eq!(diffs, 0, "{name} on {image}: {diffs} of {} bytes differ", want.len());
            compared += 1;
        }
    }
    assert_eq!(compared, 24);
}

/// The end point our plan names for reference op `i` of a single-file model (conv/dw ops map one to one).
fn end_point(op_type: &str, index: usize, names: &[String]) -> Option<String> {
    match op_type {
        "CONV_2D" | "DEPTHWISE_CONV_2D" | "AVERAGE_POOL_2D" => names.get(index).cloned(),
        _ => None,
    }
}

#[test]
fn every_layer_on_cat_equals_the_reference() {
    let layers_dir = common::shared_dir().join("reference/outputs/layers");
    for (name, files, side) in OFFICIAL {
        let bytes = official_files(files);
        let mut model = classifier(&bytes, Precision::AsStored);
        let Some(plan) = model.plan_mut::<Uint8>() else { panic!("not quantized") };
        let names: Vec<String> = plan.layers().map(|l| l.name.clone()).collect();
        let input = read_bytes(&format!("reference/inputs/cat_{side}.rgb"));
        // Each file's ops, offset by the layers the earlier files produced.
        let dirs: Vec<String> = if files.len() == 1 {
            vec![name.to_string()]
        } else {
            vec![format!("{name}_embedding_extractor"), format!("{name}_head")]
        };
        let mut offset = 0;
        let mut checked = 0;
        for dir in dirs {
            let manifest: serde_json::Value =
                serde_json::from_slice(&std::fs::read(layers_dir.join(&dir).join("manifest.json")).unwrap()).unwrap();
            let ops = manifest["ops"].as_array().unwrap();
            for op in ops {
                let (index, ty) = (op["op"].as_u64().unwrap() as usize, op["type"].as_str().unwrap());
                let want = std::fs::read(layers_dir.join(&dir).join(op["file"].as_str().unwrap())).unwrap();
                let Some(end) = end_point(ty, offset + index, &names) else { continue };
                let got = plan.run_to(&input, &end).unwrap();
                let first = got.iter().zip(&want).position(|(a, b)| a != b);
                assert_eq!(got.len(), want.len(), "{dir} op {index} {ty} ({end})");
                assert_eq!(first, None, "{dir} op {index} {ty} ({end}) first differs at byte {first:?}");
                checked += 1;
            }
            offset += ops.iter().filter(|o| o["type"] != "RESHAPE" && o["type"] != "SOFTMAX").count();
        }
        assert_eq!(checked, names.len(), "{name}: every layer compared");
    }
}

#[test]
fn embedding_of_the_extractor_equals_the_reference() {
    let (name, files, _) = OFFICIAL[3];
    let mut model = classifier(&official_files(files), Precision::AsStored);
    let Some(plan) = model.plan_mut::<Uint8>() else { panic!() };
    for image in IMAGES {
        let input = read_bytes(&format!("reference/inputs/{image}_224.rgb"));
        let want = read_bytes(&format!("reference/outputs/{name}_embedding_{image}.u8"));
        assert_eq!(plan.run_to(&input, "AvgPool_1a").unwrap(), &want[..], "{image}");
    }
}

fn top5(v: &[f32]) -> Vec<usize> {
    top_k(v, 5).iter().map(|p| p.index).collect()
}

#[test]
fn float_fixtures_equal_tflite_reference_kernels() {
    for (stem, input) in [
        ("mobilenet_v1_a0.25_r128_float_avgpool", "mobilenet_v1_a0.25_r128_float_input"),
        ("mobilenet_v1_a0.25_r128_float_keras", "mobilenet_v1_a0.25_r128_float_input"),
        ("mobilenet_v1_a1.0_r224_float_avgpool", "mobilenet_v1_a1.0_r224_float_input"),
    ] {
        let bytes = read_bytes(&format!("fixtures/{stem}.tflite"));
        let mut model = Classifier::from_tflite(&[&bytes], Precision::AsStored).unwrap();
        let Some(plan) = model.plan_mut::<Float>() else { panic!("{stem} should be float") };
        let input = read_f32(&format!("fixtures/{input}.f32"));
        let want_logits = read_f32(&format!("fixtures/{stem}_logits.f32"));
        let want_probs = read_f32(&format!("fixtures/{stem}_output.f32"));
        let out = plan.run(&input).unwrap();
        // The scalar family sums in the reference kernels' order (taps, then the bias; the pool divides), so
        // natively every logit and probability is the same float.
        assert_eq!(out.logits, &want_logits[..], "{stem}: logits");
        assert_eq!(out.probabilities, &want_probs[..], "{stem}: probabilities");
        assert_eq!(top5(out.probabilities), top5(&want_probs), "{stem}");
    }
}

#[test]
fn dequantized_float_run_agrees_with_the_exact_path() {
    let (mut top1, mut top5_overlap, mut cases) = (0, 0, 0);
    for (name, files, side) in OFFICIAL {
        let bytes = official_files(files);
        let mut exact = classifier(&bytes, Precision::AsStored);
        let mut float = classifier(&bytes, Precision::Float);
        assert!(!float.is_quantized());
        for image in IMAGES {
            let rgb = read_bytes(&format!("reference/inputs/{image}_{side}.rgb"));
            let a = top5(exact.run_pixels(&rgb, mobilenet_wasm::PixelFormat::Rgb).unwrap());
            let b = top5(float.run_pixels(&rgb, mobilenet_wasm::PixelFormat::Rgb).unwrap());
            top1 += usize::from(a[0] == b[0]);
            top5_overlap += a.iter().filter(|i| b.contains(i)).count();
            cases += 1;
            eprintln!("{name} {image}: exact {a:?} float {b:?}");
        }
    }
    eprintln!(
        "dequantized float vs exact uint8: top-1 equal {top1}/{cases}, top-5 overlap {top5_overlap}/{}",
        cases * 5
    );
    assert!(top1 * 10 >= cases * 8, "top-1 agrees in only {top1}/{cases}");
    assert!(top5_overlap * 10 >= cases * 5 * 7, "top-5 overlap only {top5_overlap}");
}

#[test]
fn layers_split_across_workers_stay_exact() {
    for (name, files, side) in [OFFICIAL[0], OFFICIAL[3]] {
        let mut model = classifier(&official_files(files), Precision::AsStored).with_threads(3);
        let input = read_bytes(&format!("reference/inputs/cat_{side}.rgb"));
        let want = read_bytes(&format!("reference/outputs/{name}_cat.u8"));
        assert_eq!(model.run_raw(&input).unwrap(), want, "{name}");
    }
}
