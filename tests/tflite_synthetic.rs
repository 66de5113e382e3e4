//! Synthetic MobileNet v1 files written from the seeded weights: the importer must recover any alpha,
//! resolution, output stride and class count, accept both export styles, and compute what the engine
//! computes from the same weights; int8 per-channel models must agree with their dequantized float run.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::mobilenet_builder::{build, Style};
use mobilenet_wasm::arch::{Config, Resolution};
use mobilenet_wasm::engine::Float;
use mobilenet_wasm::quant::quantize_multiplier;
use mobilenet_wasm::quant::{MeanQ, PoolQ};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::{import, Network, Precision};
use mobilenet_wasm::tflite::read;
use mobilenet_wasm::{top_k, Classifier, PixelFormat, Plan};

fn configs() -> Vec<Config> {
    vec![
        Config::new(0.25, 64).unwrap(),
        Config::new(0.35, 96).unwrap().with_num_classes(1000).unwrap(),
        Config::new(0.5, 64).unwrap().with_resolution(Resolution { height: 48, width: 80 }).unwrap(),
        Config::new(0.25, 64).unwrap().with_output_stride(16).unwrap(),
        Config::new(0.25, 64).unwrap().with_output_stride(8).unwrap().with_num_classes(10).unwrap(),
    ]
}

#[test]
fn float_files_are_recognized_and_compute_what_the_engine_computes() {
    for (i, cfg) in configs().into_iter().enumerate() {
        for style in [Style::Slim, Style::Dense] {
            let bytes = build(&cfg, i as u64, style, false);
            let mut model = Classifier::from_tflite(&[&bytes], Precision::AsStored).unwrap();
            assert_eq!(model.config(), &cfg, "{style:?}: recovered configuration");
            let mut engine = Plan::seeded(cfg.clone(), i as u64).unwrap();
            let input = Rng::new(5).fill_uniform(engine.input_len(), -1.0, 1.0);
            let want = engine.run(&input).unwrap().logits.to_vec();
            let Some(plan) = model.plan_mut::<Float>() else { panic!() };
            let got = plan.run(&input).unwrap().logits;
            let diff = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
            assert!(diff < 1e-4, "{cfg:?} {style:?}: max |logit diff| {diff}");
        }
    }
}

/// Logits of a run on `pixels`: dequantized for the integer plan.
fn logits(model: &mut Classifier, pixels: &[u8]) -> Vec<f32> {
    model.run_pixels(pixels, PixelFormat::Rgb).unwrap();
    model.last_logits().to_vec()
}

#[test]
fn int8_per_channel_models_agree_with_their_float_run() {
    let (mut top1, mut decided) = (0, 0);
    for (i, cfg) in configs().into_iter().enumerate() {
        // Slim pools with AVERAGE_POOL_2D, Dense with MEAN (requantizing for odd seeds).
        for style in [Style::Slim, Style::Dense] {
            let bytes = build(&cfg, i as u64, style, true);
            let mut int8 = Classifier::from_tflite(&[&bytes], Precision::AsStored).unwrap();
            let mut float = Classifier::from_tflite(&[&bytes], Precision::Float).unwrap();
            assert!(int8.is_quantized() && !float.is_quantized());
            assert_eq!(int8.config(), &cfg);
            let mut rng = Rng::new(i as u64);
            for _ in 0..4 {
                let r = cfg.resolution;
                let pixels: Vec<u8> = (0..r.height * r.width * 3).map(|_| rng.range(0, 255) as u8).collect();
                let (a, b) = (logits(&mut int8, &pixels), logits(&mut float, &pixels));
                let spread = b.iter().fold(0.0f32, |m, v| m.max(v.abs()));
                let diff = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max);
                // 27 requantized layers of 8 bits: the logits stay within a few percent of their range.
                assert!(diff < 0.05 * spread, "{cfg:?} {style:?}: max |logit diff| {diff} of {spread}");
                // Where the float run's winner leads by more than that error, the integer run agrees.
                let best = top_k(&b, 2);
                if best[0].score - best[1].score > 2.0 * diff {
                    decided += 1;
                    top1 += usize::from(top_k(&a, 1)[0].index == best[0].index);
                }
            }
        }
    }
    eprintln!("decided {decided} top1 {top1}");
    assert!(decided >= 10, "only {decided} clear cases");
    assert_eq!(top1, decided);
}

/// The pool each int8 style imports to: AVERAGE_POOL_2D keeps its clamp; MEAN takes the multiplier of its own
/// input and output scales (PrepareMeanOrSum) and both zero points, shifted by 128.
#[test]
fn int8_pools_import_with_their_quantization() {
    let cfg = Config::new(0.25, 64).unwrap();
    let pool = |seed: u64, style: Style| {
        let bytes = build(&cfg, seed, style, true);
        let model = read(&bytes).unwrap();
        match import(&[model], Precision::AsStored).unwrap().network {
            Network::Quantized(w) => w.pool,
            Network::Float { .. } => panic!("not quantized"),
        }
    };
    assert!(matches!(pool(0, Style::Slim), PoolQ::Average(_)));
    // ReLU6 activations are int8 (6/255, −128); odd seeds give the MEAN output (7/255, −110).
    let same = MeanQ { multiplier: quantize_multiplier(1.0), input_zero_point: 0, output_zero_point: 0 };
    assert_eq!(pool(0, Style::Dense), PoolQ::Mean(same));
    let ratio = f64::from(6.0f32 / 255.0) / f64::from(7.0f32 / 255.0);
    let own = MeanQ { multiplier: quantize_multiplier(ratio), input_zero_point: 0, output_zero_point: 18 };
    assert_eq!(pool(1, Style::Dense), PoolQ::Mean(own));
}

/// Not a check: writes tiny MobileNet files (α 0.01 at 32×32, 10 classes; both export styles, float and int8)
/// into `$MOBILENET_FUZZ_SEEDS` for the fuzzers' seed corpora (scripts/fuzz.sh). Files of a few kilobytes keep
/// the reader and import fuzzing at thousands of runs a second, where the official models allow hundreds.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let Some(dir) = std::env::var_os("MOBILENET_FUZZ_SEEDS") else { return };
    let dir = std::path::PathBuf::from(dir);
    let cfg = Config::new(0.01, 32).unwrap().with_num_classes(10).unwrap();
    // And a Keras-style head of two Dense layers, so the fuzzer starts from the head's import too.
    let hidden = vec![mobilenet_wasm::arch::Dense { units: 6, activation: mobilenet_wasm::arch::Activation::Relu }];
    let head = cfg.clone().with_hidden(hidden).unwrap();
    for (label, cfg) in [("", &cfg), ("-dense-head", &head)] {
        for style in [Style::Slim, Style::Dense] {
            for int8 in [false, true] {
                let name = format!("seed-tiny-{style:?}{label}-{}.tflite", if int8 { "int8" } else { "float" });
                std::fs::write(dir.join(name), build(cfg, 1, style, int8)).unwrap();
            }
        }
    }
}
