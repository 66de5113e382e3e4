#!/usr/bin/env bash
# Every test: formatting, lints, native tests, browser tests in headless Chromium, the npm wrapper in
# Node, then the page and the packed npm package end to end in headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
unset RUSTFLAGS
step() { printf '\n== %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy (native and wasm32)"
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
step "cargo test"
cargo test
step "cargo test --features threads (the parallel region on rayon's native pool)"
cargo test --features threads --lib --test engine --test tflite_exact
step "wasm-pack test --headless --chrome"
wasm-pack test --headless --chrome
step "build the wasm package and the page"
bash scripts/build.sh
step "npm wrapper and tools (node --test tests/js/)"
node --test tests/js/
step "end to end: page, camera, photos, packed package in Vite (node --test tests/e2e/)"
node --test tests/e2e/
