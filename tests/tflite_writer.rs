//! The TFLite writer: files written from seeded networks read back through the public import as the same
//! configuration and compute exactly what the native plan computes; metadata carries the normalization.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::arch::{Activation, Config, Dense, Resolution};
use mobilenet_wasm::engine::Float;
use mobilenet_wasm::preprocess::Normalization;
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::{import, Network, Precision};
use mobilenet_wasm::tflite::read;
use mobilenet_wasm::tflite::schema::{BuiltinOp, TensorType};
use mobilenet_wasm::tflite::writer::{write_float, DESCRIPTION};
use mobilenet_wasm::{Classifier, Error, Plan, Weights};

fn configs() -> Vec<Config> {
    let dense = |units, activation| Dense { units, activation };
    let hidden = vec![dense(24, Activation::Relu), dense(12, Activation::Relu6)];
    vec![
        Config::new(0.25, 128).unwrap(),
        Config::new(1.0, 96).unwrap().with_num_classes(1000).unwrap(),
        Config::new(0.5, 64).unwrap().with_num_classes(7).unwrap().with_hidden(hidden).unwrap(),
        // Logits out (no softmax, a fused activation on them), dilated, not square.
        Config {
            softmax: false,
            logits_activation: Activation::ReluN1To1,
            ..Config::new(0.35, 64)
                .unwrap()
                .with_resolution(Resolution { height: 48, width: 80 })
                .unwrap()
                .with_output_stride(16)
                .unwrap()
                .with_num_classes(10)
                .unwrap()
        },
    ]
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn written_models_read_back_as_the_same_network_bit_for_bit() {
    for (seed, cfg) in configs().into_iter().enumerate() {
        let seed = seed as u64 + 3;
        let bytes = write_float(&cfg, &Weights::seeded(&cfg, seed), None).unwrap();
        let mut model = Classifier::from_tflite(&[&bytes], Precision::AsStored).unwrap();
        assert_eq!(model.config(), &cfg, "recovered configuration");
        let mut native = Plan::seeded(cfg.clone(), seed).unwrap();
        let input = Rng::new(seed ^ 0x5eed).fill_uniform(native.input_len(), -1.0, 1.0);
        let want = native.run(&input).unwrap();
        let (want_logits, want_probabilities) = (bits(want.logits), bits(want.probabilities));
        let Some(plan) = model.plan_mut::<Float>() else { panic!("{cfg:?}: not a float plan") };
        let got = plan.run(&input).unwrap();
        // The file holds the very floats the native plan packs, so the same kernels give the same bits.
        assert_eq!(bits(got.logits), want_logits, "{cfg:?}: logits");
        assert_eq!(bits(got.probabilities), want_probabilities, "{cfg:?}: probabilities");
        assert!(want_logits.iter().any(|&b| b != 0), "{cfg:?}: a network that computes something");
    }
}

#[test]
fn the_graph_is_the_one_tflite_converters_write() {
    let cfg = &configs()[2];
    let bytes = write_float(cfg, &Weights::seeded(cfg, 1), None).unwrap();
    // A root uoffset inside the file, then the file identifier.
    let root = u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]) as usize;
    assert!(root >= 8 && root % 4 == 0 && root < bytes.len(), "root offset {root}");
    assert_eq!(&bytes[4..8], b"TFL3");
    let model = read(&bytes).unwrap();
    assert_eq!((model.version, model.description.as_str()), (3, DESCRIPTION));
    assert_eq!(model.flatbuffer_len, bytes.len());
    let input = &model.tensors[model.inputs[0]];
    assert_eq!(
        (input.name.as_str(), input.shape.as_slice(), input.dtype),
        ("input", &[1, 64, 64, 3][..], TensorType::Float32)
    );
    assert_eq!(model.tensors[model.outputs[0]].shape, [1, 7]);
    let ops: Vec<BuiltinOp> = model.operators.iter().map(|o| o.op.clone()).collect();
    let mut want = vec![BuiltinOp::Conv2d];
    for _ in 0..13 {
        want.extend([BuiltinOp::DepthwiseConv2d, BuiltinOp::Conv2d]);
    }
    want.extend([BuiltinOp::AveragePool2d, BuiltinOp::Reshape]);
    want.extend(std::iter::repeat_n(BuiltinOp::FullyConnected, 3));
    want.push(BuiltinOp::Softmax);
    assert_eq!(ops, want);
    // TFLite's layouts: conv OHWI, depthwise [1, kh, kw, C], fully connected [O, I].
    let filter = |op: usize| model.tensors[model.operators[op].inputs[1] as usize].shape.clone();
    assert_eq!(filter(0), [16, 3, 3, 3]);
    assert_eq!(filter(1), [1, 3, 3, 16]);
    assert_eq!(filter(2), [32, 1, 1, 16]);
    assert_eq!(filter(29), [24, 512]);
    assert_eq!(filter(31), [7, 12]);
    // Activations have no data: buffer 0 is the empty one.
    assert!(model.operators.iter().all(|o| model.tensors[o.outputs[0] as usize].data.is_none()));
}

#[test]
fn metadata_carries_the_normalization() {
    let cfg = Config::new(0.25, 64).unwrap();
    let weights = Weights::seeded(&cfg, 2);
    let per_channel = Normalization { mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375] };
    for n in [Normalization::MINUS_ONE_ONE, Normalization::uniform(0.0, 255.0), per_channel] {
        let bytes = write_float(&cfg, &weights, Some(n)).unwrap();
        let model = read(&bytes).unwrap();
        let Some((mean, std)) = &model.metadata.normalization else { panic!("no normalization read back") };
        assert_eq!(Normalization::from_lists(mean, std), Ok(n));
        match import(&[model], Precision::AsStored).unwrap().network {
            Network::Float { normalization, .. } => assert_eq!(normalization, n),
            Network::Quantized(_) => panic!("a float model imported as quantized"),
        }
    }
    // Uniform normalizations are written as one value each, as converters write them.
    let bytes = write_float(&cfg, &weights, Some(Normalization::MINUS_ONE_ONE)).unwrap();
    assert_eq!(read(&bytes).unwrap().metadata.normalization, Some((vec![127.5], vec![127.5])));
    let bare = write_float(&cfg, &weights, None).unwrap();
    assert_eq!(read(&bare).unwrap().metadata.normalization, None);
}

#[test]
fn weights_of_another_network_are_refused() {
    let cfg = Config::new(0.25, 64).unwrap();
    let other = Weights::seeded(&Config::new(0.5, 64).unwrap(), 1);
    assert!(matches!(write_float(&cfg, &other, None), Err(Error::Shape(_))));
    let mut nan = Weights::seeded(&cfg, 1);
    if let Some(Some(w)) = nan.layers.first_mut() {
        w.filter.data[0] = f32::NAN;
    }
    assert!(matches!(write_float(&cfg, &nan, None), Err(Error::NonFinite(_))));
}

/// Not a check: writes each config's model (`writer-N.tflite`), a seeded input (`writer-N.in.f32`) and our
/// output on it (`writer-N.out.f32`, little-endian f32) into `$MOBILENET_WRITER_OUT`, for
/// `scripts/check_tflite_writer.py` to run through TFLite's own interpreter.
#[test]
#[ignore]
fn write_files_for_tflite() {
    let Some(dir) = std::env::var_os("MOBILENET_WRITER_OUT") else { return };
    let dir = std::path::PathBuf::from(dir);
    let le = |v: &[f32]| v.iter().flat_map(|x| x.to_le_bytes()).collect::<Vec<u8>>();
    for (i, cfg) in configs().into_iter().enumerate() {
        let seed = i as u64 + 3;
        let bytes = write_float(&cfg, &Weights::seeded(&cfg, seed), Some(Normalization::MINUS_ONE_ONE)).unwrap();
        let mut plan = Plan::seeded(cfg.clone(), seed).unwrap();
        let input = Rng::new(seed ^ 0x5eed).fill_uniform(plan.input_len(), -1.0, 1.0);
        let out = plan.run(&input).unwrap();
        let output = if cfg.softmax { out.probabilities } else { out.logits };
        std::fs::write(dir.join(format!("writer-{i}.tflite")), bytes).unwrap();
        std::fs::write(dir.join(format!("writer-{i}.in.f32")), le(&input)).unwrap();
        std::fs::write(dir.join(format!("writer-{i}.out.f32")), le(output)).unwrap();
    }
}
