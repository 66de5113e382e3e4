//! The TFLite reader on hostile bytes: every prefix of a small model, thousands of seeded byte-flip
//! mutants of each official model, and hand-built models that lie about sizes, indices and order.
//! Each must come back as an error (or a verified model), never as a panic, a long loop or a huge
//! allocation.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use common::read_bytes;
use common::tflite_builder::{self as tb, ModelBuilder, Table, Value};
use mobilenet_wasm::rng::Rng;
use mobilenet_wasm::tflite::import::Precision;
use mobilenet_wasm::tflite::{self, zip};
use mobilenet_wasm::{Classifier, Error};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::Instant;

/// Records the largest single allocation made by the current thread.
struct Tracking;

thread_local! {
    static LARGEST: Cell<usize> = const { Cell::new(0) };
}

fn note(size: usize) {
    let _ = LARGEST.try_with(|c| c.set(c.get().max(size)));
}

unsafe impl GlobalAlloc for Tracking {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Tracking = Tracking;

/// Runs `f` and returns its result with the largest single allocation it made.
fn largest_allocation<T>(f: impl FnOnce() -> T) -> (T, usize) {
    LARGEST.with(|c| c.set(0));
    let out = f();
    (out, LARGEST.with(Cell::get))
}

const OFFICIAL: [&str; 5] = [
    "mobilenet_v1_0.25_128_quant",
    "mobilenet_v1_0.5_160_quant",
    "mobilenet_v1_0.75_192_quant",
    "mobilenet_v1_1.0_224_quant_embedding_extractor",
    "mobilenet_v1_1.0_224_quant_head",
];

/// Everything a model file goes through on its way in: read, labels, import onto a plan (the 1.0
/// halves chained with their intact partner) and, when `run`, one inference. Mutants must come out
/// of it as Ok or Err.
fn load(bytes: &[u8], name: &str, run: bool) -> Result<(), Error> {
    let model = tflite::read(bytes)?;
    zip::labels(bytes, model.flatbuffer_len, None);
    static HALVES: OnceLock<(Vec<u8>, Vec<u8>)> = OnceLock::new();
    let (extractor, head) = HALVES.get_or_init(|| {
        let half = |n: &str| read_bytes(&format!("models/mobilenet_v1_1.0_224_quant_{n}.tflite"));
        (half("embedding_extractor"), half("head"))
    });
    let files: Vec<&[u8]> = if name.ends_with("extractor") {
        vec![bytes, head]
    } else if name.ends_with("head") {
        vec![extractor, bytes]
    } else {
        vec![bytes]
    };
    let mut classifier = Classifier::from_tflite(&files, Precision::AsStored)?;
    if run {
        let r = classifier.config().resolution;
        classifier.run_raw(&vec![128; r.height * r.width * 3])?;
    }
    Ok(())
}

#[test]
fn every_prefix_is_an_error() {
    let bytes = read_bytes("fixtures/dw_mult2_s2_d2_same_float.tflite");
    assert_eq!(bytes.len(), 1180);
    assert!(tflite::read(&bytes).is_ok());
    for len in 0..bytes.len() {
        match tflite::read(&bytes[..len]) {
            Err(Error::Malformed(_)) => {}
            other => panic!("prefix of {len} bytes: {other:?}"),
        }
    }
}

/// A mutation position: mostly where the tables live (the root, the buffer list and early tables
/// in the first 8 KiB; the operator and tensor tables the converter writes last, in the final
/// 24 KiB of the flatbuffer), sometimes anywhere (weights, the ZIP).
fn position(rng: &mut Rng, flatbuffer_len: usize, len: usize) -> usize {
    let (lo, hi) = match rng.range(0, 9) {
        0..=3 => (0, len.min(8 << 10)),
        4..=7 => (flatbuffer_len.saturating_sub(24 << 10), flatbuffer_len),
        _ => (0, len),
    };
    rng.range(lo, hi.max(lo + 1) - 1)
}

/// Flips 1–8 bytes (a random bit, or a random new value), runs `load`, and restores the bytes.
fn mutant(bytes: &mut [u8], rng: &mut Rng, flatbuffer_len: usize, name: &str) -> (Result<(), Error>, Vec<usize>) {
    let n = rng.range(1, 8);
    let mut saved = Vec::with_capacity(n);
    for _ in 0..n {
        let at = position(rng, flatbuffer_len, bytes.len());
        saved.push((at, bytes[at]));
        bytes[at] = if rng.range(0, 1) == 0 { bytes[at] ^ (1 << rng.range(0, 7)) } else { rng.next_u64() as u8 };
    }
    // Inference on every 16th mutant of the small model keeps the test fast and still runs mutated weights.
    let run = name.contains("0.25") && rng.range(0, 15) == 0;
    let result = panic::catch_unwind(AssertUnwindSafe(|| load(bytes, name, run)));
    for &(at, old) in saved.iter().rev() {
        bytes[at] = old;
    }
    let at: Vec<usize> = saved.iter().map(|s| s.0).collect();
    match result {
        Ok(r) => (r, at),
        Err(e) => panic!("load panicked on a mutant with bytes changed at {at:?}: {e:?}"),
    }
}

/// Mutants of one model file: counts of (Ok, malformed, unsupported or mis-sized) and the largest allocation.
fn mutate_model(seed: usize, name: &str, count: usize) -> ([usize; 3], usize) {
    let mut bytes = read_bytes(&format!("models/{name}.tflite"));
    let flatbuffer_len = tflite::read(&bytes).unwrap().flatbuffer_len;
    let mut rng = Rng::new(0x5EED_0000 + seed as u64);
    let (mut counts, mut largest) = ([0; 3], 0);
    for _ in 0..count {
        let ((result, _), biggest) = largest_allocation(|| mutant(&mut bytes, &mut rng, flatbuffer_len, name));
        largest = largest.max(biggest);
        match result {
            Ok(()) => counts[0] += 1,
            Err(Error::Malformed(_)) => counts[1] += 1,
            // Unsupported, or a mutated chain link or layer size.
            Err(Error::Unsupported { .. } | Error::Shape(_)) => counts[2] += 1,
            Err(other) => panic!("{name}: unexpected error kind {other:?}"),
        }
    }
    (counts, largest)
}

#[test]
fn byte_flip_mutants_never_panic() {
    let per_model: usize = std::env::var("MOBILENET_MUTANTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1000);
    let start = Instant::now();
    // One thread per model: the tracking allocator is per thread, so each count stays its own.
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = OFFICIAL
            .iter()
            .enumerate()
            .map(|(seed, name)| s.spawn(move || mutate_model(seed, name, per_model)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (name, ([ok, malformed, unsupported], largest)) in OFFICIAL.iter().zip(results) {
        println!(
            "{name}: {per_model} mutants: {ok} Ok, {malformed} malformed, {unsupported} unsupported or mis-sized; \
             largest allocation {largest} bytes"
        );
        assert!(largest < 64 << 20, "{name}: a mutant made the loader allocate {largest} bytes");
    }
    println!("{} mutants in {:.2?}", per_model * OFFICIAL.len(), start.elapsed());
}

/// Byte flips in the appended ZIP alone: the label reader never panics.
#[test]
fn zip_mutants_never_panic() {
    let mut bytes = read_bytes("models/mobilenet_v1_0.25_128_quant.tflite");
    let fb = tflite::read(&bytes).unwrap().flatbuffer_len;
    let mut rng = Rng::new(7);
    let mut found = 0;
    for _ in 0..2000 {
        let at = rng.range(fb, bytes.len() - 1);
        let (old, new) = (bytes[at], rng.next_u64() as u8);
        bytes[at] = new;
        found += usize::from(zip::labels(&bytes, fb, None).is_some());
        bytes[at] = old;
    }
    assert!(found > 0);
    for len in fb..bytes.len() {
        zip::labels(&bytes[..len], fb, None);
    }
}

/// A valid float model: x [1,4,4,2] → CONV_2D (weights [3,1,1,2], bias [3]) → y [1,4,4,3].
fn tiny_conv() -> ModelBuilder {
    let mut b = ModelBuilder::new();
    let x = b.activation("x", &[1, 4, 4, 2], tb::FLOAT32);
    let w = b.constant("w", &[3, 1, 1, 2], tb::FLOAT32, tb::f32_bytes(&[0.5; 6]));
    let bias = b.constant("bias", &[3], tb::FLOAT32, tb::f32_bytes(&[0.0; 3]));
    let y = b.activation("y", &[1, 4, 4, 3], tb::FLOAT32);
    b.op(tb::CONV_2D, &[x, w, bias], &[y], Some(tb::conv2d_options(tb::SAME, [1, 1], [1, 1], tb::RELU6)));
    b.inputs = vec![x];
    b.outputs = vec![y];
    b
}

/// Reads a builder's model, checking that it finishes at once with no big allocation.
fn read_built(b: &ModelBuilder) -> Result<(), Error> {
    let bytes = b.build();
    let start = Instant::now();
    let (result, largest) = largest_allocation(|| tflite::read(&bytes).map(|_| ()));
    assert!(largest < 16 << 20, "allocated {largest} bytes");
    assert!(start.elapsed().as_secs_f64() < 1.0, "took {:?}", start.elapsed());
    result
}

fn expect_malformed(b: &ModelBuilder, needle: &str) {
    match read_built(b) {
        Err(Error::Malformed(m)) => assert!(m.contains(needle), "{m:?} lacks {needle:?}"),
        other => panic!("expected Malformed(..{needle}..), got {other:?}"),
    }
}

fn expect_unsupported(b: &ModelBuilder, needle: &str) {
    match read_built(b) {
        Err(Error::Unsupported { subject, detail, .. }) => {
            assert!(format!("{subject}: {detail}").contains(needle), "{subject}: {detail} lacks {needle:?}")
        }
        other => panic!("expected Unsupported(..{needle}..), got {other:?}"),
    }
}

#[test]
fn the_tiny_model_is_valid() {
    read_built(&tiny_conv()).unwrap();
}

#[test]
fn an_activation_claiming_ten_trillion_elements() {
    let mut b = tiny_conv();
    b.tensors[3].shape = vec![1, 100_000, 100_000, 1000];
    expect_unsupported(&b, "more than the reader's limit");
}

#[test]
fn a_constant_claiming_more_than_its_buffer() {
    let mut b = tiny_conv();
    let big = b.constant("big", &[65536, 65536, 4], tb::FLOAT32, vec![0; 16]);
    b.operators[0].inputs[2] = big;
    expect_malformed(&b, "buffer holds 16 bytes");
}

#[test]
fn activations_over_the_total_cap() {
    let mut b = tiny_conv();
    // Each under the per-tensor cap, together over 1 GiB of float32.
    for i in 0..5 {
        b.activation(&format!("a{i}"), &[1, 8192, 8192, 1], tb::FLOAT32);
    }
    expect_unsupported(&b, "activations need more");
}

#[test]
fn an_operator_input_out_of_range() {
    let mut b = tiny_conv();
    b.operators[0].inputs[1] = 99;
    expect_malformed(&b, "tensor index 99 out of range");
    b.operators[0].inputs[1] = -2;
    expect_malformed(&b, "tensor index -2 out of range");
}

#[test]
fn an_operator_output_of_minus_one() {
    let mut b = tiny_conv();
    b.operators[0].outputs[0] = -1;
    expect_malformed(&b, "tensor index -1 out of range");
}

#[test]
fn a_tensor_read_before_it_is_produced() {
    let mut b = tiny_conv();
    let z = b.activation("z", &[1, 4, 4, 3], tb::FLOAT32);
    let y = b.outputs[0];
    // A second conv reading y, moved before the op that produces y.
    let w = b.constant("w2", &[3, 1, 1, 3], tb::FLOAT32, tb::f32_bytes(&[1.0; 9]));
    b.op(tb::CONV_2D, &[y, w, -1], &[z], Some(tb::conv2d_options(tb::SAME, [1, 1], [1, 1], tb::NONE)));
    b.operators.swap(0, 1);
    b.outputs = vec![z];
    expect_malformed(&b, "operator 0 (CONV_2D) reads tensor 3 before any operator produces it");
}

#[test]
fn a_tensor_written_twice_or_a_constant_written() {
    let mut b = tiny_conv();
    let again = b.operators[0].clone();
    b.operators.push(again);
    expect_malformed(&b, "operator 1 (CONV_2D) writes tensor 3");
    let mut b = tiny_conv();
    b.operators[0].outputs[0] = 1;
    expect_malformed(&b, "writes tensor 1, which is a constant");
    let mut b = tiny_conv();
    let unused = b.activation("unused", &[1], tb::FLOAT32);
    b.outputs.push(unused);
    expect_malformed(&b, "graph output tensor 4 is never produced");
}

#[test]
fn an_opcode_index_out_of_range() {
    let mut b = tiny_conv();
    b.operators[0].opcode_index = 7;
    expect_malformed(&b, "opcode_index 7 out of range (1 operator codes)");
}

#[test]
fn two_subgraphs() {
    let mut b = tiny_conv();
    b.subgraphs = 2;
    expect_unsupported(&b, "2 subgraphs");
}

#[test]
fn no_subgraph_and_wrong_identifier_and_version() {
    let mut b = tiny_conv();
    b.subgraphs = 0;
    expect_malformed(&b, "no subgraph");
    let mut bytes = tiny_conv().build();
    bytes[4..8].copy_from_slice(b"TFL2");
    assert!(matches!(tflite::read(&bytes), Err(Error::Malformed(m)) if m.contains("identifier")));
    let mut b = tiny_conv();
    b.version = 2;
    expect_unsupported(&b, "schema version 2");
}

#[test]
fn bad_tensor_fields() {
    let mut b = tiny_conv();
    b.tensors[0].shape[1] = -4;
    expect_malformed(&b, "negative dimension");
    let mut b = tiny_conv();
    b.tensors[1].buffer = 1000;
    expect_malformed(&b, "buffer 1000 out of range");
    let mut b = tiny_conv();
    b.tensors[0].shape = vec![1; 9];
    expect_unsupported(&b, "9 entries; the reader's limit is 8");
    let mut b = tiny_conv();
    b.tensors[1].extra.push((6, Value::Table(Table::new())));
    expect_unsupported(&b, "tensor 1 (w): sparse tensor");
    let mut b = tiny_conv();
    b.tensors[0].extra.push((5, Value::Bool(true)));
    expect_unsupported(&b, "variable tensor");
    let mut b = tiny_conv();
    b.tensors[1].dtype = 1; // FLOAT16: two bytes an element, so 24 bytes do not fit 6 elements
    expect_malformed(&b, "buffer holds 24 bytes but shape [3, 1, 1, 2] of FLOAT16 needs 6 × 2");
    let mut b = tiny_conv();
    b.tensors[1].dtype = 7; // INT16: a constant we cannot size
    expect_unsupported(&b, "constant data of type code 7");
}

#[test]
fn bad_quantization() {
    let cases: [(&[f32], &[i64], i32, &str); 6] = [
        (&[0.5, 0.5], &[0], 0, "2 scales but 1 zero points"),
        (&[0.5], &[], 0, "1 scales but 0 zero points"),
        (&[0.5, 0.5], &[0, 0], 0, "2 scales along dimension 0"),
        (&[0.5], &[0], 4, "quantized_dimension 4 of a rank-4 tensor"),
        (&[0.0], &[0], 0, "scale 0 is not finite and positive"),
        (&[f32::NAN], &[0], 0, "not finite"),
    ];
    for (scale, zero_point, dim, needle) in cases {
        let mut b = tiny_conv();
        b.quantize(1, scale, zero_point, dim);
        expect_malformed(&b, needle);
    }
    let mut b = tiny_conv();
    b.quantize(1, &[0.5, 0.25, 0.125], &[0, 0, 0], 0);
    read_built(&b).unwrap();
}

#[test]
fn external_buffers_and_bad_options() {
    let mut b = tiny_conv();
    let mut table = b.model_table();
    let buffers = vec![Table::new(), Table::new().set(1, Value::U64(1 << 32)).set(2, Value::U64(24))];
    table = table.set(4, Value::Tables(buffers));
    let bytes = tb::finish(&table);
    assert!(matches!(tflite::read(&bytes), Err(Error::Unsupported { detail, .. }) if detail.contains("outside")));

    b.operators[0].options = Some(tb::conv2d_options(7, [1, 1], [1, 1], tb::NONE));
    expect_malformed(&b, "padding 7 is neither SAME");
    b.operators[0].options = Some(tb::conv2d_options(tb::SAME, [0, 1], [1, 1], tb::NONE));
    expect_malformed(&b, "stride_h is 0");
    b.operators[0].options = Some(tb::pool2d_options(tb::SAME, [1, 1], [2, 2], tb::NONE));
    expect_malformed(&b, "carries options of union type 5");
}

/// Ten thousand tensors whose quantization all points at one table with 64 Ki scales: the file is
/// small, but decoding every alias would take 2.5 GiB. The decode budget stops it early.
#[test]
fn aliased_vectors_cannot_multiply_allocation() {
    let mut b = ModelBuilder::new();
    let n = 65536;
    b.shared = vec![Value::Table(
        Table::new().set(2, Value::Floats(vec![0.5; n])).set(3, Value::Longs(vec![0; n])).set(6, Value::I32(0)),
    )];
    for i in 0..10_000 {
        let t = b.activation(&format!("t{i}"), &[n as i32], tb::UINT8);
        b.tensors[t as usize].extra.push((4, Value::Shared(0)));
    }
    let bytes = b.build();
    assert!(bytes.len() < 2 << 20, "{} bytes", bytes.len());
    let start = Instant::now();
    match tflite::read(&bytes) {
        Err(Error::Unsupported { detail, .. }) => assert!(detail.contains("decoding it needs more"), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert!(start.elapsed().as_secs_f64() < 2.0, "{:?}", start.elapsed());
}
