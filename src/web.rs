//! The JavaScript API (`#[wasm_bindgen]`). The only file that knows about JS; it holds no math.
//! Every failure is thrown as a JS `Error` whose message starts with the error kind; nothing panics.

use crate::arch::{Config, Resolution};
use crate::classifier::{parse_labels, Classifier};
use crate::engine::{Float, Plan};
use crate::error::Error;
use crate::inspect;
use crate::preprocess::PixelFormat;
use crate::tflite::import::Precision;
use serde::Serialize;
use wasm_bindgen::prelude::*;

/// A JS `Error` whose message is "kind: message" and whose own `kind` property is `e.kind()`.
fn js_error(e: Error) -> JsValue {
    let error = js_sys::Error::new(&format!("{}: {e}", e.kind()));
    // Setting a property on a fresh Error object cannot fail.
    let _ = js_sys::Reflect::set(&error, &JsValue::from_str("kind"), &JsValue::from_str(e.kind()));
    error.into()
}

#[cfg_attr(feature = "small", optimize(size))]
fn to_js<T: Serialize>(value: &T) -> Result<JsValue, JsValue> {
    // Plain objects, not Maps, so JS code can read fields with dots.
    let s = serde_wasm_bindgen::Serializer::json_compatible();
    value.serialize(&s).map_err(|e| JsError::new(&format!("serialize: {e}")).into())
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
) -> Result<JsValue, JsValue> {
    let cfg = config(alpha, resolution, width, num_classes, output_stride).map_err(js_error)?;
    to_js(&inspect::report(&cfg))
}

#[wasm_bindgen]
extern "C" {
    /// The page's (or worker's) high-resolution clock in ms, for per-layer timing.
    #[wasm_bindgen(js_namespace = performance, js_name = now)]
    fn performance_now() -> f64;
}

/// The counting convention the inspector uses.
#[wasm_bindgen]
pub fn convention() -> String {
    inspect::CONVENTION.to_string()
}

/// Which kernel family this build runs by default ("simd128" on SIMD builds, "relaxed-simd128" on relaxed
/// SIMD builds, else "scalar").
#[wasm_bindgen(js_name = kernelName)]
pub fn kernel_name() -> String {
    crate::kernels::best::<Float>().name.to_string()
}

/// Starts the worker pool of the threaded build: `await initThreadPool(n - 1)` runs on n threads, since
/// the thread that calls the model computes its share too.
#[cfg(all(feature = "threads", target_arch = "wasm32"))]
pub use wasm_bindgen_rayon::init_thread_pool;

/// Test hook: pool workers spin `spins` times after their last layer before reporting finished, so a
/// browser test can make them finish well after the calling thread.
#[cfg(feature = "threads")]
#[doc(hidden)]
#[wasm_bindgen(js_name = __lingerParts, skip_typescript)]
pub fn linger_parts(spins: u32) {
    crate::engine::LINGER_SPINS.store(spins, std::sync::atomic::Ordering::Relaxed);
}

/// How many threads each layer is split across: the calling thread plus the pool's workers in the
/// threaded build, else 1.
#[wasm_bindgen(js_name = threadCount)]
pub fn thread_count() -> usize {
    #[cfg(feature = "threads")]
    return rayon::current_num_threads() + 1;
    #[cfg(not(feature = "threads"))]
    1
}

/// Every kernel family this build has, the scalar reference first.
#[wasm_bindgen(js_name = kernelFamilies)]
pub fn kernel_families() -> Vec<String> {
    crate::kernels::families::<Float>().iter().map(|k| k.name.to_string()).collect()
}

/// Labels from a labels file's text; any other value is a typed error (the npm wrapper also takes arrays).
fn labels_of(value: &JsValue) -> Result<Vec<String>, Error> {
    let text = value.as_string().ok_or_else(|| Error::config("labels must be a labels file's text (one a line)"))?;
    Ok(parse_labels(&text))
}

/// A runnable network: seeded weights for any configuration, or TFLite model files.
#[wasm_bindgen]
pub struct Model {
    classifier: Classifier,
}

/// One ranked class as JS sees it.
#[derive(Serialize)]
struct Ranked<'a> {
    index: usize,
    label: Option<&'a str>,
    score: f32,
}

fn pixel_format(channels: u32) -> Result<PixelFormat, JsValue> {
    match channels {
        3 => Ok(PixelFormat::Rgb),
        4 => Ok(PixelFormat::Rgba),
        c => Err(js_error(Error::shape(format!("channels must be 3 (RGB) or 4 (RGBA), got {c}")))),
    }
}

#[wasm_bindgen]
impl Model {
    /// A model with seeded weights for any alpha and resolution (no file needed).
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn seeded(alpha: f64, resolution: u32, seed: u32, num_classes: Option<u32>) -> Result<Model, JsValue> {
        let cfg = config(alpha, resolution, None, num_classes, None).map_err(js_error)?;
        Ok(Model { classifier: Classifier::seeded(cfg, seed as u64).map_err(js_error)?.with_threads(thread_count()) })
    }

    /// Loads TFLite model bytes: one file, or several run one after the other (an embedding extractor
    /// and its head). Quantized models run bit-exact integer arithmetic unless `float` is true.
    #[wasm_bindgen(js_name = fromTflite)]
    #[cfg_attr(feature = "small", optimize(size))]
    pub fn from_tflite(files: Vec<js_sys::Uint8Array>, float: Option<bool>) -> Result<Model, JsValue> {
        let bytes: Vec<Vec<u8>> = files.iter().map(|f| f.to_vec()).collect();
        let parts: Vec<&[u8]> = bytes.iter().map(Vec::as_slice).collect();
        let precision = if float.unwrap_or(false) { Precision::Float } else { Precision::AsStored };
        let classifier = Classifier::from_tflite(&parts, precision).map_err(js_error)?;
        Ok(Model { classifier: classifier.with_threads(thread_count()) })
    }

    /// Sets the class labels from a labels file's text (one per line; as many as classes). Taken as any JS
    /// value and checked here: the glue of a `&str` parameter would trap on a number.
    #[wasm_bindgen(js_name = setLabels)]
    pub fn set_labels(&mut self, labels: JsValue) -> Result<(), JsValue> {
        self.classifier.set_labels(labels_of(&labels).map_err(js_error)?).map_err(js_error)
    }

    /// Input height and width in pixels.
    #[wasm_bindgen(getter)]
    pub fn resolution(&self) -> Vec<u32> {
        let r = self.classifier.config().resolution;
        vec![r.height as u32, r.width as u32]
    }

    #[wasm_bindgen(getter, js_name = numClasses)]
    pub fn num_classes(&self) -> u32 {
        self.classifier.config().num_classes as u32
    }

    #[wasm_bindgen(getter)]
    pub fn alpha(&self) -> f64 {
        self.classifier.config().alpha
    }

    /// True when the integer (uint8/int8) path runs.
    #[wasm_bindgen(getter)]
    pub fn quantized(&self) -> bool {
        self.classifier.is_quantized()
    }

    /// The number type the layers compute in: "float32", "uint8" or "int8".
    #[wasm_bindgen(getter, js_name = numberType)]
    pub fn number_type(&self) -> String {
        self.classifier.number_type().into()
    }

    /// The kernel family that runs.
    #[wasm_bindgen(getter)]
    pub fn kernels(&self) -> String {
        self.classifier.kernels().to_string()
    }

    /// Whether the model carries labels (or was given them).
    #[wasm_bindgen(getter, js_name = hasLabels)]
    pub fn has_labels(&self) -> bool {
        self.classifier.labels().is_some()
    }

    /// Probabilities for RGB or RGBA bytes (`channels` 3 or 4) of exactly the input size.
    #[wasm_bindgen(js_name = runPixels)]
    pub fn run_pixels(&mut self, pixels: &[u8], channels: u32) -> Result<Vec<f32>, JsValue> {
        let format = pixel_format(channels)?;
        Ok(self.classifier.run_pixels(pixels, format).map_err(js_error)?.to_vec())
    }

    /// The `k` best classes for RGB or RGBA bytes of the input size: `[{index, label, score}]`.
    #[wasm_bindgen(js_name = classifyPixels)]
    pub fn classify_pixels(&mut self, pixels: &[u8], channels: u32, k: u32) -> Result<JsValue, JsValue> {
        let format = pixel_format(channels)?;
        let top = self.classifier.classify_pixels(pixels, format, k as usize).map_err(js_error)?;
        let ranked: Vec<Ranked> = top
            .iter()
            .map(|p| Ranked { index: p.index, label: self.classifier.label(p.index), score: p.score })
            .collect();
        to_js(&ranked)
    }

    /// The embedding (`AvgPool_1a`; dequantized for quantized models) of RGB or RGBA bytes of the input size.
    #[wasm_bindgen(js_name = embeddingPixels)]
    pub fn embedding_pixels(&mut self, pixels: &[u8], channels: u32) -> Result<Vec<f32>, JsValue> {
        let format = pixel_format(channels)?;
        Ok(self.classifier.embedding_pixels(pixels, format).map_err(js_error)?.to_vec())
    }

    /// Each layer's time in ms, in the order of `inspect().layers`, for one run on RGB or RGBA bytes.
    pub fn profile(&mut self, pixels: &[u8], channels: u32) -> Result<Vec<f64>, JsValue> {
        let format = pixel_format(channels)?;
        self.classifier.profile_pixels(pixels, format, &performance_now).map_err(js_error)
    }

    /// The raw output tensor for the raw input tensor: uint8 bytes for quantized models; for float
    /// models the input and output are float32 little-endian bytes.
    #[wasm_bindgen(js_name = runRaw)]
    pub fn run_raw(&mut self, input: &[u8]) -> Result<Vec<u8>, JsValue> {
        self.classifier.run_raw(input).map_err(js_error)
    }

    /// Probabilities for a float input (height·width·3 values, NHWC) — float models only.
    pub fn run(&mut self, input: &[f32]) -> Result<Vec<f32>, JsValue> {
        Ok(self.float_plan()?.run(input).map_err(js_error)?.probabilities.to_vec())
    }

    /// Logits (before softmax) for a float input — float models only.
    pub fn logits(&mut self, input: &[f32]) -> Result<Vec<f32>, JsValue> {
        Ok(self.float_plan()?.run(input).map_err(js_error)?.logits.to_vec())
    }

    /// The output of one end point (e.g. "AvgPool_1a", the embedding), NHWC flattened — float models only.
    #[wasm_bindgen(js_name = runTo)]
    pub fn run_to(&mut self, input: &[f32], end_point: &str) -> Result<Vec<f32>, JsValue> {
        Ok(self.float_plan()?.run_to(input, end_point).map_err(js_error)?.to_vec())
    }

    /// Runs once on the raw input tensor (as `runRaw` takes it) and returns each layer's time,
    /// measured with `performance.now()`: `[{name, ms}]` in layer order.
    #[wasm_bindgen(js_name = profileRaw)]
    pub fn profile_raw(&mut self, input: &[u8]) -> Result<JsValue, JsValue> {
        let times = self.classifier.profile_raw(input, &performance_now).map_err(js_error)?;
        to_js(&times)
    }

    /// Switches to another kernel family of this build, to compare them on the same weights: float models
    /// take one of `kernelFamilies()` ("scalar", "simd128" or "relaxed-simd128"), quantized ones
    /// "scalar-u8" or "simd128-u8".
    #[wasm_bindgen(js_name = useKernels)]
    pub fn use_kernels(&mut self, name: &str) -> Result<(), JsValue> {
        self.classifier.use_kernels(name).map_err(js_error)
    }

    /// Runs a float input once and returns each layer's time in ms, in the order of `inspect().layers`
    /// — float models only.
    #[wasm_bindgen(js_name = profileFloat)]
    pub fn profile_float(&mut self, input: &[f32]) -> Result<Vec<f64>, JsValue> {
        let plan = self.float_plan()?;
        let mut times = vec![0.0; plan.layers().count()];
        plan.profile(input, &performance_now, &mut times).map_err(js_error)?;
        Ok(times)
    }

    /// The inspector report of this model's configuration.
    pub fn inspect(&self) -> Result<JsValue, JsValue> {
        to_js(&inspect::report(self.classifier.config()))
    }

    fn float_plan(&mut self) -> Result<&mut Plan<Float>, JsValue> {
        self.classifier
            .plan_mut::<Float>()
            .ok_or_else(|| js_error(Error::shape("a quantized model takes bytes: use runPixels or runRaw")))
    }
}
