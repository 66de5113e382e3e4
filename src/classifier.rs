//! One front for every way to get a runnable network — seeded weights or TFLite files, float or
//! quantized — with labels. The CLI and the JS API both sit on this.

use crate::arch::Config;
use crate::engine::{Plan, QuantizedPlan};
use crate::error::Error;
use crate::predictions::{top_k, Prediction};
use crate::preprocess::PixelFormat;
use crate::tflite::import::{self, Network, Precision};
use crate::tflite::{self, zip};
use serde::Serialize;

/// The plan that runs: float or integer.
#[derive(Clone, Debug)]
pub enum Runner {
    Float(Plan),
    Quantized(QuantizedPlan),
}

/// One layer's share of a profiled run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerTime {
    /// TF-slim end point name, as in the inspector.
    pub name: String,
    pub ms: f64,
}

#[derive(Clone, Debug)]
pub struct Classifier {
    runner: Runner,
    labels: Option<Vec<String>>,
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
    pub fn seeded(config: Config, seed: u64) -> Result<Classifier, Error> {
        Ok(Classifier { runner: Runner::Float(Plan::seeded(config, seed)?), labels: None })
    }

    /// One TFLite file, or several run one after the other; labels come from a ZIP appended to a file.
    pub fn from_tflite(files: &[&[u8]], precision: Precision) -> Result<Classifier, Error> {
        let models = files.iter().map(|b| tflite::read(b)).collect::<Result<Vec<_>, _>>()?;
        let labels = files.iter().zip(&models).find_map(|(b, m)| zip::labels(b, m.flatbuffer_len));
        let imported = import::import(&models, precision)?;
        let runner = match imported.network {
            Network::Float { weights, normalization } => {
                Runner::Float(Plan::new(imported.config, &weights)?.with_normalization(normalization))
            }
            Network::Quantized(q) => Runner::Quantized(QuantizedPlan::new(imported.config, &q)?),
        };
        Ok(Classifier { runner, labels })
    }

    /// Divides each layer among `threads` workers (see [`Plan::with_threads`]).
    pub fn with_threads(self, threads: usize) -> Classifier {
        let runner = match self.runner {
            Runner::Float(p) => Runner::Float(p.with_threads(threads)),
            Runner::Quantized(p) => Runner::Quantized(p.with_threads(threads)),
        };
        Classifier { runner, ..self }
    }

    /// Replaces the labels (e.g. from a labels file); there must be one per class.
    pub fn with_labels(mut self, labels: Vec<String>) -> Result<Classifier, Error> {
        let n = self.config().num_classes;
        if labels.len() != n {
            return Err(Error::shape(format!("{} labels for {n} classes", labels.len())));
        }
        self.labels = Some(labels);
        Ok(self)
    }

    pub fn config(&self) -> &Config {
        match &self.runner {
            Runner::Float(p) => p.config(),
            Runner::Quantized(p) => p.config(),
        }
    }

    pub fn runner(&self) -> &Runner {
        &self.runner
    }

    pub fn runner_mut(&mut self) -> &mut Runner {
        &mut self.runner
    }

    pub fn is_quantized(&self) -> bool {
        matches!(self.runner, Runner::Quantized(_))
    }

    /// Name of the kernel family that runs.
    pub fn kernels(&self) -> &'static str {
        match &self.runner {
            Runner::Float(p) => p.kernels().name,
            Runner::Quantized(p) => p.kernels().name,
        }
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
        Ok(match &mut self.runner {
            Runner::Float(p) => p.run_pixels(pixels, format)?.probabilities,
            Runner::Quantized(p) => p.run_pixels(pixels, format)?.probabilities,
        })
    }

    /// The `k` best classes for pixels of exactly the input size.
    pub fn classify_pixels(&mut self, pixels: &[u8], format: PixelFormat, k: usize) -> Result<Vec<Prediction>, Error> {
        Ok(top_k(self.run_pixels(pixels, format)?, k))
    }

    /// Runs on the raw input tensor (uint8 bytes for quantized models, f32 little-endian for float ones)
    /// and returns the raw output tensor in the same form.
    pub fn run_raw(&mut self, raw: &[u8]) -> Result<Vec<u8>, Error> {
        match &mut self.runner {
            Runner::Quantized(p) => Ok(p.run(raw)?.raw.to_vec()),
            Runner::Float(p) => {
                let input = float_input(raw)?;
                Ok(p.run(&input)?.probabilities.iter().flat_map(|v| v.to_le_bytes()).collect())
            }
        }
    }

    /// The embedding (`AvgPool_1a`, dequantized for quantized models) of pixels of the input size.
    pub fn embedding_pixels(&mut self, pixels: &[u8], format: PixelFormat) -> Result<Vec<f32>, Error> {
        match &mut self.runner {
            Runner::Float(p) => Ok(p.embedding_pixels(pixels, format)?.to_vec()),
            Runner::Quantized(p) => p.embedding_pixels(pixels, format),
        }
    }

    /// Each layer's time in ms (in layer order) for one run on pixels, read from the clock `now` (ms).
    pub fn profile_pixels(
        &mut self,
        pixels: &[u8],
        format: PixelFormat,
        now: &dyn Fn() -> f64,
    ) -> Result<Vec<f64>, Error> {
        let mut times = vec![0.0; crate::inspect::layer_costs(self.config()).len()];
        match &mut self.runner {
            Runner::Float(p) => p.profile_pixels(pixels, format, now, &mut times).map(|_| ()),
            Runner::Quantized(p) => p.profile_pixels(pixels, format, now, &mut times).map(|_| ()),
        }?;
        Ok(times)
    }

    /// Runs once on the raw input (as [`Classifier::run_raw`]), timing every layer with `now` (ms).
    pub fn profile_raw(&mut self, raw: &[u8], now: &dyn Fn() -> f64) -> Result<Vec<LayerTime>, Error> {
        let names: Vec<String> = match &self.runner {
            Runner::Float(p) => p.layers().map(|l| l.name.clone()).collect(),
            Runner::Quantized(p) => p.layers().map(|l| l.name.clone()).collect(),
        };
        let mut times = vec![0.0; names.len()];
        match &mut self.runner {
            Runner::Float(p) => {
                p.profile(&float_input(raw)?, now, &mut times)?;
            }
            Runner::Quantized(p) => {
                p.profile(raw, now, &mut times)?;
            }
        }
        Ok(names.into_iter().zip(times).map(|(name, ms)| LayerTime { name, ms }).collect())
    }

    /// Probabilities of the last run.
    pub fn last_probabilities(&self) -> &[f32] {
        match &self.runner {
            Runner::Float(p) => p.last_probabilities(),
            Runner::Quantized(p) => p.last_probabilities(),
        }
    }
}

/// A float model's raw input: little-endian f32 bytes.
fn float_input(raw: &[u8]) -> Result<Vec<f32>, Error> {
    if raw.len() % 4 != 0 {
        return Err(Error::shape(format!("float input has {} bytes, not a multiple of 4", raw.len())));
    }
    Ok(raw.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
}
