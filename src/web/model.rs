//! The JavaScript API of the engine's build (`#[wasm_bindgen]`): models, the inspector, pixels. It holds no math.

use super::{js_error, strings, to_js};
use crate::arch::{Config, Resolution};
use crate::classifier::{parse_labels, Classifier};
use crate::engine::{Float, Plan};
use crate::error::Error;
use crate::inspect;
use crate::preprocess::{resize_bilinear, Image, PixelFormat};
use crate::tflite::import::Precision;
use serde::Serialize;
use wasm_bindgen::prelude::*;

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

/// RGB or RGBA bytes (`channels` 3 or 4; alpha is dropped) of `width`×`height` pixels resized to
/// `to_width`×`to_height` RGB, byte for byte as Pillow's bilinear `resize` (how the reference inputs were
/// made). The npm wrapper uses it where there is no canvas to resize with (Node).
#[wasm_bindgen(js_name = resizePixels)]
#[cfg_attr(feature = "small", optimize(size))]
pub fn resize_pixels(
    pixels: &[u8],
    channels: u32,
    width: u32,
    height: u32,
    to_width: u32,
    to_height: u32,
) -> Result<Vec<u8>, JsValue> {
    let (w, h, to) = (width as usize, height as usize, (to_width as usize, to_height as usize));
    // RGB is read where it lies in wasm memory; RGBA loses its alpha first (one copy either way).
    let rgb = match pixel_format(channels)? {
        PixelFormat::Rgb => resize_bilinear(pixels, w, h, 3, to.0, to.1),
        PixelFormat::Rgba => Image::from_rgba(w, h, pixels).and_then(|i| i.resized(to.0, to.1)).map(|i| i.rgb),
    };
    rgb.map_err(js_error)
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

    /// One run on RGB or RGBA bytes of the input size, keeping the named end points (TF-slim names, an array of
    /// strings): `{probabilities: Float32Array, top: [{index, label, score}] (the k best; none for k = 0),
    /// endPoints: {name: {shape: [h, w, c], data: Float32Array}}}`, end points as real values (dequantized for
    /// quantized models), from the same run as the probabilities.
    #[cfg_attr(feature = "small", optimize(size))]
    #[wasm_bindgen(js_name = runKeeping)]
    pub fn run_keeping(
        &mut self,
        pixels: &[u8],
        channels: u32,
        end_points: JsValue,
        k: u32,
    ) -> Result<JsValue, JsValue> {
        let format = pixel_format(channels)?;
        let names = strings(&end_points, "endPoints")?;
        let kept = self.classifier.run_keeping(pixels, format, &names).map_err(js_error)?;
        let maps = js_sys::Object::new();
        for (name, (shape, data)) in names.iter().zip(&kept.end_points) {
            let map = js_sys::Object::new();
            let dims: js_sys::Array = shape.iter().map(|&d| JsValue::from(d as u32)).collect();
            set(&map, "shape", &dims)?;
            set(&map, "data", &js_sys::Float32Array::from(data.as_slice()))?;
            set(&maps, name, &map)?;
        }
        let top: Vec<Ranked> = crate::top_k(&kept.probabilities, k as usize)
            .iter()
            .map(|p| Ranked { index: p.index, label: self.classifier.label(p.index), score: p.score })
            .collect();
        let out = js_sys::Object::new();
        set(&out, "probabilities", &js_sys::Float32Array::from(kept.probabilities.as_slice()))?;
        set(&out, "top", &to_js(&top)?)?;
        set(&out, "endPoints", &maps)?;
        Ok(out.into())
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

/// `object[key] = value`.
fn set(object: &js_sys::Object, key: &str, value: &JsValue) -> Result<(), JsValue> {
    js_sys::Reflect::set(object, &JsValue::from_str(key), value).map(drop)
}
