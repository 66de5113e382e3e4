#!/usr/bin/env bash
# Every test: formatting, lints, native tests, browser tests in headless Chromium, the npm wrapper in
# Node, then the page and the packed npm package end to end in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
unset RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS
step() { printf '\n== %s\n' "$*"; }
# The relaxed SIMD build (scripts/build.sh): .cargo/config.toml's flags plus +relaxed-simd, set for the
# wasm target only (an exported RUSTFLAGS would replace the config's), in a target dir of its own so the
# two flag sets do not evict each other's artifacts.
relaxed() {
  CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/relaxed" \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128,+relaxed-simd -C llvm-args=-pre-RA-sched=source" \
    "$@"
}

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native, wasm32, wasm32 with relaxed SIMD)"
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
relaxed cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
step "cargo test"
cargo test
step "cargo test --features threads (the parallel region on rayon's native pool)"
cargo test --features threads --lib --test engine --test tflite_exact
step "wasm-pack test --headless --chrome"
wasm-pack test --headless --chrome
step "wasm-pack test --headless --chrome, relaxed SIMD build (fused multiply-adds within rounding of scalar)"
relaxed wasm-pack test --headless --chrome
step "build the wasm package and the page"
bash scripts/build.sh
step "npm wrapper and tools (node --test tests/js/)"
node --test tests/js/
step "end to end: page, camera, photos, packed package in Vite (node --test tests/e2e/)"
node --test tests/e2e/
step "fuzz smoke run: 60 s per target (scripts/fuzz.sh; skipped without a nightly toolchain)"
bash scripts/fuzz.sh 60
