#!/usr/bin/env bash
# Idempotent toolchain set-up: installs only what is missing, so a second run takes seconds.
# Versions fit together (see ../shared/TOOLCHAIN.md): wasm-bindgen crate = wasm-bindgen-cli.
set -euo pipefail

WASM_PACK_VERSION=0.15.1
BINARYEN_VERSION=132.0.0
CARGO_FUZZ_VERSION=0.13.2
# Drives Firefox ESR 153 (Debian's firefox-esr) for the browser tests; from crates.io, like the other tools.
GECKODRIVER_VERSION=0.37.1
# TFLite's own interpreter, the oracle the taught .tflite files are checked against (tests only).
LITERT_VERSION=2.3.0
root=$(cd "$(dirname "$0")/.." && pwd)
# --test: also what only the tests need (Firefox, WebKitGTK, their drivers), so `npm start` stays quick.
tests=false
[ "${1:-}" = --test ] && tests=true
# The CLI must equal the crate pin exactly, or wasm-pack tries to download its own copy.
WASM_BINDGEN_VERSION=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$root/Cargo.toml")

log() { printf '[setup] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_packages() {
  local missing=()
  command -v chromium >/dev/null || missing+=(chromium)
  command -v chromedriver >/dev/null || missing+=(chromium-driver)
  command -v wasm-objdump >/dev/null || missing+=(wabt)
  command -v ffmpeg >/dev/null || missing+=(ffmpeg)
  if $tests; then
    # The other two browser engines the tests run in: Firefox, and WebKitGTK (Safari's engine) through
    # its WebDriver, whose MiniBrowser needs a display: Xvfb.
    command -v firefox-esr >/dev/null || missing+=(firefox-esr)
    command -v WebKitWebDriver >/dev/null || missing+=(webkit2gtk-driver)
    command -v xvfb-run >/dev/null || missing+=(xvfb)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    log "apt: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

rust_targets() {
  for tc in stable nightly; do
    rustup toolchain list | grep -q "^$tc" || continue
    rustup +"$tc" target list --installed | grep -q wasm32-unknown-unknown \
      || { log "rustup $tc: wasm32 target"; rustup +"$tc" target add wasm32-unknown-unknown; }
    rustup +"$tc" component list --installed | grep -q '^rust-src' \
      || { log "rustup $tc: rust-src"; rustup +"$tc" component add rust-src; }
  done
}

cargo_tool() { # binary, crate, version
  # The version is read first, not piped into `grep -q`: grep stops at its match, the tool then dies of
  # SIGPIPE, and under pipefail that failed pipeline reinstalled a tool that was there (geckodriver: 2 min).
  local have
  have=$("$1" --version 2>/dev/null || true)
  if ! grep -q " $3\$\| $3 " <<<"$have"; then
    log "cargo install $2 $3"
    # No --locked: a locked dependency is missing from the registry mirror.
    cargo install "$2" --version "$3" --force >/dev/null
  fi
}

binaryen() {
  # Debian's wasm-opt (binaryen 108) corrupts wasm-bindgen output; use npm's, ahead on PATH.
  local v
  v=$(wasm-opt --version 2>/dev/null | grep -o 'version [0-9]*' | grep -o '[0-9]*' || echo 0)
  if [ "${v:-0}" -lt 116 ]; then
    log "binaryen $BINARYEN_VERSION from npm"
    as_root npm install --silent --prefix /opt/binaryen --no-save "binaryen@$BINARYEN_VERSION" >/dev/null
    as_root ln -sf /opt/binaryen/node_modules/.bin/wasm-opt /usr/local/bin/wasm-opt
  fi
}

node_modules() {
  # npm ci when node_modules is missing or older than the lock file.
  if [ ! -f "$root/node_modules/.package-lock.json" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    log "npm ci"
    (cd "$root" && npm ci --silent --no-audit --no-fund >/dev/null)
  fi
}

fuzzing() {
  # cargo fuzz needs nightly (libFuzzer's sanitizer flags); without it scripts/fuzz.sh says so and skips.
  if rustup toolchain list | grep -q '^nightly'; then
    cargo_tool cargo-fuzz cargo-fuzz "$CARGO_FUZZ_VERSION"
  else
    log "no nightly toolchain: the fuzz smoke run will be skipped"
  fi
}

oracle() {
  # A git-ignored venv of its own, so no system Python package is touched.
  local venv="$root/.venv-oracle"
  local have
  have=$("$venv/bin/python" -c "import ai_edge_litert, numpy, importlib.metadata as m; print(m.version('ai-edge-litert'))" \
    2>/dev/null || true)
  if [ "$have" != "$LITERT_VERSION" ]; then
    log "venv .venv-oracle: ai-edge-litert $LITERT_VERSION"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "ai-edge-litert==$LITERT_VERSION" numpy
  fi
}

apt_packages
rust_targets
cargo_tool wasm-pack wasm-pack "$WASM_PACK_VERSION"
cargo_tool wasm-bindgen wasm-bindgen-cli "$WASM_BINDGEN_VERSION"
if $tests; then cargo_tool geckodriver geckodriver "$GECKODRIVER_VERSION"; oracle; fi
fuzzing
binaryen
node_modules
log "ok"
