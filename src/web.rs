//! The JavaScript API (`#[wasm_bindgen]`). The only file that knows about JS; it holds no math.
//! Every failure is thrown as a JS `Error` whose message starts with the error kind; nothing panics.

use crate::arch::{Config, Resolution};
use crate::engine::Plan;
use crate::error::Error;
use crate::inspect;
use crate::predictions::top_k;
use crate::preprocess::PixelFormat;
use serde::Serialize;
use wasm_bindgen::prelude::*;

fn js_error(e: Error) -> JsError {
    JsError::new(&format!("{}: {e}", e.kind()))
}

fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsError> {
    // Plain objects, not Maps, so JS code can read fields with dots.
    let s = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&s).map_err(|e| JsError::new(&format!("serialize: {e}")))
}

fn config(
    alpha: f64,
    height: u32,
    width: Option<u32>,
    num_classes: Option<u32>,
    output_stride: Option<u32>,
) -> Result<Config, Error> {
    let resolution = Resolution { height: height as usize, width: width.unwrap_or(height) as usize };
    Config::default()
        .with_alpha(alpha)?
        .with_resolution(resolution)?
        .with_num_classes(num_classes.unwrap_or(1001) as usize)?
        .with_output_stride(output_stride.unwrap_or(32) as usize)
}

/// Per-layer shapes, params and MACs of MobileNet v1 under width multiplier `alpha` and input
/// `resolution` (square, or `resolution` x `width`), with totals, shares by layer type and the
/// separable-vs-standard comparison. Defaults: 1001 classes, output stride 32.
#[wasm_bindgen]
pub fn inspect(
    alpha: f64,
    resolution: u32,
    num_classes: Option<u32>,
    output_stride: Option<u32>,
    width: Option<u32>,
) -> Result<JsValue, JsError> {
    let cfg = config(alpha, resolution, width, num_classes, output_stride).map_err(js_error)?;
    to_js(&inspect::report(&cfg))
}

/// The counting convention the inspector uses.
#[wasm_bindgen]
pub fn convention() -> String {
    inspect::CONVENTION.to_string()
}

/// Which kernel family this build runs ("scalar" until the SIMD kernels land).
#[wasm_bindgen(js_name = kernelName)]
pub fn kernel_name() -> String {
    crate::kernels::best().name.to_string()
}

/// A runnable network. `Model.seeded(alpha, resolution, seed)` builds one with deterministic weights.
#[wasm_bindgen]
pub struct Model {
    plan: Plan,
}

#[wasm_bindgen]
impl Model {
    /// A model with seeded weights for any alpha and resolution (no file needed).
    pub fn seeded(alpha: f64, resolution: u32, seed: u32, num_classes: Option<u32>) -> Result<Model, JsError> {
        let cfg = config(alpha, resolution, None, num_classes, None).map_err(js_error)?;
        Ok(Model { plan: Plan::seeded(cfg, seed as u64).map_err(js_error)? })
    }

    /// Input height and width in pixels.
    #[wasm_bindgen(getter)]
    pub fn resolution(&self) -> Vec<u32> {
        let r = self.plan.config().resolution;
        vec![r.height as u32, r.width as u32]
    }

    #[wasm_bindgen(getter, js_name = numClasses)]
    pub fn num_classes(&self) -> u32 {
        self.plan.config().num_classes as u32
    }

    /// Probabilities for a float input (height·width·3 values in [-1, 1], NHWC).
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<f32>, JsError> {
        Ok(self.plan.run(input).map_err(js_error)?.probabilities.to_vec())
    }

    /// Logits (before softmax) for a float input.
    pub fn logits(&mut self, input: &[f32]) -> Result<Vec<f32>, JsError> {
        Ok(self.plan.run(input).map_err(js_error)?.logits.to_vec())
    }

    /// Probabilities for RGB or RGBA bytes (`channels` 3 or 4) of exactly the input size.
    #[wasm_bindgen(js_name = runPixels)]
    pub fn run_pixels(&mut self, pixels: &[u8], channels: u32) -> Result<Vec<f32>, JsError> {
        let format = match channels {
            3 => PixelFormat::Rgb,
            4 => PixelFormat::Rgba,
            c => return Err(js_error(Error::shape(format!("channels must be 3 (RGB) or 4 (RGBA), got {c}")))),
        };
        Ok(self.plan.run_pixels(pixels, format).map_err(js_error)?.probabilities.to_vec())
    }

    /// The `k` best classes of a float input: `[{index, score}]`, best first.
    pub fn classify(&mut self, input: &[f32], k: u32) -> Result<JsValue, JsError> {
        let out = self.plan.run(input).map_err(js_error)?;
        to_js(&top_k(out.probabilities, k as usize))
    }

    /// The output of one end point (e.g. "AvgPool_1a", the embedding), NHWC flattened.
    #[wasm_bindgen(js_name = runTo)]
    pub fn run_to(&mut self, input: &[f32], end_point: &str) -> Result<Vec<f32>, JsError> {
        Ok(self.plan.run_to(input, end_point).map_err(js_error)?.to_vec())
    }

    /// The inspector report of this model's configuration.
    pub fn inspect(&self) -> Result<JsValue, JsError> {
        to_js(&inspect::report(self.plan.config()))
    }
}
