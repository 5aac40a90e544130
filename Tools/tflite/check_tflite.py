#!/usr/bin/env python3
"""Compares `quanta import` + the int8 runtime with LiteRT's reference kernels, byte for byte.

    Tools/tflite/check_tflite.py MODEL.tflite [MODEL2.tflite ...] [--samples N] [--seed S]

For each model: `quanta import MODEL.tflite`, then N random int8 inputs (seeded) through
LiteRT's interpreter with the reference op resolver (BUILTIN_REF: TFLite's reference
kernels; its optimized kernels and XNNPACK round differently) and through `quanta run
--int8` (the .qmodel's input quantization turns the dequantized values back into the same
bytes), and every output compared byte for byte. Needs `ai-edge-litert` (pip) and numpy.
Exits 1 on any difference, naming the model, output, sample and the count of bytes that differ.
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np


def quanta_binary():
    root = subprocess.run(["git", "rev-parse", "--show-toplevel"], capture_output=True, text=True,
                          cwd=os.path.dirname(os.path.abspath(__file__))).stdout.strip()
    for build in (os.environ.get("QUANTA_BIN"), os.path.join(root, ".build/release/quanta"), os.path.join(root, ".build/debug/quanta")):
        if build and os.path.exists(build):
            return build
    sys.exit("check_tflite: build quanta first (swift build -c release --product quanta)")


def reference_outputs(it, inputs):
    """Every output of LiteRT interpreter `it` for each input, in order."""
    detail = it.get_input_details()[0]
    results = []
    for x in inputs:
        it.set_tensor(detail["index"], x.astype(detail["dtype"]))
        it.invoke()
        results.append([it.get_tensor(o["index"]).copy() for o in it.get_output_details()])
    return results


def check(path, samples, seed, quanta):
    from ai_edge_litert import interpreter as litert
    it = litert.Interpreter(model_path=path, experimental_op_resolver_type=litert.OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    detail = it.get_input_details()[0]
    rng = np.random.default_rng(seed)
    shape = tuple(detail["shape"])
    if detail["dtype"] == np.int8:
        inputs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(samples)]
        scale, zero = detail["quantization"]
        floats = [(scale * (x.astype(np.float32) - zero)).astype(np.float32) for x in inputs]
    else:
        floats = [rng.standard_normal(shape).astype(np.float32) for _ in range(samples)]
        inputs = floats
    expected = reference_outputs(it, inputs)
    outputs = it.get_output_details()
    with tempfile.TemporaryDirectory() as work:
        qmodel = os.path.join(work, "model.qmodel")
        subprocess.run([quanta, "import", path, "-o", qmodel], check=True, capture_output=True, text=True)
        x = os.path.join(work, "x.npy")
        np.save(x, np.concatenate(floats, axis=0))
        y = os.path.join(work, "y.npy")
        # int8 outputs compared as raw bytes; float outputs (a DEQUANTIZE at the end) as the
        # runtime's dequantized floats, which use the same formula.
        raw = all(o["dtype"] == np.int8 for o in outputs)
        subprocess.run([quanta, "run", qmodel, "--input", x, "--output", y, "--quiet"] + (["--int8"] if raw else []),
                       check=True, capture_output=True, text=True)
        failures = 0
        for k, o in enumerate(outputs):
            got = np.load(y if k == 0 else os.path.join(work, f"y_{k}.npy"))
            ref = np.concatenate([e[k] for e in expected], axis=0)
            got = got.reshape(ref.shape)
            differing = int(np.count_nonzero(got != ref))
            if differing:
                failures += 1
                first = int(np.argmax((got != ref).reshape(samples, -1).any(axis=1)))
                print(f"{os.path.basename(path)}: output {k} '{o['name']}': {differing} of {ref.size} values differ "
                      f"(first in sample {first})")
        if not failures:
            print(f"{os.path.basename(path)}: {samples} samples, {len(outputs)} output(s), "
                  f"{sum(e[0].size for e in expected)} values of output 0: identical to LiteRT's reference kernels")
        return failures == 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--samples", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    quanta = quanta_binary()
    ok = all([check(m, args.samples, args.seed, quanta) for m in args.models])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
