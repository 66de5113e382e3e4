//! The SIMD128 kernels against their scalar twins, in Chromium (`wasm-pack test --headless --chrome`):
//! many random shapes (odd channel counts, block tails, 1x1 and 1xN maps, strides 1/2, rates 1/2/4,
//! pixel counts off the 4-pixel tile), with guard values after each output to catch stray writes, then
//! whole seeded networks run by both families. Plain SIMD builds must agree bit for bit; relaxed SIMD
//! builds (`+relaxed-simd`, whose multiply-adds may fuse) within a summation rounding bound
//! (`kernel_tester::float`). Shapes and comparisons are the shared tester's (tests/common/kernel_tester.rs).
#![cfg(target_arch = "wasm32")]

#[path = "common/kernel_tester.rs"]
mod kernel_tester;

use kernel_tester::float::RELAXED;
use kernel_tester::{sweep_conv, sweep_depthwise, sweep_pointwise, sweep_pool};
use kernel_tester::{Reference, Tester};
use mobilenet_wasm::engine::Float;
use mobilenet_wasm::kernels::{self, Family};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Config, Plan};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SIMD: &str = if RELAXED { "relaxed-simd128" } else { "simd128" };

fn families() -> (&'static Family<Float>, &'static Family<Float>) {
    let simd = kernels::named::<Float>(SIMD).expect("this test needs a +simd128 build");
    assert_eq!(kernels::best::<Float>().name, SIMD);
    (kernels::named::<Float>("scalar").unwrap(), simd)
}

/// The SIMD family, held to its scalar twin (see `kernel_tester::float` for the relaxed bound).
fn tester() -> Tester<Float> {
    let (scalar, simd) = families();
    Tester { family: simd, reference: Reference::Twin(scalar) }
}

#[wasm_bindgen_test]
fn pointwise_matches_scalar() {
    sweep_pointwise(&tester(), 11);
}

/// The pointwise kernel runs 4-row tiles, or 6-row ones where relaxed multiply-adds fuse (a run-time
/// probe). The sweep above checks the probe's pick against the scalar twin; here both heights must give
/// the same bits (each row sums in the same order) on shapes whose pixel counts hit every tail split,
/// and neither may write past its outputs.
#[wasm_bindgen_test]
fn pointwise_tile_heights_agree() {
    use mobilenet_wasm::kernels::float::{pack, simd128, Clamp};
    use mobilenet_wasm::tensor::Tensor;
    let mut rng = Rng::new(15);
    for case in 0..120 {
        let pixels = if case < 20 { case + 1 } else { rng.range(1, 200) };
        let (cin, cout) = (rng.range(1, 70), rng.range(1, 40));
        let filter = Tensor::from_vec([1, 1, cin, cout], rng.fill_uniform(cin * cout, -2.0, 2.0)).unwrap();
        let p = pack::pointwise(&filter, &rng.fill_uniform(cout, -1.0, 1.0)).unwrap();
        let input = rng.fill_uniform(pixels * cin, -2.0, 2.0);
        let clamp = if case % 2 == 0 { Clamp::RELU6 } else { Clamp::NONE };
        let (mut short, mut tall) = (vec![f32::NAN; pixels * cout + 9], vec![f32::NAN; pixels * cout + 9]);
        simd128::pointwise_tiled::<4>(pixels, &p, &input, &mut short, clamp);
        simd128::pointwise_tiled::<6>(pixels, &p, &input, &mut tall, clamp);
        let what = format!("{pixels}px {cin}->{cout}");
        assert!(short[pixels * cout..].iter().all(|v| v.is_nan()), "{what}: 4-row tiles wrote past the output");
        assert!(tall[pixels * cout..].iter().all(|v| v.is_nan()), "{what}: 6-row tiles wrote past the output");
        let same = short.iter().zip(&tall).all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same, "{what}: 4-row and 6-row tiles differ");
    }
}

/// The probe's answer against what `relaxed_madd` does to random operands: a correctly rounded fma
/// (`f32::mul_add`, libm's fmaf) when it says fused, a multiply then an add when not.
#[cfg(target_feature = "relaxed-simd")]
#[wasm_bindgen_test]
fn fma_probe_tells_the_truth() {
    use core::arch::wasm32::*;
    let fused = mobilenet_wasm::kernels::float::simd128::fma::fused();
    let mut rng = Rng::new(16);
    let mut differ = 0;
    for _ in 0..2000 {
        let [a, b, c] = [0; 3].map(|_| rng.fill_uniform(1, -4.0, 4.0)[0]);
        let got = f32x4_extract_lane::<0>(f32x4_relaxed_madd(f32x4_splat(a), f32x4_splat(b), f32x4_splat(c)));
        let want = if fused { a.mul_add(b, c) } else { a * b + c };
        assert_eq!(got.to_bits(), want.to_bits(), "relaxed_madd({a}, {b}, {c}) with fused = {fused}");
        differ += usize::from(a.mul_add(b, c) != a * b + c);
    }
    assert!(differ > 100, "only {differ} of 2000 operands tell fused from unfused");
}

#[wasm_bindgen_test]
fn depthwise_matches_scalar() {
    sweep_depthwise(&tester(), 12);
}

#[wasm_bindgen_test]
fn conv_matches_scalar() {
    sweep_conv(&tester(), 13);
}

#[wasm_bindgen_test]
fn pool_matches_scalar() {
    sweep_pool(&tester(), 14);
}

/// Seeded networks through both families. Plain builds: the same bits. Relaxed builds: each layer's
/// outputs move by a few units of rounding (see `kernel_tester::float`) and the next layers carry that on, so
/// the logits may differ by `LOGITS_RELAXED` relative (the scale floored at 1) and the probabilities
/// by `PROBS_RELAXED`: about 8x what these four networks show in Chromium 156 on an FMA CPU (at most
/// 1.2e-6 and 1.1e-8; `-- --nocapture` prints them), far below what a wrong kernel would do.
#[wasm_bindgen_test]
fn whole_networks_match_scalar() {
    let (scalar, simd) = families();
    let (logits_tol, probs_tol) = if RELAXED { (LOGITS_RELAXED, PROBS_RELAXED) } else { (0.0, 0.0) };
    let cases = [(0.25, 128, 32), (0.5, 64, 8), (0.35, 96, 16), (0.5, 72, 32)];
    for (alpha, resolution, output_stride) in cases {
        let cfg = Config::new(alpha, resolution).unwrap().with_output_stride(output_stride).unwrap();
        let mut rng = Rng::new(resolution as u64);
        let mut plan = Plan::seeded(cfg, 5).unwrap();
        let input = rng.fill_uniform(plan.input_len(), -1.0, 1.0);
        let run = |plan: &mut Plan, family: &'static Family<Float>| {
            plan.set_kernels(family).unwrap();
            let out = plan.run(&input).unwrap();
            (out.logits.to_vec(), out.probabilities.to_vec())
        };
        let (want_logits, want) = run(&mut plan, scalar);
        let (got_logits, got) = run(&mut plan, simd);
        let what = format!("α{alpha} {resolution} os{output_stride}");
        let rel =
            got_logits.iter().zip(&want_logits).map(|(a, b)| (a - b).abs() / b.abs().max(1.0)).fold(0.0, f32::max);
        let abs = got.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        console_log!("{what}: logits {rel:e} relative, probabilities {abs:e}");
        for (i, (a, b)) in got_logits.iter().zip(&want_logits).enumerate() {
            assert!((a - b).abs() <= logits_tol * b.abs().max(1.0), "{what}: logit {i}: simd {a} vs scalar {b}");
        }
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= probs_tol, "{what}: class {i}: simd {a} vs scalar {b}");
        }
    }
}

const LOGITS_RELAXED: f32 = 1e-5;
const PROBS_RELAXED: f32 = 1e-7;
