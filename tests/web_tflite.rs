//! The real 0.25/128 uint8 model in Chromium (`wasm-pack test --headless --chrome`): loaded through the
//! JS API from bytes embedded at compile time from ../shared (never committed), it must reproduce the
//! TFLite reference output byte for byte.
#![cfg(target_arch = "wasm32")]

use mobilenet_wasm::web::Model;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const MODEL: &[u8] =
    include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/models/mobilenet_v1_0.25_128_quant.tflite"));
const CAT: &[u8] = include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/reference/inputs/cat_128.rgb"));
const WANT: &[u8] =
    include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/reference/outputs/mobilenet_v1_0.25_128_quant_cat.u8"));

/// The 0.5/160 model and the 1.0/224 extractor + head chain on two images each, through the SIMD kernels.
#[wasm_bindgen_test]
fn larger_official_models_match_tflite_in_the_browser() {
    macro_rules! shared {
        ($path:literal) => {
            include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/", $path)).as_slice()
        };
    }
    /// Model files, then (input, reference output) pairs.
    type Case<'a> = (&'a [&'a [u8]], [(&'a [u8], &'a [u8]); 2]);
    let cases: [Case; 2] = [
        (
            &[shared!("models/mobilenet_v1_0.5_160_quant.tflite")],
            [
                (
                    shared!("reference/inputs/cat_160.rgb"),
                    shared!("reference/outputs/mobilenet_v1_0.5_160_quant_cat.u8"),
                ),
                (
                    shared!("reference/inputs/owl_160.rgb"),
                    shared!("reference/outputs/mobilenet_v1_0.5_160_quant_owl.u8"),
                ),
            ],
        ),
        (
            &[
                shared!("models/mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"),
                shared!("models/mobilenet_v1_1.0_224_quant_head.tflite"),
            ],
            [
                (
                    shared!("reference/inputs/cat_224.rgb"),
                    shared!("reference/outputs/mobilenet_v1_1.0_224_quant_cat.u8"),
                ),
                (
                    shared!("reference/inputs/dragonfly_224.rgb"),
                    shared!("reference/outputs/mobilenet_v1_1.0_224_quant_dragonfly.u8"),
                ),
            ],
        ),
    ];
    for (files, images) in cases {
        let files = files.iter().map(|f| js_sys::Uint8Array::from(*f)).collect();
        let mut model = Model::from_tflite(files, None).unwrap_or_else(|_| panic!("load"));
        assert_eq!(model.kernels(), mobilenet_wasm::kernels::best::<mobilenet_wasm::engine::Uint8>().name);
        for (input, want) in images {
            assert_eq!(model.run_raw(input).unwrap_or_else(|_| panic!("run")), want);
        }
    }
}

fn load() -> Model {
    let bytes = js_sys::Uint8Array::from(MODEL);
    Model::from_tflite(vec![bytes], None).unwrap_or_else(|_| panic!("load"))
}

#[wasm_bindgen_test]
fn official_quantized_model_matches_tflite_in_the_browser() {
    let mut model = load();
    assert!(model.quantized());
    assert_eq!(model.resolution(), [128, 128]);
    assert_eq!(model.num_classes(), 1001);
    assert!(model.has_labels(), "labels come from the ZIP appended to the model");
    let out = model.run_raw(CAT).unwrap_or_else(|_| panic!("run"));
    assert_eq!(out, WANT);
    let top = model.classify_pixels(CAT, 3, 1).unwrap_or_else(|_| panic!("classify"));
    let first = js_sys::Array::from(&top).get(0);
    let label = js_sys::Reflect::get(&first, &"label".into()).unwrap().as_string().unwrap();
    assert_eq!(label, "Egyptian cat");
    let times = model.profile(CAT, 3).unwrap_or_else(|_| panic!("profile"));
    assert_eq!(times.len(), 29, "one time per layer");
    assert!(times.iter().all(|t| *t >= 0.0));
    let embedding = model.embedding_pixels(CAT, 3).unwrap_or_else(|_| panic!("embedding"));
    assert_eq!(embedding.len(), 256);
    assert!(embedding.iter().any(|v| *v > 0.0));
}

#[wasm_bindgen_test]
fn corrupt_and_truncated_models_throw() {
    for bytes in [&MODEL[..100], &MODEL[..MODEL.len() / 2], &[0u8; 64][..]] {
        assert!(Model::from_tflite(vec![js_sys::Uint8Array::from(bytes)], None).is_err());
    }
    let mut flipped = MODEL.to_vec();
    flipped[4] ^= 0x20; // the "TFL3" file identifier
    assert!(Model::from_tflite(vec![js_sys::Uint8Array::from(&flipped[..])], None).is_err());
    let mut model = load();
    assert!(model.run_raw(&CAT[1..]).is_err(), "wrong input size");
    assert!(model.run(&[0.0; 10]).is_err(), "quantized models take bytes");
    assert_eq!(model.run_raw(CAT).unwrap_or_else(|_| panic!("still usable")), WANT);
}

#[wasm_bindgen_test]
fn quantized_model_profiles_every_layer() {
    let times = js_sys::Array::from(&load().profile_raw(CAT).unwrap_or_else(|_| panic!("profile")));
    assert_eq!(times.length(), 29);
    let name = js_sys::Reflect::get(&times.get(13), &"name".into()).unwrap().as_string().unwrap();
    assert_eq!(name, "Conv2d_7_depthwise");
}

/// The benchmark hooks: switching kernel families keeps the output exact, and a profile times every layer.
#[wasm_bindgen_test]
fn kernel_families_can_be_switched_and_profiled() {
    let mut model = load();
    let layers =
        js_sys::Reflect::get(&model.inspect().unwrap_or_else(|_| panic!("inspect")), &"layers".into()).unwrap();
    let count = js_sys::Array::from(&layers).length() as usize;
    for name in ["scalar-u8", mobilenet_wasm::kernels::best::<mobilenet_wasm::engine::Uint8>().name] {
        model.use_kernels(name).unwrap_or_else(|_| panic!("{name}"));
        assert_eq!(model.kernels(), name);
        assert_eq!(model.run_raw(CAT).unwrap_or_else(|_| panic!("run")), WANT, "{name}");
        let times = js_sys::Array::from(&model.profile_raw(CAT).unwrap_or_else(|_| panic!("profile")));
        assert_eq!(times.length() as usize, count);
    }
    assert!(model.use_kernels("no-such-family").is_err());
    assert!(model.profile_raw(&CAT[1..]).is_err());
    let mut float = Model::seeded(0.25, 96, 1, None).unwrap_or_else(|_| panic!("seeded"));
    assert!(float.use_kernels("scalar-u8").is_err(), "float models take float families");
}

/// Models users make (Keras MobileNet + a Dense(100, relu) → Dense(5, softmax) head): int8 full-integer with int8
/// and uint8 edges byte for byte, and float16 weights (exact in the plain build, within 1e-4 in the relaxed one), through this build's
/// SIMD kernels (per-channel requantization in the vector path).
#[wasm_bindgen_test]
fn user_models_match_tflite_in_the_browser() {
    macro_rules! user {
        ($path:literal) => {
            include_bytes!(concat!(env!("MOBILENET_SHARED_DIR"), "/fixtures/user/", $path)).as_slice()
        };
    }
    /// A model file, then (input, reference output) pairs.
    type Case<'a> = (&'a [u8], [(&'a [u8], &'a [u8]); 2]);
    let int8: [Case; 2] = [
        (
            user!("tm_a0.25_r224_int8_int8io.tflite"),
            [
                (user!("tm_a0.25_r224_int8_int8io_cat.in"), user!("tm_a0.25_r224_int8_int8io_cat.out")),
                (user!("tm_a0.25_r224_int8_int8io_parrot.in"), user!("tm_a0.25_r224_int8_int8io_parrot.out")),
            ],
        ),
        (
            user!("tm_a0.25_r224_int8_uint8io.tflite"),
            [
                (user!("tm_a0.25_r224_int8_uint8io_bird.in"), user!("tm_a0.25_r224_int8_uint8io_bird.out")),
                (user!("tm_a0.25_r224_int8_uint8io_hot_dog.in"), user!("tm_a0.25_r224_int8_uint8io_hot_dog.out")),
            ],
        ),
    ];
    for (file, images) in int8 {
        let mut model =
            Model::from_tflite(vec![js_sys::Uint8Array::from(file)], None).unwrap_or_else(|_| panic!("load"));
        assert!(model.quantized());
        assert_eq!(model.num_classes(), 5);
        assert_eq!(model.kernels(), mobilenet_wasm::kernels::best::<mobilenet_wasm::engine::Uint8>().name);
        for (input, want) in images {
            assert_eq!(model.run_raw(input).unwrap_or_else(|_| panic!("run")), want);
        }
    }
    let float16 = user!("tm_a0.25_r224_float16.tflite");
    let mut model =
        Model::from_tflite(vec![js_sys::Uint8Array::from(float16)], None).unwrap_or_else(|_| panic!("load"));
    assert!(!model.quantized());
    assert_eq!(model.kernels(), mobilenet_wasm::kernels::best::<mobilenet_wasm::engine::Float>().name);
    let floats =
        |b: &[u8]| -> Vec<f32> { b.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect() };
    // The manifest's reference-vs-default-kernel distances for these photos are 1.7e-5 and 3.6e-6.
    for (input, want) in [
        (user!("tm_a0.25_r224_float16_cat.in"), user!("tm_a0.25_r224_float16_cat.out")),
        (user!("tm_a0.25_r224_float16_dragonfly.in"), user!("tm_a0.25_r224_float16_dragonfly.out")),
    ] {
        let got = floats(&model.run_raw(input).unwrap_or_else(|_| panic!("run")));
        let diff = got.iter().zip(floats(want)).map(|(a, b)| (a - b).abs()).fold(0.0, f32::max);
        // The plain SIMD family sums as the reference kernels do (exact); the relaxed one may fuse.
        let bound = if model.kernels() == "simd128" { 0.0 } else { 1e-4 };
        assert!(diff <= bound, "{}: max |diff| {diff}", model.kernels());
    }
}
