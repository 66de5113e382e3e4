//! `mobilenet train`: a head taught on the embeddings of labelled images, exported after the model's
//! backbone as one .tflite (labels inside), then read back and checked on the training images.

use crate::cli::{load_image, load_model, CliError, Flags};
use mobilenet_wasm::preprocess::resize_bilinear;
use mobilenet_wasm::teach::export;
use mobilenet_wasm::teach::head::{self, TrainOptions};
use mobilenet_wasm::{Classifier, PixelFormat};
use serde::Serialize;
use std::path::Path;

const IMAGE_EXTENSIONS: [&str; 4] = ["bmp", "png", "jpg", "jpeg"];

/// One `--class LABEL=PATH[,PATH…]`: the label and its image files (folders expanded, sorted).
struct Class {
    label: String,
    images: Vec<String>,
}

#[derive(Serialize)]
struct Trained<'a> {
    out: &'a str,
    bytes: usize,
    classes: Vec<(&'a str, usize)>,
    iterations: usize,
    loss: f32,
    /// The head's accuracy on its training examples, and the exported file's (run by our engine).
    training_accuracy: f32,
    exported_accuracy: f32,
}

pub fn train(args: &[String]) -> Result<String, CliError> {
    let (class_args, rest) = take_repeated(args, "class")?;
    let flags = Flags::parse(&rest, &["model", "epochs", "seed", "hidden", "l2", "out"], &["json"], false)?;
    let models = flags.get("model").ok_or_else(|| CliError::usage("train needs --model FILE"))?;
    let out = flags.get("out").ok_or_else(|| CliError::usage("train needs --out FILE.tflite"))?;
    let classes = class_args.iter().map(|a| parse_class(a)).collect::<Result<Vec<_>, _>>()?;
    if classes.len() < 2 {
        return Err(CliError::usage("train needs at least two --class LABEL=PATH"));
    }
    if let Some((i, c)) = classes.iter().enumerate().find(|(i, c)| classes[..*i].iter().any(|o| o.label == c.label)) {
        return Err(CliError::usage(format!("class {:?} is given twice (--class {})", c.label, i + 1)));
    }
    let options = TrainOptions {
        hidden: match flags.number("hidden", 0)? {
            0 => None,
            h => Some(h),
        },
        l2: flags.number("l2", TrainOptions::default().l2)?,
        max_iterations: flags.number("epochs", TrainOptions::default().max_iterations)?,
        seed: flags.number("seed", TrainOptions::default().seed)?,
    };
    let mut model = load_model(models, false)?;
    let (examples, labels) = embeddings(&mut model, &classes)?;
    let dim = examples.len() / labels.len().max(1);
    let (head, report) = head::train(&examples, dim, &labels, classes.len(), &options, &mut |_| {})?;
    let names: Vec<String> = classes.iter().map(|c| c.label.clone()).collect();
    let first = models.split(',').find(|p| !p.is_empty()).unwrap_or(models);
    let source = std::fs::read(first).map_err(|e| CliError::usage(format!("{first}: {e}")))?;
    let bytes = export::tflite(&source, &head, &examples, &names)?;
    std::fs::write(out, &bytes).map_err(|e| CliError::usage(format!("{out}: {e}")))?;
    let exported_accuracy = check_exported(out, &classes)?;
    let summary = Trained {
        out,
        bytes: bytes.len(),
        classes: classes.iter().map(|c| (c.label.as_str(), c.images.len())).collect(),
        iterations: report.iterations,
        loss: report.loss,
        training_accuracy: report.accuracy,
        exported_accuracy,
    };
    if flags.has("json") {
        return serde_json::to_string(&summary).map(|s| s + "\n").map_err(|e| CliError::usage(e.to_string()));
    }
    Ok(text(&summary))
}

fn text(t: &Trained<'_>) -> String {
    let per_class: Vec<String> = t.classes.iter().map(|(l, n)| format!("{l} ({n})")).collect();
    format!(
        "taught {} classes: {}\n{} iterations, loss {:.4}, training accuracy {:.1}%\n\
         wrote {} bytes to {}; it classifies the training images {:.1}% right\n",
        t.classes.len(),
        per_class.join(", "),
        t.iterations,
        t.loss,
        100.0 * t.training_accuracy,
        t.bytes,
        t.out,
        100.0 * t.exported_accuracy
    )
}

/// Every `--name value` (or `--name=value`) out of `args`, and the rest.
fn take_repeated(args: &[String], name: &str) -> Result<(Vec<String>, Vec<String>), CliError> {
    let flag = format!("--{name}");
    let (mut taken, mut rest) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        if *a == flag {
            taken.push(it.next().cloned().ok_or_else(|| CliError::usage(format!("{flag} needs a value")))?);
        } else if let Some(v) = a.strip_prefix(&format!("{flag}=")) {
            taken.push(v.to_string());
        } else {
            rest.push(a.clone());
        }
    }
    Ok((taken, rest))
}

fn parse_class(arg: &str) -> Result<Class, CliError> {
    let (label, paths) =
        arg.split_once('=').ok_or_else(|| CliError::usage(format!("--class {arg:?} is not LABEL=PATH[,PATH...]")))?;
    if label.is_empty() || label.contains(['\n', '\r']) {
        return Err(CliError::usage(format!("--class {arg:?}: the label must be one non-empty line")));
    }
    let mut images = Vec::new();
    for path in paths.split(',').filter(|p| !p.is_empty()) {
        images.extend(expand(path)?);
    }
    if images.is_empty() {
        return Err(CliError::usage(format!("class {label:?} has no images")));
    }
    Ok(Class { label: label.to_string(), images })
}

/// A file as it is; a folder as its image files (by extension), sorted so runs are repeatable.
fn expand(path: &str) -> Result<Vec<String>, CliError> {
    let p = Path::new(path);
    if !p.is_dir() {
        return Ok(vec![path.to_string()]);
    }
    let entries = std::fs::read_dir(p).map_err(|e| CliError::usage(format!("{path}: {e}")))?;
    let mut files: Vec<String> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| {
            let ext = f.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            ext.is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
        })
        .map(|f| f.display().to_string())
        .collect();
    files.sort();
    Ok(files)
}

/// The model-sized RGB pixels of an image file.
fn pixels(model: &Classifier, path: &str) -> Result<Vec<u8>, CliError> {
    let image = load_image(path).map_err(|e| CliError::usage(format!("{path}: {e}")))?;
    let r = model.config().resolution;
    Ok(resize_bilinear(&image.rgb, image.width, image.height, 3, r.width, r.height)?)
}

/// Every image's embedding (rows, flat) and its class index.
fn embeddings(model: &mut Classifier, classes: &[Class]) -> Result<(Vec<f32>, Vec<usize>), CliError> {
    let (mut rows, mut labels) = (Vec::new(), Vec::new());
    for (c, class) in classes.iter().enumerate() {
        for path in &class.images {
            let rgb = pixels(model, path)?;
            rows.extend_from_slice(model.embedding_pixels(&rgb, PixelFormat::Rgb)?);
            labels.push(c);
        }
    }
    Ok((rows, labels))
}

/// The share of training images the written file puts in their own class (top-1 by label).
fn check_exported(out: &str, classes: &[Class]) -> Result<f32, CliError> {
    let mut model = load_model(out, false)?;
    let (mut right, mut total) = (0usize, 0usize);
    for class in classes {
        for path in &class.images {
            let rgb = pixels(&model, path)?;
            let top = model.classify_pixels(&rgb, PixelFormat::Rgb, 1)?;
            right += usize::from(top.first().is_some_and(|p| model.label(p.index) == Some(class.label.as_str())));
            total += 1;
        }
    }
    Ok(right as f32 / total.max(1) as f32)
}
