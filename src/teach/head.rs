//! A classification head trained on embeddings: softmax regression, or one hidden ReLU layer under it.
//!
//! The objective is the class-balanced mean cross-entropy (each example weighted by `n / (classes · n_c)`, so
//! every class counts the same however many examples it has) plus `l2/2 · ‖W‖²` over the weights (not the
//! biases) of every layer of the returned head. It is minimised over the full batch by L-BFGS with a
//! backtracking (Armijo) line search; everything runs in one thread in a fixed order, so the same inputs and
//! seed give the same head bit for bit. Softmax regression is computed in f64 throughout. With a hidden layer,
//! the two big products (the first layer's outputs and its weight gradient, ~n·dim·hidden multiply-adds each)
//! run in f32 over blocks of 128 terms whose sums are added in f64, and training stops at a looser tolerance
//! (`NON_CONVEX`): the minimum it reaches is one of many anyway, and f32 vectorizes twice as wide.
//!
//! For conditioning, training works on standardised features `z = (x − μ) / s` (per dimension: mean and
//! standard deviation over the examples, the deviation floored). That is only a change of variables: the
//! penalty is charged on the raw-input weights `V / s`, and the returned first layer has the standardisation
//! folded in (`W = V / s` column-wise, `b = c − W·μ`), so the head acts on raw embeddings and is the minimiser
//! of the objective above, whatever `μ` and `s` are.

use crate::error::{Error, Real};
use crate::rng::Rng;

/// One fully connected layer in TFLite's layout: weights [outputs][inputs] row-major, then bias.
#[derive(Clone, Debug, PartialEq)]
pub struct Dense {
    pub inputs: usize,
    pub outputs: usize,
    pub weights: Vec<f32>,
    pub bias: Vec<f32>,
    /// Whether a ReLU follows (hidden layers); the last layer's outputs are the logits.
    pub relu: bool,
}

/// The trained head: dense layers in order; softmax over the last one's outputs (the logits).
#[derive(Clone, Debug, PartialEq)]
pub struct Head {
    pub layers: Vec<Dense>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    /// Units of one ReLU hidden layer; `None` (the default) trains plain softmax regression.
    pub hidden: Option<usize>,
    /// Strength λ of the penalty λ/2·‖W‖² on the weights; default 1e-3.
    pub l2: f32,
    /// L-BFGS iterations at most; default 200. Training stops earlier once converged.
    pub max_iterations: usize,
    /// Seeds the hidden layer's initial weights (softmax regression is convex and starts from zeros); default 1.
    pub seed: u64,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions { hidden: None, l2: 1e-3, max_iterations: 200, seed: 1 }
    }
}

/// Where training stands after an iteration.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub iteration: usize,
    /// The objective: balanced mean cross-entropy plus the L2 penalty.
    pub loss: f32,
    /// Fraction of training examples classified right.
    pub accuracy: f32,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub iterations: usize,
    /// The objective at the returned head: balanced mean cross-entropy plus the L2 penalty.
    pub loss: f32,
    /// Training accuracy in [0, 1]: the plain (not class-weighted) fraction of examples whose argmax is right.
    pub accuracy: f32,
}

/// L-BFGS remembers this many steps.
const MEMORY: usize = 10;
/// When training counts as converged: once no gradient component exceeds `gradient` (the loss is a weighted
/// mean, so of order 1), or once the last `window` iterations lowered the loss by less than `decrease` times
/// the larger of it and `floor`.
struct Stop {
    gradient: f64,
    decrease: f64,
    window: usize,
    floor: f64,
}

impl Stop {
    /// Whether the loss, one entry per iteration, fell too little over the window.
    fn stalled(&self, losses: &[f64]) -> bool {
        let (Some(&now), Some(&then)) = (losses.last(), losses.iter().rev().nth(self.window)) else {
            return false;
        };
        then - now <= self.decrease * now.abs().max(self.floor)
    }
}

/// Softmax regression is convex with one minimiser, cheap to reach to the last digits.
const CONVEX: Stop = Stop { gradient: 1e-6, decrease: 1e-10, window: 1, floor: 1.0 };
/// With a hidden layer the minimum reached is one of many (it depends on the seed) and an iteration costs far
/// more, while the last stretch crawls: for 5 classes × 50 in 1024 dimensions, ~100 more iterations for the
/// last 5e-4 of the loss, changing no prediction. So it stops at a 10 times larger gradient, or once 5
/// iterations together gain less than 1e-5 of the loss.
const NON_CONVEX: Stop = Stop { gradient: 1e-5, decrease: 1e-5, window: 5, floor: 0.0 };
/// Armijo's sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Step shortenings before a line search gives up (each shortens by 2 to 10 times).
const MAX_BACKTRACKS: usize = 20;
/// Layers with at least this many outputs compute them as sums of weight columns rather than dot products.
const WIDE: usize = 16;
/// Largest head, and largest activation buffer, trained here (in floats), well inside wasm's memory.
const MAX_SIZE: usize = 1 << 22;

/// Trains a head on `embeddings` (n rows of `dim` floats, flat) with `labels[i] < classes`, calling `progress`
/// after every iteration. An iteration costs one or a few passes of about 2·n·dim·outputs multiply-adds, where
/// `outputs` is `classes` or the hidden units.
#[cfg_attr(feature = "small", optimize(size))]
pub fn train(
    embeddings: &[f32],
    dim: usize,
    labels: &[usize],
    classes: usize,
    options: &TrainOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Head, Report), Error> {
    let counts = check_examples(embeddings, dim, labels, classes)?;
    check_options(options, dim, classes, labels.len())?;
    let scaling = Scaling::fit(embeddings, dim);
    let problem = Problem::new(embeddings, &scaling, labels, &counts, options);
    let start = problem.initial(options.seed);
    let (theta, report) = minimise(&problem, start, options.max_iterations, progress);
    Ok((problem.head(&theta, &scaling), report))
}

/// Checks examples (for training or neighbours) and returns how many each class has.
#[cfg_attr(feature = "small", optimize(size))]
pub(crate) fn check_examples(
    embeddings: &[f32],
    dim: usize,
    labels: &[usize],
    classes: usize,
) -> Result<Vec<usize>, Error> {
    if dim == 0 {
        return Err(Error::teach("dim must be at least 1"));
    }
    if classes < 2 {
        return Err(Error::teach(format!("2 classes are needed, got {classes}")));
    }
    if embeddings.len() % dim != 0 {
        return Err(Error::teach(format!("embeddings hold {} floats, not a multiple of dim {dim}", embeddings.len())));
    }
    let n = embeddings.len() / dim;
    if labels.len() != n {
        return Err(Error::teach(format!("there are {n} embeddings of dim {dim} but {} labels", labels.len())));
    }
    if n == 0 {
        return Err(Error::teach("no examples"));
    }
    if let Some((i, label)) = labels.iter().enumerate().find(|(_, &label)| label >= classes) {
        return Err(Error::teach(format!("label {label} (example {i}) is out of range for {classes} classes")));
    }
    // Checked before counting so that a huge class count allocates nothing.
    if classes > n {
        return Err(Error::teach(format!("{classes} classes need an example each, but there are only {n} examples")));
    }
    let mut counts = vec![0usize; classes];
    for &label in labels {
        counts[label] += 1;
    }
    if let Some(class) = counts.iter().position(|&count| count == 0) {
        return Err(Error::teach(format!("class {class} has no examples")));
    }
    if let Some(at) = embeddings.iter().position(|x| !x.is_finite()) {
        return Err(Error::teach(format!("embedding {} has a NaN or infinite value", at / dim)));
    }
    Ok(counts)
}

#[cfg_attr(feature = "small", optimize(size))]
fn check_options(options: &TrainOptions, dim: usize, classes: usize, n: usize) -> Result<(), Error> {
    if options.max_iterations == 0 {
        return Err(Error::teach("max_iterations must be at least 1"));
    }
    if !(options.l2.is_finite() && options.l2 >= 0.0) {
        return Err(Error::teach(format!("l2 must be finite and at least 0, got {}", Real::from(options.l2))));
    }
    if options.hidden == Some(0) {
        return Err(Error::teach("a hidden layer needs at least 1 unit"));
    }
    // Weights and per-example activations, refused before anything is allocated for them.
    let widths = match options.hidden {
        Some(h) => vec![dim, h, classes],
        None => vec![dim, classes],
    };
    let weights = widths.windows(2).try_fold(0usize, |sum, w| w[0].checked_add(1)?.checked_mul(w[1])?.checked_add(sum));
    let activations = widths[1..].iter().try_fold(0usize, |sum, &w| w.checked_mul(n)?.checked_add(sum));
    match (weights, activations) {
        (Some(w), Some(a)) if w <= MAX_SIZE && a <= MAX_SIZE => Ok(()),
        _ => Err(Error::teach(format!(
            "a head this large is not trained here: at most {MAX_SIZE} weights and {MAX_SIZE} activations"
        ))),
    }
}

/// Per-dimension standardisation `z = (x − mean) / scale`.
struct Scaling {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Scaling {
    #[cfg_attr(feature = "small", optimize(size))]
    fn fit(embeddings: &[f32], dim: usize) -> Scaling {
        let n = (embeddings.len() / dim) as f64;
        let mut mean = vec![0.0f64; dim];
        for row in embeddings.chunks_exact(dim) {
            for (m, &x) in mean.iter_mut().zip(row) {
                *m += f64::from(x);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n);
        let mut var = vec![0.0f64; dim];
        for row in embeddings.chunks_exact(dim) {
            for ((v, &m), &x) in var.iter_mut().zip(&mean).zip(row) {
                *v += (f64::from(x) - m) * (f64::from(x) - m);
            }
        }
        var.iter_mut().for_each(|v| *v /= n);
        // Flooring at a tenth of the typical deviation keeps near-constant dimensions from being blown up
        // (their penalty would dominate the curvature); a dimension that never varies gets weight 0 anyway.
        let floor = 0.1 * (var.iter().sum::<f64>() / dim as f64).sqrt();
        let scale = var.iter().map(|&v| if v.sqrt().max(floor) > 0.0 { v.sqrt().max(floor) } else { 1.0 }).collect();
        Scaling { mean, scale }
    }

    fn apply(&self, embeddings: &[f32]) -> Vec<f32> {
        let dim = self.mean.len();
        let mut z = Vec::with_capacity(embeddings.len());
        for row in embeddings.chunks_exact(dim) {
            z.extend(row.iter().zip(&self.mean).zip(&self.scale).map(|((&x, m), s)| ((f64::from(x) - m) / s) as f32));
        }
        z
    }
}

/// A layer's shape; the parameters live in one flat vector: each layer's weights, then its bias.
#[derive(Clone, Copy)]
struct Shape {
    inputs: usize,
    outputs: usize,
    relu: bool,
}

/// A layer's shape and parameters, borrowed from the flat parameter vector.
struct Layer<'a> {
    shape: Shape,
    weights: &'a [f64],
    bias: &'a [f64],
}

/// The loss and accuracy at one point.
#[derive(Clone, Copy)]
struct Eval {
    loss: f64,
    accuracy: f32,
}

/// The standardised examples as the first layer reads them.
enum Examples {
    /// n rows of `dim`, for softmax regression, whose products run in f64: it is convex and solved to the
    /// last digits, and costs little.
    Rows(Vec<f32>),
    /// Packed for the f32 products of a hidden layer (`product`): as the left factor of the forward pass
    /// (examples × inputs) and the right factor of the weight gradient (examples × inputs, by columns).
    Packed { rows: Packed<ROWS>, columns: Packed<COLS> },
}

/// The training problem in standardised coordinates.
struct Problem {
    z: Examples,
    labels: Vec<usize>,
    /// Each example's share of the loss, `1 / (classes · n_c)`: they sum to 1.
    share: Vec<f64>,
    shapes: Vec<Shape>,
    l2: f64,
    /// Each layer's penalty factor per input: `1 / s²` for the first (the penalty is on `V / s`), else 1.
    penalties: Vec<Vec<f64>>,
}

impl Problem {
    #[cfg_attr(feature = "small", optimize(size))]
    fn new(embeddings: &[f32], scaling: &Scaling, labels: &[usize], counts: &[usize], options: &TrainOptions) -> Self {
        let dim = scaling.mean.len();
        let classes = counts.len();
        let share = labels.iter().map(|&label| 1.0 / (classes * counts[label]) as f64).collect();
        let shapes = match options.hidden {
            Some(h) => {
                vec![Shape { inputs: dim, outputs: h, relu: true }, Shape { inputs: h, outputs: classes, relu: false }]
            }
            None => vec![Shape { inputs: dim, outputs: classes, relu: false }],
        };
        let first = scaling.scale.iter().map(|s| 1.0 / (s * s)).collect();
        let penalties = shapes.iter().skip(1).map(|s| vec![1.0; s.inputs]);
        let penalties = std::iter::once(first).chain(penalties).collect();
        let z = scaling.apply(embeddings);
        let z = if options.hidden.is_some() {
            let n = labels.len();
            let rows = Packed::new(n, dim, |i, k| z[i * dim + k]);
            let columns = Packed::new(dim, n, |k, i| z[i * dim + k]);
            Examples::Packed { rows, columns }
        } else {
            Examples::Rows(z)
        };
        Problem { z, labels: labels.to_vec(), share, shapes, l2: f64::from(options.l2), penalties }
    }

    fn len(&self) -> usize {
        self.shapes.iter().map(|s| (s.inputs + 1) * s.outputs).sum()
    }

    /// Zeros for softmax regression (convex: no seed needed). With a hidden layer, He-uniform weights for the
    /// ReLU layer (on the standardised inputs) and Glorot-uniform for the logits, drawn from `Rng::new(seed)`
    /// in parameter order; biases zero.
    #[cfg_attr(feature = "small", optimize(size))]
    fn initial(&self, seed: u64) -> Vec<f64> {
        let mut theta = vec![0.0f64; self.len()];
        if self.shapes.len() > 1 {
            let mut rng = Rng::new(seed);
            let mut at = 0;
            for (l, shape) in self.shapes.iter().enumerate() {
                let fan = if l == 0 { shape.inputs } else { shape.inputs + shape.outputs };
                let limit = (6.0 / fan as f32).sqrt();
                for w in &mut theta[at..at + shape.inputs * shape.outputs] {
                    *w = f64::from(rng.uniform(-limit, limit));
                }
                at += (shape.inputs + 1) * shape.outputs;
            }
        }
        theta
    }

    /// Splits `theta` into each layer's (weights, bias).
    fn split<'a>(&self, mut theta: &'a [f64]) -> Vec<(&'a [f64], &'a [f64])> {
        let mut parts = Vec::with_capacity(self.shapes.len());
        for shape in &self.shapes {
            let (weights, rest) = theta.split_at(shape.inputs * shape.outputs);
            let (bias, rest) = rest.split_at(shape.outputs);
            parts.push((weights, bias));
            theta = rest;
        }
        parts
    }

    fn layers<'a>(&self, theta: &'a [f64]) -> Vec<Layer<'a>> {
        self.split(theta)
            .into_iter()
            .zip(&self.shapes)
            .map(|((weights, bias), &shape)| Layer { shape, weights, bias })
            .collect()
    }

    /// The head on raw embeddings: the standardisation folded into the first layer.
    #[cfg_attr(feature = "small", optimize(size))]
    fn head(&self, theta: &[f64], scaling: &Scaling) -> Head {
        let mut layers: Vec<Dense> = Vec::with_capacity(self.shapes.len());
        for (l, ((w, b), shape)) in self.split(theta).into_iter().zip(&self.shapes).enumerate() {
            let (mut weights, mut bias) = (w.to_vec(), b.to_vec());
            if l == 0 {
                for (row, b) in weights.chunks_exact_mut(shape.inputs).zip(&mut bias) {
                    for ((w, s), m) in row.iter_mut().zip(&scaling.scale).zip(&scaling.mean) {
                        *w /= s;
                        *b -= *w * m;
                    }
                }
            }
            layers.push(Dense {
                inputs: shape.inputs,
                outputs: shape.outputs,
                weights: weights.iter().map(|&x| x as f32).collect(),
                bias: bias.iter().map(|&x| x as f32).collect(),
                relu: shape.relu,
            });
        }
        Head { layers }
    }

    /// The objective at `theta`, its gradient into `grad`, and the training accuracy. Sums over examples run in
    /// f64: the line search compares losses that differ in the 8th digit and beyond near the optimum. (A hidden
    /// layer's f32 products err by ~1e-7 of each output, far below what its looser stop resolves.)
    fn evaluate(&self, theta: &[f64], grad: &mut [f64]) -> Eval {
        let layers = self.layers(theta);
        let n = self.labels.len();
        // Forward: each layer's outputs for all examples.
        let mut outputs: Vec<Vec<f64>> = Vec::with_capacity(layers.len());
        for (l, layer) in layers.iter().enumerate() {
            let out = match (l, &self.z) {
                (0, Examples::Rows(z)) => forward(layer, z, n),
                (0, Examples::Packed { rows, .. }) => forward_packed(layer, rows),
                _ => forward(layer, &outputs[l - 1], n),
            };
            outputs.push(out);
        }
        let logits = outputs.last().map_or(&[][..], |v| &v[..]);
        let mut delta = vec![0.0f64; logits.len()];
        let (mut loss, correct) = self.cross_entropy(logits, &mut delta);
        // Backward, layer by layer, with `delta` the loss's gradient with respect to the layer's outputs.
        let grads = self.split_mut(grad);
        for (l, (gw, gb)) in grads.into_iter().enumerate().rev() {
            let layer = &layers[l];
            match (l, &self.z) {
                (0, Examples::Rows(z)) => weight_sums(layer.shape, z, &delta, gw),
                (0, Examples::Packed { columns, .. }) => weight_sums_packed(layer.shape, columns, &delta, gw),
                _ => weight_sums(layer.shape, &outputs[l - 1], &delta, gw),
            }
            gb.fill(0.0);
            for d in delta.chunks_exact(layer.shape.outputs) {
                gb.iter_mut().zip(d).for_each(|(g, c)| *g += c);
            }
            loss += self.add_penalty(layer, &self.penalties[l], gw);
            if l > 0 {
                delta = back_through(layer, &delta, &outputs[l - 1], layers[l - 1].shape.relu);
            }
        }
        Eval { loss, accuracy: correct as f32 / n as f32 }
    }

    /// Splits a gradient into each layer's (weights, bias).
    fn split_mut<'a>(&self, mut grad: &'a mut [f64]) -> Vec<(&'a mut [f64], &'a mut [f64])> {
        let mut parts = Vec::with_capacity(self.shapes.len());
        for shape in &self.shapes {
            let (weights, rest) = grad.split_at_mut(shape.inputs * shape.outputs);
            let (bias, rest) = rest.split_at_mut(shape.outputs);
            parts.push((weights, bias));
            grad = rest;
        }
        parts
    }

    /// Balanced cross-entropy of the logits, its gradient into `delta`, and how many examples are right.
    fn cross_entropy(&self, logits: &[f64], delta: &mut [f64]) -> (f64, usize) {
        let classes = self.shapes.last().map_or(1, |s| s.outputs);
        let (mut loss, mut correct) = (0.0f64, 0usize);
        let rows = logits.chunks_exact(classes).zip(delta.chunks_exact_mut(classes));
        for ((row, delta), (&label, &share)) in rows.zip(self.labels.iter().zip(&self.share)) {
            let max = row.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(x));
            let log_sum = max + row.iter().map(|&x| (x - max).exp()).sum::<f64>().ln();
            loss += share * (log_sum - row[label]);
            for (k, (d, &x)) in delta.iter_mut().zip(row).enumerate() {
                let target = if k == label { 1.0 } else { 0.0 };
                *d = share * ((x - log_sum).exp() - target);
            }
            correct += usize::from(argmax(row) == label);
        }
        (loss, correct)
    }

    /// Adds the L2 penalty's gradient to a layer's weight gradient; returns the penalty.
    fn add_penalty(&self, layer: &Layer, factors: &[f64], gw: &mut [f64]) -> f64 {
        // Summed over 4 lanes: one running sum would be a chain of dependent adds.
        let mut lanes = [0.0f64; 4];
        for (g, w) in gw.chunks_exact_mut(layer.shape.inputs).zip(layer.weights.chunks_exact(layer.shape.inputs)) {
            for ((g, w), f) in g.chunks_mut(4).zip(w.chunks(4)).zip(factors.chunks(4)) {
                for (((g, &w), &f), s) in g.iter_mut().zip(w).zip(f).zip(&mut lanes) {
                    *g += self.l2 * f * w;
                    *s += f * w * w;
                }
            }
        }
        0.5 * self.l2 * ((lanes[0] + lanes[2]) + (lanes[1] + lanes[3]))
    }
}

/// One layer's outputs for n input rows.
fn forward<T: Copy + Into<f64>>(layer: &Layer, input: &[T], n: usize) -> Vec<f64> {
    let Shape { inputs, outputs, relu } = layer.shape;
    let mut out = vec![0.0f64; n * outputs];
    let rows = input.chunks_exact(inputs).zip(out.chunks_exact_mut(outputs));
    if outputs >= WIDE {
        // Each input scales a row of the transposed weights into the outputs: a plain `y += c·x`, which
        // LLVM vectorizes at any width (dot products, being reductions, vectorize less reliably).
        let columns = transpose(layer.weights, outputs, inputs);
        for (x, y) in rows {
            y.copy_from_slice(layer.bias);
            for (&c, column) in x.iter().zip(columns.chunks_exact(outputs)) {
                let c: f64 = c.into();
                if c != 0.0 {
                    axpy(y, c, column);
                }
            }
        }
    } else {
        for (x, y) in rows {
            for ((y, w), &b) in y.iter_mut().zip(layer.weights.chunks_exact(inputs)).zip(layer.bias) {
                *y = dot(x, w) + b;
            }
        }
    }
    if relu {
        out.iter_mut().for_each(|v| *v = v.max(0.0));
    }
    out
}

/// The first layer's outputs from the packed examples: the products in f32 (`product`), bias and ReLU in f64.
fn forward_packed(layer: &Layer, rows: &Packed<ROWS>) -> Vec<f64> {
    let Shape { inputs, outputs, relu } = layer.shape;
    let weights = Packed::new(outputs, inputs, |o, k| layer.weights[o * inputs + k] as f32);
    let mut out = vec![0.0f64; rows.count * outputs];
    product(rows, &weights, &mut out);
    for y in out.chunks_exact_mut(outputs) {
        for (y, &b) in y.iter_mut().zip(layer.bias) {
            *y = if relu { (*y + b).max(0.0) } else { *y + b };
        }
    }
    out
}

/// `weight_sums` of the first layer from the packed examples, the products in f32 (`product`).
fn weight_sums_packed(shape: Shape, columns: &Packed<COLS>, delta: &[f64], sums: &mut [f64]) {
    let n = columns.depth;
    let delta = Packed::new(shape.outputs, n, |o, i| delta[i * shape.outputs + o] as f32);
    product(&delta, columns, sums);
}

/// Rows of the left factor, and columns of the right one, that `product` takes at a time: a 4 × 8 tile is
/// 8 accumulators of 4 f32 lanes (wasm's simd128, SSE), which leaves registers for the operands.
const ROWS: usize = 4;
const COLS: usize = 8;
/// Terms `product` sums in f32 before adding them up in f64: bounds the rounding error to that of a
/// 128-term f32 sum (about 1e-7 relative, against 1e-6 and growing for a whole 1024-term one).
const BLOCK: usize = 128;

/// A matrix of `count` vectors of `depth` values, in panels of `W` vectors stored interleaved (panel `p` holds
/// vector `W·p + w`'s value `t` at `t·W + w`), the last panel padded with zeros: `product` then reads both
/// factors in order, with no bounds checks in its inner loop.
struct Packed<const W: usize> {
    count: usize,
    depth: usize,
    data: Vec<f32>,
}

impl<const W: usize> Packed<W> {
    /// Packs `value(v, t)` for vector `v < count` and `t < depth`.
    fn new(count: usize, depth: usize, value: impl Fn(usize, usize) -> f32) -> Self {
        let mut data = vec![0.0f32; count.div_ceil(W) * W * depth];
        for (p, panel) in data.chunks_exact_mut(W * depth).enumerate() {
            for (t, lanes) in panel.chunks_exact_mut(W).enumerate() {
                for (w, x) in lanes.iter_mut().enumerate().take(count - p * W) {
                    *x = value(p * W + w, t);
                }
            }
        }
        Packed { count, depth, data }
    }
}

/// `out[i][j] = Σ_t a_i[t] · b_j[t]` (`out` row-major, `a.count × b.count`): products and block sums in f32,
/// which LLVM vectorizes at 4 lanes, the blocks of BLOCK terms added up in f64.
fn product(a: &Packed<ROWS>, b: &Packed<COLS>, out: &mut [f64]) {
    let depth = a.depth;
    for (p, panel) in a.data.chunks_exact(ROWS * depth).enumerate() {
        for (s, strip) in b.data.chunks_exact(COLS * depth).enumerate() {
            let sums = tile(panel, strip);
            for (i, sums) in sums.iter().enumerate().take(a.count - p * ROWS) {
                let row = &mut out[(p * ROWS + i) * b.count..][s * COLS..];
                row.iter_mut().zip(sums).take(b.count - s * COLS).for_each(|(o, &x)| *o = x);
            }
        }
    }
}

/// One ROWS × COLS tile of `product` from a panel of `a` and a strip of `b`.
fn tile(panel: &[f32], strip: &[f32]) -> [[f64; COLS]; ROWS] {
    let mut sums = [[0.0f64; COLS]; ROWS];
    for (panel, strip) in panel.chunks(BLOCK * ROWS).zip(strip.chunks(BLOCK * COLS)) {
        let acc = block(panel, strip);
        for (sums, acc) in sums.iter_mut().zip(&acc) {
            sums.iter_mut().zip(acc).for_each(|(s, &a)| *s += f64::from(a));
        }
    }
    sums
}

/// Up to BLOCK terms of a tile, in f32. Kept out of line: inlined into `tile`, LLVM pairs the accumulators
/// with their f64 conversion and vectorizes at 2 lanes, 4 times slower.
#[inline(never)]
fn block(panel: &[f32], strip: &[f32]) -> [[f32; COLS]; ROWS] {
    let mut acc = [[0.0f32; COLS]; ROWS];
    for (x, w) in panel.chunks_exact(ROWS).zip(strip.chunks_exact(COLS)) {
        for (acc, &x) in acc.iter_mut().zip(x) {
            for (s, &w) in acc.iter_mut().zip(w) {
                *s += x * w;
            }
        }
    }
    acc
}

/// A `rows × columns` matrix transposed.
fn transpose(matrix: &[f64], rows: usize, columns: usize) -> Vec<f64> {
    let mut t = vec![0.0f64; matrix.len()];
    for (r, row) in matrix.chunks_exact(columns).enumerate() {
        for (c, &v) in row.iter().enumerate() {
            t[c * rows + r] = v;
        }
    }
    t
}

/// `sums[o] = Σ_i delta[i][o] · input[i]` for every output `o`, skipping the zero terms of inactive ReLUs.
fn weight_sums<T: Copy + Into<f64>>(shape: Shape, input: &[T], delta: &[f64], sums: &mut [f64]) {
    sums.fill(0.0);
    for (x, d) in input.chunks_exact(shape.inputs).zip(delta.chunks_exact(shape.outputs)) {
        for (row, &c) in sums.chunks_exact_mut(shape.inputs).zip(d) {
            if c != 0.0 {
                axpy(row, c, x);
            }
        }
    }
}

/// The loss's gradient with respect to a layer's inputs, given it for the outputs (`delta`); `input` is the
/// previous layer's output, through whose ReLU (if any) the gradient passes only where it was positive.
fn back_through(layer: &Layer, delta: &[f64], input: &[f64], relu: bool) -> Vec<f64> {
    let Shape { inputs, outputs, .. } = layer.shape;
    let mut back = vec![0.0f64; input.len()];
    for ((b, d), x) in back.chunks_exact_mut(inputs).zip(delta.chunks_exact(outputs)).zip(input.chunks_exact(inputs)) {
        for (w, &c) in layer.weights.chunks_exact(inputs).zip(d) {
            if c != 0.0 {
                axpy(b, c, w);
            }
        }
        if relu {
            b.iter_mut().zip(x).filter(|(_, &x)| x <= 0.0).for_each(|(b, _)| *b = 0.0);
        }
    }
    back
}

/// Minimises `problem` from `theta` by L-BFGS; returns the last point and how training ended.
#[cfg_attr(feature = "small", optimize(size))]
fn minimise(
    problem: &Problem,
    mut theta: Vec<f64>,
    max_iterations: usize,
    progress: &mut dyn FnMut(&Progress),
) -> (Vec<f64>, Report) {
    let stop = if problem.shapes.len() > 1 { &NON_CONVEX } else { &CONVEX };
    let mut grad = vec![0.0f64; theta.len()];
    let mut now = problem.evaluate(&theta, &mut grad);
    let mut losses = vec![now.loss];
    let mut memory = Memory::default();
    let mut iterations = 0;
    while iterations < max_iterations && largest(&grad) > stop.gradient {
        let mut direction = memory.direction(&grad);
        let mut slope = dot(&grad, &direction);
        if slope >= 0.0 || !slope.is_finite() {
            // Curvature pairs from a non-convex stretch can point uphill: fall back to steepest descent.
            memory.clear();
            direction = memory.direction(&grad);
            slope = dot(&grad, &direction);
        }
        let Some((next_theta, next_grad, next)) = line_search(problem, &theta, now, &direction, slope) else {
            if memory.is_empty() {
                break; // not even steepest descent lowers the loss: as low as float precision gets
            }
            memory.clear();
            continue;
        };
        let step = next_theta.iter().zip(&theta).map(|(a, b)| (a - b) as f32).collect();
        let change = next_grad.iter().zip(&grad).map(|(a, b)| (a - b) as f32).collect();
        memory.push(step, change);
        (theta, grad, now) = (next_theta, next_grad, next);
        losses.push(now.loss);
        iterations += 1;
        progress(&Progress { iteration: iterations, loss: now.loss as f32, accuracy: now.accuracy });
        if stop.stalled(&losses) {
            break;
        }
    }
    (theta, Report { iterations, loss: now.loss as f32, accuracy: now.accuracy })
}

/// Backtracks from step 1 along `direction` until the loss falls enough (Armijo); returns the new point,
/// its gradient and loss, or `None` if no step does.
#[cfg_attr(feature = "small", optimize(size))]
fn line_search(
    problem: &Problem,
    theta: &[f64],
    now: Eval,
    direction: &[f64],
    slope: f64,
) -> Option<(Vec<f64>, Vec<f64>, Eval)> {
    let mut trial = vec![0.0f64; theta.len()];
    let mut grad = vec![0.0f64; theta.len()];
    let mut step = 1.0f64;
    for _ in 0..MAX_BACKTRACKS {
        for ((t, &x), &d) in trial.iter_mut().zip(theta).zip(direction) {
            *t = x + step * d;
        }
        let next = problem.evaluate(&trial, &mut grad);
        if next.loss <= now.loss + ARMIJO * step * slope {
            return Some((trial, grad, next));
        }
        // Shrink to the minimum of the parabola through the loss and slope at 0 and the loss at `step`, within
        // [0.1, 0.5] of the step; by 10 if the loss overflowed.
        let excess = next.loss - now.loss - step * slope;
        let shrink =
            if excess.is_finite() && excess > 0.0 { (-slope * step / (2.0 * excess)).clamp(0.1, 0.5) } else { 0.1 };
        step *= shrink;
    }
    None
}

/// L-BFGS's memory: recent steps `s` and gradient changes `y`, oldest first, with `1 / s·y` and `y·y`. Kept in
/// f32: reading them is most of a direction's cost (16 MB per direction in f64 for a hidden layer of 100 on
/// 1024 inputs), and the rounding is relative to each vector, so the pairs stay as good a curvature model; the
/// products are still summed in f64, and `s·y` is that of the stored pair, so the implied Hessian stays
/// positive definite.
#[derive(Default)]
struct Memory {
    pairs: Vec<(Vec<f32>, Vec<f32>, f64, f64)>,
}

impl Memory {
    fn clear(&mut self) {
        self.pairs.clear();
    }

    fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// Keeps a pair only where the loss curved upward along the step (always, for a convex loss), so the
    /// implied Hessian stays positive definite.
    fn push(&mut self, s: Vec<f32>, y: Vec<f32>) {
        let (sy, yy) = (dot(&s, &y), dot(&y, &y));
        if sy > 1e-10 * yy && sy > 0.0 {
            if self.pairs.len() == MEMORY {
                self.pairs.remove(0);
            }
            self.pairs.push((s, y, 1.0 / sy, yy));
        }
    }

    /// The search direction `−H·grad` by the two-loop recursion; with no memory, steepest descent of length 1.
    fn direction(&self, grad: &[f64]) -> Vec<f64> {
        let Some((s, _, rho, yy)) = self.pairs.last() else {
            let norm = dot(grad, grad).sqrt();
            return grad.iter().map(|g| -g / norm).collect();
        };
        // Each update of `q` also takes the next pair's product with it: one pass over `q` per pair and loop.
        let mut q = grad.to_vec();
        let mut alphas = vec![0.0f64; self.pairs.len()];
        let mut product = dot(s, &q);
        for (i, ((_, y, rho, _), alpha)) in self.pairs.iter().zip(&mut alphas).enumerate().rev() {
            *alpha = rho * product;
            let next = if i > 0 { &self.pairs[i - 1].0 } else { &self.pairs[0].1 };
            product = axpy_dot(&mut q, -*alpha, y, next);
        }
        // Initial Hessian: the scalar `s·y / y·y` that fits the newest pair.
        let gamma = 1.0 / (rho * yy);
        q.iter_mut().for_each(|q| *q *= gamma);
        product *= gamma;
        for (i, ((s, _, rho, _), alpha)) in self.pairs.iter().zip(&alphas).enumerate() {
            let beta = rho * product;
            let next = self.pairs.get(i + 1).map_or(&[][..], |pair| &pair.1);
            product = axpy_dot(&mut q, alpha - beta, s, next);
        }
        q.iter_mut().for_each(|q| *q = -*q);
        q
    }
}

impl Dense {
    /// The layer's outputs for one input, summed in f64.
    pub(crate) fn apply(&self, input: &[f32]) -> Vec<f32> {
        let rows = self.weights.chunks_exact(self.inputs).zip(&self.bias);
        rows.map(|(row, &b)| {
            let sum: f64 = row.iter().zip(input).map(|(&w, &x)| f64::from(w) * f64::from(x)).sum();
            let y = (sum + f64::from(b)) as f32;
            if self.relu {
                y.max(0.0)
            } else {
                y
            }
        })
        .collect()
    }

    fn check(&self, l: usize) -> Result<(), Error> {
        let sized =
            self.inputs.checked_mul(self.outputs) == Some(self.weights.len()) && self.bias.len() == self.outputs;
        if self.inputs == 0 || self.outputs == 0 || !sized {
            return Err(Error::shape(format!(
                "head layer {l} of {} inputs and {} outputs has {} weights and {} biases",
                self.inputs,
                self.outputs,
                self.weights.len(),
                self.bias.len()
            )));
        }
        Ok(())
    }
}

impl Head {
    pub fn classes(&self) -> usize {
        self.layers.last().map_or(0, |l| l.outputs)
    }

    pub fn dim(&self) -> usize {
        self.layers.first().map_or(0, |l| l.inputs)
    }

    /// The logits for one raw embedding of `dim()` floats.
    pub fn logits(&self, embedding: &[f32]) -> Result<Vec<f32>, Error> {
        self.check()?;
        if embedding.len() != self.dim() {
            return Err(Error::shape(format!(
                "embedding has {} values, the head takes {}",
                embedding.len(),
                self.dim()
            )));
        }
        if let Some(i) = embedding.iter().position(|x| !x.is_finite()) {
            return Err(Error::NonFinite(format!("embedding value {i} is {}", Real::from(embedding[i]))));
        }
        let mut x = embedding.to_vec();
        for layer in &self.layers {
            x = layer.apply(&x);
        }
        if x.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite("the head's logits overflow float32".into()));
        }
        Ok(x)
    }

    /// Class probabilities: the softmax of the logits (shifted by their maximum, so exp cannot overflow).
    pub fn probabilities(&self, embedding: &[f32]) -> Result<Vec<f32>, Error> {
        let logits = self.logits(embedding)?;
        let max = logits.iter().fold(f64::NEG_INFINITY, |m, &x| m.max(f64::from(x)));
        let exps: Vec<f64> = logits.iter().map(|&x| (f64::from(x) - max).exp()).collect();
        let sum: f64 = exps.iter().sum();
        Ok(exps.iter().map(|e| (e / sum) as f32).collect())
    }

    /// Whether the layers chain up: each one's inputs are the previous one's outputs.
    fn check(&self) -> Result<(), Error> {
        if self.layers.is_empty() {
            return Err(Error::shape("the head has no layers"));
        }
        for (l, layer) in self.layers.iter().enumerate() {
            layer.check(l)?;
            if l > 0 && layer.inputs != self.layers[l - 1].outputs {
                return Err(Error::shape(format!(
                    "head layer {l} takes {} inputs but layer {} gives {}",
                    layer.inputs,
                    l - 1,
                    self.layers[l - 1].outputs
                )));
            }
        }
        Ok(())
    }
}

/// Index of the largest value; the first on ties.
fn argmax<T: PartialOrd + Copy>(values: &[T]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Dot product summed in f64 over 4 independent lanes (LLVM keeps one running sum in order, so it would
/// neither vectorize nor overlap the adds), the lanes added in a fixed order.
fn dot<A: Copy + Into<f64>, B: Copy + Into<f64>>(a: &[A], b: &[B]) -> f64 {
    let mut lanes = [0.0f64; 4];
    for (x, y) in a.chunks_exact(4).zip(b.chunks_exact(4)) {
        for ((s, &x), &y) in lanes.iter_mut().zip(x).zip(y) {
            *s += x.into() * y.into();
        }
    }
    let tail = a.len() - a.len() % 4;
    let rest: f64 = a[tail..].iter().zip(b.get(tail..).unwrap_or(&[])).map(|(&x, &y)| x.into() * y.into()).sum();
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]) + rest
}

/// `y += c·x`.
fn axpy<T: Copy + Into<f64>>(y: &mut [f64], c: f64, x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += c * x.into();
    }
}

/// `y += c·x`, then returns `next·y` (summed as `dot` does; 0 if `next` is empty), in one pass over `y`.
fn axpy_dot(y: &mut [f64], c: f64, x: &[f32], next: &[f32]) -> f64 {
    if next.is_empty() {
        axpy(y, c, x);
        return 0.0;
    }
    let mut lanes = [0.0f64; 4];
    for ((y, x), z) in y.chunks_exact_mut(4).zip(x.chunks_exact(4)).zip(next.chunks_exact(4)) {
        for (((s, y), &x), &z) in lanes.iter_mut().zip(y).zip(x).zip(z) {
            *y += c * f64::from(x);
            *s += *y * f64::from(z);
        }
    }
    let tail = y.len() - y.len() % 4;
    let mut rest = 0.0;
    for ((y, &x), &z) in y[tail..].iter_mut().zip(x.get(tail..).unwrap_or(&[])).zip(next.get(tail..).unwrap_or(&[])) {
        *y += c * f64::from(x);
        rest += *y * f64::from(z);
    }
    (lanes[0] + lanes[2]) + (lanes[1] + lanes[3]) + rest
}

/// The largest absolute value (NaN counts as infinite, so it never looks converged).
fn largest(values: &[f64]) -> f64 {
    // 4 lanes, as in `dot`: one running maximum would be a chain of dependent steps.
    let mut lanes = [0.0f64; 4];
    for chunk in values.chunks(4) {
        for (m, &v) in lanes.iter_mut().zip(chunk) {
            *m = if v.is_nan() { f64::INFINITY } else { m.max(v.abs()) };
        }
    }
    lanes.iter().fold(0.0f64, |m, &v| m.max(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quiet() -> impl FnMut(&Progress) {
        |_: &Progress| {}
    }

    /// `counts[c]` examples of class `c`, interleaved: a class-specific mean in [1, 5] per dimension plus
    /// uniform noise of ±`noise`, clamped to [0, 6] like ReLU6 averages.
    fn examples(counts: &[usize], dim: usize, noise: f32, seed: u64) -> (Vec<f32>, Vec<usize>) {
        let mut rng = Rng::new(seed);
        let means: Vec<f32> = rng.fill_uniform(counts.len() * dim, 1.0, 5.0);
        let (mut x, mut labels) = (Vec::new(), Vec::new());
        for i in 0..*counts.iter().max().unwrap() {
            for class in (0..counts.len()).filter(|&c| i < counts[c]) {
                let mean = &means[class * dim..(class + 1) * dim];
                x.extend(mean.iter().map(|m| (m + rng.uniform(-noise, noise)).clamp(0.0, 6.0)));
                labels.push(class);
            }
        }
        (x, labels)
    }

    fn separable(classes: usize, per_class: usize, dim: usize, noise: f32, seed: u64) -> (Vec<f32>, Vec<usize>) {
        examples(&vec![per_class; classes], dim, noise, seed)
    }

    /// The objective worked out from the returned head on raw embeddings: the class-balanced mean of
    /// −log p(label) plus l2/2 times the sum of all squared weights.
    fn objective(head: &Head, x: &[f32], labels: &[usize], l2: f32) -> f64 {
        let classes = head.classes();
        let count = |c: usize| labels.iter().filter(|&&l| l == c).count() as f64;
        let mut loss = 0.0;
        for (e, &l) in x.chunks_exact(head.dim()).zip(labels) {
            let p = head.probabilities(e).unwrap();
            loss -= f64::from(p[l]).ln() / (classes as f64 * count(l));
        }
        let squares: f64 = head.layers.iter().flat_map(|d| &d.weights).map(|&w| f64::from(w) * f64::from(w)).sum();
        loss + 0.5 * f64::from(l2) * squares
    }

    /// Fraction of examples the head itself (on raw embeddings) classifies right.
    fn head_accuracy(head: &Head, x: &[f32], labels: &[usize]) -> f32 {
        let right = x.chunks_exact(head.dim()).zip(labels).filter(|(e, &l)| argmax(&head.logits(e).unwrap()) == l);
        right.count() as f32 / labels.len() as f32
    }

    /// The optimum `a` of the two-point problem: the root of `λ·a = 1 / (1 + e^{2a})` by bisection in f64.
    fn two_point_optimum(l2: f64) -> f64 {
        let (mut lo, mut hi) = (0.0f64, 1.0 / l2);
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if l2 * mid - 1.0 / (1.0 + (2.0 * mid).exp()) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    fn linear(l2: f32) -> TrainOptions {
        TrainOptions { l2, ..TrainOptions::default() }
    }

    #[test]
    fn separable_classes_are_learned_by_a_linear_head() {
        let (x, labels) = examples(&[12, 7, 20, 12, 3], 64, 1.0, 11);
        let mut seen = Vec::new();
        let (head, report) =
            train(&x, 64, &labels, 5, &TrainOptions::default(), &mut |p| seen.push(p.clone())).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(head_accuracy(&head, &x, &labels), 1.0);
        assert_eq!((head.dim(), head.classes(), head.layers.len()), (64, 5, 1));
        // Progress once per iteration, the loss never rising (Armijo), the last one as reported.
        assert_eq!(seen.len(), report.iterations);
        assert!(seen.iter().enumerate().all(|(i, p)| p.iteration == i + 1));
        assert!(seen.windows(2).all(|w| w[1].loss <= w[0].loss));
        assert_eq!(seen.last().map(|p| p.loss), Some(report.loss));
        // The reported loss is the objective of the returned head (standardisation folded, penalty on its
        // weights, classes balanced).
        let want = objective(&head, &x, &labels, 1e-3);
        assert!((f64::from(report.loss) - want).abs() < 1e-6 + 1e-4 * want, "{} {want}", report.loss);
        let p = head.probabilities(&x[..64]).unwrap();
        assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5 && p[0] > 0.5, "{p:?}");
    }

    #[test]
    fn separable_classes_are_learned_with_a_hidden_layer() {
        let (x, labels) = examples(&[15, 4, 9], 64, 1.0, 12);
        let options = TrainOptions { hidden: Some(16), ..TrainOptions::default() };
        let (head, report) = train(&x, 64, &labels, 3, &options, &mut quiet()).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(head_accuracy(&head, &x, &labels), 1.0);
        let shapes: Vec<_> = head.layers.iter().map(|l| (l.inputs, l.outputs, l.relu)).collect();
        assert_eq!(shapes, [(64, 16, true), (16, 3, false)]);
        let want = objective(&head, &x, &labels, 1e-3);
        assert!((f64::from(report.loss) - want).abs() < 1e-6 + 1e-4 * want, "{} {want}", report.loss);
    }

    // Two classes in 1-D, x = c + 1 (class 1) and x = c − 1 (class 0), one example each. The loss depends only
    // on the differences w1 − w0 and b1 − b0 and the penalty λ/2·(w0² + w1²) is least at w0 = −w1 = a for a
    // given difference. Swapping x ↦ 2c − x with the classes leaves the problem the same, so the optimum has
    // logit difference 2a·(x − c), i.e. b1 − b0 = −2ac; and since every gradient step moves b0 and b1 by
    // opposite amounts (softmax gradients sum to 0 over classes) from 0, b1 = −ac, b0 = ac. With both
    // examples' cross-entropy log(1 + e^{−2a}) weighted 1/2, the objective is
    //     L(a) = log(1 + e^{−2a}) + λ·a²,   L'(a) = −2 / (1 + e^{2a}) + 2λ·a = 0  ⇔  λ·a = 1 / (1 + e^{2a}),
    // whose left side rises from 0 and right side falls from 1/2: one root, found by bisection.
    fn check_two_points(x: &[f32], labels: &[usize], centre: f64, l2: f32) {
        let (head, report) = train(x, 1, labels, 2, &linear(l2), &mut quiet()).unwrap();
        let a = two_point_optimum(f64::from(l2));
        let d = &head.layers[0];
        let (w, b) = (&d.weights, &d.bias);
        let want = [-a, a, a * centre, -a * centre];
        let got = [w[0], w[1], b[0], b[1]].map(f64::from);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-4, "λ {l2}: got w, b = {got:?}, want {want:?}");
        }
        let loss = (1.0 + (-2.0 * a).exp()).ln() + f64::from(l2) * a * a;
        assert!((f64::from(report.loss) - loss).abs() < 1e-6, "{} {loss}", report.loss);
    }

    #[test]
    fn two_points_reach_the_closed_form_optimum() {
        for l2 in [0.1, 0.01, 1e-3] {
            check_two_points(&[1.0, -1.0], &[1, 0], 0.0, l2);
            // Shifted into the embeddings' range: the standardisation's mean must fold back into the bias.
            check_two_points(&[5.0, 3.0], &[1, 0], 4.0, l2);
        }
        // The root for λ = 0.1, worked out separately (Python, the same bisection): 1.0640172592331134.
        assert!((two_point_optimum(0.1) - 1.0640172592).abs() < 1e-9, "{}", two_point_optimum(0.1));
    }

    #[test]
    fn balanced_weighting_makes_three_to_one_like_one_each() {
        // Class 0 three times at x = −1, class 1 once at +1: each class-0 example weighs 1/6 and the class-1
        // one 1/2, so the objective is the one-each objective exactly, optimum included (biases 0, where an
        // unweighted fit would favour class 0). The mean −0.5 and deviation 0.87 must fold back too.
        for l2 in [0.1, 0.01] {
            check_two_points(&[-1.0, -1.0, 1.0, -1.0], &[0, 0, 1, 0], 0.0, l2);
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_head() {
        let (x, labels) = separable(3, 6, 32, 1.0, 13);
        let options = TrainOptions { hidden: Some(8), max_iterations: 30, ..TrainOptions::default() };
        let (a, ra) = train(&x, 32, &labels, 3, &options, &mut quiet()).unwrap();
        let (b, rb) = train(&x, 32, &labels, 3, &options, &mut quiet()).unwrap();
        assert_eq!(a, b);
        assert_eq!(ra, rb);
        let other = TrainOptions { seed: 2, ..options };
        let (c, _) = train(&x, 32, &labels, 3, &other, &mut quiet()).unwrap();
        assert_ne!(a.layers[0].weights, c.layers[0].weights);
        // Softmax regression starts from zeros: the seed does not matter.
        let (d, _) = train(&x, 32, &labels, 3, &TrainOptions { seed: 5, ..linear(1e-3) }, &mut quiet()).unwrap();
        let (e, _) = train(&x, 32, &labels, 3, &TrainOptions { seed: 6, ..linear(1e-3) }, &mut quiet()).unwrap();
        assert_eq!(d, e);
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let (x, labels) = separable(3, 4, 5, 2.0, 14);
        let counts = check_examples(&x, 5, &labels, 3).unwrap();
        let options = TrainOptions { hidden: Some(4), l2: 0.05, ..TrainOptions::default() };
        let scaling = Scaling::fit(&x, 5);
        let problem = Problem::new(&x, &scaling, &labels, &counts, &options);
        let theta: Vec<f64> = problem.initial(3).iter().enumerate().map(|(i, t)| t + 0.1 * (i % 3) as f64).collect();
        let mut grad = vec![0.0; theta.len()];
        problem.evaluate(&theta, &mut grad);
        let mut scratch = grad.clone();
        let h = 1e-3;
        for i in 0..theta.len() {
            let mut t = theta.clone();
            t[i] += h;
            let up = problem.evaluate(&t, &mut scratch).loss;
            t[i] -= 2.0 * h;
            let down = problem.evaluate(&t, &mut scratch).loss;
            let numeric = (up - down) / (2.0 * h);
            assert!((numeric - grad[i]).abs() < 1e-4 + 1e-3 * grad[i].abs(), "{i}: {numeric} {}", grad[i]);
        }
    }

    #[test]
    fn packed_products_match_f64_sums() {
        // Sizes with partial panels and strips, and a depth of two full blocks and a partial one.
        let (rows, cols, depth) = (7, 13, 2 * BLOCK + 5);
        let mut rng = Rng::new(17);
        let a: Vec<f32> = rng.fill_uniform(rows * depth, -3.0, 3.0);
        let b: Vec<f32> = rng.fill_uniform(cols * depth, -3.0, 3.0);
        let mut out = vec![f64::NAN; rows * cols];
        product(
            &Packed::new(rows, depth, |i, t| a[i * depth + t]),
            &Packed::new(cols, depth, |j, t| b[j * depth + t]),
            &mut out,
        );
        for (i, row) in out.chunks_exact(cols).enumerate() {
            for (j, &got) in row.iter().enumerate() {
                let (a, b) = (&a[i * depth..][..depth], &b[j * depth..][..depth]);
                let want = dot(a, b);
                let size: f64 = a.iter().zip(b).map(|(&x, &y)| f64::from(x * y).abs()).sum();
                assert!((got - want).abs() < 1e-6 * size, "{i} {j}: {got} {want}");
            }
        }
    }

    #[test]
    fn fused_updates_match_separate_ones() {
        let mut rng = Rng::new(18);
        let y: Vec<f64> = rng.fill_uniform(11, -1.0, 1.0).into_iter().map(f64::from).collect();
        let (x, next) = (rng.fill_uniform(11, -1.0, 1.0), rng.fill_uniform(11, -1.0, 1.0));
        let (mut fused, mut separate) = (y.clone(), y.clone());
        let got = axpy_dot(&mut fused, 0.3, &x, &next);
        axpy(&mut separate, 0.3, &x);
        assert_eq!((got, &fused), (dot(&next, &separate), &separate));
        assert_eq!(axpy_dot(&mut fused, 0.3, &x, &[]), 0.0);
    }

    #[test]
    fn bad_examples_and_options_are_errors() {
        let x = [0.5f32; 8];
        let ok = TrainOptions::default();
        // (embeddings, dim, labels, classes, part of the message)
        type Case<'a> = (&'a [f32], usize, &'a [usize], usize, &'a str);
        let cases: [Case; 9] = [
            (&x, 2, &[0, 1, 0, 1], 1, "2 classes are needed, got 1"),
            (&x, 2, &[0, 0, 0, 0], 2, "class 1 has no examples"),
            (&[], 2, &[], 2, "no examples"),
            (&x[..7], 2, &[0, 1, 0], 2, "embeddings hold 7 floats, not a multiple of dim 2"),
            (&x, 2, &[0, 1, 0], 2, "4 embeddings of dim 2 but 3 labels"),
            (&x, 2, &[0, 1, 7, 1], 3, "label 7 (example 2) is out of range for 3 classes"),
            (&x, 0, &[0, 1], 2, "dim must be at least 1"),
            (&x, 2, &[0, 1, 0, 1], usize::MAX, "classes need an example each"),
            (&[0.0, 1.0, 2.0, f32::NAN], 2, &[0, 1], 2, "embedding 1 has a NaN or infinite value"),
        ];
        for (x, dim, labels, classes, message) in cases {
            match train(x, dim, labels, classes, &ok, &mut quiet()) {
                Err(Error::Teach(m)) => assert!(m.contains(message), "{m:?} lacks {message:?}"),
                other => panic!("{message}: {other:?}"),
            }
        }
        let options = [
            (TrainOptions { hidden: Some(0), ..ok.clone() }, "at least 1 unit"),
            (TrainOptions { l2: -1.0, ..ok.clone() }, "l2 must be finite and at least 0, got -1"),
            (TrainOptions { l2: f32::NAN, ..ok.clone() }, "got NaN"),
            (TrainOptions { max_iterations: 0, ..ok.clone() }, "max_iterations"),
            (TrainOptions { hidden: Some(usize::MAX), ..ok.clone() }, "not trained here"),
        ];
        for (options, message) in options {
            match train(&x, 2, &[0, 1, 0, 1], 2, &options, &mut quiet()) {
                Err(Error::Teach(m)) => assert!(m.contains(message), "{m:?} lacks {message:?}"),
                other => panic!("{message}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_head_checks_what_it_is_given() {
        let (x, labels) = separable(2, 3, 4, 0.5, 15);
        let (head, _) = train(&x, 4, &labels, 2, &TrainOptions::default(), &mut quiet()).unwrap();
        assert!(matches!(head.logits(&[1.0; 3]), Err(Error::Shape(_))));
        assert!(matches!(head.probabilities(&[1.0, f32::INFINITY, 0.0, 0.0]), Err(Error::NonFinite(_))));
        let mut broken = head.clone();
        broken.layers[0].bias.pop();
        assert!(matches!(broken.logits(&[1.0; 4]), Err(Error::Shape(_))));
        assert!(matches!(Head { layers: vec![] }.logits(&[]), Err(Error::Shape(_))));
        // Softmax of huge logits stays finite; the probabilities are those of the logits.
        let big = Head {
            layers: vec![Dense {
                inputs: 1,
                outputs: 3,
                weights: vec![1e30, 0.0, -1e30],
                bias: vec![0.0; 3],
                relu: false,
            }],
        };
        assert_eq!(big.probabilities(&[1.0]).unwrap(), [1.0, 0.0, 0.0]);
        let small = Head {
            layers: vec![Dense {
                inputs: 1,
                outputs: 2,
                weights: vec![0.0, 0.0],
                bias: vec![0.0, 2.0f32.ln()],
                relu: false,
            }],
        };
        let p = small.probabilities(&[3.0]).unwrap();
        assert!((p[0] - 1.0 / 3.0).abs() < 1e-7 && (p[1] - 2.0 / 3.0).abs() < 1e-7, "{p:?}");
    }

    #[test]
    fn five_classes_of_fifty_in_1024_dimensions() {
        // The size of a typical session: 5 classes × 50 examples of MobileNet 1.0's 1024 features.
        let (x, labels) = separable(5, 50, 1024, 2.5, 16);
        let (head, report) = train(&x, 1024, &labels, 5, &TrainOptions::default(), &mut quiet()).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(head_accuracy(&head, &x, &labels), 1.0);
        assert!(report.iterations <= 200);
        // With the hidden layer of 100 the page offers: converged (by its own stop) before the cap.
        let options = TrainOptions { hidden: Some(100), ..TrainOptions::default() };
        let (head, report) = train(&x, 1024, &labels, 5, &options, &mut quiet()).unwrap();
        assert_eq!(report.accuracy, 1.0);
        assert_eq!(head_accuracy(&head, &x, &labels), 1.0);
        assert!(report.iterations < 200, "{}", report.iterations);
    }
}
