#!/usr/bin/env bash
# Every test: formatting, lints, native tests, browser tests in headless Chromium, Firefox and WebKitGTK,
# the npm wrapper in Node, then the page and the packed npm package end to end in headless Chromium.
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
step "cargo clippy (native, wasm32, wasm32 with relaxed SIMD, the teaching module)"
cargo clippy --all-targets -- -D warnings
cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
relaxed cargo clippy --all-targets --target wasm32-unknown-unknown -- -D warnings
cargo clippy --lib --target wasm32-unknown-unknown --features teach -- -D warnings
step "cargo test"
cargo test
step "taught models against TFLite's own interpreter (tests/oracle/taught.py, ai-edge-litert in .venv-oracle)"
cargo build --bin mobilenet
.venv-oracle/bin/python tests/oracle/taught.py "${CARGO_TARGET_DIR:-target}/debug/mobilenet" "${MOBILENET_SHARED:-../shared}" \
  "${CARGO_TARGET_DIR:-target}/taught"
step "cargo test --features teach (the teaching module's bindings: the worked example)"
cargo test --lib --features teach web::
step "cargo test --features threads (the parallel region on rayon's native pool)"
cargo test --features threads --lib --test engine --test tflite_exact
# The Rust browser tests in the three engines. WebKitGTK's WebDriver stands in for safaridriver (the
# test runner starts it and asks for a session with no capabilities: it opens MiniBrowser, which needs a
# display, so the run sits under xvfb-run).
chromium() { wasm-pack test --headless --chrome; }
firefox() { wasm-pack test --headless --firefox; }
webkit_once() { xvfb-run -a wasm-pack test --headless --safari --safaridriver "$(command -v WebKitWebDriver)" "$@"; }
# WebKitGTK 2.50 runs a test binary wrong about once in 50 page loads (2 of ~110 runs of web_tflite, never
# in Chromium or Firefox, never twice in a row): a debug-build UB check fires inside the uint8 depthwise
# kernel on pointers that are in bounds by construction. The cause is not found (the same wasm runs
# thousands of times clean in the other engines, so JavaScriptCore's tiering is the suspect). A failing
# run is run once more, its first output kept in a file named in the log; two failures in a row fail.
webkit() {
  local log
  log=$(mktemp)
  if webkit_once 2>&1 | tee "$log"; then rm -f "$log"; return 0; fi
  echo "WebKitGTK: the run above failed; running it once more (its output is in $log)" >&2
  webkit_once
}
step "wasm-pack test --headless: Chromium, Firefox, WebKitGTK"
chromium
firefox
webkit
step "wasm-pack test --headless, relaxed SIMD build (fused multiply-adds within rounding of scalar): Chromium, Firefox"
relaxed chromium
relaxed firefox
echo "WebKitGTK 2.50 has no relaxed SIMD (JavaScriptCore: \"CompileError: WebAssembly.Module doesn't parse at" \
  "byte 54: relaxed simd instructions not supported\"), so the relaxed build's tests cannot load there; the" \
  "package gives it the plain SIMD build, tested above."
step "build the wasm package and the page"
bash scripts/build.sh
step "npm wrapper and tools (node --test tests/js/)"
node --test tests/js/
step "end to end: page, camera, photos, packed package in Vite (node --test tests/e2e/)"
node --test tests/e2e/
step "fuzz smoke run: 60 s per target (scripts/fuzz.sh; skipped without a nightly toolchain)"
bash scripts/fuzz.sh 60
