#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets (Tools/fuzz-corpus/{onnx,qmodel}/).

onnx/   tiny ONNX models (a few hundred bytes each, opset 14), one per importer feature:
        conv + relu, depthwise + clip (relu6), grouped conv + batch norm, transposed conv,
        pools, pad, flatten + gemm, residual add, squeeze-excite (mul), hard-swish,
        sigmoid / tanh / leaky relu, concat, split, softmax, channel shuffle
        (reshape-transpose-reshape), shape arithmetic (Shape-Gather-Unsqueeze-Concat-Reshape),
        plus the shipped Models/digits_mobilenet.onnx.
qmodel/ each of those ONNX models quantized by `quanta quantize` (needs a built `quanta`:
        pass --quanta PATH, default .build/debug/quanta), calibrated on 4 random samples.

npy/ seeds are copies of Tools/fixtures/npy/*.npy and Models/digits_eval_labels.npy
(made by this script too, with --npy).

Usage: Tools/fuzz-corpus/make_seeds.py [--quanta PATH]
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RNG = np.random.default_rng(7)


def weight(name: str, *shape: int, scale: float = 0.3) -> onnx.TensorProto:
    return numpy_helper.from_array((RNG.standard_normal(shape) * scale).astype(np.float32), name)


def ints(name: str, values: list[int]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.int64), name)


def floats(name: str, values: list[float]) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def model(name: str, nodes: list, inits: list, in_shape: list[int], out_name: str = "y") -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, in_shape)],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, None)],
        initializer=inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)], producer_name="quanta-fuzz-seeds")
    # The output's shape, as an exporter writes it.
    inferred = onnx.shape_inference.infer_shapes(m, strict_mode=True)
    m.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(m, full_check=True)
    return m


def models() -> dict[str, tuple[onnx.ModelProto, list[int]]]:
    n = helper.make_node
    out: dict[str, tuple[onnx.ModelProto, list[int]]] = {}

    def add(name, nodes, inits, shape):
        out[name] = (model(name, nodes, inits, shape), shape)

    add("conv_relu", [
        n("Conv", ["x", "w", "b"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        n("Relu", ["c"], ["y"])],
        [weight("w", 4, 3, 3, 3), weight("b", 4)], [1, 3, 6, 6])
    add("depthwise_relu6", [
        n("Conv", ["x", "w"], ["c"], kernel_shape=[3, 3], strides=[2, 2], pads=[0, 0, 1, 1], group=4),
        n("Clip", ["c", "lo", "hi"], ["y"])],
        [weight("w", 4, 1, 3, 3), floats("lo", [0.0]), floats("hi", [6.0])], [1, 4, 7, 7])
    add("grouped_bn", [
        n("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1], group=2),
        n("BatchNormalization", ["c", "s", "bb", "m", "v"], ["y"], epsilon=1e-5)],
        [weight("w", 4, 2, 1, 1), weight("s", 4), weight("bb", 4), weight("m", 4),
         numpy_helper.from_array(np.abs(RNG.standard_normal(4)).astype(np.float32) + 0.5, "v")], [1, 4, 3, 3])
    add("transpose_conv", [
        n("ConvTranspose", ["x", "w", "b"], ["y"], kernel_shape=[2, 2], strides=[2, 2])],
        [weight("w", 3, 2, 2, 2), weight("b", 2)], [1, 3, 3, 3])
    add("pools", [
        n("MaxPool", ["x"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
        n("AveragePool", ["p"], ["q"], kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=0),
        n("GlobalAveragePool", ["q"], ["y"])],
        [], [1, 2, 6, 6])
    add("pad_conv", [
        n("Pad", ["x", "pads"], ["p"], mode="constant"),
        n("Conv", ["p", "w"], ["y"], kernel_shape=[3, 3])],
        [ints("pads", [0, 0, 1, 1, 0, 0, 1, 1]), weight("w", 2, 2, 3, 3)], [1, 2, 4, 4])
    add("flatten_gemm_softmax", [
        n("Flatten", ["x"], ["f"], axis=1),
        n("Gemm", ["f", "w", "b"], ["g"], transB=1),
        n("Softmax", ["g"], ["y"], axis=1)],
        [weight("w", 3, 8), weight("b", 3)], [1, 2, 2, 2])
    add("residual_add", [
        n("Conv", ["x", "w"], ["c"], kernel_shape=[1, 1]),
        n("Add", ["c", "x"], ["y"])],
        [weight("w", 3, 3, 1, 1)], [1, 3, 4, 4])
    add("squeeze_excite", [
        n("GlobalAveragePool", ["x"], ["g"]),
        n("Conv", ["g", "w1", "b1"], ["r"], kernel_shape=[1, 1]),
        n("Relu", ["r"], ["rr"]),
        n("Conv", ["rr", "w2", "b2"], ["e"], kernel_shape=[1, 1]),
        n("HardSigmoid", ["e"], ["s"], alpha=1.0 / 6, beta=0.5),
        n("Mul", ["x", "s"], ["y"])],
        [weight("w1", 2, 4, 1, 1), weight("b1", 2), weight("w2", 4, 2, 1, 1), weight("b2", 4)], [1, 4, 3, 3])
    add("unary_activations", [
        n("HardSwish", ["x"], ["a"]),
        n("Sigmoid", ["a"], ["b"]),
        n("LeakyRelu", ["b"], ["c"], alpha=0.1),
        n("Tanh", ["c"], ["y"])],
        [], [1, 2, 3, 3])
    add("concat_split", [
        n("Split", ["x", "parts"], ["s0", "s1"], axis=1),
        n("Relu", ["s1"], ["r"]),
        n("Concat", ["r", "s0"], ["y"], axis=1)],
        [ints("parts", [2, 2])], [1, 4, 3, 3])
    add("channel_shuffle", [
        n("Reshape", ["x", "s1"], ["a"]),
        n("Transpose", ["a"], ["b"], perm=[0, 2, 1, 3, 4]),
        n("Reshape", ["b", "s2"], ["y"])],
        [ints("s1", [1, 2, 2, 3, 3]), ints("s2", [1, 4, 3, 3])], [1, 4, 3, 3])
    add("shape_arithmetic", [
        n("Shape", ["x"], ["sh"]),
        n("Gather", ["sh", "zero"], ["n0"], axis=0),
        n("Unsqueeze", ["n0", "axes"], ["n1"]),
        n("Concat", ["n1", "minus1"], ["shape"], axis=0),
        n("Reshape", ["x", "shape"], ["f"]),
        n("MatMul", ["f", "w"], ["y"])],
        [numpy_helper.from_array(np.asarray(0, np.int64), "zero"), ints("axes", [0]), ints("minus1", [-1]), weight("w", 8, 2)], [1, 2, 2, 2])
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quanta", default=os.path.join(ROOT, ".build", "debug", "quanta"))
    ap.add_argument("--npy", action="store_true", help="also copy the .npy seeds")
    args = ap.parse_args()

    onnx_dir = os.path.join(HERE, "onnx")
    qmodel_dir = os.path.join(HERE, "qmodel")
    os.makedirs(onnx_dir, exist_ok=True)
    os.makedirs(qmodel_dir, exist_ok=True)
    if args.npy:
        npy_dir = os.path.join(HERE, "npy")
        os.makedirs(npy_dir, exist_ok=True)
        for f in sorted(glob.glob(os.path.join(ROOT, "Tools", "fixtures", "npy", "*.npy"))):
            shutil.copy(f, npy_dir)
        shutil.copy(os.path.join(ROOT, "Models", "digits_eval_labels.npy"), npy_dir)

    shutil.copy(os.path.join(ROOT, "Models", "digits_mobilenet.onnx"), onnx_dir)
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(os.path.join(ROOT, "Models", "digits_mobilenet.onnx"),
                 np.load(os.path.join(ROOT, "Models", "digits_calibration.npy"))[:4], "digits_mobilenet")]
        for name, (m, shape) in models().items():
            path = os.path.join(onnx_dir, name + ".onnx")
            onnx.save(m, path)
            print(path)
            jobs.append((path, RNG.standard_normal([4] + shape[1:]).astype(np.float32), name))
        # digits once more with --pair-bounded-weights: the uint8 GEMM's packed weights and
        # the loader's pair check.
        jobs.append((jobs[0][0], jobs[0][1], "digits_mobilenet_pb", ["--pair-bounded-weights"]))
        for path, calibration, name, *flags in jobs:
            cal = os.path.join(tmp, name + ".npy")
            np.save(cal, calibration)
            q = os.path.join(qmodel_dir, name + ".qmodel")
            r = subprocess.run([args.quanta, "quantize", path, "--calibration", cal, "-o", q, "--quiet",
                                *(flags[0] if flags else [])], capture_output=True, text=True)
            if r.returncode != 0:
                print(f"# {name}: quanta quantize failed (no qmodel seed): {r.stderr.strip()}", file=sys.stderr)
            else:
                print(q)
    return 0


if __name__ == "__main__":
    sys.exit(main())
