//! The models users make (Keras MobileNet v1 + their own Dense heads, converted as TensorFlow's docs say), from
//! ../shared/fixtures/user: every model of its manifest on every photo against the reference interpreter's
//! outputs (integer ones byte for byte, float ones float for float), and one int8 file layer by layer against a scalar per-channel reference written from TFLite's
//! reference kernels.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::mobilenet_builder::{build, Style};
use common::{read_bytes, shared_dir};
use mobilenet_wasm::arch::{Activation, Dense};
use mobilenet_wasm::engine::Uint8;
use mobilenet_wasm::quant::{activation_range, quantize_multiplier};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::tflite::schema::{BuiltinOp, Model, Operator, Options, Padding, Tensor, TensorType};
use mobilenet_wasm::{Classifier, Config, Error, LayerSpec, OpKind};
use serde_json::Value;

fn manifest() -> Value {
    serde_json::from_slice(&read_bytes("fixtures/user/manifest.json")).unwrap()
}

fn load(bytes: &[u8]) -> Result<Classifier, Error> {
    Classifier::from_tflite(&[bytes], Precision::AsStored)
}

#[test]
fn every_user_model_matches_the_reference_interpreter_on_every_photo() {
    let manifest = manifest();
    let models = manifest["models"].as_object().unwrap();
    let (mut exact, mut close, mut refused) = (0, 0, 0);
    for (name, m) in models {
        let bytes = read_bytes(&format!("fixtures/user/{name}.tflite"));
        if m["conversion"] == "dynamic" {
            // Dynamic range: refused by name (see the README's Models section for why).
            let Err(Error::Unsupported { detail, .. }) = load(&bytes) else { panic!("{name}: not refused") };
            assert!(detail.contains("dynamic-range") && detail.contains("FULLY_CONNECTED"), "{name}: {detail}");
            refused += 1;
            continue;
        }
        let mut model = load(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let cfg = model.config().clone();
        assert_eq!(cfg.alpha, m["alpha"].as_f64().unwrap(), "{name}");
        assert_eq!(cfg.resolution.height, m["resolution"].as_u64().unwrap() as usize, "{name}");
        assert_eq!(cfg.num_classes, m["classes"].as_u64().unwrap() as usize, "{name}");
        // The head's hidden layers: a unit count (0 for none), or a list of them.
        let hidden: Vec<usize> = match &m["head_hidden"] {
            Value::Array(units) => units.iter().map(|u| u.as_u64().unwrap() as usize).collect(),
            units => Some(units.as_u64().unwrap() as usize).filter(|&u| u > 0).into_iter().collect(),
        };
        assert_eq!(cfg.hidden.iter().map(|d| d.units).collect::<Vec<_>>(), hidden, "{name}: the head");
        let float = m["output"]["dtype"] == "float32";
        assert_eq!(model.is_quantized(), !float, "{name}");
        // Full-integer files compute in int8, whatever their edges.
        assert_eq!(model.number_type(), if float { "float32" } else { "int8" }, "{name}");
        for (image, facts) in m["images"].as_object().unwrap() {
            let input = read_bytes(&format!("fixtures/user/{name}_{image}.in"));
            let want = read_bytes(&format!("fixtures/user/{name}_{image}.out"));
            let got = model.run_raw(&input).unwrap_or_else(|e| panic!("{name} {image}: {e}"));
            assert_eq!(got.len(), want.len(), "{name} {image}");
            if float {
                // Natively the scalar family sums as TFLite's reference kernels do: the same floats. (In the
                // browser the SIMD families are checked against the manifest's bound, tests/web_tflite.rs.)
                let f = |b: &[u8]| -> Vec<f32> {
                    b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
                };
                assert_eq!(f(&got), f(&want), "{name} {image}: float outputs");
                close += 1;
            } else {
                assert_eq!(got, want, "{name} {image}: integer outputs must equal the reference byte for byte");
                exact += 1;
            }
            let top1 = facts["top1"].as_u64().unwrap() as usize;
            let best = mobilenet_wasm::top_k(model.last_probabilities(), 1)[0].index;
            assert_eq!(best, top1, "{name} {image}: top-1");
        }
    }
    let photos: usize =
        models.values().filter(|m| m["conversion"] != "dynamic").map(|m| m["images"].as_object().unwrap().len()).sum();
    assert!(
        photos > 0 && exact + close == photos,
        "{exact} integer and {close} float outputs of {photos}, {refused} refused"
    );
}

#[test]
fn user_models_classify_photos_through_the_pixel_path() {
    // Pixels are normalized to [-1, 1] and quantized with the model's own input parameters: the uint8-edged and
    // int8-edged conversions of one network see the same values and give the same probabilities, and the
    // float16 conversion agrees with the float32 one. (Across float and int8 these random-weight networks
    // disagree even in TFLite: one LSB early changes the 5-class softmax a lot.)
    let rgb = read_bytes("reference/inputs/cat_224.rgb");
    let probabilities = |name: &str| {
        let mut model = load(&read_bytes(&format!("fixtures/user/{name}.tflite"))).unwrap();
        assert_eq!(model.label(0), None, "{name}: the file has no labels");
        model.run_pixels(&rgb, mobilenet_wasm::PixelFormat::Rgb).unwrap().to_vec()
    };
    assert_eq!(probabilities("tm_a0.25_r224_int8_int8io"), probabilities("tm_a0.25_r224_int8_uint8io"));
    let (f32_, f16) = (probabilities("tm_a0.25_r224_float32"), probabilities("tm_a0.25_r224_float16"));
    let top = |p: &[f32]| mobilenet_wasm::top_k(p, 1)[0].index;
    assert_eq!(top(&f32_), top(&f16));
}

/// The file's compute ops in execution order (what the plan's layers are), skipping edges and relabels.
fn compute_ops<'m>(model: &'m Model) -> Vec<&'m Operator> {
    let compute = |o: &&Operator| {
        matches!(o.op, BuiltinOp::Conv2d | BuiltinOp::DepthwiseConv2d | BuiltinOp::Mean | BuiltinOp::FullyConnected)
    };
    model.operators.iter().filter(compute).collect()
}

fn tensor<'m, 'a>(model: &'m Model<'a>, op: &Operator, i: usize) -> &'m Tensor<'a> {
    &model.tensors[op.inputs[i] as usize]
}

fn scale_zp(t: &Tensor) -> (f32, i32) {
    let q = t.quantization.as_ref().unwrap();
    (q.scale[0], q.zero_point[0] as i32)
}

/// One int8 layer as TFLite's reference kernels compute it (tensorflow/lite/kernels/internal/reference/
/// integer_ops/conv.h `ConvPerChannel`, depthwise_conv.h `DepthwiseConvPerChannel`, fully_connected.h
/// `FullyConnectedPerChannel`): acc = bias[oc] + Σ filter · (input − input_zp) over the taps inside the
/// input (SAME padding contributes nothing), then MultiplyByQuantizedMultiplier with the channel's
/// multiplier from QuantizeMultiplier(in_scale · w_scale[oc] / out_scale) in double, + output_zp, clamped to
/// the fused activation's range (CalculateActivationRangeQuantized).
fn reference_layer(model: &Model, op: &Operator, spec: &LayerSpec, input: &[i8]) -> Vec<i8> {
    let (x, w, b, y) =
        (tensor(model, op, 0), tensor(model, op, 1), tensor(model, op, 2), &model.tensors[op.outputs[0] as usize]);
    let ((in_scale, in_zp), (out_scale, out_zp)) = (scale_zp(x), scale_zp(y));
    let wq = w.quantization.as_ref().unwrap();
    assert!(wq.zero_point.iter().all(|&z| z == 0), "symmetric int8 weights");
    let weights: Vec<i32> = w.data.unwrap().iter().map(|&v| v as i8 as i32).collect();
    let bias: Vec<i32> =
        b.data.unwrap().chunks_exact(4).map(|c| i32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let (i, o) = (spec.input, spec.output);
    let wscale = |oc: usize| wq.scale[if wq.scale.len() == 1 { 0 } else { oc }];
    let activation = match &op.options {
        Options::Conv2d { activation, .. }
        | Options::DepthwiseConv2d { activation, .. }
        | Options::FullyConnected { activation, .. } => activation.fused().unwrap(),
        _ => unreachable!(),
    };
    let (lo, hi) = activation_range(activation, out_scale, out_zp, -128, 127).unwrap();
    let k = spec.kernel[0];
    let pad = |size: usize, out: usize| ((out - 1) * spec.stride + (k - 1) * spec.rate + 1).saturating_sub(size) / 2;
    if let Options::Conv2d { padding: Padding::Valid, .. } | Options::DepthwiseConv2d { padding: Padding::Valid, .. } =
        op.options
    {
        assert_eq!(k, 1, "windowed layers are SAME");
    }
    let (pad_top, pad_left) = (pad(i.h, o.h), pad(i.w, o.w));
    let mut out = vec![0i8; o.len()];
    for oy in 0..o.h {
        for ox in 0..o.w {
            for oc in 0..o.c {
                let mut acc = bias[oc];
                for ky in 0..k {
                    for kx in 0..k {
                        let iy = (oy * spec.stride + ky * spec.rate) as isize - pad_top as isize;
                        let ix = (ox * spec.stride + kx * spec.rate) as isize - pad_left as isize;
                        if iy < 0 || ix < 0 || iy >= i.h as isize || ix >= i.w as isize {
                            continue;
                        }
                        let at = |c: usize| input[(iy as usize * i.w + ix as usize) * i.c + c] as i32 - in_zp;
                        acc += match spec.op {
                            // Depthwise filter [1, k, k, C]: output channel oc reads input channel oc.
                            OpKind::Depthwise => weights[(ky * k + kx) * o.c + oc] * at(oc),
                            // Conv OHWI, fully connected [out, in] (k = 1).
                            _ => (0..i.c).map(|ic| weights[((oc * k + ky) * k + kx) * i.c + ic] * at(ic)).sum::<i32>(),
                        };
                    }
                }
                let m = quantize_multiplier(in_scale as f64 * wscale(oc) as f64 / out_scale as f64);
                out[(oy * o.w + ox) * o.c + oc] = (m.apply(acc) + out_zp).clamp(lo, hi) as i8;
            }
        }
    }
    out
}

/// Every layer of an int8 file, fed the plan's own output of the layer before (so each layer is checked on
/// its own), against [`reference_layer`]; the global mean against the float mean of the dequantized input.
fn check_layer_by_layer(bytes: &[u8], seed: u64) -> usize {
    let model = mobilenet_wasm::tflite::read(bytes).unwrap();
    let ops = compute_ops(&model);
    let mut classifier = load(bytes).unwrap();
    let specs: Vec<LayerSpec> = classifier.config().layers();
    assert_eq!(ops.len(), specs.len());
    let plan = classifier.plan_mut::<Uint8>().unwrap();
    assert!(plan.is_signed(), "int8 activations inside");
    let input_tensor = &model.tensors[model.inputs[0] as usize];
    let mut rng = Rng::new(seed);
    let raw: Vec<u8> = (0..plan.input_len()).map(|_| rng.range(0, 255) as u8).collect();
    // The stem reads int8: through a uint8 edge, the same values shifted by 128.
    let mut previous: Vec<i8> = match input_tensor.dtype {
        TensorType::Int8 => raw.iter().map(|&b| b as i8).collect(),
        _ => raw.iter().map(|&b| (b ^ 0x80) as i8).collect(),
    };
    let mut checked = 0;
    for (op, spec) in ops.iter().zip(&specs) {
        let got: Vec<i8> = plan.run_to(&raw, &spec.name).unwrap().iter().map(|&b| b as i8).collect();
        if spec.op == OpKind::AvgPool {
            let (x, y) = (tensor(&model, op, 0), &model.tensors[op.outputs[0] as usize]);
            let ((si, zi), (so, zo)) = (scale_zp(x), scale_zp(y));
            let pixels = spec.input.h * spec.input.w;
            for c in 0..spec.output.c {
                let sum: f64 = (0..pixels).map(|p| (previous[p * spec.input.c + c] as i32 - zi) as f64).sum();
                let want = (sum * si as f64 / pixels as f64 / so as f64 + zo as f64).round().clamp(-128.0, 127.0);
                assert!((got[c] as f64 - want).abs() <= 1.0, "{}: channel {c}: {} vs {want}", spec.name, got[c]);
            }
        } else {
            let from = previous.clone();
            let want = reference_layer(&model, op, spec, &from);
            let bad = got.iter().zip(&want).filter(|(a, b)| a != b).count();
            assert_eq!(bad, 0, "{}: {bad} of {} values differ from the reference kernel", spec.name, want.len());
        }
        // The next layer reads what the plan computed (its own check already passed).
        previous = got;
        checked += 1;
    }
    checked
}

#[test]
fn an_int8_user_model_equals_the_reference_kernels_layer_by_layer() {
    for (name, seed) in [("tm_a0.25_r224_int8_int8io", 1), ("tm_a0.25_r224_int8_uint8io", 2)] {
        let bytes = read_bytes(&format!("fixtures/user/{name}.tflite"));
        assert_eq!(check_layer_by_layer(&bytes, seed), 30, "{name}: stem, 26 separable layers, pool, 2 dense");
    }
}

#[test]
fn int8_layers_with_channel_counts_not_multiples_of_8_equal_the_reference_kernels() {
    // α 0.3 gives 9, 19, 38, 76, 153, 307 channels; the head Dense(13, relu) → Dense(7).
    let hidden = vec![Dense { units: 13, activation: Activation::Relu }];
    let cfg = Config::new(0.3, 64).unwrap().with_num_classes(7).unwrap().with_hidden(hidden).unwrap();
    let bytes = build(&cfg, 3, Style::Dense, true);
    assert_eq!(load(&bytes).unwrap().config(), &cfg, "the head is recognized");
    assert_eq!(check_layer_by_layer(&bytes, 4), cfg.layers().len());
}

#[test]
fn heads_of_any_depth_and_activation_load_and_compute_what_the_engine_computes() {
    let hidden = vec![
        Dense { units: 24, activation: Activation::Relu },
        Dense { units: 10, activation: Activation::Relu6 },
        Dense { units: 6, activation: Activation::ReluN1To1 },
    ];
    let cfg = Config::new(0.25, 96).unwrap().with_num_classes(4).unwrap().with_hidden(hidden).unwrap();
    let bytes = build(&cfg, 9, Style::Dense, false);
    let mut model = load(&bytes).unwrap();
    assert_eq!(model.config(), &cfg);
    let names: Vec<String> = cfg.layers().iter().rev().take(4).map(|l| l.name.clone()).collect();
    assert_eq!(names, ["Logits", "Dense_3", "Dense_2", "Dense_1"]);
    let mut engine = mobilenet_wasm::Plan::seeded(cfg.clone(), 9).unwrap();
    let input = Rng::new(1).fill_uniform(engine.input_len(), -1.0, 1.0);
    let want = engine.run(&input).unwrap().probabilities.to_vec();
    let raw: Vec<u8> = input.iter().flat_map(|v| v.to_le_bytes()).collect();
    let got = model.run_raw(&raw).unwrap();
    let got: Vec<f32> = got.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff < 1e-5, "max |diff| {diff}");
}

#[test]
fn the_fixture_folder_is_where_the_readme_says() {
    assert!(shared_dir().join("fixtures/user/README.md").exists());
}

/// A synthetic int8 model with a Dense(13, relu) head, α 0.25 at 64x64, to break in one place.
fn int8_model() -> common::tflite_builder::ModelBuilder {
    let hidden = vec![Dense { units: 13, activation: Activation::Relu }];
    let cfg = Config::new(0.25, 64).unwrap().with_num_classes(5).unwrap().with_hidden(hidden).unwrap();
    common::mobilenet_builder::model(&cfg, 1, Style::Dense, true)
}

fn tensor_named(b: &mut common::tflite_builder::ModelBuilder, name: &str) -> usize {
    b.tensors.iter().position(|t| t.name == name).unwrap_or_else(|| panic!("no tensor {name}"))
}

/// The detail of the error loading `b`, which must name an operator.
fn refused(b: common::tflite_builder::ModelBuilder) -> (Option<usize>, String) {
    match load(&b.build()) {
        Err(Error::Unsupported { operator, subject, detail }) => (operator, format!("{subject}: {detail}")),
        Err(other) => (None, other.to_string()),
        Ok(_) => panic!("a broken model loaded"),
    }
}

#[test]
fn broken_quantization_is_a_typed_error_naming_the_operator() {
    assert!(load(&int8_model().build()).is_ok(), "the unbroken model loads");
    // Per-channel scales of the wrong count (the pointwise conv of block 3 has 32 output channels).
    let mut b = int8_model();
    let w = tensor_named(&mut b, "Conv2d_3_pointwise/weights");
    b.tensors[w].quantization.as_mut().unwrap().scale.pop();
    b.tensors[w].quantization.as_mut().unwrap().zero_point.pop();
    // The reader already refuses it, as a malformed file naming the tensor.
    let Err(Error::Malformed(detail)) = load(&b.build()) else { panic!("not malformed") };
    assert!(
        detail.contains("Conv2d_3_pointwise/weights): 31 scales along dimension 0 of shape [32, 1, 1, 32]"),
        "{detail}"
    );
    // A zero and a negative scale, on a filter and on an activation.
    for (name, scale) in [("Conv2d_1_depthwise/weights", 0.0), ("Conv2d_2_depthwise", -0.02)] {
        let mut b = int8_model();
        let t = tensor_named(&mut b, name);
        b.tensors[t].quantization.as_mut().unwrap().scale[0] = scale;
        let Err(Error::Malformed(detail)) = load(&b.build()) else { panic!("{name}: not malformed") };
        assert!(
            detail.contains(&format!("({name}): quantization scale {scale} is not finite and positive")),
            "{detail}"
        );
    }
    // A zero point outside int8.
    let mut b = int8_model();
    let t = tensor_named(&mut b, "Conv2d_4_pointwise");
    b.tensors[t].quantization.as_mut().unwrap().zero_point[0] = 200;
    let (op, detail) = refused(b);
    assert!(op.is_some() && detail.contains("zero point 200 outside INT8"), "{detail}");
}

#[test]
fn a_fully_connected_weight_of_the_wrong_shape_is_refused() {
    // Dense_1 reads 256 pooled features into 13 units: give its [13, 256] weight one input too many.
    let mut b = int8_model();
    let w = tensor_named(&mut b, "Dense_1/weights");
    b.tensors[w].shape = vec![13, 257];
    let buffer = b.tensors[w].buffer as usize;
    b.buffers[buffer] = vec![1; 13 * 257];
    let (op, detail) = refused(b);
    assert_eq!(op, Some(29), "{detail}");
    assert!(detail.contains("Dense_1: filter shape [13, 257], expected [13, 256]"), "{detail}");
}

#[test]
fn other_operators_and_batches_are_unsupported_by_name() {
    // An ADD where a depthwise conv was: named with its index and what is supported.
    let mut b = int8_model();
    b.operators[3].opcode_index = b.opcode(0);
    let (op, detail) = refused(b);
    assert_eq!(op, Some(3), "{detail}");
    assert!(detail.contains("builtin operator 0 is not supported") && detail.contains("DEPTHWISE_CONV_2D"), "{detail}");
    // A batch of two.
    let mut b = int8_model();
    let input = b.inputs[0] as usize;
    b.tensors[input].shape[0] = 2;
    let (op, detail) = refused(b);
    assert!(op.is_some() && detail.contains("batch 1"), "{detail}");
    // A QUANTIZE that changes the scale at the input: not a pure uint8 <-> int8 shift.
    let original = read_bytes("fixtures/user/tm_a0.25_r224_int8_uint8io.tflite");
    let model = mobilenet_wasm::tflite::read(&original).unwrap();
    assert_eq!(model.operators[0].op, BuiltinOp::Quantize);
    let input = &model.tensors[model.inputs[0]];
    let scale = input.quantization.as_ref().unwrap().scale[0];
    // The input's scale is the first float of its value in the file (the int8 side's equal one comes later).
    let at = original.windows(4).position(|w| w == scale.to_le_bytes()).unwrap();
    let mut bytes = original.clone();
    bytes[at..at + 4].copy_from_slice(&(scale * 2.0).to_le_bytes());
    match load(&bytes) {
        Err(Error::Unsupported { operator: Some(0), detail, .. }) => {
            assert!(detail.contains("only the uint8 <-> int8 shift"), "{detail}")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn keras_depths_below_alpha_a_quarter_are_recognized() {
    // Keras' MobileNet takes int(d · alpha) with no floor of 8: alpha 0.2 gives a 6-channel stem.
    let cfg = Config { min_depth: 1, ..Config::new(0.2, 64).unwrap().with_num_classes(3).unwrap() };
    assert_eq!(cfg.layers()[0].output.c, 6);
    for int8 in [false, true] {
        let model = load(&build(&cfg, 5, Style::Dense, int8)).unwrap();
        assert_eq!(model.config(), &cfg, "int8 {int8}");
    }
}

/// A ZIP of stored (uncompressed) files, local headers only, as appended to models.
fn stored_zip(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in files {
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, method 0, time, date, crc
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(data.len() as u32).to_le_bytes());
        out.extend_from_slice(&(name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
    }
    out
}

#[test]
fn metadata_normalization_and_label_file_win() {
    use common::tflite_builder::{finish, Table, Value};
    let cfg = Config::new(0.25, 64).unwrap().with_num_classes(3).unwrap();
    let mut b = common::mobilenet_builder::model(&cfg, 4, Style::Dense, false);
    // TFLite Metadata: input NormalizationOptions mean 0, std 255 (x/255); output labels in "labelmap.txt".
    let normalization = Table::new().set(0, Value::Floats(vec![0.0])).set(1, Value::Floats(vec![255.0]));
    let unit = Table::new().set(0, Value::U8(1)).set(1, Value::Table(normalization));
    let input = Table::new().set(0, Value::Str("image".into())).set(4, Value::Tables(vec![unit]));
    let file = Table::new().set(0, Value::Str("labelmap.txt".into())).set(2, Value::I8(2));
    let output = Table::new().set(0, Value::Str("probability".into())).set(6, Value::Tables(vec![file]));
    let subgraph = Table::new().set(2, Value::Tables(vec![input])).set(3, Value::Tables(vec![output]));
    let metadata = finish(&Table::new().set(0, Value::Str("test".into())).set(3, Value::Tables(vec![subgraph])));
    let buffer = b.buffer(metadata);
    let entry = Table::new().set(0, Value::Str("TFLITE_METADATA".into())).set(1, Value::U32(buffer));
    let mut bytes = finish(&b.model_table().set(6, Value::Tables(vec![entry])));
    // A decoy that the name heuristics alone would pick.
    bytes.extend(stored_zip(&[("labels.txt", b"x\ny\nz\n"), ("labelmap.txt", b"apple\nbanana\ncherry\n")]));

    let mut model = load(&bytes).unwrap();
    assert_eq!(model.labels().unwrap(), ["apple", "banana", "cherry"]);
    let pixels: Vec<u8> = (0..64 * 64 * 3).map(|i| (i * 7 % 256) as u8).collect();
    let got = model.run_pixels(&pixels, mobilenet_wasm::PixelFormat::Rgb).unwrap().to_vec();
    let mut engine = mobilenet_wasm::Plan::seeded(cfg.clone(), 4)
        .unwrap()
        .with_normalization(mobilenet_wasm::preprocess::Normalization::uniform(0.0, 255.0));
    let want = engine.run_pixels(&pixels, mobilenet_wasm::PixelFormat::Rgb).unwrap().probabilities.to_vec();
    let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff < 1e-5, "pixels scaled as the metadata says: max |diff| {diff}");
    let mut default = mobilenet_wasm::Plan::seeded(cfg, 4).unwrap();
    let other = default.run_pixels(&pixels, mobilenet_wasm::PixelFormat::Rgb).unwrap().probabilities.to_vec();
    assert!(other.iter().zip(&want).any(|(a, b)| (a - b).abs() > 1e-3), "the default [-1, 1] differs");

    // A normalization the engine cannot apply is a typed error, not ignored.
    let bad = mobilenet_wasm::preprocess::Normalization::from_lists(&[0.0, 1.0], &[1.0]);
    assert!(matches!(bad, Err(Error::Unsupported { .. })));
    assert!(mobilenet_wasm::preprocess::Normalization::from_lists(&[0.0], &[0.0]).is_err());
}
