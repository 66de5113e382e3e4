//! The SIMD128 kernels against their scalar twins, in Chromium (`wasm-pack test --headless --chrome`):
//! many random shapes (odd channel counts, block tails, 1x1 and 1xN maps, strides 1/2, rates 1/2/4,
//! pixel counts off the 4-pixel tile), with guard values after each output to catch stray writes, then
//! whole seeded networks run by both families. Plain SIMD builds must agree bit for bit; relaxed SIMD
//! builds (`+relaxed-simd`, whose multiply-adds may fuse) within the rounding bound in [`allowed`].
#![cfg(target_arch = "wasm32")]

use mobilenet_wasm::arch::Hwc;
use mobilenet_wasm::engine::Float;
use mobilenet_wasm::kernels::float::{kernel_set, pack, Clamp, KernelSet};
use mobilenet_wasm::kernels::{self, Geometry};
use mobilenet_wasm::ops::padding::{axis_window, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Config, Plan, Tensor};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Written after every output buffer; a kernel that writes past its output changes it.
const GUARD: f32 = 12345.0;
const GUARDS: usize = 9;

/// Built with `+relaxed-simd`: the SIMD family fuses multiply-adds where the CPU can.
const RELAXED: bool = cfg!(target_feature = "relaxed-simd");
const SIMD: &str = if RELAXED { "relaxed-simd128" } else { "simd128" };

fn families() -> (&'static KernelSet, &'static KernelSet) {
    let simd = kernel_set(SIMD).expect("this test needs a +simd128 build");
    assert_eq!(kernels::best::<Float>().name, SIMD);
    (kernel_set("scalar").unwrap(), simd)
}

fn random(rng: &mut Rng, shape: [usize; 4]) -> Tensor {
    Tensor::from_vec(shape, rng.fill_uniform(shape.iter().product(), -2.0, 2.0)).unwrap()
}

fn clamp(rng: &mut Rng) -> Clamp {
    if rng.range(0, 1) == 0 {
        Clamp::RELU6
    } else {
        Clamp::NONE
    }
}

fn geometry(input: Hwc, cout: usize, k: usize, stride: usize, rate: usize) -> Geometry {
    let wy = axis_window(input.h, k, stride, rate, Padding::Same).unwrap();
    let wx = axis_window(input.w, k, stride, rate, Padding::Same).unwrap();
    let output = Hwc { h: wy.output, w: wx.output, c: cout };
    Geometry { input, output, kernel: k, stride, rate, pad_top: wy.pad_before, pad_left: wx.pad_before }
}

/// How far each SIMD output may be from the scalar one, for outputs that are each a bias plus `terms`
/// products, given `magnitude` = |bias| + Σ|x·w| per output (the scalar kernel run on absolute values).
///
/// Plain builds: 0. Both families do the same roundings in the same order (`==` still lets a zero's
/// sign differ: padding taps add 0·w where the scalar twin skips them).
///
/// Relaxed builds: the scalar twin rounds every product and every sum; `relaxed_madd` may round only
/// the sums. The recursive summation bound (Higham, *Accuracy and Stability of Numerical Algorithms*,
/// §3.1) puts either result within γ(n)·M of the exact sum of n = terms + 1 addends, M the sum of their
/// absolute values, γ(n) = n·u / (1 − n·u), u = 2⁻²⁴; so they differ by at most 2·γ(n)·M ≈ n·ε·M
/// (ε = 2⁻²³ = f32::EPSILON). We allow (n + 1)·ε·M: the extra ε·M covers `magnitude` itself being a
/// rounded sum, and the clamp (ReLU6) never widens a difference. That is ~8e-3 for the logits layer's
/// 256 inputs here (M ≈ 256) and ~1e-4 for a stem conv output (M ≈ 20), while a wrong tap, index or
/// bias changes an output by a whole term, |x·w| ~ 1 on these uniform(−2, 2) data.
fn allowed(terms: usize, magnitude: &[f32]) -> Vec<f32> {
    let per_unit = if RELAXED { (terms + 2) as f32 * f32::EPSILON } else { 0.0 };
    magnitude.iter().map(|m| per_unit * m).collect()
}

/// Runs `kernel` once per family on a NaN-filled output with guards behind it; checks the guards and
/// that output i of the two differs by at most `allowed[i]` (see [`allowed`]).
fn compare(len: usize, what: &str, allowed: &[f32], mut kernel: impl FnMut(&KernelSet, &mut [f32])) {
    let (scalar, simd) = families();
    let run = |set: &KernelSet, kernel: &mut dyn FnMut(&KernelSet, &mut [f32])| {
        let mut out = vec![f32::NAN; len + GUARDS];
        out[len..].fill(GUARD);
        kernel(set, &mut out[..len]);
        assert!(out[len..].iter().all(|&g| g == GUARD), "{what}: {} wrote past its output", set.name);
        out.truncate(len);
        out
    };
    let want = run(scalar, &mut kernel);
    let got = run(simd, &mut kernel);
    assert_eq!(allowed.len(), len);
    for (i, ((a, b), d)) in got.iter().zip(&want).zip(allowed).enumerate() {
        assert!(!a.is_nan() && (a - b).abs() <= *d, "{what}: [{i}] simd {a} vs scalar {b} (allowed {d})");
    }
}

/// The scalar kernel's result on absolute values: per output, |bias| + Σ|x·w| (rounded).
fn magnitude(len: usize, kernel: impl FnOnce(&KernelSet, &mut [f32])) -> Vec<f32> {
    let mut out = vec![0.0; len];
    kernel(families().0, &mut out);
    out
}

fn abs(v: &[f32]) -> Vec<f32> {
    v.iter().map(|x| x.abs()).collect()
}

fn abs_tensor(t: &Tensor) -> Tensor {
    Tensor::from_vec(t.shape.0, abs(&t.data)).unwrap()
}

fn check_pointwise(rng: &mut Rng, pixels: usize, cin: usize, cout: usize) {
    let x = rng.fill_uniform(pixels * cin, -2.0, 2.0);
    let (f, bias) = (random(rng, [1, 1, cin, cout]), rng.fill_uniform(cout, -1.0, 1.0));
    let p = pack::pointwise(&f, &bias).unwrap();
    let c = clamp(rng);
    let len = pixels * cout;
    let m = pack::pointwise(&abs_tensor(&f), &abs(&bias)).unwrap();
    let m = magnitude(len, |set, out| (set.pointwise)(pixels, &m, &abs(&x), out, Clamp::NONE));
    compare(len, &format!("pointwise {pixels}px {cin}->{cout}"), &allowed(cin, &m), |set, out| {
        (set.pointwise)(pixels, &p, &x, out, c)
    });
}

fn check_depthwise(rng: &mut Rng, input: Hwc, stride: usize, rate: usize) {
    let x = random(rng, [1, input.h, input.w, input.c]);
    let (f, bias) = (random(rng, [3, 3, input.c, 1]), rng.fill_uniform(input.c, -1.0, 1.0));
    let p = pack::depthwise(&f, &bias).unwrap();
    let g = geometry(input, input.c, 3, stride, rate);
    let c = clamp(rng);
    // Exact in every build: the depthwise kernel never fuses (see src/kernels/simd128/mod.rs).
    let exact = vec![0.0; g.output.len()];
    compare(g.output.len(), &format!("depthwise {input} s{stride} r{rate}"), &exact, |set, out| {
        (set.depthwise)(&g, &p, &x.data, out, c)
    });
}

fn check_conv(rng: &mut Rng, input: Hwc, cout: usize, k: usize, stride: usize, rate: usize) {
    let x = random(rng, [1, input.h, input.w, input.c]);
    let (f, bias) = (random(rng, [k, k, input.c, cout]), rng.fill_uniform(cout, -1.0, 1.0));
    let p = pack::conv(&f, &bias).unwrap();
    let g = geometry(input, cout, k, stride, rate);
    let c = clamp(rng);
    let m = pack::conv(&abs_tensor(&f), &abs(&bias)).unwrap();
    let m = magnitude(g.output.len(), |set, out| (set.conv)(&g, &m, &abs(&x.data), out, Clamp::NONE));
    let terms = k * k * input.c;
    compare(
        g.output.len(),
        &format!("conv {k}x{k} {input}->{cout} s{stride} r{rate}"),
        &allowed(terms, &m),
        |set, out| (set.conv)(&g, &p, &x.data, out, c),
    );
}

/// The pool has no multiply-add: exact in every build.
fn check_pool(rng: &mut Rng, pixels: usize, channels: usize) {
    let x = rng.fill_uniform(pixels * channels, -2.0, 2.0);
    compare(channels, &format!("pool {pixels}px x{channels}"), &vec![0.0; channels], |set, out| {
        (set.global_avg_pool)(pixels, channels, &x, out)
    });
}

fn random_map(rng: &mut Rng, max_c: usize) -> Hwc {
    Hwc { h: rng.range(1, 13), w: rng.range(1, 13), c: rng.range(1, max_c) }
}

#[wasm_bindgen_test]
fn pointwise_matches_scalar() {
    let mut rng = Rng::new(11);
    for pixels in 1..=9 {
        for (cin, cout) in [(1, 1), (3, 7), (8, 8), (5, 9), (16, 17), (13, 24)] {
            check_pointwise(&mut rng, pixels, cin, cout);
        }
    }
    for _ in 0..150 {
        let (pixels, cin, cout) = (rng.range(1, 70), rng.range(1, 70), rng.range(1, 70));
        check_pointwise(&mut rng, pixels, cin, cout);
    }
    // The logits layer: one pixel, 1001 classes.
    check_pointwise(&mut rng, 1, 256, 1001);
}

#[wasm_bindgen_test]
fn depthwise_matches_scalar() {
    let mut rng = Rng::new(12);
    for c in 1..=19 {
        for (h, w) in [(1, 1), (1, 5), (5, 1), (2, 3), (7, 6)] {
            check_depthwise(&mut rng, Hwc { h, w, c }, 1 + c % 2, 1);
        }
    }
    for _ in 0..150 {
        let input = random_map(&mut rng, 40);
        let (stride, rate) = if rng.range(0, 2) == 0 { (2, 1) } else { (1, [1, 2, 4][rng.range(0, 2)]) };
        check_depthwise(&mut rng, input, stride, rate);
    }
}

#[wasm_bindgen_test]
fn conv_matches_scalar() {
    let mut rng = Rng::new(13);
    for cout in 1..=40 {
        check_conv(&mut rng, Hwc { h: 5, w: 4, c: 3 }, cout, 3, 2, 1);
    }
    for _ in 0..100 {
        let input = random_map(&mut rng, 4);
        let (cout, k, stride, rate) = (rng.range(1, 70), rng.range(1, 3), rng.range(1, 2), [1, 2, 4][rng.range(0, 2)]);
        check_conv(&mut rng, input, cout, k, stride, rate);
    }
}

#[wasm_bindgen_test]
fn pool_matches_scalar() {
    let mut rng = Rng::new(14);
    for _ in 0..100 {
        let (pixels, channels) = (rng.range(1, 60), rng.range(1, 70));
        check_pool(&mut rng, pixels, channels);
    }
}

/// Seeded networks through both families. Plain builds: the same bits. Relaxed builds: each layer's
/// outputs move by a few units of rounding (see [`allowed`]) and the next layers carry that on, so
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
        let run = |plan: &mut Plan, set: &KernelSet| {
            plan.set_kernels(kernels::named::<Float>(set.name).unwrap()).unwrap();
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
