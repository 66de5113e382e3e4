//! The `mobilenet` command line, run as a user runs it.
#![cfg(not(target_arch = "wasm32"))]

use std::process::Command;

fn mobilenet(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_mobilenet")).args(args).output().unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.code().unwrap_or(-1), text(out.stdout), text(out.stderr))
}

#[test]
fn inspect_json_gives_the_paper_totals() {
    let (code, out, _) =
        mobilenet(&["inspect", "--alpha", "0.25", "--resolution", "224", "--classes", "1000", "--json"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["totals"]["macs"], 41_030_272);
    assert_eq!(v["totals"]["params"], 463_600);
    assert!(v["convention"].as_str().unwrap().starts_with("MACs = multiply-adds"));
    assert_eq!(v["config"]["alpha"], 0.25);
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 29);
    let first = &layers[0];
    assert_eq!(first["name"], "Conv2d_0");
    assert_eq!(first["op"], "conv");
    assert_eq!(first["kernel"], serde_json::json!([3, 3]));
    assert_eq!(first["input"], serde_json::json!([224, 224, 3]));
    assert_eq!(first["output"], serde_json::json!([112, 112, 8]));
    for key in ["stride", "rate", "params", "macs"] {
        assert!(first[key].is_u64(), "{key}");
    }
    assert_eq!(layers[28]["name"], "Logits");
}

#[test]
fn inspect_table_is_aligned_and_totalled() {
    let (code, out, _) = mobilenet(&["inspect", "--alpha", "1.0", "--resolution", "224", "--classes", "1000"]);
    assert_eq!(code, 0);
    assert!(out.contains("568,740,352"), "{out}");
    assert!(out.contains("4,209,088"));
    assert!(out.contains("Conv2d_13_pointwise"));
    assert!(out.contains("convention: MACs"));
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("Conv2d_")).collect();
    assert_eq!(rows.len(), 27);
    assert!(rows.iter().all(|r| r.len() == rows[0].len()), "columns line up");
}

#[test]
fn inspect_accepts_non_square_and_output_stride() {
    let (code, out, _) =
        mobilenet(&["inspect", "--resolution", "192x256", "--output-stride", "16", "--json", "--alpha=0.5"]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["resolution"], serde_json::json!([192, 256]));
    assert_eq!(v["layers"][26]["output"], serde_json::json!([12, 16, 512]));
    assert_eq!(v["layers"][25]["rate"], 2);
}

#[test]
fn run_prints_top5_and_time() {
    let (code, out, _) = mobilenet(&["run", "--alpha", "0.25", "--resolution", "128", "--seed", "7"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.lines().filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit())).count(), 5);
    assert!(out.contains(" ms"));
    let (_, again, _) = mobilenet(&["run", "--alpha", "0.25", "--resolution", "128", "--seed", "7"]);
    let ranks = |s: &str| s.lines().skip(2).take(5).map(String::from).collect::<Vec<_>>();
    assert_eq!(ranks(&out), ranks(&again), "seeded runs are reproducible");
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    for args in [
        &["inspect", "--alpha", "0"][..],
        &["inspect", "--alpha", "-1"],
        &["inspect", "--alpha", "abc"],
        &["inspect", "--resolution", "31"],
        &["inspect", "--resolution", "0x100"],
        &["inspect", "--output-stride", "4"],
        &["inspect", "--classes", "0"],
        &["inspect", "--bogus"],
        &["inspect", "--alpha"],
        &["inspect", "--json", "--json"],
        &["run", "--seed", "-3"],
        &["frobnicate"],
        &[],
    ] {
        let (code, out, err) = mobilenet(args);
        assert_eq!(code, 2, "{args:?}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("mobilenet: "), "{err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
