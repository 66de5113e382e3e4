#!/usr/bin/env python3
"""Teach, export, and check against TFLite's own interpreter.

For each source model (the official uint8 0.25 and split 1.0 files, and the users' Keras files in float32,
float16 and int8 with int8 or uint8 edges), `mobilenet train` teaches cat / dragonfly / parrot from the
photos in ../shared/images and writes a .tflite. Then, on the exact input tensors in ../shared (every photo),
the written file runs in our engine (`mobilenet classify --input-raw --output-raw`) and in ai-edge-litert's
interpreter with its reference kernels: outputs must be equal byte for byte for integer models and within
1e-5 for float ones. The labels must be in the file's appended ZIP, and the file must classify its own
training photos right.

usage: tests/oracle/taught.py MOBILENET_BINARY SHARED_DIR OUT_DIR   (run by scripts/test.sh)
"""
import json
import pathlib
import subprocess
import sys
import zipfile

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

CLASSES = {"cat": "cat.bmp", "dragonfly": "dragonfly.bmp", "parrot": "parrot.jpg"}
PHOTOS = ["bird", "cat", "dragonfly", "hot_dog", "owl", "parrot"]


def sources(shared):
    """(name, model files for --model, the exact input tensor of each photo)."""
    models, user, ref = shared / "models", shared / "fixtures" / "user", shared / "reference" / "inputs"
    official = [
        ("official_0.25_128", [models / "mobilenet_v1_0.25_128_quant.tflite"], lambda p: ref / f"{p}_128.rgb"),
        (
            "official_1.0_224",
            [models / "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite",
             models / "mobilenet_v1_1.0_224_quant_head.tflite"],
            lambda p: ref / f"{p}_224.rgb",
        ),
    ]
    users = [
        (name, [user / f"{name}.tflite"], lambda p, name=name: user / f"{name}_{p}.in")
        for name in ["keras_a0.5_r128_float32", "tm_a0.25_r224_float16", "tm_a0.25_r224_int8_int8io",
                     "keras_a0.5_r128_int8_uint8io"]
    ]
    return official + users


def tflite_output(model, raw):
    it = Interpreter(model_path=str(model), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    it.set_tensor(inp["index"], np.frombuffer(raw, dtype=inp["dtype"]).reshape(inp["shape"]))
    it.invoke()
    return it.get_tensor(out["index"]).ravel()


def run(cmd):
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def check(binary, shared, out_dir, name, files, input_of):
    taught = out_dir / f"{name}.tflite"
    classes = [f"--class={label}={shared / 'images' / photo}" for label, photo in CLASSES.items()]
    summary = json.loads(run([binary, "train", "--model", ",".join(map(str, files)), *classes,
                              "--out", taught, "--json"]))
    problems = []
    if summary["training_accuracy"] != 1.0 or summary["exported_accuracy"] != 1.0:
        problems.append(f"accuracy {summary['training_accuracy']} / exported {summary['exported_accuracy']}")
    with zipfile.ZipFile(taught) as z:
        if z.read("labels.txt").decode().splitlines() != list(CLASSES):
            problems.append("labels.txt in the ZIP differs")
    worst = 0.0
    for photo in PHOTOS:
        raw_in, raw_out = input_of(photo), out_dir / f"{name}_{photo}.out"
        run([binary, "classify", "--model", taught, "--input-raw", raw_in, "--output-raw", raw_out])
        theirs = tflite_output(taught, raw_in.read_bytes())
        ours = np.frombuffer(raw_out.read_bytes(), dtype=theirs.dtype)
        if ours.shape != theirs.shape:
            problems.append(f"{photo}: {ours.shape} outputs, TFLite {theirs.shape}")
            continue
        diff = float(np.max(np.abs(ours.astype(np.float64) - theirs.astype(np.float64))))
        worst = max(worst, diff)
        limit = 1e-5 if theirs.dtype == np.float32 else 0.0
        if diff > limit:
            problems.append(f"{photo}: ours {ours.tolist()} TFLite {theirs.tolist()}")
    kind = "float" if worst and theirs.dtype == np.float32 else str(theirs.dtype)
    print(f"{name}: {summary['bytes']} bytes, {summary['iterations']} iterations, outputs {kind}, "
          f"max |ours - TFLite| {worst:.3g} over {len(PHOTOS)} photos")
    return problems


def main(binary, shared, out_dir):
    binary, shared, out_dir = pathlib.Path(binary), pathlib.Path(shared), pathlib.Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    passed = failed = 0
    for name, files, input_of in sources(shared):
        try:
            problems = check(binary, shared, out_dir, name, files, input_of)
        except (RuntimeError, KeyError, ValueError, zipfile.BadZipFile) as e:
            problems = [str(e)]
        for p in problems:
            print(f"  FAIL {name}: {p}")
        passed, failed = passed + (not problems), failed + bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
