//! `mobilenet`: the native command line over the same library the browser runs.
//!
//!   mobilenet inspect --alpha A --resolution R [--classes N] [--output-stride S] [--json]
//!   mobilenet run --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--top K]
//!
//! Bad arguments print one line on stderr and exit with code 2.

use mobilenet_wasm::inspect::{self, Report};
use mobilenet_wasm::{top_k, Config, Error, Plan, Resolution};
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage:
  mobilenet inspect --alpha A --resolution R [--classes N] [--output-stride S] [--json]
  mobilenet run --alpha A --resolution R [--seed S] [--classes N] [--output-stride S] [--top K]

  R is a side in pixels (224) or HEIGHTxWIDTH (192x256). Defaults: alpha 1.0, resolution 224,
  classes 1001 (class 0 = background), output stride 32, seed 1, top 5.";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(msg) => {
            eprintln!("mobilenet: {msg}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<String, String> {
    let Some((command, rest)) = args.split_first() else { return Err("no command (try --help)".into()) };
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(format!("{USAGE}\n")),
        "inspect" => {
            let flags = Flags::parse(rest, &["alpha", "resolution", "classes", "output-stride"], &["json"])?;
            let report = inspect::report(&flags.config()?);
            if flags.has("json") {
                serde_json::to_string(&report).map(|s| s + "\n").map_err(|e| e.to_string())
            } else {
                Ok(table(&report))
            }
        }
        "run" => {
            let flags = Flags::parse(rest, &["alpha", "resolution", "classes", "output-stride", "seed", "top"], &[])?;
            run_seeded(&flags.config()?, flags.number("seed", 1)?, flags.number("top", 5)?).map_err(|e| e.to_string())
        }
        other => Err(format!("unknown command {other:?} (expected inspect or run; try --help)")),
    }
}

/// `--name value` options and `--name` switches, each allowed at most once.
struct Flags {
    values: HashMap<String, String>,
}

impl Flags {
    fn parse(args: &[String], options: &[&str], switches: &[&str]) -> Result<Flags, String> {
        let mut values = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let (name, inline) = match arg.strip_prefix("--") {
                Some(n) => n.split_once('=').map_or((n, None), |(n, v)| (n, Some(v.to_string()))),
                None => return Err(format!("unexpected argument {arg:?}")),
            };
            let value = if switches.contains(&name) && inline.is_none() {
                String::new()
            } else if options.contains(&name) {
                match inline.or_else(|| it.next().cloned()) {
                    Some(v) => v,
                    None => return Err(format!("--{name} needs a value")),
                }
            } else {
                return Err(format!("unknown flag --{name}"));
            };
            if values.insert(name.to_string(), value).is_some() {
                return Err(format!("--{name} given twice"));
            }
        }
        Ok(Flags { values })
    }

    fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    fn number<T: std::str::FromStr>(&self, name: &str, default: T) -> Result<T, String> {
        match self.values.get(name) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| format!("--{name} {v:?} is not a valid number")),
        }
    }

    fn resolution(&self) -> Result<Resolution, String> {
        let Some(v) = self.values.get("resolution") else { return Ok(Resolution::square(224)) };
        let side = |s: &str| s.parse::<usize>().map_err(|_| format!("--resolution {v:?} is not N or HxW"));
        match v.split_once('x') {
            Some((h, w)) => Ok(Resolution { height: side(h)?, width: side(w)? }),
            None => Ok(Resolution::square(side(v)?)),
        }
    }

    fn config(&self) -> Result<Config, String> {
        let cfg = || -> Result<Config, Error> {
            Config::default()
                .with_alpha(self.number("alpha", 1.0).map_err(Error::config)?)?
                .with_resolution(self.resolution().map_err(Error::config)?)?
                .with_num_classes(self.number("classes", 1001).map_err(Error::config)?)?
                .with_output_stride(self.number("output-stride", 32).map_err(Error::config)?)
        };
        cfg().map_err(|e| match e {
            Error::Config(m) => m,
            other => other.to_string(),
        })
    }
}

fn run_seeded(cfg: &Config, seed: u64, k: usize) -> Result<String, Error> {
    let build = Instant::now();
    let mut plan = Plan::seeded(*cfg, seed)?;
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
