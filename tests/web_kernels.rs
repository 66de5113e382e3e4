//! The SIMD128 kernels against their scalar twins, in Chromium (`wasm-pack test --headless --chrome`):
//! many random shapes (odd channel counts, block tails, 1x1 and 1xN maps, strides 1/2, rates 1/2/4,
//! pixel counts off the 4-pixel tile), with guard values after each output to catch stray writes, then
//! whole seeded networks run by both families.
#![cfg(target_arch = "wasm32")]

use mobilenet_wasm::arch::Hwc;
use mobilenet_wasm::kernels::{self, pack, Clamp, Geometry, KernelSet};
use mobilenet_wasm::ops::padding::{axis_window, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::{Config, Plan, Tensor};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Written after every output buffer; a kernel that writes past its output changes it.
const GUARD: f32 = 12345.0;
const GUARDS: usize = 9;

fn families() -> (&'static KernelSet, &'static KernelSet) {
    let simd = kernels::named("simd128").expect("this test needs a +simd128 build");
    assert_eq!(kernels::best().name, "simd128");
    (kernels::named("scalar").unwrap(), simd)
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

/// Runs `kernel` once per family on a NaN-filled output with guards behind it; checks the guards and
/// that the two results agree within 1e-5 relative (the families sum in the same order, so they
/// should agree exactly; the tolerance only allows for that to change).
fn compare(len: usize, what: &str, mut kernel: impl FnMut(&KernelSet, &mut [f32])) {
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
    for (i, (a, b)) in got.iter().zip(&want).enumerate() {
        assert!(!a.is_nan() && (a - b).abs() <= 1e-5 * b.abs().max(1.0), "{what}: [{i}] simd {a} vs scalar {b}");
    }
}

fn check_pointwise(rng: &mut Rng, pixels: usize, cin: usize, cout: usize) {
    let x = rng.fill_uniform(pixels * cin, -2.0, 2.0);
    let f = random(rng, [1, 1, cin, cout]);
    let p = pack::pointwise(&f, &rng.fill_uniform(cout, -1.0, 1.0)).unwrap();
    let c = clamp(rng);
    compare(pixels * cout, &format!("pointwise {pixels}px {cin}->{cout}"), |set, out| {
        (set.pointwise)(pixels, &p, &x, out, c)
    });
}

fn check_depthwise(rng: &mut Rng, input: Hwc, stride: usize, rate: usize) {
    let x = random(rng, [1, input.h, input.w, input.c]);
    let p = pack::depthwise(&random(rng, [3, 3, input.c, 1]), &rng.fill_uniform(input.c, -1.0, 1.0)).unwrap();
    let g = geometry(input, input.c, 3, stride, rate);
    let c = clamp(rng);
    compare(g.output.len(), &format!("depthwise {input} s{stride} r{rate}"), |set, out| {
        (set.depthwise)(&g, &p, &x.data, out, c)
    });
}

fn check_conv(rng: &mut Rng, input: Hwc, cout: usize, k: usize, stride: usize, rate: usize) {
    let x = random(rng, [1, input.h, input.w, input.c]);
    let p = pack::conv(&random(rng, [k, k, input.c, cout]), &rng.fill_uniform(cout, -1.0, 1.0)).unwrap();
    let g = geometry(input, cout, k, stride, rate);
    let c = clamp(rng);
    compare(g.output.len(), &format!("conv {k}x{k} {input}->{cout} s{stride} r{rate}"), |set, out| {
        (set.conv)(&g, &p, &x.data, out, c)
    });
}

fn check_pool(rng: &mut Rng, pixels: usize, channels: usize) {
    let x = rng.fill_uniform(pixels * channels, -2.0, 2.0);
    compare(channels, &format!("pool {pixels}px x{channels}"), |set, out| {
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

/// Seeded networks through both families: logits within 1e-5 relative, probabilities within 1e-6.
#[wasm_bindgen_test]
fn whole_networks_match_scalar() {
    let (scalar, simd) = families();
    let cases = [(0.25, 128, 32), (0.5, 64, 8), (0.35, 96, 16), (0.5, 72, 32)];
    for (alpha, resolution, output_stride) in cases {
        let cfg = Config::new(alpha, resolution).unwrap().with_output_stride(output_stride).unwrap();
        let mut rng = Rng::new(resolution as u64);
        let mut plan = Plan::seeded(cfg, 5).unwrap();
        let input = rng.fill_uniform(plan.input_len(), -1.0, 1.0);
        let run = |plan: &mut Plan, set| {
            plan.set_kernels(set);
            let out = plan.run(&input).unwrap();
            (out.logits.to_vec(), out.probabilities.to_vec())
        };
        let (want_logits, want) = run(&mut plan, scalar);
        let (got_logits, got) = run(&mut plan, simd);
        let what = format!("α{alpha} {resolution} os{output_stride}");
        for (i, (a, b)) in got_logits.iter().zip(&want_logits).enumerate() {
            assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{what}: logit {i}: simd {a} vs scalar {b}");
        }
        for (i, (a, b)) in got.iter().zip(&want).enumerate() {
            assert!((a - b).abs() <= 1e-6, "{what}: class {i}: simd {a} vs scalar {b}");
        }
    }
}
