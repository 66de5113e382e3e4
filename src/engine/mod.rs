//! The plan: built once from (config, weights) in one number domain ([`Float`] or [`Uint8`]), each layer's
//! weights kept once and packed by the kernel family in use, every buffer allocated up front; then run as many
//! times as needed without allocating. One forward, one run-to-end-point, one profile for both domains: what
//! differs between them is the domain's edges ([`domain::PlanDomain`]) and its kernel families.

use crate::arch::{Config, LayerSpec};
use crate::error::Error;
use crate::kernels::{self, Family, Geometry, Packed, Work};
use crate::ops::padding::{axis_window, Padding};
use crate::preprocess::{Normalization, PixelFormat};
use crate::weights::{QuantParams, Weights};
use std::sync::Arc;

pub mod bands;
pub mod budget;
pub mod domain;
mod schedule;
use bands::Unit;
pub use domain::{NetworkWeights, Outputs, PlanDomain, QuantEdges};
pub use kernels::{Float, Uint8};
#[cfg(feature = "threads")]
#[doc(hidden)]
pub use schedule::LINGER_SPINS;

/// One layer: its spec, its weights as kept, how they are packed for the family in use, and its work in units
/// threads can share (one unit: the whole layer).
struct Layer<D: PlanDomain> {
    spec: LayerSpec,
    window: Option<Geometry>,
    weights: Arc<D::Layer>,
    packed: Packed<D::Elem>,
    units: Vec<Unit>,
}

impl<D: PlanDomain> Clone for Layer<D> {
    fn clone(&self) -> Self {
        let (weights, packed) = (Arc::clone(&self.weights), Arc::clone(&self.packed));
        Layer { spec: self.spec.clone(), window: self.window, weights, packed, units: self.units.clone() }
    }
}

impl<D: PlanDomain> Layer<D> {
    fn new(spec: LayerSpec, weights: D::Layer, family: &Family<D>) -> Result<Layer<D>, Error> {
        let window = domain::window(&spec)?;
        let weights = Arc::new(weights);
        let packed = (family.pack)(&weights)?;
        let units = bands::units(&spec, window, 1);
        Ok(Layer { spec, window, weights, packed, units })
    }
}

/// The layers of a plan, apart from its buffers, for the scheduler.
struct Net<'a, D: PlanDomain>(&'a [Layer<D>]);

impl<D: PlanDomain> schedule::Layers for Net<'_, D> {
    type Elem = D::Elem;

    fn units(&self, i: usize) -> &[Unit] {
        &self.0[i].units
    }

    fn run(&self, i: usize, work: Work, src: &[D::Elem], dst: &mut [D::Elem]) {
        self.0[i].packed.run(work, src, dst);
    }
}

/// End points kept from a run, in the order asked: NHWC real values.
pub type Maps = Vec<Vec<f32>>;

/// Logits, probabilities and the output tensor as stored, of the last full run, borrowed from the plan.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a, E = f32> {
    pub logits: &'a [f32],
    pub probabilities: &'a [f32],
    /// The output tensor as the model stores it: probabilities for float models, the softmax bytes for quantized
    /// ones (int8 models' bytes are signed).
    pub raw: &'a [E],
}

#[derive(Clone)]
pub struct Plan<D: PlanDomain = Float> {
    config: Config,
    layers: Vec<Layer<D>>,
    family: &'static Family<D>,
    edges: D::Edges,
    /// Ping-pong activations: `ping` holds the last layer's output.
    ping: Vec<D::Elem>,
    pong: Vec<D::Elem>,
    input: Vec<D::Elem>,
    /// A kept end point's output, the next segment's input (see [`Plan::run_pixels_keeping`]): empty until
    /// end points are kept, then a third buffer of the ping-pong pair's size, swapped with `ping`.
    carry: Vec<D::Elem>,
    outputs: Outputs<D::Elem>,
    embedding: Vec<f32>,
}

/// Names the plan without its weights: formatting the network (floats included) would put core's float
/// formatting into every .wasm through the trait objects' vtables.
impl<D: PlanDomain> std::fmt::Debug for Plan<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let layers = self.layers.len();
        f.debug_struct("Plan").field("layers", &layers).field("kernels", &self.family.name).finish_non_exhaustive()
    }
}

impl<D: PlanDomain> Plan<D> {
    /// A plan from `&Weights` (float) or `QuantWeights` (quantized, taken so that they are kept once).
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn new(config: Config, weights: impl NetworkWeights<Domain = D>) -> Result<Plan<D>, Error> {
        budget::check(&config, std::mem::size_of::<D::Elem>())?;
        let specs = config.layers();
        let (kept, edges) = weights.prepare(&config, &specs)?;
        let family = kernels::best::<D>();
        let layers =
            specs.into_iter().zip(kept).map(|(s, w)| Layer::new(s, w, family)).collect::<Result<Vec<_>, _>>()?;
        let largest = layers.iter().map(|l| l.spec.output.len()).max().unwrap_or(0);
        let input_len = layers.first().map_or(0, |l| l.spec.input.len());
        let pooled = layers.iter().find(|l| l.spec.name == "AvgPool_1a").map_or(0, |l| l.spec.output.len());
        let classes = config.num_classes;
        Ok(Plan {
            config,
            layers,
            family,
            edges,
            ping: budget::buffer(largest)?,
            pong: budget::buffer(largest)?,
            input: budget::buffer(input_len)?,
            carry: Vec::new(),
            outputs: Outputs {
                logits: vec![0.0; classes],
                probabilities: vec![0.0; classes],
                raw: vec![D::Elem::default(); classes],
            },
            embedding: vec![0.0; pooled],
        })
    }

    /// Divides every large layer among `threads` threads (bands of rows, runs of pixels). Without the
    /// `threads` feature the parts run one after the other, which tests use to check the split.
    pub fn with_threads(mut self, threads: usize) -> Plan<D> {
        self.split(threads);
        self
    }

    /// [`Self::with_threads`] in place.
    pub fn split(&mut self, threads: usize) {
        for l in &mut self.layers {
            l.units = bands::units(&l.spec, l.window, threads);
        }
    }

    /// Runs on another kernel family (tests compare families on the same weights).
    pub fn with_kernels(mut self, family: &'static Family<D>) -> Result<Plan<D>, Error> {
        self.set_kernels(family)?;
        Ok(self)
    }

    /// Switches kernel family in place, repacking every layer from its kept weights for the new family's
    /// layouts. On an error the plan keeps the family it had.
    pub fn set_kernels(&mut self, family: &'static Family<D>) -> Result<(), Error> {
        let packed = self.layers.iter().map(|l| (family.pack)(&l.weights)).collect::<Result<Vec<_>, _>>()?;
        self.layers.iter_mut().zip(packed).for_each(|(l, p)| l.packed = p);
        self.family = family;
        Ok(())
    }

    pub fn kernels(&self) -> &'static Family<D> {
        self.family
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The number type the layers compute in: "float32", "uint8" or "int8".
    pub fn number_type(&self) -> &'static str {
        D::number_type(&self.edges)
    }

    pub fn layers(&self) -> impl Iterator<Item = &LayerSpec> {
        self.layers.iter().map(|l| &l.spec)
    }

    /// Number of values the input takes: height · width · 3.
    pub fn input_len(&self) -> usize {
        self.input.len()
    }

    /// Runs the whole network on the raw input tensor: NHWC floats in the model's scaling for float models,
    /// the stored bytes for quantized ones (uint8, or int8 reinterpreted as bytes).
    pub fn run(&mut self, input: &[D::Elem]) -> Result<Output<'_, D::Elem>, Error> {
        D::load(&self.edges, input, &mut self.input)?;
        self.forward(self.last(), None);
        self.output()
    }

    /// Runs on packed RGB or RGBA bytes of exactly the model's input size.
    pub fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<Output<'_, D::Elem>, Error> {
        D::load_pixels(&self.edges, pixels, format, &mut self.input)?;
        self.forward(self.last(), None);
        self.output()
    }

    /// Runs up to and including the layer named `end_point` (TF-slim names, e.g. `AvgPool_1a` for the
    /// embedding) and returns its output, NHWC, as the model stores it.
    pub fn run_to(&mut self, input: &[D::Elem], end_point: &str) -> Result<&[D::Elem], Error> {
        let last = self.end_point_index(end_point)?;
        D::load(&self.edges, input, &mut self.input)?;
        self.forward(last, None);
        let out = &mut self.ping[..self.layers[last].spec.output.len()];
        D::stored(&self.edges, out);
        Ok(out)
    }

    /// The embedding (`AvgPool_1a`, as floats) of pixels of the input size.
    pub fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        let last = self.end_point_index("AvgPool_1a")?;
        D::load_pixels(&self.edges, pixels, format, &mut self.input)?;
        self.forward(last, None);
        D::embedding(&self.edges, &self.ping[..self.embedding.len()], &mut self.embedding);
        Ok(&self.embedding)
    }

    /// Runs the whole network on pixels of the input size and keeps, from the same run, the outputs of the
    /// layers at `keep` (indices into [`Plan::layers`], any order) as real values, NHWC (dequantized for
    /// quantized models): feature maps beside the probabilities, with no second inference. Runs in segments
    /// that end at each kept layer, whose output (swapped out of the ping-pong buffers) feeds the next.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn run_pixels_keeping(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        keep: &[usize],
    ) -> Result<(Output<'_, D::Elem>, Maps), Error> {
        let last = self.last();
        if let Some(&bad) = keep.iter().find(|&&k| k > last) {
            return Err(Error::shape(format!("end point {bad} out of range: the network has {} layers", last + 1)));
        }
        let mut stops: Vec<usize> = keep.to_vec();
        stops.sort_unstable();
        stops.dedup();
        D::load_pixels(&self.edges, pixels, format, &mut self.input)?;
        let mut kept = vec![Vec::new(); keep.len()];
        let mut start = 0;
        for stop in stops.iter().copied().chain((stops.last() != Some(&last)).then_some(last)) {
            let first = if start == 0 { &self.input } else { &self.carry };
            schedule::forward(&Net(&self.layers[start..]), first, &mut self.ping, &mut self.pong, stop - start, None);
            let out = &self.ping[..self.layers[stop].spec.output.len()];
            for (slot, _) in kept.iter_mut().zip(keep).filter(|(_, &k)| k == stop) {
                D::activation(&self.edges, stop, out, slot)?;
            }
            // The next segment's input leaves the ping-pong pair, which that segment overwrites: swapped out,
            // not copied (carry is allocated once, at their size).
            if stop != last {
                if self.carry.len() < self.ping.len() {
                    self.carry = budget::buffer(self.ping.len())?;
                }
                std::mem::swap(&mut self.carry, &mut self.ping);
            }
            start = stop + 1;
        }
        Ok((self.output()?, kept))
    }

    /// Runs the whole network on the raw input, writing each layer's time into `times_ms`, read from `now` (ms).
    pub fn profile(
        &mut self,
        input: &[D::Elem],
        now: &dyn Fn() -> f64,
        times_ms: &mut [f64],
    ) -> Result<Output<'_, D::Elem>, Error> {
        self.check_slots(times_ms)?;
        D::load(&self.edges, input, &mut self.input)?;
        self.forward(self.last(), Some((now, times_ms)));
        self.output()
    }

    /// Times each layer on pixels of the input size (ms from `now`, into `times_ms`).
    pub fn profile_pixels(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        now: &dyn Fn() -> f64,
        times_ms: &mut [f64],
    ) -> Result<Output<'_, D::Elem>, Error> {
        self.check_slots(times_ms)?;
        D::load_pixels(&self.edges, pixels, format, &mut self.input)?;
        self.forward(self.last(), Some((now, times_ms)));
        self.output()
    }

    /// Probabilities of the last full run (zeros before the first).
    pub fn last_probabilities(&self) -> &[f32] {
        &self.outputs.probabilities
    }

    /// Logits of the last full run (dequantized for quantized models; zeros before the first).
    pub fn last_logits(&self) -> &[f32] {
        &self.outputs.logits
    }

    pub fn end_point_index(&self, end_point: &str) -> Result<usize, Error> {
        self.layers
            .iter()
            .position(|l| l.spec.name == end_point)
            .ok_or_else(|| Error::UnknownEndPoint(end_point.into()))
    }

    fn last(&self) -> usize {
        self.layers.len() - 1
    }

    fn check_slots(&self, times_ms: &[f64]) -> Result<(), Error> {
        if times_ms.len() != self.layers.len() {
            return Err(Error::shape(format!("{} timing slots for {} layers", times_ms.len(), self.layers.len())));
        }
        Ok(())
    }

    /// The outputs of a full run; an error where they are not finite (a float model whose weights overflow
    /// f32 gives NaN probabilities), rather than scores that mean nothing.
    fn output(&mut self) -> Result<Output<'_, D::Elem>, Error> {
        D::finish(&self.edges, &self.ping[..self.config.num_classes], self.config.softmax, &mut self.outputs);
        let o = &self.outputs;
        if !o.logits.iter().chain(&o.probabilities).all(|v| v.is_finite()) {
            return Err(Error::NonFinite("the network's outputs: its weights or input overflow float32".into()));
        }
        Ok(Output { logits: &o.logits, probabilities: &o.probabilities, raw: &o.raw })
    }

    /// The loop every entry point shares: layers 0..=last from the input, the output left in `ping`.
    fn forward(&mut self, last: usize, timing: schedule::Timing<'_>) {
        schedule::forward(&Net(&self.layers), &self.input, &mut self.ping, &mut self.pong, last, timing);
    }
}

impl Plan<Float> {
    /// A plan with deterministic seeded weights (see [`Weights::seeded`]).
    pub fn seeded(config: Config, seed: u64) -> Result<Plan<Float>, Error> {
        budget::check(&config, std::mem::size_of::<f32>())?; // before the weights are made
        let weights = Weights::seeded(&config, seed);
        Plan::new(config, &weights)
    }

    /// How [`Plan::run_pixels`] maps bytes to inputs (default: [-1, 1], as the TF checkpoints).
    pub fn with_normalization(mut self, normalization: Normalization) -> Plan<Float> {
        self.edges = normalization;
        self
    }
}

impl Plan<Uint8> {
    /// Quantization of the input tensor (in the uint8 domain).
    pub fn input_params(&self) -> QuantParams {
        self.edges.input
    }

    /// Whether the model's activations are int8 (an end point's raw bytes are signed).
    pub fn is_signed(&self) -> bool {
        self.edges.flip != 0
    }
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
