#!/usr/bin/env bash
# Fuzzes what reads outside data, with cargo-fuzz (libFuzzer) on the nightly toolchain:
#   tflite_import  the TFLite reader and the import (no inference)
#   zip_labels     the labels ZIP appended to a model
#   image_decode   image files with their pixel and memory limits, and the resize
#   tiny_model     small models end to end (load, one inference, the embedding)
# Usage: scripts/fuzz.sh SECONDS [TARGET...]   (every target when none is named; SECONDS each)
# Seed corpora are made at run time from ../shared ($MOBILENET_SHARED) in the git-ignored fuzz/corpus/, never
# committed; libFuzzer adds what it finds there, so later runs start further. Crashes land in fuzz/artifacts/
# and fail the run. Without a nightly toolchain it says so and exits 0 (npm test runs a smoke run through it).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:?usage: scripts/fuzz.sh SECONDS [TARGET...]}
shift
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(tflite_import zip_labels image_decode tiny_model)
shared=${MOBILENET_SHARED:-../shared}

if ! rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
  echo "[fuzz] skipped: no nightly toolchain (cargo fuzz needs one: rustup toolchain install nightly)"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null; then
  echo "[fuzz] skipped: cargo-fuzz is not installed (scripts/setup.sh installs it where nightly is present)"
  exit 0
fi
unset RUSTFLAGS CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS

# seed TARGET FILE...: copies the files into the target's corpus (once; libFuzzer names its own finds by hash).
seed() {
  local dir="fuzz/corpus/$1" f
  shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && cp -n "$f" "$dir/seed-$(basename "$f")"
  done
  return 0
}
# Tiny MobileNets of both export styles, float and int8 (a few KB each, written by the test-suite's model
# builder) and small images: the targets stay at thousands of runs a second, which the official models
# (0.5 to 17 MB) and photos would bring down to tens or hundreds; the 0.25 model seeds the end-to-end target.
tiny=fuzz/corpus/tiny-seeds
mkdir -p "$tiny"
for suite in tflite_synthetic preprocess; do
  MOBILENET_FUZZ_SEEDS="$PWD/$tiny" cargo test -q --test $suite write_fuzz_seeds -- --ignored --exact >/dev/null
done
seed tflite_import "$tiny"/*.tflite "$shared"/fixtures/dw_mult2_s2_d2_same_float.tflite
seed zip_labels # the labels ZIP alone, below
# Small images of every kind keep the decoder fast; one photo of each format the user gave us besides.
seed image_decode "$tiny"/seed-*.{png,bmp,jpg} "$shared"/images/owl.jpg
seed tiny_model "$tiny"/*.tflite "$shared"/models/mobilenet_v1_0.25_128_quant.tflite
# The labels ZIP alone, cut from behind the 0.25 model's flatbuffer (its local header starts with PK\x03\x04).
python3 - "$shared/models/mobilenet_v1_0.25_128_quant.tflite" fuzz/corpus/zip_labels/seed-labels.zip <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
at = data.find(b'PK\x03\x04')
if at >= 0:
    open(sys.argv[2], 'wb').write(data[at:])
PY

# Longest input each target is given (the seeds fit).
max_len() { case $1 in tflite_import) echo 65536 ;; tiny_model) echo 1048576 ;; zip_labels) echo 65536 ;; *) echo 1048576 ;; esac; }

status=0
for t in "${targets[@]}"; do
  echo "[fuzz] $t for ${seconds}s"
  log="fuzz/$t.log"
  if ! cargo +nightly fuzz run --release "$t" "fuzz/corpus/$t" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$(max_len "$t")" -timeout=30 -print_final_stats=1 \
    >"$log" 2>&1; then
    status=1
    echo "[fuzz] $t FAILED: see $log and fuzz/artifacts/$t/"
    grep -E 'ERROR|panicked|Test unit written' "$log" | head -5 || true
  fi
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo '?')
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  echo "[fuzz] $t: $runs runs, $speed exec/s, ${cov:-cov: ?} edges, corpus $(ls "fuzz/corpus/$t" | wc -l) files"
done
exit $status
