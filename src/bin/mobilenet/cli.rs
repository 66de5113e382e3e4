//! Argument parsing, exit codes and the `classify` command.

use mobilenet_wasm::preprocess::{resize_bilinear, Normalization};
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::{top_k, Classifier, Config, Error, PixelFormat, Resolution, Weights};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// A failure with the exit code it maps to: 2 for arguments and input, 3 for the model. `message` has one
/// line per failure; `output` is what succeeded before it (the images that did classify), printed first.
#[derive(Debug)]
pub struct CliError {
    pub code: u8,
    pub message: String,
    pub output: String,
}

impl CliError {
    pub fn usage(message: impl Into<String>) -> Self {
        CliError { code: 2, message: message.into(), output: String::new() }
    }

    /// The same failure, blamed on the model (exit 3).
    fn of_model(self) -> Self {
        CliError { code: 3, ..self }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let code = if e.is_model_error() { 3 } else { 2 };
        let message = match e {
            Error::Config(m) => m,
            other => other.to_string(),
        };
        CliError { code, message, output: String::new() }
    }
}

/// `--name value` options, `--name` switches (each at most once) and, where allowed, positional arguments.
pub struct Flags {
    values: HashMap<String, String>,
    pub positional: Vec<String>,
}

impl Flags {
    pub fn parse(args: &[String], options: &[&str], switches: &[&str], positional: bool) -> Result<Flags, CliError> {
        let mut flags = Flags { values: HashMap::new(), positional: Vec::new() };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(body) = arg.strip_prefix("--") else {
                if positional {
                    flags.positional.push(arg.clone());
                    continue;
                }
                return Err(CliError::usage(format!("unexpected argument {arg:?}")));
            };
            let (name, inline) = body.split_once('=').map_or((body, None), |(n, v)| (n, Some(v.to_string())));
            let value = if switches.contains(&name) && inline.is_none() {
                String::new()
            } else if options.contains(&name) {
                match inline.or_else(|| it.next().cloned()) {
                    Some(v) => v,
                    None => return Err(CliError::usage(format!("--{name} needs a value"))),
                }
            } else {
                return Err(CliError::usage(format!("unknown flag --{name}")));
            };
            if flags.values.insert(name.to_string(), value).is_some() {
                return Err(CliError::usage(format!("--{name} given twice")));
            }
        }
        Ok(flags)
    }

    pub fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, CliError> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| CliError::usage(format!("--{name} {v:?} is not a valid number"))),
        }
    }

    fn resolution(&self) -> Result<Resolution, CliError> {
        let Some(v) = self.values.get("resolution") else { return Ok(Resolution::square(224)) };
        let side =
            |s: &str| s.parse::<usize>().map_err(|_| CliError::usage(format!("--resolution {v:?} is not N or HxW")));
        match v.split_once('x') {
            Some((h, w)) => Ok(Resolution { height: side(h)?, width: side(w)? }),
            None => Ok(Resolution::square(side(v)?)),
        }
    }

    pub fn config(&self) -> Result<Config, CliError> {
        Ok(Config::default()
            .with_alpha(self.number("alpha", 1.0)?)?
            .with_resolution(self.resolution()?)?
            .with_num_classes(self.number("classes", 1001)?)?
            .with_output_stride(self.number("output-stride", 32)?)?)
    }
}

fn read_file(path: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|e| CliError::usage(format!("{path}: {e}")))
}

/// Loads `a.tflite` or `a.tflite,b.tflite` (run one after the other).
pub fn load_model(list: &str, float: bool) -> Result<Classifier, CliError> {
    let files = list.split(',').filter(|p| !p.is_empty()).map(read_file).collect::<Result<Vec<_>, _>>()?;
    if files.is_empty() {
        return Err(CliError::usage("--model needs at least one file"));
    }
    let parts: Vec<&[u8]> = files.iter().map(Vec::as_slice).collect();
    let precision = if float { Precision::Float } else { Precision::AsStored };
    // Whatever fails here is the files' fault (NaN weights, a chain whose links do not fit, too large a model).
    Classifier::from_tflite(&parts, precision).map_err(|e| {
        let err = CliError::from(e);
        CliError { message: format!("{list}: {}", err.message), ..err }.of_model()
    })
}

#[derive(Serialize)]
struct Ranked {
    index: usize,
    label: Option<String>,
    score: f32,
}

#[derive(Serialize)]
struct Classified {
    image: String,
    top: Vec<Ranked>,
}

pub fn classify(args: &[String]) -> Result<String, CliError> {
    let flags = Flags::parse(args, &["model", "labels", "top", "input-raw", "output-raw"], &["json", "float"], true)?;
    let models = flags.get("model").ok_or_else(|| CliError::usage("classify needs --model FILE"))?;
    let mut model = load_model(models, flags.has("float"))?;
    if let Some(path) = flags.get("labels") {
        let text = String::from_utf8(read_file(path)?).map_err(|_| CliError::usage(format!("{path}: not UTF-8")))?;
        model = model.with_labels(mobilenet_wasm::classifier::parse_labels(&text))?;
    }
    let k = top(&flags)?;
    let mut results = Vec::new();
    match (flags.get("input-raw"), flags.positional.is_empty()) {
        (Some(raw), true) => results.push(Ok(classify_raw(&mut model, raw, flags.get("output-raw"), k)?)),
        (Some(_), false) => return Err(CliError::usage("give either --input-raw or images, not both")),
        (None, true) => return Err(CliError::usage("no image given")),
        (None, false) => {
            if flags.has("output-raw") {
                return Err(CliError::usage("--output-raw needs --input-raw"));
            }
            // Each image on its own: one that fails is reported beside the others' results.
            for path in &flags.positional {
                results.push(classify_image(&mut model, path, k).map_err(|e| (path, e)));
            }
        }
    }
    let output = if flags.has("json") {
        let entries: Vec<Entry> = results.iter().map(Entry::of).collect();
        serde_json::to_string(&entries).map(|s| s + "\n").map_err(|e| CliError::usage(e.to_string()))?
    } else {
        results.iter().flatten().map(text).collect()
    };
    let failures: Vec<&(&String, CliError)> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    let Some(code) = failures.iter().map(|(_, e)| e.code).max() else { return Ok(output) };
    let message = failures.iter().map(|(path, e)| about(path, &e.message)).collect::<Vec<_>>().join("\n");
    Err(CliError { code, message, output })
}

/// `--top K` (default 5): at least one, as the npm wrapper's `topk`.
pub fn top(flags: &Flags) -> Result<usize, CliError> {
    match flags.number("top", 5)? {
        0 => Err(CliError::usage("--top must be at least 1")),
        k => Ok(k),
    }
}

/// `message` about the file at `path`, named once.
fn about(path: &str, message: &str) -> String {
    if message.contains(path) {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

/// One image's line of `--json` output: its top classes, or why it has none.
#[derive(Serialize)]
#[serde(untagged)]
enum Entry<'a> {
    Classified(&'a Classified),
    Failed { image: &'a str, error: String },
}

impl<'a> Entry<'a> {
    fn of(r: &'a Result<Classified, (&String, CliError)>) -> Entry<'a> {
        match r {
            Ok(c) => Entry::Classified(c),
            Err((path, e)) => Entry::Failed { image: path.as_str(), error: about(path, &e.message) },
        }
    }
}

fn ranked(model: &Classifier, probabilities: &[f32], k: usize) -> Vec<Ranked> {
    top_k(probabilities, k)
        .into_iter()
        .map(|p| {
            // Without labels (from the file or --labels), classes are named by index, as the npm package does.
            let label = model.label(p.index).map_or_else(|| format!("class {}", p.index), String::from);
            Ranked { index: p.index, label: Some(label), score: p.score }
        })
        .collect()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn load_image(path: &str) -> Result<mobilenet_wasm::Image, Error> {
    mobilenet_wasm::image_file::load_rgb(std::path::Path::new(path))
}

/// The CLI is a native program; a wasm build of it has no file decoding.
#[cfg(target_arch = "wasm32")]
pub fn load_image(_path: &str) -> Result<mobilenet_wasm::Image, Error> {
    Err(Error::Image("image files are decoded by native builds only".into()))
}

fn classify_image(model: &mut Classifier, path: &str, k: usize) -> Result<Classified, CliError> {
    let image = load_image(path).map_err(|e| CliError::usage(format!("{path}: {e}")))?;
    let r = model.config().resolution;
    let rgb = resize_bilinear(&image.rgb, image.width, image.height, 3, r.width, r.height)?;
    let probabilities = model.run_pixels(&rgb, PixelFormat::Rgb)?.to_vec();
    Ok(Classified { image: path.to_string(), top: ranked(model, &probabilities, k) })
}

fn classify_raw(model: &mut Classifier, path: &str, output: Option<&str>, k: usize) -> Result<Classified, CliError> {
    let input = read_file(path)?;
    let raw = model.run_raw(&input)?;
    if let Some(out) = output {
        std::fs::write(out, &raw).map_err(|e| CliError::usage(format!("{out}: {e}")))?;
    }
    let probabilities = model.last_probabilities().to_vec();
    Ok(Classified { image: path.to_string(), top: ranked(model, &probabilities, k) })
}

fn text(c: &Classified) -> String {
    let mut s = format!("{}\n", c.image);
    for (rank, r) in c.top.iter().enumerate() {
        let label = r.label.as_deref().unwrap_or("");
        s += &format!("  {:>2}. {:>4}  {:<28} {:.4}\n", rank + 1, r.index, label, r.score);
    }
    s
}

/// `export-tflite`: the seeded network as a float32 .tflite (batch norm folded in), with TFLite Metadata
/// stating our x/127.5 − 1 input rule when `--metadata` is given (MediaPipe needs it for float models).
pub fn export_tflite(args: &[String]) -> Result<String, CliError> {
    let options = ["alpha", "resolution", "classes", "output-stride", "seed", "out"];
    let flags = Flags::parse(args, &options, &["metadata"], false)?;
    let out = flags.get("out").ok_or_else(|| CliError::usage("export-tflite needs --out FILE.tflite"))?;
    let cfg = flags.config()?;
    mobilenet_wasm::engine::budget::check(&cfg, std::mem::size_of::<f32>())?;
    let weights = Weights::seeded(&cfg, flags.number("seed", 1)?);
    let normalization = flags.has("metadata").then_some(Normalization::MINUS_ONE_ONE);
    let bytes = mobilenet_wasm::tflite::writer::write_float(&cfg, &weights, normalization)?;
    std::fs::write(out, &bytes).map_err(|e| CliError::usage(format!("{out}: {e}")))?;
    let with = if normalization.is_some() { " with metadata" } else { "" };
    Ok(format!("wrote {} bytes of float32 TFLite{with} to {out}\n", bytes.len()))
}

/// `export-weights`: the seeded network's folded weights as DIR/weights.json (manifest) and
/// DIR/weights.bin (little-endian f32), for building the same network in other engines.
pub fn export_weights(args: &[String]) -> Result<String, CliError> {
    let flags = Flags::parse(args, &["alpha", "resolution", "classes", "output-stride", "seed", "out"], &[], false)?;
    let out = Path::new(flags.get("out").ok_or_else(|| CliError::usage("export-weights needs --out DIR"))?);
    let cfg = flags.config()?;
    mobilenet_wasm::engine::budget::check(&cfg, std::mem::size_of::<f32>())?;
    let weights = Weights::seeded(&cfg, flags.number("seed", 1)?);
    let (manifest, blob) = mobilenet_wasm::export::folded_weights(&cfg, &weights)?;
    let json = serde_json::to_string_pretty(&manifest).map_err(|e| CliError::usage(e.to_string()))?;
    let write = |name: &str, bytes: &[u8]| {
        let path = out.join(name);
        std::fs::write(&path, bytes).map_err(|e| CliError::usage(format!("{}: {e}", path.display())))
    };
    std::fs::create_dir_all(out).map_err(|e| CliError::usage(format!("{}: {e}", out.display())))?;
    write("weights.json", json.as_bytes())?;
    write("weights.bin", &blob)?;
    Ok(format!("wrote {} layers, {} bytes of f32 to {}\n", manifest.layers.len(), blob.len(), out.display()))
}
