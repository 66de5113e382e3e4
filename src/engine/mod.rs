//! The plan: built once from (config, weights) with batch norm folded, weights packed and every buffer
//! allocated, then run as many times as needed without allocating. Kernels are reached only through
//! a [`KernelSet`], so faster families swap in without touching this file.

use crate::arch::{Config, LayerSpec, OpKind};
use crate::error::Error;
use crate::kernels::{self, pack, Clamp, Geometry, KernelSet, PackedConv, PackedDepthwise, PackedPointwise};
use crate::ops::padding::{axis_window, Padding};
use crate::ops::softmax;
use crate::preprocess::{self, Normalization, PixelFormat};
use crate::weights::{LayerWeights, Weights};

pub mod bands;
pub mod quantized;
mod schedule;
use bands::{Unit, Work};
pub use quantized::{QuantOutput, QuantizedPlan};

/// What one layer runs, with its weights packed.
#[derive(Clone, Debug)]
enum Step {
    Conv(Geometry, PackedConv),
    Depthwise(Geometry, PackedDepthwise),
    Pointwise(PackedPointwise),
    AvgPool,
    Logits(PackedPointwise),
}

#[derive(Clone, Debug)]
struct Layer {
    spec: LayerSpec,
    step: Step,
    clamp: Clamp,
    /// The layer's work in units threads can share (one unit: the whole layer).
    units: Vec<Unit>,
}

impl Layer {
    fn new(spec: LayerSpec, step: Step) -> Layer {
        let clamp = if spec.relu6 { Clamp::RELU6 } else { Clamp::NONE };
        let mut layer = Layer { spec, step, clamp, units: Vec::new() };
        layer.split(1);
        layer
    }

    /// Divides the layer's work for `threads` threads.
    fn split(&mut self, threads: usize) {
        let window = match &self.step {
            Step::Conv(g, _) | Step::Depthwise(g, _) => Some(*g),
            _ => None,
        };
        self.units = bands::units(&self.spec, window, threads);
    }
}

/// The layers and kernels of a plan, apart from its buffers, for the scheduler.
struct Net<'a> {
    layers: &'a [Layer],
    kernels: &'static KernelSet,
}

impl schedule::Layers for Net<'_> {
    type Elem = f32;

    fn units(&self, i: usize) -> &[Unit] {
        &self.layers[i].units
    }

    fn run(&self, i: usize, work: Work, src: &[f32], dst: &mut [f32]) {
        let (k, l) = (self.kernels, &self.layers[i]);
        match (&l.step, work) {
            (Step::Conv(_, w), Work::Window(g)) => (k.conv)(&g, w, src, dst, l.clamp),
            (Step::Depthwise(_, w), Work::Window(g)) => (k.depthwise)(&g, w, src, dst, l.clamp),
            (Step::Pointwise(w) | Step::Logits(w), Work::Pixels(n)) => (k.pointwise)(n, w, src, dst, l.clamp),
            (Step::AvgPool, Work::Pixels(n)) => (k.global_avg_pool)(n, l.spec.input.c, src, dst),
            // Layer::split pairs windowed steps with windows and the others with pixel counts.
            (step, work) => unreachable!("{work:?} for {step:?}"),
        }
    }
}

/// Logits and probabilities of the last full run, borrowed from the plan's buffers.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    pub logits: &'a [f32],
    pub probabilities: &'a [f32],
}

#[derive(Clone, Debug)]
pub struct Plan {
    config: Config,
    layers: Vec<Layer>,
    kernels: &'static KernelSet,
    /// Ping-pong activations: `ping` holds the last layer's output.
    ping: Vec<f32>,
    pong: Vec<f32>,
    /// The float input, filled by [`Plan::run_pixels`].
    input: Vec<f32>,
    normalization: Normalization,
    probabilities: Vec<f32>,
}

impl Plan {
    pub fn new(config: Config, weights: &Weights) -> Result<Plan, Error> {
        weights.check(&config)?;
        let specs = config.layers();
        let mut layers = Vec::with_capacity(specs.len());
        for (spec, w) in specs.into_iter().zip(&weights.layers) {
            let step = build_step(&spec, w.as_ref())?;
            layers.push(Layer::new(spec, step));
        }
        let largest = layers.iter().map(|l| l.spec.output.len()).max().unwrap_or(0);
        let input_len = layers.first().map_or(0, |l| l.spec.input.len());
        Ok(Plan {
            config,
            layers,
            kernels: kernels::best(),
            ping: vec![0.0; largest],
            pong: vec![0.0; largest],
            input: vec![0.0; input_len],
            normalization: Normalization::MINUS_ONE_ONE,
            probabilities: vec![0.0; config.num_classes],
        })
    }

    /// A plan with deterministic seeded weights (see [`Weights::seeded`]).
    pub fn seeded(config: Config, seed: u64) -> Result<Plan, Error> {
        Plan::new(config, &Weights::seeded(&config, seed))
    }

    /// Divides every large layer among `threads` threads (bands of rows, runs of pixels). Without the
    /// `threads` feature the parts run one after the other, which tests use to check the split.
    pub fn with_threads(mut self, threads: usize) -> Plan {
        self.layers.iter_mut().for_each(|l| l.split(threads));
        self
    }

    /// Runs on another kernel family (tests compare families on the same plan).
    pub fn with_kernels(mut self, kernels: &'static KernelSet) -> Plan {
        self.set_kernels(kernels);
        self
    }

    /// Switches kernel family in place: every family reads the same packed weights.
    pub fn set_kernels(&mut self, kernels: &'static KernelSet) {
        self.kernels = kernels;
    }

    /// How [`Plan::run_pixels`] maps bytes to inputs (default: [-1, 1], as the TF checkpoints).
    pub fn with_normalization(mut self, normalization: Normalization) -> Plan {
        self.normalization = normalization;
        self
    }

    pub fn kernels(&self) -> &'static KernelSet {
        self.kernels
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn layers(&self) -> impl Iterator<Item = &LayerSpec> {
        self.layers.iter().map(|l| &l.spec)
    }

    /// Number of floats the input takes: height · width · 3.
    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// Runs the whole network on an NHWC float input in [-1, 1]; returns logits and softmax.
    pub fn run(&mut self, input: &[f32]) -> Result<Output<'_>, Error> {
        check_input(input, self.input.len())?;
        self.forward(Source::Given(input), self.layers.len() - 1, None);
        Ok(self.output())
    }

    /// Runs on packed RGB or RGBA bytes of exactly the model's input size.
    pub fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<Output<'_>, Error> {
        preprocess::to_input(pixels, format, self.normalization, &mut self.input)?;
        self.forward(Source::Own, self.layers.len() - 1, None);
        Ok(self.output())
    }

    /// The embedding (`AvgPool_1a`) of pixels of the input size.
    pub fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        preprocess::to_input(pixels, format, self.normalization, &mut self.input)?;
        let last = self.end_point_index("AvgPool_1a")?;
        self.forward(Source::Own, last, None);
        Ok(&self.ping[..self.layers[last].spec.output.len()])
    }

    /// Times each layer on pixels of the input size (ms from `now`, into `times_ms`).
    pub fn profile_pixels(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        now: &dyn Fn() -> f64,
        times_ms: &mut [f64],
    ) -> Result<Output<'_>, Error> {
        if times_ms.len() != self.layers.len() {
            return Err(Error::shape(format!("{} timing slots for {} layers", times_ms.len(), self.layers.len())));
        }
        preprocess::to_input(pixels, format, self.normalization, &mut self.input)?;
        self.forward(Source::Own, self.layers.len() - 1, Some((now, times_ms)));
        Ok(self.output())
    }

    /// Runs up to and including the layer named `end_point` (TF-slim names, e.g. `AvgPool_1a` for the
    /// embedding) and returns its output, NHWC.
    pub fn run_to(&mut self, input: &[f32], end_point: &str) -> Result<&[f32], Error> {
        let last = self.end_point_index(end_point)?;
        check_input(input, self.input.len())?;
        self.forward(Source::Given(input), last, None);
        Ok(&self.ping[..self.layers[last].spec.output.len()])
    }

    /// Runs the whole network and writes each layer's time into `times_ms`, read from `now` (ms).
    pub fn profile(&mut self, input: &[f32], now: &dyn Fn() -> f64, times_ms: &mut [f64]) -> Result<Output<'_>, Error> {
        check_input(input, self.input.len())?;
        if times_ms.len() != self.layers.len() {
            return Err(Error::shape(format!("{} timing slots for {} layers", times_ms.len(), self.layers.len())));
        }
        self.forward(Source::Given(input), self.layers.len() - 1, Some((now, times_ms)));
        Ok(self.output())
    }

    /// Probabilities of the last full run (zeros before the first).
    pub fn last_probabilities(&self) -> &[f32] {
        &self.probabilities
    }

    pub fn end_point_index(&self, end_point: &str) -> Result<usize, Error> {
        self.layers
            .iter()
            .position(|l| l.spec.name == end_point)
            .ok_or_else(|| Error::UnknownEndPoint(end_point.into()))
    }

    fn output(&mut self) -> Output<'_> {
        let logits = &self.ping[..self.config.num_classes];
        softmax(logits, &mut self.probabilities);
        Output { logits, probabilities: &self.probabilities }
    }

    /// The loop every entry point shares: layers 0..=last from the input, the output left in `ping`.
    fn forward(&mut self, source: Source<'_>, last: usize, timing: schedule::Timing<'_>) {
        let first: &[f32] = match source {
            Source::Given(input) => input,
            Source::Own => &self.input,
        };
        let net = Net { layers: &self.layers, kernels: self.kernels };
        schedule::forward(&net, first, &mut self.ping, &mut self.pong, last, timing);
    }
}

enum Source<'a> {
    Given(&'a [f32]),
    Own,
}

fn check_input(input: &[f32], expected: usize) -> Result<(), Error> {
    if input.len() != expected {
        return Err(Error::shape(format!(
            "input has {} values, the model takes {expected} (height·width·3)",
            input.len()
        )));
    }
    if let Some(i) = input.iter().position(|v| !v.is_finite()) {
        return Err(Error::NonFinite(format!("input value {i} is {}", input[i])));
    }
    Ok(())
}

/// The geometry of a SAME-padded windowed layer.
pub(crate) fn geometry(spec: &LayerSpec) -> Result<Geometry, Error> {
    let k = spec.kernel[0];
    let wy = axis_window(spec.input.h, k, spec.stride, spec.rate, Padding::Same)?;
    let wx = axis_window(spec.input.w, k, spec.stride, spec.rate, Padding::Same)?;
    Ok(Geometry {
        input: spec.input,
        output: spec.output,
        kernel: k,
        stride: spec.stride,
        rate: spec.rate,
        pad_top: wy.pad_before,
        pad_left: wx.pad_before,
    })
}

/// Folds the layer's batch norm into its filter and bias, then packs them for the kernels.
fn build_step(spec: &LayerSpec, w: Option<&LayerWeights>) -> Result<Step, Error> {
    let Some(w) = w else { return Ok(Step::AvgPool) };
    let (filter, bias) = w.folded()?;
    Ok(match spec.op {
        OpKind::Conv => Step::Conv(geometry(spec)?, pack::conv(&filter, &bias)?),
        OpKind::Depthwise => Step::Depthwise(geometry(spec)?, pack::depthwise(&filter, &bias)?),
        OpKind::Pointwise => Step::Pointwise(pack::pointwise(&filter, &bias)?),
        OpKind::Logits => Step::Logits(pack::pointwise(&filter, &bias)?),
        OpKind::AvgPool => Step::AvgPool,
    })
}
