#!/usr/bin/env bash
# Builds the two wasm packages and copies them beside the page (www/pkg*, git-ignored):
#   pkg/          SIMD128, single thread: runs everywhere.
#   pkg-threads/  SIMD128 + wasm-bindgen-rayon workers over shared memory: needs a cross-origin isolated page.
# MOBILENET_BUILD=simd skips the threaded build (about a minute of build-std on a cold cache).
set -euo pipefail
cd "$(dirname "$0")/.."
# The plain build's flags live in .cargo/config.toml only: an exported RUSTFLAGS would drop +simd128.
unset RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS

copy() { # package dir → www/<dir>
  rm -rf "www/$1"
  mkdir -p "www/$1"
  cp -r "$1"/mobilenet_wasm.js "$1"/mobilenet_wasm_bg.wasm "$1"/mobilenet_wasm.d.ts "www/$1/"
  [ -d "$1/snippets" ] && cp -r "$1/snippets" "www/$1/"
  echo "[build] www/$1: $(du -h "www/$1/mobilenet_wasm_bg.wasm" | cut -f1) wasm"
}

wasm-pack build --target web --release --out-dir pkg --no-pack
copy pkg

if [ "${MOBILENET_BUILD:-all}" != simd ]; then
  # Shared memory needs atomics plus these link args (TOOLCHAIN.md); std must be rebuilt with them, which
  # stable allows through RUSTC_BOOTSTRAP. Its own target dir keeps the two flag sets from evicting each other.
  threads_flags="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128"
  for arg in --shared-memory --max-memory=1073741824 --import-memory --export=__wasm_init_tls \
    --export=__tls_size --export=__tls_align --export=__tls_base; do
    threads_flags+=" -C link-arg=$arg"
  done
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR=target/threads CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$threads_flags" \
    wasm-pack build --target web --release --out-dir pkg-threads --no-pack . --features threads \
    -Z build-std=panic_abort,std
  copy pkg-threads
fi
