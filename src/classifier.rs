//! One front for every way to get a runnable network — seeded weights or TFLite files, float or
//! quantized — with labels. The CLI and the JS API both sit on this.

use crate::arch::Config;
use crate::engine::{Float, Plan, PlanDomain, Uint8};
use crate::error::Error;
use crate::kernels;
use crate::predictions::{top_k, Prediction};
use crate::preprocess::PixelFormat;
use crate::tflite::import::{self, Network, Precision};
use crate::tflite::{self, zip};
use serde::Serialize;
use std::any::Any;
use std::fmt::Debug;

/// What a profiled run starts from.
enum Input<'a> {
    Pixels(&'a [u8], PixelFormat),
    /// The raw input tensor, as [`Classifier::run_raw`] takes it.
    Raw(&'a [u8]),
}

/// What the classifier asks of a plan, whatever its number domain: one generic implementation for every
/// [`Plan`], so no caller matches on the domain.
trait Run: Send + Sync {
    fn config(&self) -> &Config;
    fn quantized(&self) -> bool;
    fn number_type(&self) -> &'static str;
    fn family(&self) -> &'static str;
    fn use_kernels(&mut self, name: &str) -> Result<(), Error>;
    fn set_threads(&mut self, threads: usize);
    fn layer_names(&self) -> Vec<String>;
    fn end_point_index(&self, end_point: &str) -> Result<usize, Error>;
    fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error>;
    fn run_raw(&mut self, raw: &[u8]) -> Result<Vec<u8>, Error>;
    fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error>;
    fn run_keeping(&mut self, pixels: &[u8], format: PixelFormat, keep: &[usize]) -> Result<Kept, Error>;
    fn profile(&mut self, input: Input<'_>, now: &dyn Fn() -> f64, times: &mut [f64]) -> Result<(), Error>;
    fn last_probabilities(&self) -> &[f32];
    fn last_logits(&self) -> &[f32];
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<D: PlanDomain> Run for Plan<D> {
    fn config(&self) -> &Config {
        Plan::config(self)
    }

    fn quantized(&self) -> bool {
        D::QUANTIZED
    }

    fn number_type(&self) -> &'static str {
        Plan::number_type(self)
    }

    fn family(&self) -> &'static str {
        self.kernels().name
    }

    fn use_kernels(&mut self, name: &str) -> Result<(), Error> {
        let family = kernels::named::<D>(name)
            .ok_or_else(|| Error::config(format!("no kernel family {name:?} for this model in this build")))?;
        self.set_kernels(family)
    }

    fn set_threads(&mut self, threads: usize) {
        self.split(threads);
    }

    fn layer_names(&self) -> Vec<String> {
        self.layers().map(|l| l.name.clone()).collect()
    }

    fn end_point_index(&self, end_point: &str) -> Result<usize, Error> {
        Plan::end_point_index(self, end_point)
    }

    fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        Ok(Plan::run_pixels(self, pixels, format)?.probabilities)
    }

    fn run_raw(&mut self, raw: &[u8]) -> Result<Vec<u8>, Error> {
        let input = D::decode(raw)?;
        Ok(D::encode(self.run(&input)?.raw))
    }

    fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        Plan::embedding_pixels(self, pixels, format)
    }

    #[cfg_attr(feature = "small", optimize(size))]
    fn run_keeping(&mut self, pixels: &[u8], format: PixelFormat, keep: &[usize]) -> Result<Kept, Error> {
        let (out, maps) = Plan::run_pixels_keeping(self, pixels, format, keep)?;
        let probabilities = out.probabilities.to_vec();
        let shapes =
            keep.iter().map(|&k| self.layers().nth(k).map_or([0; 3], |l| [l.output.h, l.output.w, l.output.c]));
        Ok(Kept { probabilities, end_points: shapes.zip(maps).collect() })
    }

    fn profile(&mut self, input: Input<'_>, now: &dyn Fn() -> f64, times: &mut [f64]) -> Result<(), Error> {
        match input {
            Input::Pixels(pixels, format) => Plan::profile_pixels(self, pixels, format, now, times).map(drop),
            Input::Raw(raw) => Plan::profile(self, &D::decode(raw)?, now, times).map(drop),
        }
    }

    fn last_probabilities(&self) -> &[f32] {
        Plan::last_probabilities(self)
    }

    fn last_logits(&self) -> &[f32] {
        Plan::last_logits(self)
    }

    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// One run's probabilities and the end points kept from it: ([h, w, c], NHWC real values) in the order asked.
#[derive(Clone, Debug, PartialEq)]
pub struct Kept {
    pub probabilities: Vec<f32>,
    pub end_points: Vec<([usize; 3], Vec<f32>)>,
}

/// One layer's share of a profiled run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerTime {
    /// TF-slim end point name, as in the inspector.
    pub name: String,
    pub ms: f64,
}

pub struct Classifier {
    plan: Box<dyn Run>,
    labels: Option<Vec<String>>,
}

impl std::fmt::Debug for Classifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let classes = self.plan.config().num_classes;
        f.debug_struct("Classifier")
            .field("classes", &classes)
            .field("kernels", &self.plan.family())
            .finish_non_exhaustive()
    }
}
/// The readable part of an ImageNet label line: "tabby, tabby cat" → "tabby".
pub fn display_name(label: &str) -> &str {
    label.split(',').next().unwrap_or(label).trim()
}

/// Splits a labels file into lines (a trailing empty line is dropped).
pub fn parse_labels(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end_matches('\r').to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

impl Classifier {
    /// A network with seeded weights (no labels).
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn seeded(config: Config, seed: u64) -> Result<Classifier, Error> {
        Ok(Classifier { plan: Box::new(Plan::seeded(config, seed)?), labels: None })
    }

    /// One TFLite file, or several run one after the other; labels come from a ZIP appended to a file.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn from_tflite(files: &[&[u8]], precision: Precision) -> Result<Classifier, Error> {
        let models = files.iter().map(|b| tflite::read(b)).collect::<Result<Vec<_>, _>>()?;
        let labels = files
            .iter()
            .zip(&models)
            .rev()
            .find_map(|(b, m)| zip::labels(b, m.flatbuffer_len, m.metadata.labels_file.as_deref()));
        let imported = import::import(&models, precision)?;
        // Labels of the wrong count name the wrong classes: refused, as a `--labels` file of the wrong count is.
        let classes = imported.config.num_classes;
        if let Some(l) = labels.as_ref().filter(|l| l.len() != classes) {
            let n = l.len();
            return Err(Error::malformed(format!(
                "the labels file appended to it has {n} lines for {classes} classes"
            )));
        }
        let plan: Box<dyn Run> = match imported.network {
            Network::Float { weights, normalization } => {
                Box::new(Plan::<Float>::new(imported.config, &weights)?.with_normalization(normalization))
            }
            Network::Quantized(q) => Box::new(Plan::<Uint8>::new(imported.config, q)?),
        };
        Ok(Classifier { plan, labels })
    }

    /// Divides each layer among `threads` workers (see [`Plan::with_threads`]).
    pub fn with_threads(mut self, threads: usize) -> Classifier {
        self.plan.set_threads(threads);
        self
    }

    /// Replaces the labels (e.g. from a labels file); there must be one per class.
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Classifier, Error> {
        self.set_labels(labels)?;
        Ok(self)
    }

    /// [`Self::with_labels`] in place; on an error the labels stay as they were.
    pub fn set_labels(&mut self, labels: Vec<String>) -> Result<(), Error> {
        let n = self.config().num_classes;
        if labels.len() != n {
            return Err(Error::shape(format!("{} labels for {n} classes", labels.len())));
        }
        self.labels = Some(labels);
        Ok(())
    }

    pub fn config(&self) -> &Config {
        self.plan.config()
    }

    /// The plan, if it runs in domain `D` (tests and benchmarks reach the plan's own API this way).
    pub fn plan_mut<D: PlanDomain>(&mut self) -> Option<&mut Plan<D>> {
        self.plan.as_any_mut().downcast_mut()
    }

    pub fn is_quantized(&self) -> bool {
        self.plan.quantized()
    }

    /// The number type the layers compute in: "float32", "uint8" or "int8" (a full-integer model with uint8
    /// edges says "int8": its edges only shift).
    pub fn number_type(&self) -> &'static str {
        self.plan.number_type()
    }

    /// Name of the kernel family that runs.
    pub fn kernels(&self) -> &'static str {
        self.plan.family()
    }

    /// Switches to the kernel family `name` of this model's domain (see [`kernels::families`]).
    pub fn use_kernels(&mut self, name: &str) -> Result<(), Error> {
        self.plan.use_kernels(name)
    }

    pub fn labels(&self) -> Option<&[String]> {
        self.labels.as_deref()
    }

    /// The readable label of class `index`, if labels are known.
    pub fn label(&self, index: usize) -> Option<&str> {
        self.labels.as_ref().and_then(|l| l.get(index)).map(|s| display_name(s))
    }

    /// Probabilities for pixels (RGB or RGBA) of exactly the input size.
    pub fn run_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        self.plan.run_pixels(pixels, format)
    }

    /// The `k` best classes for pixels of exactly the input size.
    pub fn classify_pixels(&mut self, pixels: &[u8], format: PixelFormat, k: usize) -> Result<Vec<Prediction>, Error> {
        Ok(top_k(self.run_pixels(pixels, format)?, k))
    }

    /// Runs on the raw input tensor (uint8 bytes for quantized models, f32 little-endian for float ones)
    /// and returns the raw output tensor in the same form.
    pub fn run_raw(&mut self, raw: &[u8]) -> Result<Vec<u8>, Error> {
        self.plan.run_raw(raw)
    }

    /// Probabilities for pixels of the input size, and from the same run the outputs of the named end points
    /// (TF-slim names, e.g. `Conv2d_1_depthwise`) as real values.
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn run_keeping(&mut self, pixels: &[u8], format: PixelFormat, end_points: &[String]) -> Result<Kept, Error> {
        let keep = end_points.iter().map(|n| self.plan.end_point_index(n)).collect::<Result<Vec<_>, _>>()?;
        self.plan.run_keeping(pixels, format, &keep)
    }

    /// The embedding (`AvgPool_1a`, dequantized for quantized models) of pixels of the input size.
    pub fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<&[f32], Error> {
        self.plan.embedding_pixels(pixels, format)
    }

    /// Each layer's time in ms (in layer order) for one run on pixels, read from the clock `now` (ms).
    pub fn profile_pixels(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        now: &dyn Fn() -> f64,
    ) -> Result<Vec<f64>, Error> {
        let mut times = vec![0.0; crate::inspect::layer_costs(self.config()).len()];
        self.plan.profile(Input::Pixels(pixels, format), now, &mut times)?;
        Ok(times)
    }

    /// Runs once on the raw input (as [`Classifier::run_raw`]), timing every layer with `now` (ms).
    pub fn profile_raw(&mut self, raw: &[u8], now: &dyn Fn() -> f64) -> Result<Vec<LayerTime>, Error> {
        let names = self.plan.layer_names();
        let mut times = vec![0.0; names.len()];
        self.plan.profile(Input::Raw(raw), now, &mut times)?;
        Ok(names.into_iter().zip(times).map(|(name, ms)| LayerTime { name, ms }).collect())
    }

    /// Probabilities of the last run.
    pub fn last_probabilities(&self) -> &[f32] {
        self.plan.last_probabilities()
    }

    /// Logits of the last run (dequantized for quantized models).
    pub fn last_logits(&self) -> &[f32] {
        self.plan.last_logits()
    }
}
