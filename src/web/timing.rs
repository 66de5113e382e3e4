//! One separable block against the standard 3x3 convolution of the same shape, timed where the page runs:
//! the block's depthwise 3x3 and pointwise 1x1, and a full 3x3 conv from the same input to the same output
//! (same stride), each packed by this build's fastest kernel family (the one a plan uses) and timed with
//! `performance.now()`. Weights are seeded: no kernel's time depends on their values. (A whole
//! configuration is timed in JS, around `Model.runPixels`: js/timing.js.)

use super::js_error;
use crate::arch::{Config, LayerSpec, OpKind};
use crate::engine::{budget, domain, Float};
use crate::error::Error;
use crate::kernels::float::{pack, Clamp, FloatLayer};
use crate::kernels::{self, Packed, Work};
use crate::rng::Rng;
use crate::tensor::{Shape, Tensor};
use crate::weights::filter_shape;
use std::sync::Arc;
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// The page's (or worker's) high-resolution clock in ms.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn clock() -> f64;
}

/// The seed of every weight and input here.
const SEED: u64 = 15;
/// At most this many timed runs (and as many warm-up runs) per call.
const MAX_RUNS: u32 = 1000; // as the errors say

/// `len` values uniform in [-scale, scale), or a typed error where the memory cannot be had.
#[inline(never)]
fn seeded(len: usize, scale: f32, rng: &mut Rng) -> Result<Vec<f32>, Error> {
    let mut values: Vec<f32> = budget::buffer(len)?;
    values.iter_mut().for_each(|v| *v = rng.uniform(-scale, scale));
    Ok(values)
}

/// One layer on its own: seeded weights packed for this build's fastest family, and its work.
#[cfg_attr(feature = "small", optimize(size))]
fn layer(spec: &LayerSpec, rng: &mut Rng) -> Result<(Packed<f32>, Work), Error> {
    let shape = filter_shape(spec).ok_or_else(|| Error::shape("a layer without weights"))?;
    let [kh, kw, cin, cout] = shape;
    let filter =
        Tensor { shape: Shape(shape), data: seeded(kh * kw * cin * cout, (3.0 / (kh * kw * cin) as f32).sqrt(), rng)? };
    let kept = match spec.op {
        OpKind::Conv => FloatLayer::Conv(pack::conv(&filter, &[])?, Clamp::RELU6),
        OpKind::Depthwise => FloatLayer::Depthwise(pack::depthwise(&filter, &[])?, Clamp::RELU6),
        _ => FloatLayer::Pointwise(pack::pointwise(&filter, &[])?, Clamp::RELU6),
    };
    let work = domain::window(spec)?.map_or(Work::Pixels(spec.output.h * spec.output.w), Work::Window);
    Ok(((kernels::best::<Float>().pack)(&Arc::new(kept))?, work))
}

/// The standard 3x3 conv a separable block replaces: the depthwise layer's window and stride, from its
/// input to the pointwise layer's output.
fn standard_conv(dw: &LayerSpec, pw: &LayerSpec) -> LayerSpec {
    LayerSpec { name: String::new(), op: OpKind::Conv, input: dw.input, output: pw.output, ..dw.clone() }
}

/// Times block `block` (1..=13) of `config`: the standard 3x3 conv from its input to its output (its stride),
/// its depthwise and its pointwise, in turn, `warmup` untimed rounds then `runs` timed ones. Returns the
/// standard conv's `runs` times, then the depthwise's, then the pointwise's (ms from `now`).
#[cfg_attr(feature = "small", optimize(size))]
pub(crate) fn separable_times(
    config: &Config,
    block: u32,
    runs: u32,
    warmup: u32,
    now: &dyn Fn() -> f64,
) -> Result<Vec<f64>, Error> {
    if !(1..=MAX_RUNS).contains(&runs) || warmup > MAX_RUNS {
        return Err(Error::config("runs must be 1 to 1000 and warmup 0 to 1000"));
    }
    let specs = config.layers();
    let Some(i) = specs.iter().position(|l| l.block == Some(block as usize)) else {
        return Err(Error::config("block must be 1 to 13 (Conv2d_1 … Conv2d_13)"));
    };
    let (dw, pw) = (&specs[i], &specs[i + 1]);
    let standard = standard_conv(dw, pw);
    // The standard conv's weights (9·N times the pointwise's) kept and packed, and the largest activation
    // thrice: more than the three layers take.
    let need = 4 * (2 * 9 * (dw.input.c * pw.output.c) as u64 + 3 * dw.input.len().max(pw.output.len()) as u64);
    if need > budget::MEMORY_BUDGET {
        return Err(Error::config(
            "a standard conv in place of this block is over the memory budget: lower alpha or the resolution",
        ));
    }
    let mut rng = Rng::new(SEED);
    let input = seeded(dw.input.len(), 1.0, &mut rng)?;
    let (mut mid, mut out) = (seeded(dw.output.len(), 0.0, &mut rng)?, seeded(pw.output.len(), 0.0, &mut rng)?);
    let layers = [layer(&standard, &mut rng)?, layer(dw, &mut rng)?, layer(pw, &mut rng)?];
    let mut times = vec![0.0; 3 * runs as usize];
    for run in 0..(warmup + runs) as usize {
        for (i, (kernel, work)) in layers.iter().enumerate() {
            let (src, dst) = match i {
                0 => (&input, &mut out),
                1 => (&input, &mut mid),
                _ => (&mid, &mut out),
            };
            let start = now();
            kernel.run(*work, src, dst);
            if let Some(t) = run.checked_sub(warmup as usize).and_then(|r| times.get_mut(i * runs as usize + r)) {
                *t = now() - start;
            }
        }
    }
    Ok(times)
}

/// Times separable block `block` (1..=13) of MobileNet v1 at α `alpha` and `resolution` against the standard
/// 3x3 conv of the same input, output and stride, all on this build's fastest kernels with seeded weights:
/// `warmup` untimed rounds, then `runs` timed ones, the three layers in turn. Returns 3·runs times in ms:
/// the standard conv's, then the depthwise's, then the pointwise's.
#[wasm_bindgen(js_name = timeSeparable)]
#[cfg_attr(feature = "small", optimize(size))]
pub fn time_separable(alpha: f64, resolution: u32, block: u32, runs: u32, warmup: u32) -> Result<Vec<f64>, JsValue> {
    let config = Config::new(alpha, resolution as usize).map_err(js_error)?;
    separable_times(&config, block, runs, warmup, &clock).map_err(js_error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// A clock that advances 1 ms per reading.
    fn ticks() -> impl Fn() -> f64 {
        let t = Cell::new(0.0);
        move || {
            t.set(t.get() + 1.0);
            t.get()
        }
    }

    #[test]
    fn a_block_is_timed_against_the_standard_conv_of_its_shape() {
        let config = Config::new(0.5, 160).unwrap();
        assert_eq!(separable_times(&config, 2, 2, 1, &ticks()).unwrap(), [1.0; 6]);
        for block in [0, 14] {
            let e = separable_times(&config, block, 1, 0, &ticks()).unwrap_err();
            assert!(e.to_string().contains("block must be 1 to 13"), "{e}");
        }
        assert_eq!(separable_times(&config, 2, 0, 0, &ticks()).unwrap_err().kind(), "config");
        let huge = Config::new(16.0, 224).unwrap();
        assert!(separable_times(&huge, 13, 1, 0, &ticks()).unwrap_err().to_string().contains("memory budget"));
    }

    #[test]
    fn the_three_layers_compute_what_the_reference_ops_do() {
        // The standard conv's output for a seeded block, by the engine's kernel and by the reference op.
        let config = Config::new(0.25, 128).unwrap();
        let specs = config.layers();
        let dw = specs.iter().find(|l| l.block == Some(2)).unwrap();
        let pw = specs.iter().filter(|l| l.block == Some(2)).nth(1).unwrap();
        let standard = standard_conv(dw, pw);
        let mut rng = Rng::new(1);
        let (kernel, work) = layer(&standard, &mut rng).unwrap();
        let input = Rng::new(2).fill_uniform(dw.input.len(), -1.0, 1.0);
        let mut out = vec![0.0; pw.output.len()];
        kernel.run(work, &input, &mut out);
        let mut rng = Rng::new(1);
        let shape = filter_shape(&standard).unwrap();
        let scale = (3.0 / (shape[0] * shape[1] * shape[2]) as f32).sqrt();
        let filter = Tensor {
            shape: Shape(shape),
            data: (0..shape.iter().product()).map(|_| rng.uniform(-scale, scale)).collect(),
        };
        let x = Tensor::from_vec([1, dw.input.h, dw.input.w, dw.input.c], input).unwrap();
        let options = crate::ops::ConvOptions::new(2, 1, crate::ops::padding::Padding::Same);
        let want = crate::ops::conv2d(&x, &filter, None, &options).unwrap();
        assert_eq!(want.shape.0, [1, pw.output.h, pw.output.w, pw.output.c]);
        for (a, b) in out.iter().zip(&want.data) {
            assert!((a - b.clamp(0.0, 6.0)).abs() < 1e-4, "{a} vs {b}");
        }
    }
}
