#!/usr/bin/env bash
# Builds the two wasm packages and lays out the page's git-ignored files beside www/:
#   www/pkg          SIMD128, single thread: runs everywhere.
#   www/pkg-threads  SIMD128 + wasm-bindgen-rayon workers over shared memory: needs a cross-origin isolated page.
#   www/js (the npm wrapper the page runs on), www/models (the pretrained models), www/builds.json.
# MOBILENET_BUILD=simd skips the threaded build (about a minute of build-std on a cold cache).
set -euo pipefail
cd "$(dirname "$0")/.."
# The plain build's flags live in .cargo/config.toml only: an exported RUSTFLAGS would drop +simd128.
unset RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS

copy_build() { # from, to
  # wasm-pack's own .gitignore ("*") would hide the build from npm pack; the repo's .gitignore covers it.
  rm -f "$1/.gitignore"
  rm -rf "$2"
  mkdir -p "$2"
  cp "$1"/mobilenet_wasm.js "$1"/mobilenet_wasm_bg.wasm "$1"/mobilenet_wasm.d.ts "$2"/
  # wasm-bindgen-rayon's worker helpers live in snippets/.
  if [ -d "$1/snippets" ]; then cp -r "$1/snippets" "$2"/; fi
  echo "[build] $2: $(du -h "$2/mobilenet_wasm_bg.wasm" | cut -f1) wasm"
}

wasm-pack build --target web --release --out-dir pkg --no-pack
copy_build pkg www/pkg

threads=false
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
  copy_build pkg-threads www/pkg-threads
  threads=true
else
  rm -rf www/pkg-threads
fi
# Tells the page whether to ask for threads, so it never probes for a build that is not there.
printf '{"threads": %s}\n' "$threads" > www/builds.json

rm -rf www/js && cp -r js www/js
bash scripts/copy-models.sh
