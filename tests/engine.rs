//! The engine's plan (folded batch norm, packed weights, kernel seam, ping-pong buffers) against the
//! network composed directly from the reference ops with batch norm unfolded.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::arch::{Config, OpKind, Resolution};
use mobilenet_wasm::ops::{self, ConvOptions, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Error, PixelFormat, Plan, Tensor, Weights};

/// Every end point's output, computed with the scalar ops of `mobilenet_wasm::ops` straight from the
/// TF-layout weights: conv → batch norm → ReLU6, no folding, no packing.
fn reference_end_points(cfg: &Config, weights: &Weights, input: &[f32]) -> Vec<Tensor> {
    let r = cfg.resolution;
    let mut x = Tensor::from_vec([1, r.height, r.width, 3], input.to_vec()).unwrap();
    let mut outs = Vec::new();
    for (spec, w) in cfg.layers().iter().zip(&weights.layers) {
        let o = ConvOptions::new(spec.stride, spec.rate, Padding::Same);
        let bias = w.as_ref().filter(|w| !w.bias.is_empty()).map(|w| w.bias.as_slice());
        x = match spec.op {
            OpKind::Conv => ops::conv2d(&x, &w.as_ref().unwrap().filter, bias, &o).unwrap(),
            OpKind::Depthwise => ops::depthwise_conv2d(&x, &w.as_ref().unwrap().filter, bias, &o).unwrap(),
            OpKind::Pointwise | OpKind::Dense | OpKind::Logits => {
                ops::pointwise(&x, &w.as_ref().unwrap().filter, bias).unwrap()
            }
            OpKind::AvgPool => ops::global_avg_pool(&x).unwrap(),
        };
        if let Some(bn) = w.as_ref().and_then(|w| w.batch_norm.as_ref()) {
            bn.apply(&mut x.data).unwrap();
        }
        if spec.activation == mobilenet_wasm::arch::Activation::Relu6 {
            ops::relu6_in_place(&mut x.data);
        } else {
            let (lo, hi) = spec.activation.bounds();
            x.data.iter_mut().for_each(|v| *v = v.max(lo).min(hi));
        }
        outs.push(x.clone());
    }
    outs
}

fn random_input(len: usize, seed: u64) -> Vec<f32> {
    Rng::new(seed).fill_uniform(len, -1.0, 1.0)
}

fn assert_close(got: &[f32], want: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let scale = want.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    let diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
    assert!(diff <= tol * scale, "{what}: max |diff| {diff} > {tol} x {scale}");
}

fn check_against_reference(cfg: Config, seed: u64) {
    let weights = Weights::seeded(&cfg, seed);
    let mut plan = Plan::new(cfg.clone(), &weights).unwrap();
    let input = random_input(plan.input_len(), seed + 1);
    let reference = reference_end_points(&cfg, &weights, &input);
    for (spec, want) in cfg.layers().iter().zip(&reference) {
        let got = plan.run_to(&input, &spec.name).unwrap();
        assert_close(got, &want.data, 2e-5, &format!("{:?} {}", cfg.resolution, spec.name));
    }
    let out = plan.run(&input).unwrap();
    let mut probs = vec![0.0; cfg.num_classes];
    ops::softmax(&reference.last().unwrap().data, &mut probs);
    assert_close(out.probabilities, &probs, 1e-5, "probabilities");
}

#[test]
fn plan_matches_reference_small_alpha() {
    check_against_reference(Config::new(0.25, 64).unwrap(), 3);
}

#[test]
fn plan_matches_reference_non_square_odd_sizes() {
    let cfg = Config::new(0.5, 32).unwrap().with_resolution(Resolution { height: 45, width: 70 }).unwrap();
    check_against_reference(cfg.with_num_classes(1000).unwrap(), 4);
}

#[test]
fn plan_matches_reference_dilated_output_strides() {
    for os in [8, 16] {
        let cfg = Config::new(0.25, 96).unwrap().with_output_stride(os).unwrap();
        check_against_reference(cfg, 5 + os as u64);
    }
}

#[test]
fn full_size_network_runs_and_is_deterministic() {
    let cfg = Config::default();
    let mut a = Plan::seeded(cfg.clone(), 42).unwrap();
    let input = random_input(a.input_len(), 9);
    let first = a.run(&input).unwrap().probabilities.to_vec();
    assert_eq!(first.len(), 1001);
    assert!((first.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    assert_eq!(a.run(&input).unwrap().probabilities, &first[..], "buffers are reused cleanly");
    let mut b = Plan::seeded(cfg.clone(), 42).unwrap();
    assert_eq!(b.run(&input).unwrap().probabilities, &first[..], "same seed, same weights");
    let mut c = Plan::seeded(cfg, 43).unwrap();
    assert_ne!(c.run(&input).unwrap().probabilities, &first[..]);
}

#[test]
fn seeded_network_is_not_degenerate() {
    // Trained-like statistics: ReLU6 leaves a healthy mix of zeros, live values and a few clipped ones
    // in every layer, and the logits spread enough that the top-5 means something.
    let cfg = Config::default();
    let mut plan = Plan::seeded(cfg.clone(), 1).unwrap();
    let input = random_input(plan.input_len(), 2);
    for spec in cfg.layers().iter().filter(|l| l.activation == mobilenet_wasm::arch::Activation::Relu6) {
        let act = plan.run_to(&input, &spec.name).unwrap();
        let zeros = act.iter().filter(|&&v| v == 0.0).count() as f32 / act.len() as f32;
        assert!((0.05..0.9).contains(&zeros), "{}: {:.0}% zeros", spec.name, zeros * 100.0);
    }
    let logits = plan.run(&input).unwrap().logits;
    let mean = logits.iter().sum::<f32>() / logits.len() as f32;
    let std = (logits.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / logits.len() as f32).sqrt();
    assert!(std > 1.0 && std < 20.0, "logit std {std}");
}

#[test]
fn embedding_is_the_average_of_the_last_feature_map() {
    let cfg = Config::new(0.5, 128).unwrap();
    let mut plan = Plan::seeded(cfg, 8).unwrap();
    let input = random_input(plan.input_len(), 8);
    let last = plan.run_to(&input, "Conv2d_13_pointwise").unwrap().to_vec();
    let embedding = plan.run_to(&input, "AvgPool_1a").unwrap().to_vec();
    assert_eq!(embedding.len(), 512);
    for c in [0, 17, 511] {
        let mean = last.iter().skip(c).step_by(512).sum::<f32>() / 16.0;
        assert!((embedding[c] - mean).abs() < 1e-5);
    }
}

#[test]
fn pixels_are_scaled_to_minus_one_one() {
    let cfg = Config::new(0.25, 32).unwrap();
    let mut plan = Plan::seeded(cfg, 1).unwrap();
    let rgba: Vec<u8> = (0..32 * 32 * 4).map(|i| (i * 7 % 256) as u8).collect();
    let rgb: Vec<u8> = rgba.chunks(4).flat_map(|p| [p[0], p[1], p[2]]).collect();
    let floats: Vec<f32> = rgb.iter().map(|&v| (v as f32 - 127.5) / 127.5).collect();
    let want = plan.run(&floats).unwrap().probabilities.to_vec();
    assert_eq!(plan.run_pixels(&rgb, PixelFormat::Rgb).unwrap().probabilities, &want[..]);
    assert_eq!(plan.run_pixels(&rgba, PixelFormat::Rgba).unwrap().probabilities, &want[..]);
    assert!(matches!(plan.run_pixels(&rgb[1..], PixelFormat::Rgb), Err(Error::Shape(_))));
}

#[test]
fn bad_inputs_are_typed_errors() {
    let mut plan = Plan::seeded(Config::new(0.25, 32).unwrap(), 1).unwrap();
    let n = plan.input_len();
    assert!(matches!(plan.run(&vec![0.0; n - 1]), Err(Error::Shape(_))));
    let mut nan = vec![0.0; n];
    nan[5] = f32::NAN;
    assert!(matches!(plan.run(&nan), Err(Error::NonFinite(_))));
    assert!(matches!(plan.run_to(&vec![0.0; n], "Conv2d_14"), Err(Error::UnknownEndPoint(_))));
    let mut times = vec![0.0; 3];
    assert!(plan.profile(&vec![0.0; n], &|| 0.0, &mut times).is_err());
}

#[test]
fn weights_that_do_not_fit_the_config_are_rejected() {
    let small = Config::new(0.25, 64).unwrap();
    let big = Config::new(0.5, 64).unwrap();
    assert!(matches!(Plan::new(big, &Weights::seeded(&small, 1)), Err(Error::Shape(_))));
    let mut w = Weights::seeded(&small, 1);
    w.layers[3].as_mut().unwrap().filter.data[0] = f32::INFINITY;
    assert!(matches!(Plan::new(small.clone(), &w), Err(Error::NonFinite(_))));
    let mut w = Weights::seeded(&small, 1);
    w.layers.pop();
    assert!(Plan::new(small, &w).is_err());
}

#[test]
fn profile_times_every_layer() {
    let cfg = Config::new(0.25, 64).unwrap();
    let mut plan = Plan::seeded(cfg.clone(), 1).unwrap();
    let input = random_input(plan.input_len(), 1);
    let clock = std::cell::Cell::new(0.0);
    let now = || {
        clock.set(clock.get() + 1.0);
        clock.get()
    };
    let mut times = vec![0.0; cfg.layers().len()];
    let want = plan.run(&input).unwrap().probabilities.to_vec();
    assert_eq!(plan.profile(&input, &now, &mut times).unwrap().probabilities, &want[..]);
    assert!(times.iter().all(|&t| t == 1.0), "{times:?}");
}

#[test]
fn layers_split_across_workers_compute_the_same() {
    // Without the `threads` feature the parts run in turn; with it (cargo test --features threads) they run
    // on rayon's workers. Either way the result must be bit-identical to the whole-layer run.
    for (cfg, threads) in [
        (Config::new(0.5, 96).unwrap(), 2),
        (Config::new(0.25, 64).unwrap().with_output_stride(8).unwrap(), 3),
        (Config::new(0.25, 32).unwrap().with_resolution(Resolution { height: 33, width: 47 }).unwrap(), 7),
    ] {
        let mut whole = Plan::seeded(cfg.clone(), 2).unwrap();
        let mut split = Plan::seeded(cfg.clone(), 2).unwrap().with_threads(threads);
        let input = random_input(whole.input_len(), 3);
        let want = whole.run(&input).unwrap().logits.to_vec();
        assert_eq!(split.run(&input).unwrap().logits, &want[..], "{cfg:?} on {threads} workers");
    }
}

#[cfg(feature = "threads")]
#[test]
fn workers_that_finish_late_compute_the_same() {
    // The pool's parts linger after their last layer (a test hook), so they report finished long after the
    // caller: the caller must wait for them, and the result must still equal the one-thread run.
    use std::sync::atomic::Ordering;
    let cfg = Config::new(0.25, 64).unwrap();
    let mut whole = Plan::seeded(cfg.clone(), 5).unwrap();
    let mut split = Plan::seeded(cfg, 5).unwrap().with_threads(3);
    let input = random_input(whole.input_len(), 6);
    let want = whole.run(&input).unwrap().logits.to_vec();
    mobilenet_wasm::engine::LINGER_SPINS.store(20_000_000, Ordering::Relaxed);
    let got: Vec<Vec<f32>> = (0..3).map(|_| split.run(&input).unwrap().logits.to_vec()).collect();
    mobilenet_wasm::engine::LINGER_SPINS.store(0, Ordering::Relaxed);
    assert!(got.iter().all(|g| g[..] == want[..]));
}

/// Finite weights can still overflow: logits weights of ±3e38 once gave NaN probabilities that printed as
/// scores of null with exit 0. Outputs that are not finite are a typed error; the plan stays usable.
#[test]
fn outputs_that_overflow_are_typed_errors() {
    let cfg = Config::new(0.25, 32).unwrap();
    let mut w = Weights::seeded(&cfg, 1);
    let logits = w.layers.last_mut().unwrap().as_mut().unwrap();
    logits.filter.data.iter_mut().enumerate().for_each(|(i, v)| *v = if i % 2 == 0 { 3e38 } else { -3e38 });
    let mut plan = Plan::new(cfg.clone(), &w).unwrap();
    let input = vec![0.5; plan.input_len()];
    assert!(matches!(plan.run(&input), Err(Error::NonFinite(_))));
    assert!(matches!(plan.run_pixels(&vec![200; plan.input_len()], PixelFormat::Rgb), Err(Error::NonFinite(_))));
    let mut times = vec![0.0; plan.layers().count()];
    assert!(matches!(plan.profile(&input, &|| 0.0, &mut times), Err(Error::NonFinite(_))));
    let mut fine = Plan::seeded(cfg, 1).unwrap();
    assert!(fine.run(&input).unwrap().probabilities.iter().all(|p| p.is_finite()));
}
