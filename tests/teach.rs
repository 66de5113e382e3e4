//! Exporting a taught head: the backbone copied from the source file as it is, the new head after its
//! pool, labels in an appended ZIP, and the file running in our engine as the head computes in float.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::read_bytes;
use mobilenet_wasm::teach::{export, head::Dense, head::Head};
use mobilenet_wasm::tflite::schema::{BuiltinOp, Model, TensorType};
use mobilenet_wasm::tflite::{self, import::Precision, zip};
use mobilenet_wasm::{Classifier, PixelFormat};

const LABELS: [&str; 3] = ["cat", "dragonfly", "parrot"];

/// A 3-class linear head of seeded weights for `dim` features.
fn head(dim: usize) -> Head {
    let mut rng = mobilenet_wasm::rng::Rng::new(7);
    let weights = (0..3 * dim).map(|_| rng.uniform(-0.5, 0.5)).collect();
    Head { layers: vec![Dense { inputs: dim, outputs: 3, weights, bias: vec![0.1, -0.2, 0.05], relu: false }] }
}

fn labels() -> Vec<String> {
    LABELS.iter().map(|s| s.to_string()).collect()
}

/// The embeddings of three photos through `files`, rows flat.
fn embeddings(files: &[&[u8]]) -> (Classifier, Vec<f32>) {
    let mut model = Classifier::from_tflite(files, Precision::AsStored).unwrap();
    let side = model.config().resolution.height;
    let mut rows = Vec::new();
    for photo in ["cat", "dragonfly", "parrot"] {
        let rgb = read_bytes(&format!("reference/inputs/{photo}_{side}.rgb"));
        rows.extend_from_slice(model.embedding_pixels(&rgb, PixelFormat::Rgb).unwrap());
    }
    (model, rows)
}

/// Ops the pool's output depends on in the source, by kind.
fn ops(m: &Model<'_>) -> Vec<BuiltinOp> {
    m.operators.iter().map(|o| o.op.clone()).collect()
}

#[test]
fn the_backbone_is_copied_as_it_is_and_the_head_follows_the_pool() {
    let source = read_bytes("models/mobilenet_v1_0.25_128_quant.tflite");
    let (_, rows) = embeddings(&[&source]);
    let bytes = export::tflite(&source, &head(256), &rows, &labels()).unwrap();
    let (src, out) = (tflite::read(&source).unwrap(), tflite::read(&bytes).unwrap());
    let pool = ops(&src).iter().position(|o| *o == BuiltinOp::AveragePool2d).unwrap();
    // Every op up to the pool, with its options, weights and quantization, in order; then the new head.
    assert_eq!(ops(&out)[..=pool], ops(&src)[..=pool]);
    assert_eq!(
        ops(&out)[pool + 1..],
        [BuiltinOp::Reshape, BuiltinOp::FullyConnected, BuiltinOp::Softmax],
        "RESHAPE to [1, C], the head, softmax"
    );
    for (a, b) in src.operators[..=pool].iter().zip(&out.operators) {
        assert_eq!(a.options, b.options);
        for (&ta, &tb) in a.inputs.iter().zip(&b.inputs) {
            let (ta, tb) = (&src.tensors[ta as usize], &out.tensors[tb as usize]);
            assert_eq!((&ta.name, &ta.shape, ta.dtype, ta.data), (&tb.name, &tb.shape, tb.dtype, tb.data));
            assert_eq!(ta.quantization, tb.quantization, "{}", ta.name);
        }
    }
    // The head in uint8: weights per tensor, the bias at input scale × weight scale, softmax at 1/256.
    let fc = &out.operators[pool + 2];
    let [x, w, b] = [0, 1, 2].map(|i| &out.tensors[fc.inputs[i] as usize]);
    assert_eq!((w.dtype, w.shape.as_slice(), b.dtype), (TensorType::Uint8, &[3, 256][..], TensorType::Int32));
    let (sx, sw, sb) = [x, w, b].map(|t| t.quantization.as_ref().unwrap().scale[0]).into();
    assert!((sb - sx * sw).abs() <= 1e-6 * sb, "{sb} vs {sx}·{sw}");
    let probability = &out.tensors[out.outputs[0]];
    assert_eq!(probability.quantization.as_ref().map(|q| (q.scale[0], q.zero_point[0])), Some((1.0 / 256.0, 0)));
    // Labels: named in the metadata, stored in the ZIP after the flatbuffer.
    assert_eq!(out.metadata.labels_file.as_deref(), Some("labels.txt"));
    assert_eq!(zip::labels(&bytes, out.flatbuffer_len, Some("labels.txt")), Some(labels()));
}

#[test]
fn the_old_heads_weights_and_their_dequantize_ops_are_left_out() {
    let source = read_bytes("fixtures/user/tm_a0.25_r224_float16.tflite");
    let src = tflite::read(&source).unwrap();
    let dim = 256;
    let rows = vec![0.5f32; 3 * dim];
    let bytes = export::tflite(&source, &head(dim), &rows, &labels()).unwrap();
    let out = tflite::read(&bytes).unwrap();
    let count = |m: &Model<'_>, op: BuiltinOp| m.operators.iter().filter(|o| o.op == op).count();
    // Two dense layers' weights and biases were float16 behind DEQUANTIZE; the conv ones stay.
    assert_eq!(count(&out, BuiltinOp::Dequantize), count(&src, BuiltinOp::Dequantize) - 4);
    assert_eq!(count(&out, BuiltinOp::FullyConnected), 1);
    let fc = out.operators.iter().find(|o| o.op == BuiltinOp::FullyConnected).unwrap();
    assert_eq!(out.tensors[fc.inputs[1] as usize].dtype, TensorType::Float32, "the new head is float32");
}

#[test]
fn the_exported_file_runs_as_the_head_computes() {
    let sources: [Vec<Vec<u8>>; 2] = [
        vec![read_bytes("models/mobilenet_v1_0.25_128_quant.tflite")],
        vec![read_bytes("fixtures/user/keras_a0.5_r128_float32.tflite")],
    ];
    for files in sources {
        let parts: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
        let (model, rows) = embeddings(&parts);
        let h = head(rows.len() / 3);
        let bytes = export::tflite(parts[0], &h, &rows, &labels()).unwrap();
        let mut taught = Classifier::from_tflite(&[&bytes], Precision::AsStored).unwrap();
        assert_eq!(taught.labels(), Some(&labels()[..]));
        let side = model.config().resolution.height;
        for (i, photo) in ["cat", "dragonfly", "parrot"].iter().enumerate() {
            let rgb = read_bytes(&format!("reference/inputs/{photo}_{side}.rgb"));
            let want = h.probabilities(&rows[i * h.dim()..][..h.dim()]).unwrap();
            let got = taught.run_pixels(&rgb, PixelFormat::Rgb).unwrap();
            // Float: the same sums in another order; uint8: a step of the logits' and softmax's scales.
            let tolerance = if model.is_quantized() { 0.05 } else { 1e-5 };
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= tolerance, "{photo}: {got:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn exporting_refuses_a_head_that_does_not_fit() {
    let source = read_bytes("models/mobilenet_v1_0.25_128_quant.tflite");
    let rows = vec![1.0f32; 3 * 256];
    let wrong_width = export::tflite(&source, &head(100), &rows[..300], &labels());
    assert!(wrong_width.unwrap_err().to_string().contains("256"));
    assert!(export::tflite(&source, &head(256), &rows, &labels()[..2]).is_err(), "2 labels for 3 classes");
    let broken = vec!["cat".to_string(), "dragon\nfly".into(), "parrot".into()];
    assert!(export::tflite(&source, &head(256), &rows, &broken).is_err(), "a label with a line break");
    assert!(export::tflite(&source[..1000], &head(256), &rows, &labels()).is_err(), "a truncated model");
    assert!(export::tflite(&source, &head(256), &rows[..10], &labels()).is_err(), "ragged examples");
}
