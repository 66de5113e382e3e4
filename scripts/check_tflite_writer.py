#!/usr/bin/env python3
"""Runs the files `cargo test --test tflite_writer -- --ignored write_files_for_tflite` writes (with
MOBILENET_WRITER_OUT=DIR) through TFLite's own interpreter (pip install ai-edge-litert) and prints, per file
and kernel set, the largest difference from our output. Not part of the test suite: a manual check.

usage: scripts/check_tflite_writer.py DIR
"""
import pathlib
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType


def run(model, x, resolver):
    it = Interpreter(model_path=str(model), experimental_op_resolver_type=resolver)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], x.reshape(inp["shape"]))
    it.invoke()
    return it.get_tensor(out["index"]).ravel()


def main(directory):
    worst = 0.0
    for model in sorted(pathlib.Path(directory).glob("writer-*.tflite")):
        stem = str(model)[: -len(".tflite")]
        x = np.fromfile(stem + ".in.f32", dtype="<f4")
        ours = np.fromfile(stem + ".out.f32", dtype="<f4")
        # BUILTIN_REF: TFLite's reference kernels; AUTO: its default (optimized, XNNPACK) kernels.
        for resolver in (OpResolverType.BUILTIN_REF, OpResolverType.AUTO):
            theirs = run(model, x, resolver)
            diff = float(np.max(np.abs(theirs.astype(np.float64) - ours)))
            worst = max(worst, diff) if resolver == OpResolverType.BUILTIN_REF else worst
            same = "identical" if np.array_equal(theirs, ours) else "differs"
            print(f"{model.name} {resolver.name:<12} outputs {ours.size:>5}  max |diff| {diff:.3g}  {same}")
    return 0 if worst == 0.0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
