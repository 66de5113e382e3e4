//! The reference ops against independent numbers: the seed's worked example (by hand), TFLite's
//! reference interpreter (the depthwise fixture), and unfolded batch norm.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use mobilenet_wasm::ops::{self, BatchNorm, ConvOptions, Padding};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::Tensor;

#[test]
fn seed_example_conv2d_valid() {
    let (input, filter) = common::seed_example();
    let out = ops::conv2d(&input, &filter, None, &ConvOptions::valid()).unwrap();
    assert_eq!(out.shape.0, [1, 2, 2, 2]);
    assert_eq!(out.data, [9.0, 63.0, 9.0, 81.0, 9.0, 63.0, 9.0, 81.0]);
}

#[test]
fn seed_example_depthwise_valid() {
    let (input, filter) = common::seed_example();
    let out = ops::depthwise_conv2d(&input, &filter, None, &ConvOptions::valid()).unwrap();
    assert_eq!(out.shape.0, [1, 2, 2, 4]);
    #[rustfmt::skip]
    assert_eq!(out.data, [0.0, 36.0, 9.0, 27.0,  0.0, 54.0, 9.0, 27.0,
                          0.0, 36.0, 9.0, 27.0,  0.0, 54.0, 9.0, 27.0]);
}

#[test]
fn seed_example_separable_valid() {
    let (input, filter) = common::seed_example();
    let ones = Tensor::from_vec([1, 1, 4, 4], vec![1.0; 16]).unwrap();
    let out = ops::separable_conv2d(&input, &filter, &ones, None, &ConvOptions::valid()).unwrap();
    assert_eq!(out.shape.0, [1, 2, 2, 4]);
    for y in 0..2 {
        for c in 0..4 {
            assert_eq!(out.get(0, y, 0, c), 72.0);
            assert_eq!(out.get(0, y, 1, c), 90.0);
        }
    }
}

#[test]
fn seed_parameter_example() {
    assert_eq!(mobilenet_wasm::inspect::weights_standard_vs_separable(3, 256), (6_912, 795));
}

#[test]
fn tflite_depthwise_fixture_multiplier_stride_dilation_same() {
    let input = Tensor::from_vec([1, 8, 9, 3], common::read_f32("fixtures/dw_mult2_s2_d2_same_input.f32")).unwrap();
    let filter =
        Tensor::from_vec([3, 3, 3, 2], common::read_f32("fixtures/dw_mult2_s2_d2_same_filter_tf_khkwcm.f32")).unwrap();
    let bias = common::read_f32("fixtures/dw_mult2_s2_d2_same_bias.f32");
    let expected = Tensor::from_vec([1, 4, 5, 6], common::read_f32("fixtures/dw_mult2_s2_d2_same_output.f32")).unwrap();
    let out = ops::depthwise_conv2d(&input, &filter, Some(&bias), &ConvOptions::new(2, 2, Padding::Same)).unwrap();
    let diff = out.max_abs_diff(&expected);
    assert!(diff <= 1e-5, "max |diff| = {diff}");
}

fn random_tensor(rng: &mut Rng, shape: [usize; 4]) -> Tensor {
    Tensor::from_vec(shape, rng.fill_uniform(shape.iter().product(), -1.0, 1.0)).unwrap()
}

fn random_bn(rng: &mut Rng, c: usize) -> BatchNorm {
    BatchNorm {
        gamma: rng.fill_uniform(c, 0.2, 2.0),
        beta: rng.fill_uniform(c, -1.0, 1.0),
        mean: rng.fill_uniform(c, -0.5, 0.5),
        variance: rng.fill_uniform(c, 0.1, 3.0),
        epsilon: 1e-3,
    }
}

#[test]
fn batch_norm_folding_matches_unfolded() {
    let mut rng = Rng::new(11);
    for trial in 0..20 {
        let (h, w, cin) = (rng.range(5, 9), rng.range(5, 9), rng.range(1, 7));
        let input = random_tensor(&mut rng, [1, h, w, cin]);
        let o = ConvOptions::new(
            rng.range(1, 2),
            rng.range(1, 2),
            if trial % 2 == 0 { Padding::Same } else { Padding::Valid },
        );
        // A conv with a bias, then BN.
        let cout = rng.range(1, 9);
        let filter = random_tensor(&mut rng, [3, 3, cin, cout]);
        let bias = rng.fill_uniform(cout, -1.0, 1.0);
        let bn = random_bn(&mut rng, cout);
        let mut unfolded = ops::conv2d(&input, &filter, Some(&bias), &o).unwrap();
        bn.apply(&mut unfolded.data).unwrap();
        let (mut fw, mut fb) = (filter.clone(), bias.clone());
        bn.fold(&mut fw.data, &mut fb).unwrap();
        let folded = ops::conv2d(&input, &fw, Some(&fb), &o).unwrap();
        assert!(folded.max_abs_diff(&unfolded) <= 1e-5, "conv trial {trial}: {}", folded.max_abs_diff(&unfolded));
        // A depthwise conv with a multiplier and no bias, then BN over c·multiplier channels.
        let mult = rng.range(1, 3);
        let filter = random_tensor(&mut rng, [3, 3, cin, mult]);
        let bn = random_bn(&mut rng, cin * mult);
        let mut unfolded = ops::depthwise_conv2d(&input, &filter, None, &o).unwrap();
        bn.apply(&mut unfolded.data).unwrap();
        let (mut fw, mut fb) = (filter.clone(), Vec::new());
        bn.fold(&mut fw.data, &mut fb).unwrap();
        let folded = ops::depthwise_conv2d(&input, &fw, Some(&fb), &o).unwrap();
        assert!(folded.max_abs_diff(&unfolded) <= 1e-5, "depthwise trial {trial}: {}", folded.max_abs_diff(&unfolded));
    }
}

#[test]
fn same_avg_pool_counts_only_real_cells() {
    // 3x3 input 1..9, 2x2 SAME stride 2: windows {1,2,4,5}, {3,6}, {7,8}, {9}.
    let input = Tensor::from_vec([1, 3, 3, 1], (1..=9).map(|v| v as f32).collect()).unwrap();
    let out = ops::avg_pool(&input, [2, 2], &ConvOptions::new(2, 1, Padding::Same)).unwrap();
    assert_eq!(out.data, [3.0, 4.5, 7.5, 9.0]);
    let g = ops::global_avg_pool(&input).unwrap();
    assert_eq!(g.data, [5.0]);
}

#[test]
fn relu6_clamps() {
    let t = Tensor::from_vec([1, 1, 1, 4], vec![-1.0, 0.5, 6.0, 7.5]).unwrap();
    assert_eq!(ops::relu6(&t).data, [0.0, 0.5, 6.0, 6.0]);
}

#[test]
fn mismatched_shapes_are_errors() {
    let (input, _) = common::seed_example();
    let wrong = Tensor::zeros([3, 3, 5, 2]);
    assert!(ops::conv2d(&input, &wrong, None, &ConvOptions::valid()).is_err());
    assert!(ops::depthwise_conv2d(&input, &wrong, None, &ConvOptions::valid()).is_err());
    let big = Tensor::zeros([5, 5, 2, 2]);
    assert!(ops::conv2d(&input, &big, None, &ConvOptions::valid()).is_err(), "VALID window larger than input");
    assert!(ops::conv2d(&input, &Tensor::zeros([1, 1, 2, 2]), Some(&[1.0]), &ConvOptions::valid()).is_err());
    assert!(ops::conv2d(&input, &Tensor::zeros([1, 1, 2, 2]), None, &ConvOptions::new(0, 1, Padding::Same)).is_err());
    assert!(Tensor::<f32>::from_vec([1, 2, 2, 1], vec![0.0; 3]).is_err());
}
