//! The TFLite reader on real files, checked against independent ground truth: the TFLite
//! interpreter's per-layer manifests (../shared/reference), the models' and fixtures' READMEs, and
//! the raw fixture weights. Plus a builder round trip.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::tflite_builder::{self as tb, ModelBuilder};
use common::{read_bytes, shared_dir};
use mobilenet_wasm::tflite::schema::{Activation, BuiltinOp, Options, Padding, Quantization, TensorType};
use mobilenet_wasm::tflite::{self, zip, Model};

const MODELS: [&str; 5] = [
    "mobilenet_v1_0.25_128_quant",
    "mobilenet_v1_0.5_160_quant",
    "mobilenet_v1_0.75_192_quant",
    "mobilenet_v1_1.0_224_quant_embedding_extractor",
    "mobilenet_v1_1.0_224_quant_head",
];
const WITH_LABELS: [&str; 3] = [MODELS[0], MODELS[1], MODELS[2]];
const FLOAT_FIXTURES: [&str; 3] = [
    "mobilenet_v1_a0.25_r128_float_avgpool",
    "mobilenet_v1_a0.25_r128_float_keras",
    "mobilenet_v1_a1.0_r224_float_avgpool",
];

fn model_bytes(name: &str) -> Vec<u8> {
    read_bytes(&format!("models/{name}.tflite"))
}

fn ops(model: &Model<'_>) -> Vec<String> {
    model.operators.iter().map(|o| o.op.name()).collect()
}

fn per_tensor(q: &Option<Quantization>) -> (f32, i64) {
    let q = q.as_ref().expect("quantized");
    assert_eq!((q.scale.len(), q.zero_point.len()), (1, 1));
    (q.scale[0], q.zero_point[0])
}

#[test]
fn every_official_model_reads() {
    for name in MODELS {
        let bytes = model_bytes(name);
        let m = tflite::read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.version, 3, "{name}");
        assert_eq!((m.inputs.len(), m.outputs.len()), (1, 1), "{name}");
        assert!(m.flatbuffer_len <= bytes.len());
        for t in &m.tensors {
            // Everything is quantized but RESHAPE's int32 shape operand.
            let shape_operand = t.dtype == TensorType::Int32 && t.shape == [2];
            assert_eq!(t.quantization.is_none(), shape_operand, "{name} {}", t.name);
            if let Some(data) = t.data {
                assert_eq!(data.len(), t.elements() * t.dtype.size().unwrap(), "{name} {}", t.name);
            }
        }
    }
}

/// Every operator's type, output tensor, shape, scale and zero point as the TFLite interpreter
/// reported them (reference/outputs/layers/*/manifest.json).
#[test]
fn operators_match_the_interpreter_manifests() {
    for name in MODELS {
        let bytes = model_bytes(name);
        let m = tflite::read(&bytes).unwrap();
        let path = shared_dir().join(format!("reference/outputs/layers/{name}/manifest.json"));
        let manifest: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let entries = manifest["ops"].as_array().unwrap();
        assert_eq!(entries.len(), m.operators.len(), "{name}");
        for e in entries {
            let i = e["op"].as_u64().unwrap() as usize;
            let op = &m.operators[i];
            assert_eq!(op.op.name(), e["type"].as_str().unwrap(), "{name} op {i}");
            let t = e["tensor_index"].as_i64().unwrap();
            assert_eq!(op.outputs, [t as i32], "{name} op {i}");
            let tensor = &m.tensors[t as usize];
            let shape: Vec<usize> =
                e["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
            assert_eq!(tensor.shape, shape, "{name} op {i}");
            assert_eq!(tensor.dtype, TensorType::Uint8);
            let (scale, zp) = per_tensor(&tensor.quantization);
            assert_eq!(scale, e["scale"].as_f64().unwrap() as f32, "{name} op {i}");
            assert_eq!(zp, e["zero_point"].as_i64().unwrap(), "{name} op {i}");
        }
    }
}

#[test]
fn quarter_model_facts() {
    let bytes = model_bytes("mobilenet_v1_0.25_128_quant");
    let m = tflite::read(&bytes).unwrap();
    let mut expected = vec!["CONV_2D".to_string()];
    for _ in 0..13 {
        expected.extend(["DEPTHWISE_CONV_2D".into(), "CONV_2D".into()]);
    }
    expected.extend(["AVERAGE_POOL_2D", "CONV_2D", "RESHAPE", "SOFTMAX"].map(String::from));
    assert_eq!(ops(&m), expected);

    let input = &m.tensors[m.inputs[0]];
    assert_eq!((input.shape.as_slice(), input.dtype), ([1, 128, 128, 3].as_slice(), TensorType::Uint8));
    assert_eq!(per_tensor(&input.quantization), (0.0078125, 128));
    let output = &m.tensors[m.outputs[0]];
    assert_eq!((output.shape.as_slice(), output.dtype), ([1, 1001].as_slice(), TensorType::Uint8));
    assert_eq!(per_tensor(&output.quantization), (1.0 / 256.0, 0));
    assert_eq!(m.description, "MLIR Converted.");
    assert!(m.flatbuffer_len < bytes.len(), "a ZIP follows the flatbuffer");
}

/// Weight layouts and options in every quantized model, as models/README.md describes them.
#[test]
fn weights_layouts_and_options() {
    for name in MODELS {
        let bytes = model_bytes(name);
        let m = tflite::read(&bytes).unwrap();
        for (i, op) in m.operators.iter().enumerate() {
            let t = |k: usize| &m.tensors[op.inputs[k] as usize];
            let out = &m.tensors[op.outputs[0] as usize];
            match (&op.op, &op.options) {
                (BuiltinOp::Conv2d, Options::Conv2d { padding, dilation, activation, .. }) => {
                    let (x, w, b) = (t(0), t(1), t(2));
                    // OHWI: [Cout, kh, kw, Cin].
                    assert_eq!(w.shape[0], out.shape[3]);
                    assert_eq!(w.shape[3], x.shape[3]);
                    assert!(w.data.is_some() && b.data.is_some());
                    assert_eq!((b.dtype, b.shape.as_slice()), (TensorType::Int32, [out.shape[3]].as_slice()));
                    let product = per_tensor(&x.quantization).0 * per_tensor(&w.quantization).0;
                    let bias_scale = per_tensor(&b.quantization).0;
                    assert!((bias_scale - product).abs() <= 1e-6 * product, "{name} op {i}");
                    assert_eq!((*padding, *dilation), (Padding::Same, [1, 1]));
                    // The logits conv (1001 classes) has no activation.
                    let act = if out.shape[3] == 1001 { Activation::None } else { Activation::Relu6 };
                    assert_eq!(*activation, act, "{name} op {i}");
                }
                (
                    BuiltinOp::DepthwiseConv2d,
                    Options::DepthwiseConv2d { padding, depth_multiplier, activation, .. },
                ) => {
                    let c = out.shape[3];
                    assert_eq!(t(1).shape, [1, 3, 3, c]);
                    assert_eq!(t(0).shape[3], c);
                    assert_eq!((*padding, *depth_multiplier, *activation), (Padding::Same, 1, Activation::Relu6));
                }
                (BuiltinOp::AveragePool2d, Options::Pool2d { padding, filter, .. }) => {
                    assert_eq!(*padding, Padding::Valid);
                    assert_eq!(filter, &[t(0).shape[1] as i32, t(0).shape[2] as i32], "whole map");
                    assert_eq!(out.shape[1..3], [1, 1]);
                }
                (BuiltinOp::Reshape, _) => assert_eq!(t(1).data.map(<[u8]>::len), Some(8), "shape operand [2] int32"),
                (BuiltinOp::Softmax, Options::Softmax { beta }) => assert_eq!(*beta, 1.0),
                other => panic!("{name} op {i}: unexpected {other:?}"),
            }
        }
    }
}

#[test]
fn head_input_matches_extractor_output() {
    let ex_bytes = model_bytes("mobilenet_v1_1.0_224_quant_embedding_extractor");
    let head_bytes = model_bytes("mobilenet_v1_1.0_224_quant_head");
    let (ex, head) = (tflite::read(&ex_bytes).unwrap(), tflite::read(&head_bytes).unwrap());
    let out = &ex.tensors[ex.outputs[0]];
    let inp = &head.tensors[head.inputs[0]];
    assert_eq!(out.shape, [1, 1, 1, 1024]);
    assert_eq!((&out.shape, out.dtype), (&inp.shape, inp.dtype));
    assert_eq!(per_tensor(&out.quantization), per_tensor(&inp.quantization));
    assert_eq!(ops(&head), ["CONV_2D", "RESHAPE", "SOFTMAX"]);
    let input = &ex.tensors[ex.inputs[0]];
    assert_eq!(input.shape, [1, 224, 224, 3]);
    assert_eq!(per_tensor(&input.quantization), (0.0078125, 128));
}

#[test]
fn float_fixtures() {
    for name in FLOAT_FIXTURES {
        let bytes = read_bytes(&format!("fixtures/{name}.tflite"));
        let m = tflite::read(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(m.operators.len(), 31, "{name}");
        let mut kinds = ops(&m);
        kinds.sort();
        kinds.dedup();
        let pool = if name.ends_with("keras") { "MEAN" } else { "AVERAGE_POOL_2D" };
        let mut expected = vec![pool, "CONV_2D", "DEPTHWISE_CONV_2D", "RESHAPE", "SOFTMAX"];
        expected.sort();
        assert_eq!(kinds, expected, "{name}");
        assert!(m.tensors.iter().all(|t| t.quantization.is_none()), "{name}: empty quantization tables");
        assert!(m.tensors.iter().all(|t| matches!(t.dtype, TensorType::Float32 | TensorType::Int32)));
        let r = if name.contains("a1.0") { 224 } else { 128 };
        assert_eq!(m.tensors[m.inputs[0]].shape, [1, r, r, 3]);
        assert_eq!(m.tensors[m.outputs[0]].shape, [1, 1001]);
        assert_eq!(m.flatbuffer_len, bytes.len());
    }
}

#[test]
fn keras_fixture_mean_keeps_dims() {
    let bytes = read_bytes("fixtures/mobilenet_v1_a0.25_r128_float_keras.tflite");
    let m = tflite::read(&bytes).unwrap();
    let mean = m.operators.iter().find(|o| o.op == BuiltinOp::Mean).unwrap();
    assert_eq!(mean.options, Options::Reducer { keep_dims: true });
    let axes = &m.tensors[mean.inputs[1] as usize];
    assert_eq!(axes.dtype, TensorType::Int32);
    assert_eq!(axes.data, Some(tb::i32_bytes(&[1, 2]).as_slice()));
    assert_eq!(m.tensors[mean.outputs[0] as usize].shape, [1, 1, 1, 256]);
}

#[test]
fn depthwise_fixture_options_and_weights() {
    let bytes = read_bytes("fixtures/dw_mult2_s2_d2_same_float.tflite");
    let m = tflite::read(&bytes).unwrap();
    assert_eq!(m.operators.len(), 1);
    let op = &m.operators[0];
    assert_eq!(op.op, BuiltinOp::DepthwiseConv2d);
    assert_eq!(
        op.options,
        Options::DepthwiseConv2d {
            padding: Padding::Same,
            stride: [2, 2],
            dilation: [2, 2],
            depth_multiplier: 2,
            activation: Activation::None
        }
    );
    let t = |k: usize| &m.tensors[op.inputs[k] as usize];
    assert_eq!(t(0).shape, [1, 8, 9, 3]);
    assert_eq!(t(1).shape, [1, 3, 3, 6]);
    assert_eq!(t(1).data, Some(read_bytes("fixtures/dw_mult2_s2_d2_same_filter_tf_khkwcm.f32").as_slice()));
    assert_eq!(t(2).data, Some(read_bytes("fixtures/dw_mult2_s2_d2_same_bias.f32").as_slice()));
    assert_eq!(m.tensors[op.outputs[0] as usize].shape, [1, 4, 5, 6]);
    assert_eq!(m.flatbuffer_len, bytes.len());
}

#[test]
fn labels_from_the_appended_zip() {
    let text = std::fs::read_to_string(shared_dir().join("models/imagenet_labels.txt")).unwrap();
    let expected: Vec<&str> = text.lines().collect();
    assert_eq!((expected.len(), expected[0]), (1001, "background"));
    for name in WITH_LABELS {
        let bytes = model_bytes(name);
        let m = tflite::read(&bytes).unwrap();
        let labels = zip::labels(&bytes, m.flatbuffer_len, None).unwrap_or_else(|| panic!("{name}: no labels"));
        assert_eq!(labels, expected, "{name}");
        let stored = zip::find_stored(&bytes[m.flatbuffer_len..], "imagenet_labels.txt").unwrap();
        assert_eq!(stored, text.as_bytes());
        // The ZIP starts right where the flatbuffer ends.
        assert_eq!(&bytes[m.flatbuffer_len..m.flatbuffer_len + 4], b"PK\x03\x04", "{name}");
        assert_eq!(zip::find_stored(&bytes[m.flatbuffer_len..], "other.txt"), None);
    }
    for name in &MODELS[3..] {
        let bytes = model_bytes(name);
        let m = tflite::read(&bytes).unwrap();
        assert_eq!(m.flatbuffer_len, bytes.len(), "{name}");
        assert_eq!(zip::labels(&bytes, m.flatbuffer_len, None), None, "{name}");
    }
}

/// The same ZIP found by walking local headers when the central directory is cut off, and a
/// `*labels*.txt` of another name.
#[test]
fn labels_without_central_directory_and_other_names() {
    let bytes = model_bytes("mobilenet_v1_0.25_128_quant");
    let m = tflite::read(&bytes).unwrap();
    let mut cut = bytes[..bytes.len() - 30].to_vec();
    assert_eq!(zip::labels(&cut, m.flatbuffer_len, None).map(|l| l.len()), Some(1001));
    let name_at = m.flatbuffer_len + 30;
    cut[name_at..name_at + 8].copy_from_slice(b"my_label");
    assert_eq!(zip::find_stored(&cut[m.flatbuffer_len..], "imagenet_labels.txt"), None);
    assert_eq!(zip::labels(&cut, m.flatbuffer_len, None).map(|l| l.len()), Some(1001), "found as my_label_labels.txt");
}

/// A small int8 per-channel model written by the builder reads back with exactly the values written.
#[test]
fn builder_round_trip() {
    let mut b = ModelBuilder::new();
    b.description = "round trip".into();
    let x = b.activation("x", &[1, 4, 4, 2], tb::INT8);
    b.quantize(x, &[0.5], &[-3], 0);
    let weights: Vec<i8> = (0..3 * 3 * 3 * 2).map(|i| (i * 7 % 255 - 127) as i8).collect();
    let w = b.constant("w", &[3, 3, 3, 2], tb::INT8, tb::i8_bytes(&weights));
    b.quantize(w, &[0.25, 0.125, 0.0625], &[0, 0, 0], 0);
    let bias = b.constant("bias", &[3], tb::INT32, tb::i32_bytes(&[10, -20, 30]));
    b.quantize(bias, &[0.125, 0.0625, 0.03125], &[0, 0, 0], 0);
    let y = b.activation("y", &[1, 2, 2, 3], tb::INT8);
    b.quantize(y, &[0.75], &[5], 0);
    b.op(tb::CONV_2D, &[x, w, bias], &[y], Some(tb::conv2d_options(tb::VALID, [2, 1], [1, 2], tb::RELU)));
    let dw_w = b.constant("dw", &[1, 3, 3, 6], tb::FLOAT32, tb::f32_bytes(&[0.5; 54]));
    let z = b.activation("z", &[1, 1, 1, 6], tb::FLOAT32);
    b.op(
        tb::DEPTHWISE_CONV_2D,
        &[y, dw_w, -1],
        &[z],
        Some(tb::depthwise_options(tb::SAME, [2, 3], [1, 1], 2, tb::RELU6)),
    );
    let p = b.activation("p", &[1, 1, 1, 6], tb::FLOAT32);
    b.op(tb::AVERAGE_POOL_2D, &[z], &[p], Some(tb::pool2d_options(tb::VALID, [1, 2], [3, 4], tb::NONE)));
    let fc_w = b.constant("fc", &[4, 6], tb::FLOAT32, tb::f32_bytes(&[1.0; 24]));
    let f = b.activation("f", &[1, 4], tb::FLOAT32);
    b.op(tb::FULLY_CONNECTED, &[p, fc_w, -1], &[f], Some(tb::fully_connected_options(tb::RELU, 0, true)));
    let s = b.activation("s", &[1, 4], tb::FLOAT32);
    b.op(tb::SOFTMAX, &[f], &[s], Some(tb::softmax_options(0.5)));
    let r = b.activation("r", &[4], tb::FLOAT32);
    b.op(tb::RESHAPE, &[s], &[r], Some(tb::reshape_options(&[4])));
    let q = b.activation("q", &[4], tb::FLOAT32);
    b.op(tb::SQUEEZE, &[r], &[q], Some(tb::squeeze_options(&[0])));
    let axes = b.constant("axes", &[1], tb::INT32, tb::i32_bytes(&[0]));
    let mean = b.activation("mean", &[1], tb::FLOAT32);
    b.op(tb::MEAN, &[q, axes], &[mean], Some(tb::reducer_options(true)));
    let custom = b.activation("custom", &[1], tb::FLOAT32);
    let code = b.custom_opcode("MyOp");
    b.operators.push(tb::OpDef { opcode_index: code, inputs: vec![mean], outputs: vec![custom], options: None });
    b.inputs = vec![x];
    b.outputs = vec![custom];
    let bytes = b.build();

    let m = tflite::read(&bytes).unwrap();
    assert_eq!((m.version, m.description.as_str()), (3, "round trip"));
    assert_eq!(m.flatbuffer_len, bytes.len());
    assert_eq!((m.inputs.as_slice(), m.outputs.as_slice()), ([0].as_slice(), [custom as usize].as_slice()));
    assert_eq!(m.tensors.len(), b.tensors.len());
    let wt = &m.tensors[w as usize];
    assert_eq!((wt.name.as_str(), wt.shape.as_slice(), wt.dtype), ("w", [3, 3, 3, 2].as_slice(), TensorType::Int8));
    assert_eq!(wt.data, Some(tb::i8_bytes(&weights).as_slice()));
    assert_eq!(
        wt.quantization,
        Some(Quantization { scale: vec![0.25, 0.125, 0.0625], zero_point: vec![0; 3], quantized_dimension: 0 })
    );
    assert_eq!(m.tensors[x as usize].quantization.as_ref().map(|q| (q.scale[0], q.zero_point[0])), Some((0.5, -3)));
    assert_eq!(m.tensors[bias as usize].data, Some(tb::i32_bytes(&[10, -20, 30]).as_slice()));
    assert_eq!((m.tensors[y as usize].data, m.tensors[fc_w as usize].quantization.as_ref()), (None, None));
    let got: Vec<(BuiltinOp, Options)> = m.operators.iter().map(|o| (o.op.clone(), o.options.clone())).collect();
    let want = vec![
        (
            BuiltinOp::Conv2d,
            Options::Conv2d { padding: Padding::Valid, stride: [2, 1], dilation: [1, 2], activation: Activation::Relu },
        ),
        (
            BuiltinOp::DepthwiseConv2d,
            Options::DepthwiseConv2d {
                padding: Padding::Same,
                stride: [2, 3],
                dilation: [1, 1],
                depth_multiplier: 2,
                activation: Activation::Relu6,
            },
        ),
        (
            BuiltinOp::AveragePool2d,
            Options::Pool2d { padding: Padding::Valid, stride: [1, 2], filter: [3, 4], activation: Activation::None },
        ),
        (
            BuiltinOp::FullyConnected,
            Options::FullyConnected { activation: Activation::Relu, keep_num_dims: true, weights_format: 0 },
        ),
        (BuiltinOp::Softmax, Options::Softmax { beta: 0.5 }),
        (BuiltinOp::Reshape, Options::Reshape { new_shape: vec![4] }),
        (BuiltinOp::Squeeze, Options::Squeeze { squeeze_dims: vec![0] }),
        (BuiltinOp::Mean, Options::Reducer { keep_dims: true }),
        (BuiltinOp::Custom("MyOp".into()), Options::None),
    ];
    assert_eq!(got, want);
    assert_eq!(m.operators[1].inputs, [y, dw_w, -1]);
}

/// Absent option fields take schema.fbs's defaults (dilation 1); codes ≥ 127 use builtin_code.
#[test]
fn option_defaults_and_extended_opcodes() {
    let mut b = ModelBuilder::new();
    let x = b.activation("x", &[1, 4, 4, 1], tb::FLOAT32);
    let w = b.constant("w", &[1, 1, 1, 1], tb::FLOAT32, tb::f32_bytes(&[1.0]));
    let y = b.activation("y", &[1, 4, 4, 1], tb::FLOAT32);
    let options = tb::Table::new().set(1, tb::Value::I32(1)).set(2, tb::Value::I32(1));
    b.op(tb::CONV_2D, &[x, w, -1], &[y], Some((1, options)));
    let z = b.activation("z", &[1, 4, 4, 1], tb::FLOAT32);
    b.op(150, &[y], &[z], None); // GELU: a code only the int field can hold
    b.inputs = vec![x];
    b.outputs = vec![z];
    let bytes = b.build();
    let m = tflite::read(&bytes).unwrap();
    assert_eq!(
        m.operators[0].options,
        Options::Conv2d { padding: Padding::Same, stride: [1, 1], dilation: [1, 1], activation: Activation::None }
    );
    assert_eq!((m.operators[1].op.clone(), m.operators[1].options.clone()), (BuiltinOp::Other(150), Options::None));
}
