//! # mobilenet-wasm
//!
//! MobileNet v1 (Howard et al., 2017) inference in Rust, built for WebAssembly, with a layer inspector
//! that shows where every multiply-add goes.
//!
//! Data flows one way: configuration → layer specs ([`arch`]) → costs ([`inspect`]) and weights
//! ([`weights`]) → a [`Plan`] of packed layers ([`engine`]) → [`kernels`] → predictions.
//!
//! ```
//! use mobilenet_wasm::{inspect, Config, Plan};
//!
//! let cfg = Config::new(0.25, 128)?;
//! let report = inspect::report(&cfg);
//! assert_eq!(report.layers[0].name, "Conv2d_0");
//!
//! let mut plan = Plan::seeded(cfg, 42)?;
//! let input = vec![0.0f32; plan.input_len()];
//! let out = plan.run(&input)?;
//! let best = mobilenet_wasm::top_k(out.probabilities, 5);
//! assert_eq!(best.len(), 5);
//! # Ok::<(), mobilenet_wasm::Error>(())
//! ```

// The `small` feature (Cargo.toml) marks run-once functions `optimize(size)`.
#![cfg_attr(feature = "small", feature(optimize_attribute))]

pub mod arch;
pub mod classifier;
pub mod engine;
pub mod error;
pub mod export;
#[cfg(not(target_arch = "wasm32"))]
pub mod image_file;
pub mod inspect;
pub mod kernels;
pub mod ops;
pub mod predictions;
pub mod preprocess;
pub mod quant;
pub mod rng;
pub mod teach;
pub mod tensor;
pub mod tflite;
pub mod web;
pub mod weights;

pub use arch::{Config, Hwc, LayerSpec, OpKind, Resolution};
pub use classifier::Classifier;
pub use engine::{Output, Plan};
pub use error::Error;
pub use predictions::{top_k, Prediction};
pub use preprocess::{Image, PixelFormat};
pub use tensor::{Shape, Tensor};
pub use weights::Weights;
