//! Every kernel family of this build against an independent reference, through the one tester per kernel
//! kind (tests/common/kernel_tester.rs): float families against the TensorFlow-semantics ops, uint8
//! families against the integer sums written out plainly. Natively these are the scalar families; the
//! browser tests hold the SIMD families to their scalar twins with the same tester.
#![cfg(not(target_arch = "wasm32"))]

#[path = "common/kernel_tester.rs"]
mod kernel_tester;

use kernel_tester::{sweep, Reference, Tester};
use mobilenet_wasm::engine::{Float, Uint8};
use mobilenet_wasm::kernels;

#[test]
fn every_float_family_matches_the_reference_ops() {
    for &family in kernels::families::<Float>() {
        sweep(&Tester::<Float> { family, reference: Reference::Independent }, 2024);
    }
}

#[test]
fn every_uint8_family_matches_the_direct_sums() {
    for &family in kernels::families::<Uint8>() {
        sweep(&Tester::<Uint8> { family, reference: Reference::Independent }, 2025);
    }
}
