#!/usr/bin/env bash
# Builds the wasm packages and lays out the page's git-ignored files beside www/:
#   pkg/           SIMD128, single thread: runs everywhere.
#   pkg-threads/   SIMD128 + wasm-bindgen-rayon workers over shared memory: needs a cross-origin isolated page.
#   Each also holds mobilenet_wasm_relaxed_bg.wasm: the same crate built with +relaxed-simd (fused
#   multiply-adds where the CPU has FMA), which the JS wrapper loads through the same glue JS when the
#   browser validates relaxed SIMD. Its glue must equal the plain glue byte for byte; the build checks.
#   www/pkg, www/pkg-threads (copies), www/js (the npm wrapper the page runs on), www/models (the
#   pretrained models), www/builds.json.
# MOBILENET_BUILD=simd skips the threaded builds. Each build compiles std too (about a minute on a cold cache).
set -euo pipefail
cd "$(dirname "$0")/.."
# Each build sets its own flags: an exported RUSTFLAGS would replace them.
unset RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS

# Every build rebuilds std (build-std, which stable allows through RUSTC_BOOTSTRAP) with panics that trap
# at once: wasm32 has no unwinding, so a panic (a bug: data from outside gets errors) traps either way,
# and without the panic-message formatting the .wasm is 9 KB smaller gzipped. The `small` feature
# compiles the model import and other run-once code for size (6 KB more).
SIZE_FLAGS="-Z unstable-options -C panic=immediate-abort"
# The single-thread build's flags: .cargo/config.toml's (which tests and tools use) plus SIZE_FLAGS.
SIMD_FLAGS="-C target-feature=+simd128 -C llvm-args=-pre-RA-sched=source $SIZE_FLAGS"
# Shared memory needs atomics plus these link args (TOOLCHAIN.md); the scheduling flag as in SIMD_FLAGS.
THREADS_FLAGS="-C target-feature=+atomics,+bulk-memory,+mutable-globals,+simd128 -C llvm-args=-pre-RA-sched=source"
THREADS_FLAGS+=" $SIZE_FLAGS"
for arg in --shared-memory --max-memory=1073741824 --import-memory --export=__wasm_init_tls \
  --export=__tls_size --export=__tls_align --export=__tls_base; do
  THREADS_FLAGS+=" -C link-arg=$arg"
done

# The same flags with +relaxed-simd added to the target features.
relaxed() { sed 's/target-feature=\([^ ]*\)/target-feature=\1,+relaxed-simd/' <<<"$1"; }

build_pkg() { # out-dir, target-dir, rustflags, more cargo args
  RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$2" CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$3" \
    wasm-pack build --target web --release --out-dir "$1" --no-pack . --features small "${@:4}" \
    -Z build-std=panic_abort,std
}

add_relaxed() { # package dir whose plain build is done, scratch out-dir of the relaxed build
  # The wrapper loads the relaxed .wasm through the plain glue, so everything but the .wasm must match.
  local f
  for f in "$1"/*.js "$1"/*.d.ts; do
    f=$(basename "$f")
    if ! cmp "$1/$f" "$2/$f"; then
      echo "[build] FAILED: $2/$f differs from $1/$f: the relaxed build's glue is not the plain build's" >&2
      exit 1
    fi
  done
  if [ -d "$1/snippets" ] && ! diff -r "$1/snippets" "$2/snippets"; then
    echo "[build] FAILED: $2/snippets differs from $1/snippets" >&2
    exit 1
  fi
  cp "$2/mobilenet_wasm_bg.wasm" "$1/mobilenet_wasm_relaxed_bg.wasm"
}

copy_build() { # from, to
  # wasm-pack's own .gitignore ("*") would hide the build from npm pack; the repo's .gitignore covers it.
  rm -f "$1/.gitignore"
  rm -rf "$2"
  mkdir -p "$2"
  cp "$1"/mobilenet_wasm.js "$1"/mobilenet_wasm_bg.wasm "$1"/mobilenet_wasm_relaxed_bg.wasm "$1"/mobilenet_wasm.d.ts "$2"/
  # wasm-bindgen-rayon's worker helpers live in snippets/.
  if [ -d "$1/snippets" ]; then cp -r "$1/snippets" "$2"/; fi
  echo "[build] $2: $(du -h "$2/mobilenet_wasm_bg.wasm" | cut -f1) wasm," \
    "$(du -h "$2/mobilenet_wasm_relaxed_bg.wasm" | cut -f1) relaxed"
}

# Each flag set has its own target dir, so the builds never evict each other's artifacts; the relaxed
# builds' packages go to scratch folders there, and only their .wasm is kept.
target=${CARGO_TARGET_DIR:-target}
build_pkg pkg "$target" "$SIMD_FLAGS"
build_pkg "$target/relaxed/pkg" "$target/relaxed" "$(relaxed "$SIMD_FLAGS")"
add_relaxed pkg "$target/relaxed/pkg"
copy_build pkg www/pkg
# The teaching module (src/web/teach.rs): a .wasm of its own that the wrapper fetches only when a page
# teaches, so classifying downloads none of it. Plain SIMD only: training's sums are f64, and its f32 tiles
# (the hidden layer's products) are vectorized by LLVM, which emits no relaxed fused multiply-adds.
build_pkg pkg-teach "$target/teach" "$SIMD_FLAGS" --features teach
rm -f pkg-teach/.gitignore
rm -rf www/pkg-teach && mkdir -p www/pkg-teach
cp pkg-teach/mobilenet_wasm.js pkg-teach/mobilenet_wasm_bg.wasm pkg-teach/mobilenet_wasm.d.ts www/pkg-teach/
echo "[build] www/pkg-teach: $(du -h www/pkg-teach/mobilenet_wasm_bg.wasm | cut -f1) wasm"

threads=false
if [ "${MOBILENET_BUILD:-all}" != simd ]; then
  build_pkg pkg-threads "$target/threads" "$THREADS_FLAGS" --features threads
  build_pkg "$target/threads-relaxed/pkg" "$target/threads-relaxed" "$(relaxed "$THREADS_FLAGS")" --features threads
  add_relaxed pkg-threads "$target/threads-relaxed/pkg"
  copy_build pkg-threads www/pkg-threads
  threads=true
else
  rm -rf www/pkg-threads
fi
# Tells the page whether to ask for threads, so it never probes for a build that is not there.
printf '{"threads": %s}\n' "$threads" > www/builds.json

rm -rf www/js && cp -r js www/js
bash scripts/copy-models.sh
