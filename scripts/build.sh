#!/usr/bin/env bash
# Builds the SIMD128 wasm package into pkg/ and lays out the page's git-ignored files beside www/:
# www/pkg (wasm + glue), www/js (the npm wrapper the page runs on), www/models (the pretrained models),
# www/pkg-threads and www/builds.json when a threaded build exists in pkg-threads/.
set -euo pipefail
cd "$(dirname "$0")/.."
# Flags live in .cargo/config.toml only: an exported RUSTFLAGS would drop +simd128.
unset RUSTFLAGS
wasm-pack build --target web --release --out-dir pkg --no-pack

copy_build() { # from, to
  rm -rf "$2"
  mkdir -p "$2"
  cp "$1"/mobilenet_wasm.js "$1"/mobilenet_wasm_bg.wasm "$1"/mobilenet_wasm.d.ts "$2"/
  # wasm-bindgen-rayon's worker helpers live in snippets/.
  if [ -d "$1/snippets" ]; then cp -r "$1/snippets" "$2"/; fi
}
copy_build pkg www/pkg
rm -rf www/js && cp -r js www/js
threads=false
if [ -f pkg-threads/mobilenet_wasm.js ]; then
  copy_build pkg-threads www/pkg-threads
  threads=true
else
  rm -rf www/pkg-threads
fi
# Tells the page whether to ask for threads, so it never probes for a build that is not there.
printf '{"threads": %s}\n' "$threads" > www/builds.json

bash scripts/copy-models.sh
echo "[build] www/pkg: $(du -h www/pkg/mobilenet_wasm_bg.wasm | cut -f1) wasm; threaded build: $threads"
