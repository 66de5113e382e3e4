//! `mobilenet`: the native command line over the same library the browser runs.
//!
//!   mobilenet inspect --alpha A --resolution R [--classes N] [--output-stride S] [--json]
//!   mobilenet inspect --model FILE[,FILE2…] [--json]
//!   mobilenet run --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--top K]
//!   mobilenet classify --model FILE[,FILE2…] [--labels FILE] [--top K] [--json] [--float] IMAGE…
//!   mobilenet classify --model FILE[,FILE2…] --input-raw FILE [--output-raw FILE] [--top K] [--json]
//!   mobilenet bench [--alpha A --resolution R | --model FILE[,FILE2…]] [--runs N] [--warmup N] [--threads T] [--layers] [--json]
//!   mobilenet export-weights --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] --out DIR
//!   mobilenet export-tflite --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--metadata] --out FILE
//!   mobilenet train --model FILE[,FILE2] --class LABEL=PATH[,PATH…] --class … [--epochs N] [--seed S] [--hidden H] --out FILE.tflite [--json]
//!
//! Exit codes: 0 ok; 2 bad arguments or input (one line on stderr); 3 a bad or unsupported model.

mod bench;
mod cli;
mod train;

use cli::{CliError, Flags};
use mobilenet_wasm::inspect::{self, Report};
use mobilenet_wasm::{top_k, Config, Plan};
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:
  mobilenet inspect --alpha A --resolution R [--classes N] [--output-stride S] [--json]
  mobilenet inspect --model FILE[,FILE2...] [--json]
  mobilenet run --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--top K]
  mobilenet classify --model FILE[,FILE2...] [--labels FILE] [--top K] [--json] [--float] IMAGE...
  mobilenet classify --model FILE[,FILE2...] --input-raw FILE [--output-raw FILE] [--top K] [--json]
  mobilenet export-weights --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] --out DIR
  mobilenet export-tflite --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--metadata]
                          --out FILE.tflite

  R is a side in pixels (224) or HEIGHTxWIDTH (192x256). Defaults: alpha 1.0, resolution 224,
  classes 1001 (class 0 = background), output stride 32, seed 1, top 5.
  --model takes one .tflite file, or several run one after the other (extractor,head).
  Images (BMP, PNG, JPEG) are resized to the model input (bilinear, whole image).
  --input-raw: the exact input tensor (HWC RGB uint8, or f32 for float models);
  --output-raw: write the output tensor as stored (uint8 bytes, or f32 little-endian).
  --float runs a quantized model in float (dequantized weights).
  mobilenet bench [--alpha A --resolution R | --model FILE[,FILE2...]] [--runs N] [--warmup N]
                  [--threads T] [--layers] [--json]
    times native inference: median and p90 of N runs (default 50 after 10 warm-ups), GMAC/s;
    --threads splits layers across T workers (build with --features threads to run them in parallel).
  export-weights writes the seeded network's weights, batch norm folded, in TF layouts:
  DIR/weights.json (layers, shapes, byte offsets) and DIR/weights.bin (little-endian f32).
  export-tflite writes the same network as a float32 .tflite that TFLite and MediaPipe run; --metadata adds
  TFLite Metadata (input normalization mean 127.5, std 127.5), which MediaPipe needs for float models.
  mobilenet train --model FILE[,FILE2...] --class LABEL=PATH[,PATH...] --class ... [--epochs N] [--seed S]
                  [--hidden H] [--l2 L] --out FILE.tflite [--json]
    teaches new classes: PATHs are images or folders of them; a softmax head (one ReLU layer of H units
    with --hidden) is trained on the model's embeddings (AvgPool_1a) for at most N L-BFGS iterations
    (default 200), then written after the model's backbone as one .tflite with the labels inside, in the
    model's own number type; classify --model FILE.tflite then uses its labels.
  Exit codes: 0 ok, 2 bad arguments or input, 3 bad or unsupported model.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            print!("{}", e.output);
            for line in e.message.lines() {
                eprintln!("mobilenet: {line}");
            }
            ExitCode::from(e.code)
        }
    }
}

fn run(args: &[String]) -> Result<String, CliError> {
    let Some((command, rest)) = args.split_first() else { return Err(CliError::usage("no command (try --help)")) };
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(format!("{USAGE}\n")),
        "inspect" => {
            let flags =
                Flags::parse(rest, &["alpha", "resolution", "classes", "output-stride", "model"], &["json"], false)?;
            let cfg = match flags.get("model") {
                Some(models) => cli::load_model(models, false)?.config().clone(),
                None => flags.config()?,
            };
            let report = inspect::report(&cfg);
            if flags.has("json") {
                serde_json::to_string(&report).map(|s| s + "\n").map_err(|e| CliError::usage(e.to_string()))
            } else {
                Ok(table(&report))
            }
        }
        "run" => {
            let flags =
                Flags::parse(rest, &["alpha", "resolution", "classes", "output-stride", "seed", "top"], &[], false)?;
            run_seeded(&flags.config()?, flags.number("seed", 1)?, cli::top(&flags)?).map_err(CliError::from)
        }
        "classify" => cli::classify(rest),
        "bench" => bench::run(rest),
        "export-weights" => cli::export_weights(rest),
        "export-tflite" => cli::export_tflite(rest),
        "train" => train::train(rest),
        other => Err(CliError::usage(format!(
            "unknown command {other:?} (expected inspect, run, classify, bench, export-weights, export-tflite or \
             train; try --help)"
        ))),
    }
}

fn run_seeded(cfg: &Config, seed: u64, k: usize) -> Result<String, mobilenet_wasm::Error> {
    let build = Instant::now();
    let mut plan = Plan::seeded(cfg.clone(), seed)?;
    let build_ms = build.elapsed().as_secs_f64() * 1e3;
    let mut rng = mobilenet_wasm::rng::Rng::new(seed ^ 0x5eed);
    let input = rng.fill_uniform(plan.input_len(), -1.0, 1.0);
    let kernels = plan.kernels().name;
    let start = Instant::now();
    let out = plan.run(&input)?;
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let mut s = format!(
        "seeded MobileNet v1: alpha {} resolution {} classes {} seed {seed} (kernels: {})\n",
        cfg.alpha, cfg.resolution, cfg.num_classes, kernels
    );
    s += "rank  class  probability\n";
    for (rank, p) in top_k(out.probabilities, k).iter().enumerate() {
        s += &format!("{:>4}  {:>5}  {:.6}\n", rank + 1, p.index, p.score);
    }
    s += &format!("inference {ms:.2} ms (plan built in {build_ms:.1} ms)\n");
    Ok(s)
}

/// 1234567 → "1,234,567".
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn table(r: &Report) -> String {
    let c = &r.config;
    let mut s = format!(
        "MobileNet v1  alpha {}  resolution {}  output stride {}  classes {}\n",
        c.alpha, c.resolution, c.output_stride, c.num_classes
    );
    s += &format!(
        "{:<20} {:<9} {:>6} {:>6} {:>4}  {:>13}  {:>13} {:>11} {:>13} {:>6}\n",
        "end point", "op", "kernel", "stride", "rate", "input", "output", "params", "MACs", "MACs%"
    );
    for l in &r.layers {
        s += &format!(
            "{:<20} {:<9} {:>6} {:>6} {:>4}  {:>13}  {:>13} {:>11} {:>13} {:>6.2}\n",
            l.name,
            l.op.name(),
            format!("{}x{}", l.kernel[0], l.kernel[1]),
            l.stride,
            l.rate,
            l.input.to_string(),
            l.output.to_string(),
            grouped(l.params),
            grouped(l.macs),
            100.0 * l.macs as f64 / r.totals.macs.max(1) as f64
        );
    }
    s += &format!("{:<79} {:>11} {:>13}\n", "total", grouped(r.totals.params), grouped(r.totals.macs));
    s += "\nshare by layer type        params    params%            MACs    MACs%\n";
    for sh in &r.shares {
        s += &format!(
            "  {:<18} {:>12} {:>9.2}% {:>15} {:>7.2}%\n",
            sh.op.name(),
            grouped(sh.params),
            sh.params_percent,
            grouped(sh.macs),
            sh.macs_percent
        );
    }
    s += "\nseparable block vs a standard 3x3 conv (same channels and stride)\n";
    s += &format!(
        "  {:<10} {:>11} {:>13} {:>13} {:>15} {:>8} {:>12}\n",
        "block", "in->out", "sep. MACs", "sep. params", "standard MACs", "ratio", "1/N + 1/9"
    );
    for b in &r.separable {
        s += &format!(
            "  {:<10} {:>11} {:>13} {:>13} {:>15} {:>8.4} {:>12}\n",
            b.block,
            format!("{}->{}", b.in_channels, b.out_channels),
            grouped(b.separable.macs),
            grouped(b.separable.params),
            grouped(b.standard.macs),
            b.ratio,
            b.predicted_ratio.map_or("-".into(), |p| format!("{p:.4}"))
        );
    }
    s += &format!("\nconvention: {}\n", inspect::CONVENTION);
    s
}
