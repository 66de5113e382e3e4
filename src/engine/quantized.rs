//! The integer plan of a quantized model: the same layers as the float [`super::Plan`], uint8
//! activations in ping-pong buffers allocated once, integer kernels behind a [`QuantKernelSet`], and
//! TFLite's fixed-point softmax at the end, so the output matches the TFLite reference byte for byte.

use super::bands::{self, Unit, Work};
use super::{geometry, schedule};
use crate::arch::{Config, LayerSpec, OpKind};
use crate::error::Error;
use crate::kernels::pack::{self, PackedConvQ, PackedDepthwiseQ, PackedPointwiseQ};
use crate::kernels::quant::{self, PoolQ, QuantKernelSet};
use crate::kernels::Geometry;
use crate::preprocess::{self, PixelFormat};
use crate::quant::SoftmaxU8;
use crate::weights::{QuantLayer, QuantParams, QuantWeights};

#[derive(Clone, Debug)]
enum Step {
    Conv(Geometry, PackedConvQ),
    Depthwise(Geometry, PackedDepthwiseQ),
    Pointwise(PackedPointwiseQ),
    AvgPool,
}

#[derive(Clone, Debug)]
struct Layer {
    spec: LayerSpec,
    step: Step,
    /// The layer's work in units threads can share (one unit: the whole layer).
    units: Vec<Unit>,
}

impl Layer {
    fn new(spec: LayerSpec, step: Step) -> Layer {
        let mut layer = Layer { spec, step, units: Vec::new() };
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
    kernels: &'static QuantKernelSet,
    pool: &'a PoolQ,
}

impl schedule::Layers for Net<'_> {
    type Elem = u8;

    fn units(&self, i: usize) -> &[Unit] {
        &self.layers[i].units
    }

    fn run(&self, i: usize, work: Work, src: &[u8], dst: &mut [u8]) {
        let (k, l) = (self.kernels, &self.layers[i]);
        match (&l.step, work) {
            (Step::Conv(_, w), Work::Window(g)) => (k.conv)(&g, w, src, dst),
            (Step::Depthwise(_, w), Work::Window(g)) => (k.depthwise)(&g, w, src, dst),
            (Step::Pointwise(w), Work::Pixels(n)) => (k.pointwise)(n, w, src, dst),
            (Step::AvgPool, Work::Pixels(n)) => (k.global_avg_pool)(n, l.spec.input.c, src, dst, self.pool),
            // Layer::split pairs windowed steps with windows and the others with pixel counts.
            (step, work) => unreachable!("{work:?} for {step:?}"),
        }
    }
}

/// The softmax output of the last run: raw bytes as the model stores them and probabilities.
#[derive(Clone, Copy, Debug)]
pub struct QuantOutput<'a> {
    /// The output tensor as stored (uint8; int8 models' bytes are signed).
    pub raw: &'a [u8],
    pub probabilities: &'a [f32],
}

#[derive(Clone, Debug)]
pub struct QuantizedPlan {
    config: Config,
    layers: Vec<Layer>,
    kernels: &'static QuantKernelSet,
    ping: Vec<u8>,
    pong: Vec<u8>,
    input: Vec<u8>,
    raw: Vec<u8>,
    probabilities: Vec<f32>,
    logits: Vec<f32>,
    pool: PoolQ,
    softmax: SoftmaxU8,
    params: Edges,
}

/// Quantization at the network's edges.
#[derive(Clone, Copy, Debug)]
struct Edges {
    input: QuantParams,
    logits: QuantParams,
    embedding: QuantParams,
    output: QuantParams,
    /// 0x80 for int8 models (run shifted into uint8), else 0.
    flip: u8,
}

impl QuantizedPlan {
    pub fn new(config: Config, weights: &QuantWeights) -> Result<QuantizedPlan, Error> {
        weights.check(&config)?;
        let specs = config.layers();
        let mut layers = Vec::with_capacity(specs.len());
        for (spec, w) in specs.into_iter().zip(&weights.layers) {
            let step = build_step(&spec, w.as_ref())?;
            layers.push(Layer::new(spec, step));
        }
        let largest = layers.iter().map(|l| l.spec.output.len()).max().unwrap_or(0);
        let input_len = layers.first().map_or(0, |l| l.spec.input.len());
        Ok(QuantizedPlan {
            config,
            layers,
            kernels: quant::best(),
            ping: vec![0; largest],
            pong: vec![0; largest],
            input: vec![0; input_len],
            raw: vec![0; config.num_classes],
            probabilities: vec![0.0; config.num_classes],
            logits: vec![0.0; config.num_classes],
            pool: weights.pool,
            softmax: weights.softmax,
            params: Edges {
                input: weights.input,
                logits: weights.logits,
                embedding: weights.embedding,
                output: weights.output,
                flip: if weights.signed { 0x80 } else { 0 },
            },
        })
    }

    /// Divides every large layer among `threads` workers, as [`super::Plan::with_threads`].
    pub fn with_threads(mut self, threads: usize) -> QuantizedPlan {
        self.layers.iter_mut().for_each(|l| l.split(threads));
        self
    }

    /// Runs on another quantized kernel family (tests compare families on the same plan).
    pub fn with_kernels(mut self, kernels: &'static QuantKernelSet) -> QuantizedPlan {
        self.set_kernels(kernels);
        self
    }

    /// [`Self::with_kernels`] in place (the JS API switches families to compare them).
    pub fn set_kernels(&mut self, kernels: &'static QuantKernelSet) {
        self.kernels = kernels;
    }

    pub fn kernels(&self) -> &'static QuantKernelSet {
        self.kernels
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn layers(&self) -> impl Iterator<Item = &LayerSpec> {
        self.layers.iter().map(|l| &l.spec)
    }

    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// Quantization of the input tensor (in the uint8 domain).
    pub fn input_params(&self) -> QuantParams {
        self.params.input
    }

    /// Whether the model's tensors are int8 (their raw bytes are signed).
    pub fn is_signed(&self) -> bool {
        self.params.flip != 0
    }

    /// Runs on the raw input tensor bytes (uint8, or int8 reinterpreted as bytes).
    pub fn run(&mut self, raw_input: &[u8]) -> Result<QuantOutput<'_>, Error> {
        self.load(raw_input)?;
        self.forward(self.layers.len() - 1, None);
        Ok(self.output())
    }

    /// Copies the raw input tensor in, shifted into the uint8 domain.
    fn load(&mut self, raw_input: &[u8]) -> Result<(), Error> {
        if raw_input.len() != self.input.len() {
            return Err(Error::shape(format!(
                "input has {} bytes, the model takes {} (height·width·3)",
                raw_input.len(),
                self.input.len()
            )));
        }
        let flip = self.params.flip;
        self.input.iter_mut().zip(raw_input).for_each(|(d, &s)| *d = s ^ flip);
        Ok(())
    }

    /// Runs on RGB or RGBA pixels of the input size. Quantized image models take pixel bytes as their
    /// input tensor (uint8 as they are; int8 as pixel − 128, which is the same bytes in our shifted domain).
    pub fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<QuantOutput<'_>, Error> {
        preprocess::to_rgb(pixels, format, &mut self.input)?;
        self.forward(self.layers.len() - 1, None);
        Ok(self.output())
    }

    /// Runs up to `end_point` and returns its output bytes as the model stores them.
    pub fn run_to(&mut self, raw_input: &[u8], end_point: &str) -> Result<&[u8], Error> {
        let last = self.end_point_index(end_point)?;
        self.load(raw_input)?;
        self.forward(last, None);
        let out = &mut self.ping[..self.layers[last].spec.output.len()];
        let flip = self.params.flip;
        out.iter_mut().for_each(|v| *v ^= flip);
        Ok(out)
    }

    /// Runs the whole network, writing each layer's time (ms from `now`) into `times_ms`.
    pub fn profile(
        &mut self,
        raw_input: &[u8],
        now: &dyn Fn() -> f64,
        times_ms: &mut [f64],
    ) -> Result<QuantOutput<'_>, Error> {
        if times_ms.len() != self.layers.len() {
            return Err(Error::shape(format!("{} timing slots for {} layers", times_ms.len(), self.layers.len())));
        }
        self.load(raw_input)?;
        self.forward(self.layers.len() - 1, Some((now, times_ms)));
        Ok(self.output())
    }

    /// Times each layer on pixels of the input size (ms from `now`, into `times_ms`).
    pub fn profile_pixels(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        now: &dyn Fn() -> f64,
        times_ms: &mut [f64],
    ) -> Result<QuantOutput<'_>, Error> {
        if times_ms.len() != self.layers.len() {
            return Err(Error::shape(format!("{} timing slots for {} layers", times_ms.len(), self.layers.len())));
        }
        preprocess::to_rgb(pixels, format, &mut self.input)?;
        self.forward(self.layers.len() - 1, Some((now, times_ms)));
        Ok(self.output())
    }

    /// The embedding (`AvgPool_1a`) of pixels of the input size, dequantized.
    pub fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<Vec<f32>, Error> {
        preprocess::to_rgb(pixels, format, &mut self.input)?;
        let last = self.end_point_index("AvgPool_1a")?;
        self.forward(last, None);
        let p = self.params.embedding;
        Ok(self.ping[..self.layers[last].spec.output.len()].iter().map(|&q| p.dequantize(q)).collect())
    }

    /// Logits of the last run, dequantized.
    pub fn logits(&mut self) -> &[f32] {
        let p = self.params.logits;
        for (l, &q) in self.logits.iter_mut().zip(&self.ping[..self.config.num_classes]) {
            *l = p.dequantize(q);
        }
        &self.logits
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

    fn output(&mut self) -> QuantOutput<'_> {
        let n = self.config.num_classes;
        self.softmax.run(&self.ping[..n], &mut self.raw);
        let out = self.params.output;
        for (p, &q) in self.probabilities.iter_mut().zip(&self.raw) {
            *p = out.dequantize(q);
        }
        let flip = self.params.flip;
        self.raw.iter_mut().for_each(|v| *v ^= flip);
        QuantOutput { raw: &self.raw, probabilities: &self.probabilities }
    }

    /// Runs layers 0..=last on `input`, leaving the output in `ping`.
    fn forward(&mut self, last: usize, timing: schedule::Timing<'_>) {
        let net = Net { layers: &self.layers, kernels: self.kernels, pool: &self.pool };
        schedule::forward(&net, &self.input, &mut self.ping, &mut self.pong, last, timing);
    }
}

fn build_step(spec: &LayerSpec, w: Option<&QuantLayer>) -> Result<Step, Error> {
    let Some(w) = w else { return Ok(Step::AvgPool) };
    let (shape, weights, bias, r) = (w.filter_shape, w.filter.clone(), w.bias.clone(), w.requantize.clone());
    Ok(match spec.op {
        OpKind::Conv => Step::Conv(geometry(spec)?, pack::conv_q(shape, weights, bias, r)?),
        OpKind::Depthwise => Step::Depthwise(geometry(spec)?, pack::depthwise_q(shape, weights, bias, r)?),
        OpKind::Pointwise | OpKind::Logits => Step::Pointwise(pack::pointwise_q(shape, weights, bias, r)?),
        OpKind::AvgPool => Step::AvgPool,
    })
}
