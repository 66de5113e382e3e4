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
        &["export-weights", "--alpha", "0.25"],
        &["export-tflite", "--alpha", "0.25"],
        &["export-tflite", "--metadata=yes", "--out", "x.tflite"],
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

#[test]
fn export_weights_writes_manifest_and_blob() {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-export-{}", std::process::id()));
    let out = dir.to_string_lossy().into_owned();
    let (code, text, err) =
        mobilenet(&["export-weights", "--alpha", "0.25", "--resolution", "128", "--seed", "7", "--out", &out]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("29 layers"), "{text}");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("weights.json")).unwrap()).unwrap();
    let blob = std::fs::read(dir.join("weights.bin")).unwrap();
    assert_eq!(manifest["bytes"].as_u64(), Some(blob.len() as u64));
    assert_eq!(manifest["config"]["resolution"], serde_json::json!([128, 128]));
    assert_eq!(manifest["layers"][28]["filter"]["shape"], serde_json::json!([1, 1, 256, 1001]));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn export_tflite_writes_a_model_the_cli_loads() {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-tflite-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, metadata) in [("plain.tflite", false), ("meta.tflite", true)] {
        let out = dir.join(name).to_string_lossy().into_owned();
        let mut args = vec!["export-tflite", "--alpha", "0.25", "--resolution", "96", "--seed", "7", "--out", &out];
        if metadata {
            args.push("--metadata");
        }
        let (code, text, err) = mobilenet(&args);
        assert_eq!(code, 0, "{err}");
        assert!(text.contains(&out) && text.contains("with metadata") == metadata, "{text}");
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(&bytes[4..8], b"TFL3");
        let normalization = mobilenet_wasm::tflite::read(&bytes).unwrap().metadata.normalization;
        assert_eq!(normalization, metadata.then(|| (vec![127.5], vec![127.5])));
        let (code, json, err) = mobilenet(&["inspect", "--model", &out, "--json"]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!((v["config"]["alpha"].as_f64(), v["config"]["resolution"][0].as_u64()), (Some(0.25), Some(96)));
    }
    // A file that cannot be written is the caller's error, on one line.
    let (code, _, err) = mobilenet(&["export-tflite", "--out", dir.join("no/such/dir.tflite").to_str().unwrap()]);
    assert_eq!((code, err.lines().count()), (2, 1), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

mod common;

fn shared(path: &str) -> String {
    common::shared_dir().join(path).to_string_lossy().into_owned()
}

const SMALL: &str = "models/mobilenet_v1_0.25_128_quant.tflite";

#[test]
fn classify_puts_a_cat_first() {
    let (code, out, err) = mobilenet(&["classify", "--model", &shared(SMALL), &shared("images/cat.bmp")]);
    assert_eq!(code, 0, "{err}");
    let first = out.lines().nth(1).unwrap();
    assert!(["tabby", "tiger cat", "Egyptian cat"].iter().any(|c| first.contains(c)), "{out}");
}

#[test]
fn classify_json_for_several_images_and_the_chained_model() {
    let chain = format!(
        "{},{}",
        shared("models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"),
        shared("models/mobilenet_v1_1.0_224_quant_head.tflite")
    );
    let labels = shared("models/imagenet_labels.txt");
    let (code, out, err) = mobilenet(&[
        "classify",
        "--model",
        &chain,
        "--labels",
        &labels,
        "--top",
        "3",
        "--json",
        &shared("images/cat.bmp"),
        &shared("images/hot_dog.jpg"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let results = v.as_array().unwrap();
    assert_eq!(results.len(), 2);
    let top = results[0]["top"].as_array().unwrap();
    assert_eq!(top.len(), 3);
    assert!(["tabby", "tiger cat", "Egyptian cat"].contains(&top[0]["label"].as_str().unwrap()), "{out}");
    let score = top[0]["score"].as_f64().unwrap();
    assert!(score > 0.0 && score <= 1.0);
    // The reference interpreter ranks "paper towel" over "hotdog" on this photo too (reference_top5.json).
    let hot_dog: Vec<&str> =
        results[1]["top"].as_array().unwrap().iter().map(|t| t["label"].as_str().unwrap()).collect();
    assert!(hot_dog.contains(&"hotdog"), "{out}");
}

#[test]
fn raw_input_gives_the_reference_output_bytes() {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out_path = dir.join("out.u8");
    let (code, _, err) = mobilenet(&[
        "classify",
        "--model",
        &shared(SMALL),
        "--input-raw",
        &shared("reference/inputs/parrot_128.rgb"),
        "--output-raw",
        out_path.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let want = std::fs::read(shared("reference/outputs/mobilenet_v1_0.25_128_quant_parrot.u8")).unwrap();
    assert_eq!(std::fs::read(&out_path).unwrap(), want);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn inspect_describes_a_loaded_model() {
    let (code, out, err) = mobilenet(&["inspect", "--model", &shared(SMALL), "--json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["config"]["alpha"], 0.25);
    assert_eq!(v["config"]["resolution"], serde_json::json!([128, 128]));
    assert_eq!(v["layers"][0]["output"], serde_json::json!([64, 64, 8]));
}

#[test]
fn bad_models_exit_3_and_bad_inputs_exit_2() {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let junk = dir.join("junk.tflite");
    std::fs::write(&junk, b"this is not a flatbuffer at all").unwrap();
    let truncated = dir.join("truncated.tflite");
    std::fs::write(&truncated, &std::fs::read(shared(SMALL)).unwrap()[..5000]).unwrap();
    let cat = shared("images/cat.bmp");
    for (args, want) in [
        (vec!["classify", "--model", junk.to_str().unwrap(), &cat], 3),
        (vec!["classify", "--model", truncated.to_str().unwrap(), &cat], 3),
        (vec!["classify", "--model", &shared("models/mobilenet_v1_1.0_224_quant_head.tflite"), &cat], 3),
        (vec!["inspect", "--model", junk.to_str().unwrap()], 3),
        (vec!["classify", "--model", "/nonexistent.tflite", &cat], 2),
        (vec!["classify", "--model", &shared(SMALL), "/nonexistent.png"], 2),
        (vec!["classify", "--model", &shared(SMALL), junk.to_str().unwrap()], 2),
        (vec!["classify", "--model", &shared(SMALL)], 2),
        (vec!["classify", "--model", &shared(SMALL), "--input-raw", &cat], 2),
        (vec!["classify", "--model", &shared(SMALL), "--labels", junk.to_str().unwrap(), &cat], 2),
        (vec!["classify", &cat], 2),
    ] {
        let (code, out, err) = mobilenet(&args);
        assert_eq!(code, want, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// A configuration whose plan would exceed the memory budget is refused before anything is allocated: it
/// once aborted with "memory allocation of 4294967296 bytes failed" (α 4 at 4096) or reached 3 GB (α 16).
#[test]
fn configurations_over_the_memory_budget_exit_2_before_allocating() {
    let out_dir = std::env::temp_dir().join(format!("mobilenet-cli-budget-{}", std::process::id()));
    for args in [
        &["run", "--alpha", "4", "--resolution", "4096"][..],
        &["run", "--alpha", "16", "--resolution", "224"],
        &["bench", "--alpha", "4", "--resolution", "4096", "--runs", "1"],
        &["export-weights", "--alpha", "16", "--resolution", "224", "--out", out_dir.to_str().unwrap()],
    ] {
        let start = std::time::Instant::now();
        let (code, out, err) = mobilenet(args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(out.is_empty(), "{args:?}");
        assert_eq!(err.lines().count(), 1, "{args:?}: {err}");
        assert!(err.contains("memory budget of 1024 MiB"), "{args:?}: {err}");
        assert!(start.elapsed().as_secs() < 10, "{args:?} took {:?}", start.elapsed());
    }
    assert!(!out_dir.exists());
}

/// A copy of the float 0.25/128 fixture whose largest constant (the logits filter, the last by size) has
/// every value replaced by `value(i)`; the data is found through the reader, as a user's editor would.
fn float_model_with(value: impl Fn(usize) -> f32) -> Vec<u8> {
    let mut bytes = std::fs::read(shared("fixtures/mobilenet_v1_a0.25_r128_float_avgpool.tflite")).unwrap();
    let m = mobilenet_wasm::tflite::read(&bytes).unwrap();
    let data = m.tensors.iter().filter_map(|t| t.data).max_by_key(|d| d.len()).unwrap();
    let (start, len) = (data.as_ptr() as usize - bytes.as_ptr() as usize, data.len());
    for (i, chunk) in bytes[start..start + len].chunks_exact_mut(4).enumerate() {
        chunk.copy_from_slice(&value(i).to_le_bytes());
    }
    bytes
}

/// The 0.25/128 file with one line of its appended labels file joined to the next: 1000 labels for 1001 classes.
fn labels_of_the_wrong_count() -> Vec<u8> {
    let mut bytes = std::fs::read(shared(SMALL)).unwrap();
    let end = mobilenet_wasm::tflite::read(&bytes).unwrap().flatbuffer_len;
    let at = bytes[end..].windows(11).position(|w| w == b"background\n").unwrap();
    bytes[end + at + 10] = b' ';
    bytes
}

/// Model defects exit 3 whatever their kind (NaN weights, a chain whose links do not fit, appended labels of the
/// wrong count); logits that overflow float32 are an error, not scores of null.
#[test]
fn model_defects_exit_3_and_overflowing_outputs_are_errors() {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-defects-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_str().unwrap().to_string()
    };
    let nan = write("nan.tflite", &float_model_with(|_| f32::NAN));
    let labels = write("labels.tflite", &labels_of_the_wrong_count());
    let chain = format!("{},{}", shared(SMALL), shared("models/mobilenet_v1_1.0_224_quant_head.tflite"));
    let cat = shared("images/cat.bmp");
    for model in [&nan, &labels, &chain] {
        let (code, out, err) = mobilenet(&["classify", "--model", model, &cat]);
        assert_eq!(code, 3, "{model}: {err}");
        assert!(out.is_empty() && err.lines().count() == 1, "{model}: {out} {err}");
    }
    let (_, _, err) = mobilenet(&["classify", "--model", &labels, &cat]);
    assert!(err.contains("1000 lines for 1001 classes"), "{err}");

    let huge = write("huge.tflite", &float_model_with(|i| if i % 2 == 0 { 3e38 } else { -3e38 }));
    let (code, out, err) = mobilenet(&["classify", "--model", &huge, "--json", &cat]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("non-finite"), "{err}");
    assert!(!out.contains("null"), "{out}");
    std::fs::remove_dir_all(&dir).ok();
}

/// `--top 0` is refused, as the npm wrapper refuses `topk` 0.
#[test]
fn top_zero_is_refused() {
    for args in
        [&["classify", "--model", &shared(SMALL), "--top", "0", &shared("images/cat.bmp")][..], &["run", "--top", "0"]]
    {
        let (code, out, err) = mobilenet(args);
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}");
        assert!(err.contains("--top must be at least 1"), "{err}");
    }
}

/// One bad image among several: the good ones are still classified and printed, each failure is reported on
/// its own line (and in the JSON, beside the others), and the exit code says something failed.
#[test]
fn each_image_is_reported_on_its_own() {
    let (cat, missing) = (shared("images/cat.bmp"), "/nonexistent/dog.png");
    let parrot = shared("images/parrot.jpg");
    let (code, out, err) = mobilenet(&["classify", "--model", &shared(SMALL), &cat, missing, &parrot]);
    assert_eq!(code, 2, "{err}");
    assert!(out.contains("cat.bmp") && out.contains("parrot.jpg") && !out.contains("dog.png"), "{out}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("mobilenet: ") && err.contains(missing), "{err}");

    let (code, out, _) = mobilenet(&["classify", "--model", &shared(SMALL), "--json", &cat, missing, missing]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 3);
    assert!(v[0]["top"].is_array());
    assert_eq!(v[1]["image"], missing);
    assert!(v[1]["error"].as_str().unwrap().contains(missing));
}

/// A scratch path for a written file, unique per test.
fn scratch(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("mobilenet-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name).display().to_string()
}

#[test]
fn train_writes_a_model_that_classifies_with_its_own_labels() {
    let out = scratch("taught.tflite");
    let model = shared("models/mobilenet_v1_0.25_128_quant.tflite");
    let class = |label: &str, photo: &str| format!("--class={label}={}", shared(&format!("images/{photo}")));
    let (code, text, err) = mobilenet(&[
        "train",
        "--model",
        &model,
        &class("cat", "cat.bmp"),
        "--class",
        &format!("dragonfly={}", shared("images/dragonfly.bmp")),
        &class("parrot", "parrot.jpg"),
        "--out",
        &out,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!((v["training_accuracy"].as_f64(), v["exported_accuracy"].as_f64()), (Some(1.0), Some(1.0)));
    assert_eq!(v["classes"], serde_json::json!([["cat", 1], ["dragonfly", 1], ["parrot", 1]]));
    let (code, text, err) = mobilenet(&["classify", "--model", &out, "--top", "1", &shared("images/parrot.jpg")]);
    assert_eq!(code, 0, "{err}");
    assert!(text.contains("  2  parrot"), "{text}");
    // The same seed gives the same file, byte for byte.
    let again = scratch("again.tflite");
    let args = ["train", "--model", &model, &class("cat", "cat.bmp"), &class("parrot", "parrot.jpg")];
    assert_eq!(mobilenet(&[&args[..], &["--out", &out]].concat()).0, 0);
    assert_eq!(mobilenet(&[&args[..], &["--out", &again]].concat()).0, 0);
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn train_refuses_what_it_cannot_learn_from() {
    let out = scratch("refused.tflite");
    let model = shared("models/mobilenet_v1_0.25_128_quant.tflite");
    let cat = format!("--class=cat={}", shared("images/cat.bmp"));
    let empty_dir = scratch("no-images");
    std::fs::create_dir_all(&empty_dir).unwrap();
    let not_an_image = shared("models/imagenet_labels.txt");
    let cases: [(Vec<String>, &str); 6] = [
        (vec![cat.clone()], "at least two --class"),
        (vec![cat.clone(), format!("--class=empty={empty_dir}")], "has no images"),
        (vec![cat.clone(), format!("--class=text={not_an_image}")], "imagenet_labels.txt"),
        (vec![cat.clone(), "--class=nolabel".into()], "LABEL=PATH"),
        (vec![cat.clone(), format!("--class=cat={}", shared("images/owl.jpg"))], "twice"),
        (vec![cat.clone(), format!("--class=owl={}", shared("images/owl.jpg")), "--epochs=0".into()], "iteration"),
    ];
    for (classes, expected) in cases {
        let mut args = vec!["train".to_string(), "--model".into(), model.clone(), "--out".into(), out.clone()];
        args.extend(classes);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, _, err) = mobilenet(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(expected) && err.lines().count() == 1, "{args:?}: {err}");
    }
}
