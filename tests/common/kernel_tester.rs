//! One tester per kernel kind (stem conv, depthwise, pointwise, global pool) for both number domains,
//! parameterised by the family under test and what it is held against, as XNNPACK's
//! `test/gemm-microkernel-tester.h` is by microkernel. Natively (tests/kernels.rs) the scalar families meet
//! an independent reference: TensorFlow-semantics ops for float, the integer sums written out plainly for
//! uint8. In Chromium (tests/web_kernels.rs, tests/web_quant_kernels.rs) the SIMD families meet their
//! scalar twins. Each case runs the family through its own packing, into a NaN- or sentinel-filled output
//! with guard values behind it, on random shapes: odd channel counts, block tails, 1x1 and 1xN maps,
//! strides 1/2, rates 1/2/4, pixel counts off the tiles.
#![allow(dead_code)]

use mobilenet_wasm::arch::Hwc;
use mobilenet_wasm::kernels::{Domain, Family, Geometry, Work};
use mobilenet_wasm::ops::padding::{axis_window, Padding};
use mobilenet_wasm::rng::Rng;
use std::fmt::Debug;
use std::sync::Arc;

/// Values written after every output; a kernel that writes past its output changes them.
const GUARDS: usize = 9;

/// One kernel call: a layer as the plan keeps it, the work, the input, and how many outputs it writes.
pub struct Case<D: Domain> {
    pub what: String,
    pub layer: Arc<D::Layer>,
    pub work: Work,
    pub input: Vec<D::Elem>,
    pub len: usize,
}

/// Packs `case.layer` for `family` and runs it into `fill`ed outputs followed by `guard`s; checks the guards.
pub fn run<D: Domain>(family: &Family<D>, case: &Case<D>, fill: D::Elem, guard: D::Elem) -> Vec<D::Elem>
where
    D::Elem: PartialEq,
{
    let kernel =
        (family.pack)(&case.layer).unwrap_or_else(|e| panic!("{}: {} does not pack: {e}", case.what, family.name));
    let mut out = vec![fill; case.len + GUARDS];
    out[case.len..].fill(guard);
    kernel.run(case.work, &case.input, &mut out[..case.len]);
    assert!(out[case.len..].iter().all(|g| *g == guard), "{}: {} wrote past its output", case.what, family.name);
    out.truncate(case.len);
    out
}

/// What a family is held against: the domain's independent reference (float: the TensorFlow-semantics ops,
/// then the clamp; uint8: Σ (x − zp)·w + bias written out, then `Requantize::output`, and `quant`'s pool
/// arithmetic), or another family's kernels (the scalar twin of a SIMD family).
pub enum Reference<D: Domain> {
    Independent,
    Twin(&'static Family<D>),
}

/// One family under test, and its reference; each domain's module implements [`Kinds`] for it.
pub struct Tester<D: Domain> {
    pub family: &'static Family<D>,
    pub reference: Reference<D>,
}

/// SAME geometry of a k x k window.
pub fn same_geometry(input: Hwc, cout: usize, kernel: usize, stride: usize, rate: usize) -> Geometry {
    let wy = axis_window(input.h, kernel, stride, rate, Padding::Same).unwrap();
    let wx = axis_window(input.w, kernel, stride, rate, Padding::Same).unwrap();
    let output = Hwc { h: wy.output, w: wx.output, c: cout };
    Geometry { input, output, kernel, stride, rate, pad_top: wy.pad_before, pad_left: wx.pad_before }
}

fn random_map(rng: &mut Rng, max_c: usize) -> Hwc {
    Hwc { h: rng.range(1, 13), w: rng.range(1, 13), c: rng.range(1, max_c) }
}

/// The shapes every family must take, per kernel kind, whatever its domain: a domain's tester supplies
/// one case per call.
pub trait Kinds {
    fn pointwise(&self, rng: &mut Rng, pixels: usize, cin: usize, cout: usize);
    fn depthwise(&self, rng: &mut Rng, input: Hwc, kernel: usize, stride: usize, rate: usize);
    fn conv(&self, rng: &mut Rng, input: Hwc, cout: usize, kernel: usize, stride: usize, rate: usize);
    fn pool(&self, rng: &mut Rng, pixels: usize, channels: usize);
}

pub fn sweep_pointwise(t: &impl Kinds, seed: u64) {
    let mut rng = Rng::new(seed);
    for pixels in 1..=9 {
        for (cin, cout) in [(1, 1), (3, 7), (8, 8), (5, 9), (16, 17), (13, 24)] {
            t.pointwise(&mut rng, pixels, cin, cout);
        }
    }
    for case in 0..300 {
        let (pixels, cin, cout) = (rng.range(1, 70), rng.range(1, 70), rng.range(1, 70));
        // Now and then a deep input: long dot products, and the integer SIMD path's limits.
        let (cin, cout) = if case % 50 == 0 { (rng.range(200, 1100), rng.range(1, 20)) } else { (cin, cout) };
        t.pointwise(&mut rng, pixels, cin, cout);
    }
    // The logits layers: one pixel, 1001 classes.
    t.pointwise(&mut rng, 1, 256, 1001);
    t.pointwise(&mut rng, 1, 1024, 1001);
}

pub fn sweep_depthwise(t: &impl Kinds, seed: u64) {
    let mut rng = Rng::new(seed);
    for c in 1..=19 {
        for (h, w) in [(1, 1), (1, 5), (5, 1), (2, 3), (7, 6)] {
            t.depthwise(&mut rng, Hwc { h, w, c }, 3, 1 + c % 2, 1);
        }
    }
    for _ in 0..300 {
        let input = random_map(&mut rng, 40);
        let (stride, rate) = if rng.range(0, 2) == 0 { (2, 1) } else { (1, [1, 2, 4][rng.range(0, 2)]) };
        t.depthwise(&mut rng, input, 3, stride, rate);
    }
}

pub fn sweep_conv(t: &impl Kinds, seed: u64) {
    let mut rng = Rng::new(seed);
    for cout in 1..=40 {
        t.conv(&mut rng, Hwc { h: 5, w: 4, c: 3 }, cout, 3, 2, 1);
    }
    for case in 0..200 {
        let input = random_map(&mut rng, 4);
        // Now and then a patch too large for the integer SIMD gather: its scalar fallback.
        let input = if case % 50 == 0 { Hwc { c: 20, ..input } } else { input };
        let (cout, k, stride, rate) = (rng.range(1, 70), rng.range(1, 3), rng.range(1, 2), [1, 2, 4][rng.range(0, 2)]);
        t.conv(&mut rng, input, cout, k, stride, rate);
    }
}

pub fn sweep_pool(t: &impl Kinds, seed: u64) {
    let mut rng = Rng::new(seed);
    for _ in 0..150 {
        let (pixels, channels) = (rng.range(1, 60), rng.range(1, 70));
        t.pool(&mut rng, pixels, channels);
    }
}

/// Every kind's sweep.
pub fn sweep(t: &impl Kinds, seed: u64) {
    sweep_pointwise(t, seed);
    sweep_depthwise(t, seed + 1);
    sweep_conv(t, seed + 2);
    sweep_pool(t, seed + 3);
}

fn assert_elementwise<E: Copy + Debug>(what: &str, got: &[E], want: &[E], ok: impl Fn(usize, E, E) -> bool) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (&a, &b)) in got.iter().zip(want).enumerate() {
        assert!(ok(i, a, b), "{what}: [{i}] got {a:?}, want {b:?}");
    }
}

pub mod float {
    //! The float tester: against the reference ops (within 1e-4 relative) or against a twin family (the
    //! same bits in plain builds; within a summation rounding bound where relaxed SIMD may fuse).
    use super::{assert_elementwise, run, same_geometry, Case, Kinds, Reference, Tester};
    use mobilenet_wasm::arch::Hwc;
    use mobilenet_wasm::engine::Float;
    use mobilenet_wasm::kernels::float::{pack, Clamp, FloatLayer};
    use mobilenet_wasm::kernels::Work;
    use mobilenet_wasm::ops::{self, ConvOptions, Padding};
    use mobilenet_wasm::rng::Rng;
    use mobilenet_wasm::Tensor;
    use std::sync::Arc;

    /// Built with `+relaxed-simd`: SIMD families may fuse multiply-adds where the CPU can.
    pub const RELAXED: bool = cfg!(target_feature = "relaxed-simd");
    const GUARD: f32 = 12345.0;

    /// One layer's data: input, filter, bias and clamp, kept to build the reference and |·| magnitudes.
    struct Data {
        x: Tensor,
        f: Tensor,
        bias: Vec<f32>,
        clamp: Clamp,
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

    fn data(rng: &mut Rng, x: [usize; 4], f: [usize; 4], cout: usize) -> Data {
        let (x, f) = (random(rng, x), random(rng, f));
        Data { x, f, bias: rng.fill_uniform(cout, -1.0, 1.0), clamp: clamp(rng) }
    }

    fn abs(t: &Tensor) -> Tensor {
        Tensor::from_vec(t.shape.0, t.data.iter().map(|v| v.abs()).collect()).unwrap()
    }

    impl Data {
        /// The same layer on absolute values, unclamped: run by the reference family, per output
        /// |bias| + Σ|x·w| (rounded).
        fn magnitudes(&self) -> Data {
            let bias = self.bias.iter().map(|b| b.abs()).collect();
            Data { x: abs(&self.x), f: abs(&self.f), bias, clamp: Clamp::NONE }
        }
    }

    /// How far each output may be from the twin's, for outputs that are each a bias plus `terms` products,
    /// given `magnitude` = |bias| + Σ|x·w| per output (the twin run on absolute values).
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

    impl Tester<Float> {
        /// Runs the case through the family under test and checks it against the reference: `ops` computes
        /// the reference ops' output, `case` builds the kernel call from data (and from its magnitudes),
        /// `terms` is the number of products per output that relaxed SIMD may fuse (0: exact everywhere).
        fn check(&self, d: &Data, terms: usize, ops: impl Fn(&Data) -> Tensor, case: impl Fn(&Data) -> Case<Float>) {
            let c = case(d);
            let got = run(self.family, &c, f32::NAN, GUARD);
            let what = format!("{} {}", self.family.name, c.what);
            match self.reference {
                Reference::Independent => {
                    let mut want = ops(d);
                    want.data.iter_mut().for_each(|v| *v = d.clamp.apply(*v));
                    assert_elementwise(&what, &got, &want.data, |_, a, b| (a - b).abs() <= 1e-4 * (1.0 + b.abs()));
                }
                Reference::Twin(twin) => {
                    let want = run(twin, &c, f32::NAN, GUARD);
                    let allowed = if terms == 0 {
                        vec![0.0; c.len]
                    } else {
                        allowed(terms, &run(twin, &case(&d.magnitudes()), 0.0, GUARD))
                    };
                    let what = format!("{what} vs {}", twin.name);
                    assert_elementwise(&what, &got, &want, |i, a, b| !a.is_nan() && (a - b).abs() <= allowed[i]);
                }
            }
        }
    }

    fn layer_case(what: String, layer: FloatLayer, work: Work, x: &Tensor, len: usize) -> Case<Float> {
        Case { what, layer: Arc::new(layer), work, input: x.data.clone(), len }
    }

    impl Kinds for Tester<Float> {
        fn pointwise(&self, rng: &mut Rng, pixels: usize, cin: usize, cout: usize) {
            let d = data(rng, [1, 1, pixels, cin], [1, 1, cin, cout], cout);
            let ops = |d: &Data| ops::pointwise(&d.x, &d.f, Some(&d.bias)).unwrap();
            self.check(&d, cin, ops, |d| {
                let layer = FloatLayer::Pointwise(pack::pointwise(&d.f, &d.bias).unwrap(), d.clamp);
                layer_case(
                    format!("pointwise {pixels}px {cin}->{cout}"),
                    layer,
                    Work::Pixels(pixels),
                    &d.x,
                    pixels * cout,
                )
            });
        }

        fn depthwise(&self, rng: &mut Rng, input: Hwc, k: usize, stride: usize, rate: usize) {
            let d = data(rng, [1, input.h, input.w, input.c], [k, k, input.c, 1], input.c);
            let g = same_geometry(input, input.c, k, stride, rate);
            let o = ConvOptions::new(stride, rate, Padding::Same);
            let ops = |d: &Data| ops::depthwise_conv2d(&d.x, &d.f, Some(&d.bias), &o).unwrap();
            // Exact in every build: the depthwise kernel never fuses (see src/kernels/float/simd128/mod.rs).
            self.check(&d, 0, ops, |d| {
                let layer = FloatLayer::Depthwise(pack::depthwise(&d.f, &d.bias).unwrap(), d.clamp);
                let what = format!("depthwise {input} s{stride} r{rate}");
                layer_case(what, layer, Work::Window(g), &d.x, g.output.len())
            });
        }

        fn conv(&self, rng: &mut Rng, input: Hwc, cout: usize, k: usize, stride: usize, rate: usize) {
            let d = data(rng, [1, input.h, input.w, input.c], [k, k, input.c, cout], cout);
            let g = same_geometry(input, cout, k, stride, rate);
            let o = ConvOptions::new(stride, rate, Padding::Same);
            let ops = |d: &Data| ops::conv2d(&d.x, &d.f, Some(&d.bias), &o).unwrap();
            self.check(&d, k * k * input.c, ops, |d| {
                let layer = FloatLayer::Conv(pack::conv(&d.f, &d.bias).unwrap(), d.clamp);
                let what = format!("conv {k}x{k} {input}->{cout} s{stride} r{rate}");
                layer_case(what, layer, Work::Window(g), &d.x, g.output.len())
            });
        }

        /// The pool has no multiply-add: exact against a twin in every build.
        fn pool(&self, rng: &mut Rng, pixels: usize, channels: usize) {
            let d = Data { clamp: Clamp::NONE, ..data(rng, [1, 1, pixels, channels], [1, 1, 1, 1], 0) };
            let ops = |d: &Data| ops::global_avg_pool(&d.x).unwrap();
            self.check(&d, 0, ops, |d| {
                let layer = FloatLayer::Pool { channels };
                layer_case(format!("pool {pixels}px x{channels}"), layer, Work::Pixels(pixels), &d.x, channels)
            });
        }
    }
}

pub mod uint8 {
    //! The uint8 tester: byte for byte, against the integer sums written out plainly and requantized by
    //! [`Requantize::output`] (checked against TFLite elsewhere), or against a twin family.
    use super::{assert_elementwise, run, Case, Kinds, Reference, Tester};
    use mobilenet_wasm::arch::Hwc;
    use mobilenet_wasm::engine::Uint8;
    use mobilenet_wasm::kernels::uint8::Uint8Layer;
    use mobilenet_wasm::kernels::{Geometry, Work};
    use mobilenet_wasm::ops::padding::{axis_window, Padding};
    use mobilenet_wasm::quant::{
        average_u8, mean_multiplier, quantize_multiplier, AverageQ, MeanQ, PoolQ, QuantizedMultiplier, Requantize,
    };
    use mobilenet_wasm::rng::Rng;
    use mobilenet_wasm::weights::QuantLayer;
    use std::sync::Arc;

    const FILL: u8 = 0xA5;
    const GUARD: u8 = 0x5A;

    pub fn byte(rng: &mut Rng) -> u8 {
        rng.range(0, 255) as u8
    }

    pub fn bytes(rng: &mut Rng, n: usize) -> Vec<u8> {
        (0..n).map(|_| byte(rng)).collect()
    }

    /// Centered weights w − w_zp of uint8 weights: anywhere in [−255, 255].
    pub fn weights(rng: &mut Rng, n: usize) -> Vec<i16> {
        let zp = rng.range(0, 255) as i16;
        (0..n).map(|_| rng.range(0, 255) as i16 - zp).collect()
    }

    pub fn biases(rng: &mut Rng, n: usize) -> Vec<i32> {
        (0..n).map(|_| rng.range(0, 1 << 21) as i32 - (1 << 20)).collect()
    }

    /// A multiplier as a conv layer could have one: small reals (large negative shifts), reals above 1
    /// (shift > 0), now and then a raw shift far below −31 and a zero.
    pub fn multiplier(rng: &mut Rng) -> QuantizedMultiplier {
        match rng.range(0, 19) {
            0 => QuantizedMultiplier {
                multiplier: rng.range(1 << 30, (1 << 31) - 1) as i32,
                shift: -(rng.range(31, 40) as i32),
            },
            1 => QuantizedMultiplier::ZERO,
            _ => quantize_multiplier(f64::from(rng.uniform(0.5, 1.0)) * 2f64.powi(rng.range(0, 30) as i32 - 26)),
        }
    }

    /// Per-tensor (one multiplier repeated, the official models) or per-channel, random zero points and clamp.
    pub fn requantize(rng: &mut Rng, channels: usize) -> Requantize {
        let multipliers = if rng.range(0, 1) == 0 {
            vec![multiplier(rng); channels]
        } else {
            (0..channels).map(|_| multiplier(rng)).collect()
        };
        let (a, b) = (byte(rng) as i32, byte(rng) as i32);
        let output_zero_point = byte(rng) as i32;
        let (min, max) = match rng.range(0, 3) {
            0 => (0, 255),
            // ReLU and ReLU6 (the official models): the clamp starts at the zero point.
            1 => (output_zero_point, a.max(output_zero_point)),
            _ => (a.min(b), a.max(b)),
        };
        Requantize { multipliers, input_zero_point: byte(rng) as i32, output_zero_point, min, max }
    }

    pub fn layer(filter_shape: [usize; 4], filter: Vec<i16>, bias: Vec<i32>, requantize: Requantize) -> QuantLayer {
        QuantLayer { filter_shape, filter, bias, requantize }
    }

    /// SAME geometry, or (every other time) arbitrary output size and padding: kernels must take any geometry.
    fn geometry(rng: &mut Rng, input: Hwc, cout: usize, kernel: usize, stride: usize, rate: usize) -> Geometry {
        let wy = axis_window(input.h, kernel, stride, rate, Padding::Same).unwrap();
        let wx = axis_window(input.w, kernel, stride, rate, Padding::Same).unwrap();
        let output = Hwc { h: wy.output, w: wx.output, c: cout };
        let same = Geometry { input, output, kernel, stride, rate, pad_top: wy.pad_before, pad_left: wx.pad_before };
        if rng.range(0, 1) == 0 {
            return same;
        }
        let output = Hwc { h: rng.range(1, 9), w: rng.range(1, 9), c: cout };
        Geometry { output, pad_top: rng.range(0, 4), pad_left: rng.range(0, 4), ..same }
    }

    /// Input pixel of output (oy, ox) under tap (ky, kx), or None on padding.
    fn source(g: &Geometry, oy: usize, ox: usize, ky: usize, kx: usize) -> Option<usize> {
        let iy = (oy * g.stride + ky * g.rate).checked_sub(g.pad_top).filter(|&i| i < g.input.h)?;
        let ix = (ox * g.stride + kx * g.rate).checked_sub(g.pad_left).filter(|&i| i < g.input.w)?;
        Some(iy * g.input.w + ix)
    }

    /// A windowed layer written out: per output, bias + Σ over taps and `inputs(co)` channels.
    fn windowed(g: &Geometry, p: &QuantLayer, x: &[u8], depthwise: bool) -> Vec<u8> {
        let [k, _, cin, _] = p.filter_shape;
        let (cout, zp) = (g.output.c, p.requantize.input_zero_point);
        let mut out = Vec::with_capacity(g.output.len());
        for oy in 0..g.output.h {
            for ox in 0..g.output.w {
                for co in 0..cout {
                    let mut acc = p.bias[co];
                    for (ky, kx) in (0..k).flat_map(|ky| (0..k).map(move |kx| (ky, kx))) {
                        let Some(px) = source(g, oy, ox, ky, kx) else { continue };
                        let tap = ky * k + kx;
                        if depthwise {
                            acc += (x[px * cin + co] as i32 - zp) * p.filter[tap * cin + co] as i32;
                        } else {
                            for ci in 0..cin {
                                acc += (x[px * cin + ci] as i32 - zp) * p.filter[(tap * cin + ci) * cout + co] as i32;
                            }
                        }
                    }
                    out.push(p.requantize.output(co, acc));
                }
            }
        }
        out
    }

    fn pool(pixels: usize, channels: usize, x: &[u8], q: &PoolQ) -> Vec<u8> {
        let n = pixels as i32;
        let sum = |c: usize, offset: i32| (0..pixels).map(|p| x[p * channels + c] as i32 - offset).sum::<i32>();
        (0..channels)
            .map(|c| match q {
                PoolQ::Average(a) => (average_u8(sum(c, a.signed_offset), n) + a.signed_offset).clamp(a.min, a.max),
                PoolQ::Mean(m) => {
                    let acc = sum(c, m.input_zero_point);
                    (mean_multiplier(m.multiplier, pixels as i64).apply(acc) + m.output_zero_point).clamp(0, 255)
                }
            } as u8)
            .collect()
    }

    fn direct(layer: &Uint8Layer, work: Work, x: &[u8]) -> Vec<u8> {
        match (layer, work) {
            (Uint8Layer::Conv(p), Work::Window(g)) => windowed(&g, p, x, false),
            (Uint8Layer::Depthwise(p), Work::Window(g)) => windowed(&g, p, x, true),
            (Uint8Layer::Pointwise(p), Work::Pixels(n)) => {
                let g = Geometry {
                    input: Hwc { h: 1, w: n, c: p.filter_shape[2] },
                    output: Hwc { h: 1, w: n, c: p.filter_shape[3] },
                    kernel: 1,
                    stride: 1,
                    rate: 1,
                    pad_top: 0,
                    pad_left: 0,
                };
                windowed(&g, p, x, false)
            }
            (Uint8Layer::Pool { channels, pool: q }, Work::Pixels(n)) => pool(n, *channels, x, q),
            (layer, work) => panic!("{work:?} for {layer:?}"),
        }
    }

    impl Tester<Uint8> {
        /// Runs one case through the family under test and checks it, byte for byte, against the reference.
        pub fn check(&self, what: String, layer: Uint8Layer, work: Work, input: Vec<u8>, len: usize) {
            let case = Case { what, layer: Arc::new(layer), work, input, len };
            let got = run(self.family, &case, FILL, GUARD);
            let (want, against) = match self.reference {
                Reference::Independent => (direct(&case.layer, work, &case.input), "the direct sums"),
                Reference::Twin(twin) => (run(twin, &case, FILL, GUARD), twin.name),
            };
            let what = format!("{} {} vs {against}", self.family.name, case.what);
            assert_elementwise(&what, &got, &want, |_, a, b| a == b);
        }

        fn pool_q(rng: &mut Rng) -> PoolQ {
            if rng.range(0, 1) == 0 {
                let (a, b) = (byte(rng) as i32, byte(rng) as i32);
                let signed_offset = [0, 128][rng.range(0, 1)];
                PoolQ::Average(AverageQ { min: a.min(b), max: a.max(b), signed_offset })
            } else {
                let multiplier = quantize_multiplier(f64::from(rng.uniform(0.5, 2.0)));
                PoolQ::Mean(MeanQ {
                    multiplier,
                    input_zero_point: byte(rng) as i32,
                    output_zero_point: byte(rng) as i32,
                })
            }
        }
    }

    impl Kinds for Tester<Uint8> {
        fn pointwise(&self, rng: &mut Rng, pixels: usize, cin: usize, cout: usize) {
            let r = requantize(rng, cout);
            let what = format!("pointwise {pixels} px {cin}→{cout} {r:?}");
            let p = layer([1, 1, cin, cout], weights(rng, cin * cout), biases(rng, cout), r);
            let x = bytes(rng, pixels * cin);
            self.check(what, Uint8Layer::Pointwise(p), Work::Pixels(pixels), x, pixels * cout);
        }

        fn depthwise(&self, rng: &mut Rng, input: Hwc, kernel: usize, stride: usize, rate: usize) {
            // Now and then another kernel size: the integer SIMD path takes up to 5x5.
            let kernel = if rng.range(0, 7) == 7 { [1, 2, 4, 5][rng.range(0, 3)] } else { kernel };
            let g = geometry(rng, input, input.c, kernel, stride, rate);
            let r = requantize(rng, input.c);
            let what = format!("depthwise {g:?} {r:?}");
            let taps = kernel * kernel * input.c;
            let p = layer([kernel, kernel, input.c, 1], weights(rng, taps), biases(rng, input.c), r);
            let x = bytes(rng, input.len());
            self.check(what, Uint8Layer::Depthwise(p), Work::Window(g), x, g.output.len());
        }

        fn conv(&self, rng: &mut Rng, input: Hwc, cout: usize, kernel: usize, stride: usize, rate: usize) {
            let kernel = if rng.range(0, 5) == 5 { [1, 2, 5][rng.range(0, 2)] } else { kernel };
            let g = geometry(rng, input, cout, kernel, stride, rate);
            let r = requantize(rng, cout);
            let what = format!("conv {g:?} {r:?}");
            let n = kernel * kernel * input.c * cout;
            let p = layer([kernel, kernel, input.c, cout], weights(rng, n), biases(rng, cout), r);
            let x = bytes(rng, input.len());
            self.check(what, Uint8Layer::Conv(p), Work::Window(g), x, g.output.len());
        }

        fn pool(&self, rng: &mut Rng, pixels: usize, channels: usize) {
            let q = Tester::<Uint8>::pool_q(rng);
            let what = format!("pool {pixels}px x{channels} {q:?}");
            let x = bytes(rng, pixels * channels);
            self.check(what, Uint8Layer::Pool { channels, pool: q }, Work::Pixels(pixels), x, channels);
        }
    }
}
