//! `mobilenet bench`: native inference speed, measured as the browser benchmark measures it
//! (median and p90 of many runs after warm-ups), with an optional per-layer breakdown.

use crate::cli::{load_model, CliError, Flags};
use mobilenet_wasm::inspect;
use mobilenet_wasm::{Classifier, PixelFormat};
use serde::Serialize;
use std::time::Instant;

#[derive(Serialize)]
struct Measurement {
    engine: &'static str,
    kernels: &'static str,
    alpha: f64,
    resolution: usize,
    dtype: &'static str,
    threads: usize,
    median_ms: f64,
    p90_ms: f64,
    runs: usize,
    gmacs: f64,
}

pub fn run(args: &[String]) -> Result<String, CliError> {
    let options = ["alpha", "resolution", "classes", "output-stride", "model", "runs", "warmup", "threads", "seed"];
    let flags = Flags::parse(args, &options, &["json", "layers", "float"], false)?;
    let threads: usize = flags.number("threads", 1)?;
    let model = match flags.get("model") {
        Some(files) => load_model(files, flags.has("float"))?,
        None => Classifier::seeded(flags.config()?, flags.number("seed", 1)?)?,
    }
    .with_threads(threads.max(1));
    let (runs, warmup): (usize, usize) = (flags.number("runs", 50)?, flags.number("warmup", 10)?);
    if runs == 0 {
        return Err(CliError::usage("--runs must be at least 1"));
    }
    let mut model = model;
    let times = time_runs(&mut model, runs, warmup)?;
    let cfg = model.config().clone();
    let macs = inspect::report(&cfg).totals.macs as f64;
    let m = Measurement {
        engine: "ours-native",
        kernels: model.kernels(),
        alpha: cfg.alpha,
        resolution: cfg.resolution.height,
        dtype: if model.is_quantized() { "u8" } else { "f32" },
        threads: threads.max(1),
        median_ms: percentile(&times, 0.5),
        p90_ms: percentile(&times, 0.9),
        runs,
        gmacs: macs / percentile(&times, 0.5) / 1e6,
    };
    let mut out = if flags.has("json") {
        serde_json::to_string(&m).map_err(|e| CliError::usage(e.to_string()))? + "\n"
    } else {
        format!(
            "native {} {} α{} {}x{} threads {}: median {:.2} ms, p90 {:.2} ms over {} runs ({:.1} GMAC/s)\n",
            m.kernels,
            m.dtype,
            m.alpha,
            cfg.resolution.height,
            cfg.resolution.width,
            m.threads,
            m.median_ms,
            m.p90_ms,
            m.runs,
            m.gmacs
        )
    };
    if flags.has("layers") {
        out += &layers(&mut model)?;
    }
    Ok(out)
}

/// A fixed mid-grey input, run `warmup` times untimed and `runs` times timed (ms each).
fn time_runs(model: &mut Classifier, runs: usize, warmup: usize) -> Result<Vec<f64>, CliError> {
    let r = model.config().resolution;
    let pixels: Vec<u8> = (0..r.height * r.width * 3).map(|i| (i * 37 % 251) as u8).collect();
    for _ in 0..warmup {
        model.run_pixels(&pixels, PixelFormat::Rgb)?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        model.run_pixels(&pixels, PixelFormat::Rgb)?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(times)
}

fn percentile(times: &[f64], q: f64) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// Per-layer time (median of 20 profiled runs) and GMAC/s.
fn layers(model: &mut Classifier) -> Result<String, CliError> {
    let cfg = model.config().clone();
    let costs = inspect::layer_costs(&cfg);
    let clock = Instant::now();
    let now = || clock.elapsed().as_secs_f64() * 1e3;
    let mut samples = vec![Vec::new(); costs.len()];
    let mut times = vec![0.0; costs.len()];
    let r = cfg.resolution;
    // Mid-grey: values do not change the work, and every domain takes pixels.
    let pixels = vec![128u8; r.height * r.width * 3];
    for _ in 0..20 {
        times.copy_from_slice(&model.profile_pixels(&pixels, PixelFormat::Rgb, &now)?);
        samples.iter_mut().zip(&times).for_each(|(s, t)| s.push(*t));
    }
    let mut out = format!("{:<22} {:>9} {:>9} {:>8}\n", "layer", "ms", "MMAC", "GMAC/s");
    for (c, s) in costs.iter().zip(&samples) {
        let ms = percentile(s, 0.5);
        let rate = if ms > 0.0 { c.macs as f64 / ms / 1e6 } else { 0.0 };
        out += &format!("{:<22} {:>9.3} {:>9.2} {:>8.1}\n", c.name, ms, c.macs as f64 / 1e6, rate);
    }
    Ok(out)
}
