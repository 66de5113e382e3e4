//! Importing real model files: what is recognized (alpha, resolution, classes), what chains, and the
//! typed errors for everything that does not fit.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::mobilenet_builder::{self, Style};
use common::tflite_builder::ModelBuilder;
use common::{official_files, read_bytes, OFFICIAL};
use mobilenet_wasm::arch::Config;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::{inspect, Classifier, Error};

fn load(files: &[&[u8]]) -> Result<Classifier, Error> {
    Classifier::from_tflite(files, Precision::AsStored)
}

#[test]
fn official_models_are_recognized_with_their_configuration() {
    for ((_, files, side), alpha) in OFFICIAL.iter().zip([0.25, 0.5, 0.75, 1.0]) {
        let bytes = official_files(files);
        let parts: Vec<&[u8]> = bytes.iter().map(|b| b.as_slice()).collect();
        let model = load(&parts).unwrap();
        let cfg = model.config();
        assert_eq!(cfg.alpha, alpha);
        assert_eq!((cfg.resolution.height, cfg.resolution.width), (*side, *side));
        assert_eq!(cfg.num_classes, 1001);
        assert_eq!(cfg.output_stride, 32);
        // The inspector describes a loaded model like a configuration.
        assert_eq!(inspect::report(cfg).layers.len(), 29);
        let labels = model.labels().map(|l| l.len());
        assert_eq!(labels, if files.len() == 1 { Some(1001) } else { None }, "labels come from the appended ZIP");
    }
}

#[test]
fn float_fixtures_are_recognized() {
    for (file, alpha, side) in [
        ("fixtures/mobilenet_v1_a0.25_r128_float_avgpool.tflite", 0.25, 128),
        ("fixtures/mobilenet_v1_a0.25_r128_float_keras.tflite", 0.25, 128),
        ("fixtures/mobilenet_v1_a1.0_r224_float_avgpool.tflite", 1.0, 224),
    ] {
        let model = load(&[&read_bytes(file)]).unwrap();
        assert!(!model.is_quantized());
        assert_eq!(model.config().alpha, alpha, "{file}");
        assert_eq!(model.config().resolution.height, side);
    }
}

#[test]
fn wrong_chains_are_typed_errors() {
    let extractor = read_bytes("models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite");
    let head = read_bytes("models/mobilenet_v1_1.0_224_quant_head.tflite");
    let small = read_bytes("models/mobilenet_v1_0.25_128_quant.tflite");
    // An embedding extractor alone has no softmax; a head alone is not a MobileNet.
    assert!(matches!(load(&[&extractor]), Err(Error::Unsupported { .. })));
    assert!(matches!(load(&[&head]), Err(Error::Unsupported { .. })));
    // Outputs that do not match the next input.
    assert!(matches!(load(&[&head, &extractor]), Err(Error::Shape(_))));
    assert!(matches!(load(&[&small, &head]), Err(Error::Shape(_))));
    assert!(matches!(load(&[&extractor, &extractor]), Err(Error::Shape(_))));
    assert!(matches!(load(&[]), Err(Error::Malformed(_))));
}

#[test]
fn a_single_depthwise_op_is_not_a_mobilenet() {
    let dw = read_bytes("fixtures/dw_mult2_s2_d2_same_float.tflite");
    let err = load(&[&dw]).unwrap_err();
    assert!(matches!(err, Error::Unsupported { .. }), "{err}");
    assert!(err.to_string().contains("DEPTHWISE_CONV_2D"), "{err}");
}

#[test]
fn errors_name_the_operator() {
    let head = read_bytes("models/mobilenet_v1_1.0_224_quant_head.tflite");
    let msg = load(&[&head]).unwrap_err().to_string();
    assert!(msg.starts_with("unsupported model: operator "), "{msg}");
}

/// The detail of an unsupported-model error, with the operator it names.
fn unsupported(result: Result<Classifier, Error>) -> (Option<usize>, String, String) {
    match result {
        Err(Error::Unsupported { operator, subject, detail }) => (operator, subject, detail),
        Err(other) => panic!("expected an unsupported model, got {other:?}"),
        Ok(_) => panic!("expected an unsupported model, got a classifier"),
    }
}

/// A synthetic float MobileNet v1, alpha 0.25, 64x64; TF-slim ops: stem 0, block k at 2k−1 and 2k, pool 27,
/// logits 28, RESHAPE 29, SOFTMAX 30.
fn slim() -> ModelBuilder {
    mobilenet_builder::model(&Config::new(0.25, 64).unwrap(), 0, Style::Slim, false)
}

/// The model without the ops `first..=last`: the op after them reads what `first` read.
fn without(mut b: ModelBuilder, first: usize, last: usize) -> Vec<u8> {
    let (read, written) = (b.operators[first].inputs[0], b.operators[last].outputs[0]);
    b.operators.drain(first..=last);
    for input in b.operators.iter_mut().flat_map(|op| op.inputs.iter_mut()) {
        if *input == written {
            *input = read;
        }
    }
    b.build()
}

#[test]
fn the_backbone_is_recognized_by_role() {
    // One layer missing: the first layer out of place is named, with the role it stands in.
    let (op, subject, detail) = unsupported(load(&[&without(slim(), 9, 9)]));
    assert_eq!((op, subject.as_str()), (Some(9), "CONV_2D"));
    assert_eq!(detail, "found a pointwise layer where MobileNet v1 has depthwise (Conv2d_5_depthwise)");
    // A whole block missing: the pool comes early.
    let (op, subject, detail) = unsupported(load(&[&without(slim(), 15, 16)]));
    assert_eq!((op, subject.as_str()), (Some(25), "AVERAGE_POOL_2D"));
    assert!(detail.contains("found 25 compute layers before the pool, expected 27"), "{detail}");
    // No pool at all.
    let (op, _, detail) = unsupported(load(&[&without(slim(), 27, 27)]));
    assert_eq!(op, Some(27));
    assert!(detail.contains("none of the 28 compute layers is a global pool"), "{detail}");
}

#[test]
fn a_pool_with_nothing_after_it_is_not_a_classifier() {
    // A pool with nothing after it but the SOFTMAX: a Keras-style MEAN to [1, 256] (seed 2), then RESHAPE
    // and FULLY_CONNECTED to 256 classes, without the last two.
    let cfg = Config::new(0.25, 64).unwrap().with_num_classes(256).unwrap();
    let (op, subject, detail) =
        unsupported(load(&[&without(mobilenet_builder::model(&cfg, 2, Style::Dense, false), 28, 29)]));
    assert_eq!((op, subject.as_str()), (Some(27), "MEAN"));
    assert!(detail.starts_with("nothing after the pool: the network needs a logits layer"), "{detail}");
}
