//! The teaching module's JavaScript API: heads trained on embeddings, nearest neighbours, and the taught
//! model exported after a source file's backbone. Built with the `teach` feature as its own .wasm.

use super::{js_error, strings, to_js};
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// Class indices from JS, widened for the trainer.
fn class_indices(labels: &[u32]) -> Vec<usize> {
    labels.iter().map(|&l| l as usize).collect()
}

/// A head taught on embeddings (softmax regression, or one hidden ReLU layer under it).
#[wasm_bindgen]
pub struct TaughtHead {
    head: crate::teach::head::Head,
    report: crate::teach::head::Report,
}

#[derive(Serialize)]
struct Trained {
    iterations: usize,
    loss: f32,
    accuracy: f32,
}

#[wasm_bindgen]
impl TaughtHead {
    /// Trains on `rows` (n embeddings of `dim` floats, flat) with `labels[i] < classes`: at most `iterations`
    /// L-BFGS steps (default 200), L2 strength `l2` (default 1e-3), `hidden` ReLU units (0: none), seeded.
    /// `on_progress`, if a function, is called after each step with {iteration, loss, accuracy}.
    #[allow(clippy::too_many_arguments)]
    pub fn train(
        rows: &[f32],
        dim: u32,
        labels: &[u32],
        classes: u32,
        iterations: Option<u32>,
        l2: Option<f64>,
        hidden: Option<u32>,
        seed: Option<u32>,
        on_progress: JsValue,
    ) -> Result<TaughtHead, JsValue> {
        let defaults = crate::teach::head::TrainOptions::default();
        let options = crate::teach::head::TrainOptions {
            hidden: hidden.filter(|&h| h > 0).map(|h| h as usize),
            l2: l2.map_or(defaults.l2, |v| v as f32),
            max_iterations: iterations.map_or(defaults.max_iterations, |i| i as usize),
            seed: seed.map_or(defaults.seed, u64::from),
        };
        let callback = on_progress.dyn_into::<js_sys::Function>().ok();
        let mut report = |p: &crate::teach::head::Progress| {
            if let (Some(f), Ok(v)) =
                (&callback, to_js(&Trained { iterations: p.iteration, loss: p.loss, accuracy: p.accuracy }))
            {
                // A throwing callback does not stop training; its error is the page's to see.
                let _ = f.call1(&JsValue::NULL, &v);
            }
        };
        let labels = class_indices(labels);
        let (head, report) =
            crate::teach::head::train(rows, dim as usize, &labels, classes as usize, &options, &mut report)
                .map_err(js_error)?;
        Ok(TaughtHead { head, report })
    }

    /// {iterations, loss, accuracy} of the training run (accuracy on the training examples, 0..1).
    #[wasm_bindgen(getter)]
    pub fn report(&self) -> Result<JsValue, JsValue> {
        let r = &self.report;
        to_js(&Trained { iterations: r.iterations, loss: r.loss, accuracy: r.accuracy })
    }

    /// Class probabilities of one embedding.
    pub fn probabilities(&self, embedding: &[f32]) -> Result<Vec<f32>, JsValue> {
        self.head.probabilities(embedding).map_err(js_error)
    }
}

/// A standalone .tflite: the backbone of `source` (a model file, up to its global average pool) then `head` and
/// a softmax, labelled with `labels` (an array of strings, one per class); `examples` are the training
/// embeddings, rows flat.
#[wasm_bindgen(js_name = exportTaught)]
pub fn export_taught(source: &[u8], head: &TaughtHead, examples: &[f32], labels: JsValue) -> Result<Vec<u8>, JsValue> {
    let labels = strings(&labels, "labels")?;
    crate::teach::export::tflite(source, &head.head, examples, &labels).map_err(js_error)
}

/// Nearest neighbours by cosine similarity over the examples, for a few examples per class.
#[wasm_bindgen]
pub struct Neighbours {
    inner: crate::teach::knn::Neighbours,
}

#[wasm_bindgen]
impl Neighbours {
    #[wasm_bindgen(constructor)]
    pub fn new(rows: &[f32], dim: u32, labels: &[u32], classes: u32) -> Result<Neighbours, JsValue> {
        let labels = class_indices(labels);
        let inner =
            crate::teach::knn::Neighbours::new(rows, dim as usize, &labels, classes as usize).map_err(js_error)?;
        Ok(Neighbours { inner })
    }

    /// Per class, the share of the `k` most similar examples that belong to it.
    pub fn confidences(&self, embedding: &[f32], k: u32) -> Result<Vec<f32>, JsValue> {
        self.inner.confidences(embedding, k as usize).map_err(js_error)
    }
}
