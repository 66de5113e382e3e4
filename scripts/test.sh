#!/usr/bin/env bash
# Every test: formatting, lints, native tests, browser tests in headless Chromium, the page smoke test.
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
step "wasm-pack test --headless --chrome"
wasm-pack test --headless --chrome
step "page smoke test (build, serve, inspect in Chromium)"
bash scripts/build.sh
node --test tests/e2e/
