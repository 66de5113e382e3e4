#!/usr/bin/env bash
# Copies the pretrained models and labels from $MOBILENET_SHARED/models (default ../shared/models) into
# the git-ignored www/models/. Without that folder, models fetched by `npm run fetch-models` stay in use.
set -euo pipefail
cd "$(dirname "$0")/.."
src="${MOBILENET_SHARED:-../shared}/models"
dest=www/models
FILES=(mobilenet_v1_0.25_128_quant.tflite mobilenet_v1_0.5_160_quant.tflite mobilenet_v1_0.75_192_quant.tflite
  mobilenet_v1_1.0_224_quant_embedding_extractor.tflite mobilenet_v1_1.0_224_quant_head.tflite imagenet_labels.txt)
mkdir -p "$dest"
if [ -d "$src" ]; then
  for f in "${FILES[@]}"; do
    if [ -f "$src/$f" ]; then cp -p "$src/$f" "$dest/$f"; fi
  done
fi
missing=()
for f in "${FILES[@]}"; do [ -f "$dest/$f" ] || missing+=("$f"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "[models] missing in $dest: ${missing[*]}" >&2
  echo "[models] copy them from a shared folder (MOBILENET_SHARED=/path) or run: npm run fetch-models" >&2
else
  echo "[models] $dest: ${#FILES[@]} files"
fi
