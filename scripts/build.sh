#!/usr/bin/env bash
# Builds the SIMD128 wasm package into pkg/ and copies it beside the page (www/pkg, git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
# Flags live in .cargo/config.toml only: an exported RUSTFLAGS would drop +simd128.
unset RUSTFLAGS
wasm-pack build --target web --release --out-dir pkg --no-pack
rm -rf www/pkg
mkdir -p www/pkg
cp pkg/mobilenet_wasm.js pkg/mobilenet_wasm_bg.wasm pkg/mobilenet_wasm.d.ts www/pkg/
echo "[build] www/pkg: $(du -h www/pkg/mobilenet_wasm_bg.wasm | cut -f1) wasm"
