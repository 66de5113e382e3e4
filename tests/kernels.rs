//! Every kernel family against the reference ops on random shapes (odd channel counts, tails, 1x1 maps,
//! strides, dilations): the generic tester each new family must pass.
#![cfg(not(target_arch = "wasm32"))]

use mobilenet_wasm::arch::Hwc;
use mobilenet_wasm::engine::Float;
use mobilenet_wasm::kernels::float::{kernel_set, pack, Clamp, KernelSet};
use mobilenet_wasm::kernels::{self, Geometry};
use mobilenet_wasm::ops::{self, padding::axis_window, ConvOptions, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::Tensor;

fn random(rng: &mut Rng, shape: [usize; 4]) -> Tensor {
    Tensor::from_vec(shape, rng.fill_uniform(shape.iter().product(), -2.0, 2.0)).unwrap()
}

fn clamp_like(t: &mut Tensor, c: Clamp) {
    t.data.iter_mut().for_each(|v| *v = c.apply(*v));
}

fn geometry(input: Hwc, cout: usize, k: usize, stride: usize, rate: usize) -> Geometry {
    let wy = axis_window(input.h, k, stride, rate, Padding::Same).unwrap();
    let wx = axis_window(input.w, k, stride, rate, Padding::Same).unwrap();
    Geometry {
        input,
        output: Hwc { h: wy.output, w: wx.output, c: cout },
        kernel: k,
        stride,
        rate,
        pad_top: wy.pad_before,
        pad_left: wx.pad_before,
    }
}

fn close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len());
    for (i, (a, b)) in got.iter().zip(want).enumerate() {
        assert!((a - b).abs() <= 1e-4 * (1.0 + b.abs()), "{what}: [{i}] {a} vs {b}");
    }
}

fn random_case(rng: &mut Rng) -> (Hwc, usize, usize, Clamp) {
    let input = Hwc { h: rng.range(1, 13), w: rng.range(1, 13), c: rng.range(1, 37) };
    let clamp = if rng.range(0, 1) == 0 { Clamp::RELU6 } else { Clamp::NONE };
    (input, rng.range(1, 2), rng.range(1, 3), clamp)
}

fn check_depthwise(set: &KernelSet, rng: &mut Rng) {
    let (inp, stride, rate, clamp) = random_case(rng);
    let x = random(rng, [1, inp.h, inp.w, inp.c]);
    let f = random(rng, [3, 3, inp.c, 1]);
    let bias = rng.fill_uniform(inp.c, -1.0, 1.0);
    let mut want = ops::depthwise_conv2d(&x, &f, Some(&bias), &ConvOptions::new(stride, rate, Padding::Same)).unwrap();
    clamp_like(&mut want, clamp);
    let g = geometry(inp, inp.c, 3, stride, rate);
    let mut got = vec![f32::NAN; g.output.len()];
    (set.depthwise)(&g, &pack::depthwise(&f, &bias).unwrap(), &x.data, &mut got, clamp);
    close(&got, &want.data, &format!("{} depthwise {inp} s{stride} r{rate}", set.name));
}

fn check_conv(set: &KernelSet, rng: &mut Rng) {
    let (inp, stride, rate, clamp) = random_case(rng);
    let (inp, cout) = (Hwc { c: rng.range(1, 4), ..inp }, rng.range(1, 40));
    let x = random(rng, [1, inp.h, inp.w, inp.c]);
    let f = random(rng, [3, 3, inp.c, cout]);
    let bias = rng.fill_uniform(cout, -1.0, 1.0);
    let mut want = ops::conv2d(&x, &f, Some(&bias), &ConvOptions::new(stride, rate, Padding::Same)).unwrap();
    clamp_like(&mut want, clamp);
    let g = geometry(inp, cout, 3, stride, rate);
    let mut got = vec![f32::NAN; g.output.len()];
    (set.conv)(&g, &pack::conv(&f, &bias).unwrap(), &x.data, &mut got, clamp);
    close(&got, &want.data, &format!("{} conv {inp}->{cout} s{stride} r{rate}", set.name));
}

fn check_pointwise(set: &KernelSet, rng: &mut Rng) {
    let (inp, _, _, clamp) = random_case(rng);
    let cout = rng.range(1, 70);
    let x = random(rng, [1, inp.h, inp.w, inp.c]);
    let f = random(rng, [1, 1, inp.c, cout]);
    let bias = rng.fill_uniform(cout, -1.0, 1.0);
    let mut want = ops::pointwise(&x, &f, Some(&bias)).unwrap();
    clamp_like(&mut want, clamp);
    let mut got = vec![f32::NAN; inp.h * inp.w * cout];
    (set.pointwise)(inp.h * inp.w, &pack::pointwise(&f, &bias).unwrap(), &x.data, &mut got, clamp);
    close(&got, &want.data, &format!("{} pointwise {inp}->{cout}", set.name));
}

fn check_pool(set: &KernelSet, rng: &mut Rng) {
    let (inp, _, _, _) = random_case(rng);
    let x = random(rng, [1, inp.h, inp.w, inp.c]);
    let want = ops::global_avg_pool(&x).unwrap();
    let mut got = vec![f32::NAN; inp.c];
    (set.global_avg_pool)(inp.h * inp.w, inp.c, &x.data, &mut got);
    close(&got, &want.data, &format!("{} pool {inp}", set.name));
}

#[test]
fn every_kernel_family_matches_the_reference_ops() {
    for set in kernels::families::<Float>().iter().filter_map(|f| kernel_set(f.name)) {
        let mut rng = Rng::new(2024);
        for _ in 0..200 {
            check_depthwise(set, &mut rng);
            check_conv(set, &mut rng);
            check_pointwise(set, &mut rng);
            check_pool(set, &mut rng);
        }
    }
}
