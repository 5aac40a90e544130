#!/usr/bin/env python3
"""Writes MobileNet / ShuffleNet ONNX models with seeded random weights, in the node
layout of `torch.onnx.export` of the torchvision modules (opset 17, NCHW, input
"input" [batch, 3, R, R], output "output" [batch, classes]).

Models (``--model``):
  mobilenet_v1       MobileNetV1: Conv 3x3 s2, 13 depthwise-separable blocks (dw 3x3 + BN +
                     Relu, pw 1x1 + BN + Relu), GlobalAveragePool, Flatten, Gemm.
                     Channels int(c * width) (as Keras' alpha).
  mobilenet_v2       torchvision MobileNetV2: Conv-BN-ReLU6 blocks with ReLU6 exported as
                     Clip(x, min, max) (min/max as inputs, opset >= 11), inverted residuals
                     with Add, last 1x1 conv to 1280 (x max(1, width)), channels made
                     divisible by 8.
  mobilenet_v3_small torchvision MobileNetV3-small: HardSwish, squeeze-excite (GlobalAveragePool,
                     Conv, Relu, Conv, HardSigmoid, Mul), 5x5 depthwise, classifier
                     Gemm-HardSwish-Gemm.
  shufflenet_v2      torchvision ShuffleNetV2 (x0.5 by default: --width 0.5): MaxPool, Split
                     (chunk), Concat, channel shuffle (Reshape-Transpose-Reshape); head
                     GlobalAveragePool-Flatten-Gemm (torchvision uses mean([2,3]); this
                     keeps the common head of the family).

BatchNormalization is left unfused (as an export with training=PRESERVE or
do_constant_folding=False gives) unless --fuse-bn, which folds it into Conv biases (the
exporter's eval-mode default). BN statistics are random too, so folding matters.

--bn-from-data N sets every BN's running mean and variance to the batch statistics of N
random samples instead (one training-mode forward pass, as a trained network's running
statistics are): each BN output is then about N(bias, scale^2) per channel, so
activations keep the ranges of a trained network through the whole depth (random
statistics let them drift layer after layer). The benchmark models use it.

Examples:
  make_mobilenet_family.py --out /tmp/m --model mobilenet_v2 --width 1.0 --resolution 224 --calibration 8
  make_mobilenet_family.py --out /tmp/m --model mobilenet_v2 --width 0.35 --resolution 96
  make_mobilenet_family.py --out /tmp/m --model mobilenet_v2 --width 0.3 --resolution 64
  make_mobilenet_family.py --out /tmp/m --model all --verify
  make_mobilenet_family.py --out .build-models --model mobilenet_v2 --width 0.35 --resolution 96 \
      --bn-from-data 8 --calibration 16 --eval 16

Prints the path of every file written, one per line.
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_program import Program  # noqa: E402


def make_divisible(v: float, divisor: int = 8, min_value: int | None = None) -> int:
    """torchvision's _make_divisible."""
    min_value = min_value or divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


class Builder:
    """Conv + BN + activation helpers with torchvision's module naming."""

    def __init__(self, p: Program, rng: np.random.Generator):
        self.p, self.rng = p, rng

    def conv_bn_act(self, x: str, module: str, cin: int, cout: int, k: int, stride: int = 1,
                    groups: int = 1, act: str | None = "relu") -> str:
        """torchvision Conv2dNormActivation: module.0 Conv, module.1 BN, module.2 activation."""
        scope = "/" + module.replace(".", "/")
        x = self.p.conv(x, f"{scope}/0", f"{module}.0", cin, cout, k, stride, groups, rng=self.rng)
        x = self.p.batch_norm(x, f"{scope}/1", f"{module}.1", cout, rng=self.rng, randomize=True)
        return self.act(x, f"{scope}/2", act)

    def conv_bn(self, x: str, conv_module: str, bn_module: str, cin: int, cout: int, k: int,
                stride: int = 1, groups: int = 1) -> str:
        x = self.p.conv(x, "/" + conv_module.replace(".", "/"), conv_module, cin, cout, k, stride, groups,
                        rng=self.rng)
        return self.p.batch_norm(x, "/" + bn_module.replace(".", "/"), bn_module, cout, rng=self.rng,
                                 randomize=True)

    def act(self, x: str, scope: str, act: str | None) -> str:
        if act is None:
            return x
        if act == "relu":
            return self.p.relu(x, scope)
        if act == "relu6":
            return self.p.clip6(x, scope)
        if act == "hardswish":
            return self.p.hardswish(x, scope)
        raise ValueError(act)


def mobilenet_v1(b: Builder, width: float, classes: int) -> tuple[int, int]:
    c = lambda n: max(8, int(n * width))
    x = b.conv_bn_act(b.p.input, "features.0", 3, c(32), 3, stride=2)
    cin = c(32)
    blocks = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)] + [(512, 1)] * 5 + [(1024, 2), (1024, 1)]
    for i, (cout, s) in enumerate(blocks, start=1):
        x = b.conv_bn_act(x, f"features.{i}.dw", cin, cin, 3, stride=s, groups=cin)
        x = b.conv_bn_act(x, f"features.{i}.pw", cin, c(cout), 1)
        cin = c(cout)
    x = b.p.global_avg_pool(x, "/avgpool")
    x = b.p.flatten(x, "")
    b.p.gemm(x, "/classifier", "classifier", cin, classes, rng=b.rng)
    return 3, classes


def mobilenet_v2(b: Builder, width: float, classes: int) -> tuple[int, int]:
    settings = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                (6, 320, 1, 1)]
    cin = make_divisible(32 * width)
    last = make_divisible(1280 * max(1.0, width))
    x = b.conv_bn_act(b.p.input, "features.0", 3, cin, 3, stride=2, act="relu6")
    idx = 1
    for t, c, n, s in settings:
        cout = make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            hidden = int(round(cin * t))
            m = f"features.{idx}.conv"
            y = x
            j = 0
            if t != 1:
                y = b.conv_bn_act(y, f"{m}.{j}", cin, hidden, 1, act="relu6")
                j += 1
            y = b.conv_bn_act(y, f"{m}.{j}", hidden, hidden, 3, stride=stride, groups=hidden, act="relu6")
            y = b.conv_bn(y, f"{m}.{j + 1}", f"{m}.{j + 2}", hidden, cout, 1)
            if stride == 1 and cin == cout:
                y = b.p.add(x, y, f"/features/{idx}")
            x, cin = y, cout
            idx += 1
    x = b.conv_bn_act(x, f"features.{idx}", cin, last, 1, act="relu6")
    x = b.p.global_avg_pool(x, "/avgpool")
    x = b.p.flatten(x, "")
    b.p.gemm(x, "/classifier/1", "classifier.1", last, classes, rng=b.rng)
    return 3, classes


def squeeze_excite(b: Builder, x: str, module: str, channels: int) -> str:
    scope = "/" + module.replace(".", "/")
    squeeze = make_divisible(channels // 4, 8)
    s = b.p.global_avg_pool(x, f"{scope}/avgpool")
    s = b.p.conv(s, f"{scope}/fc1", f"{module}.fc1", channels, squeeze, 1, bias=True, rng=b.rng)
    s = b.p.relu(s, f"{scope}/activation")
    s = b.p.conv(s, f"{scope}/fc2", f"{module}.fc2", squeeze, channels, 1, bias=True, rng=b.rng)
    s = b.p.hardsigmoid(s, f"{scope}/scale_activation")
    return b.p.mul(s, x, scope)


def mobilenet_v3_small(b: Builder, width: float, classes: int) -> tuple[int, int]:
    w = lambda n: make_divisible(n * width)
    # input, kernel, expanded, output, SE, activation, stride
    settings = [(16, 3, 16, 16, True, "relu", 2), (16, 3, 72, 24, False, "relu", 2),
                (24, 3, 88, 24, False, "relu", 1), (24, 5, 96, 40, True, "hardswish", 2),
                (40, 5, 240, 40, True, "hardswish", 1), (40, 5, 240, 40, True, "hardswish", 1),
                (40, 5, 120, 48, True, "hardswish", 1), (48, 5, 144, 48, True, "hardswish", 1),
                (48, 5, 288, 96, True, "hardswish", 2), (96, 5, 576, 96, True, "hardswish", 1),
                (96, 5, 576, 96, True, "hardswish", 1)]
    x = b.conv_bn_act(b.p.input, "features.0", 3, w(16), 3, stride=2, act="hardswish")
    for i, (ci, k, ce, co, se, act, s) in enumerate(settings, start=1):
        ci, ce, co = w(ci), w(ce), w(co)
        m = f"features.{i}.block"
        y, j = x, 0
        if ce != ci:
            y = b.conv_bn_act(y, f"{m}.{j}", ci, ce, 1, act=act)
            j += 1
        y = b.conv_bn_act(y, f"{m}.{j}", ce, ce, k, stride=s, groups=ce, act=act)
        j += 1
        if se:
            y = squeeze_excite(b, y, f"{m}.{j}", ce)
            j += 1
        y = b.conv_bn_act(y, f"{m}.{j}", ce, co, 1, act=None)
        if s == 1 and ci == co:
            y = b.p.add(y, x, f"/features/{i}")
        x = y
    cin = w(96)
    last_conv = 6 * cin
    x = b.conv_bn_act(x, f"features.{len(settings) + 1}", cin, last_conv, 1, act="hardswish")
    x = b.p.global_avg_pool(x, "/avgpool")
    x = b.p.flatten(x, "")
    x = b.p.gemm(x, "/classifier/0", "classifier.0", last_conv, 1024, rng=b.rng)
    x = b.p.hardswish(x, "/classifier/1")
    b.p.gemm(x, "/classifier/3", "classifier.3", 1024, classes, rng=b.rng)
    return 3, classes


def shufflenet_v2(b: Builder, width: float, classes: int, resolution: int) -> tuple[int, int]:
    table = {0.5: [24, 48, 96, 192, 1024], 1.0: [24, 116, 232, 464, 1024], 1.5: [24, 176, 352, 704, 1024],
             2.0: [24, 244, 488, 976, 2048]}
    if width not in table:
        raise SystemExit(f"shufflenet_v2: --width must be one of {sorted(table)}")
    ch = table[width]
    x = b.conv_bn_act(b.p.input, "conv1", 3, ch[0], 3, stride=2)
    size = (resolution + 1) // 2
    x = b.p.max_pool(x, "/maxpool", 3, 2, 1)
    size = (size + 1) // 2
    cin = ch[0]
    for stage, (repeats, cout) in enumerate(zip([4, 8, 4], ch[1:4]), start=2):
        for i in range(repeats):
            m = f"stage{stage}.{i}"
            bf = cout // 2
            if i == 0:
                # branch1: dw 3x3 s2 + BN, 1x1 + BN + ReLU; branch2 on the whole input.
                y1 = b.conv_bn(x, f"{m}.branch1.0", f"{m}.branch1.1", cin, cin, 3, stride=2, groups=cin)
                y1 = b.act(b.conv_bn(y1, f"{m}.branch1.2", f"{m}.branch1.3", cin, bf, 1),
                           "/" + f"{m}.branch1.4".replace(".", "/"), "relu")
                x2, s, c2 = x, 2, cin
                size = (size + 1) // 2
            else:
                y1, x2 = b.p.split2(x, "/" + m.replace(".", "/"), cin)
                s, c2 = 1, bf
            y2 = b.act(b.conv_bn(x2, f"{m}.branch2.0", f"{m}.branch2.1", c2, bf, 1),
                       "/" + f"{m}.branch2.2".replace(".", "/"), "relu")
            y2 = b.conv_bn(y2, f"{m}.branch2.3", f"{m}.branch2.4", bf, bf, 3, stride=s, groups=bf)
            y2 = b.act(b.conv_bn(y2, f"{m}.branch2.5", f"{m}.branch2.6", bf, bf, 1),
                       "/" + f"{m}.branch2.7".replace(".", "/"), "relu")
            x = b.p.concat([y1, y2], "/" + m.replace(".", "/"))
            x = b.p.channel_shuffle(x, "/" + m.replace(".", "/"), cout, 2, size, size)
            cin = cout
    x = b.conv_bn_act(x, "conv5", cin, ch[4], 1)
    x = b.p.global_avg_pool(x, "/avgpool")
    x = b.p.flatten(x, "")
    b.p.gemm(x, "/fc", "fc", ch[4], classes, rng=b.rng)
    return 3, classes


DEFAULT_WIDTH = {"mobilenet_v1": 1.0, "mobilenet_v2": 1.0, "mobilenet_v3_small": 1.0, "shufflenet_v2": 0.5}


def build(model: str, width: float, resolution: int, classes: int, seed: int, fuse_bn: bool,
          constants_as: str, bn_from_data: int = 0) -> Program:
    p = Program(constants_as=constants_as)
    b = Builder(p, np.random.default_rng(seed))
    if model == "mobilenet_v1":
        mobilenet_v1(b, width, classes)
    elif model == "mobilenet_v2":
        mobilenet_v2(b, width, classes)
    elif model == "mobilenet_v3_small":
        mobilenet_v3_small(b, width, classes)
    elif model == "shufflenet_v2":
        shufflenet_v2(b, width, classes, resolution)
    else:
        raise SystemExit(f"unknown model {model}")
    if bn_from_data > 0:
        set_bn_statistics_from_data(p, calibration_data(bn_from_data, resolution, seed + 500))
    if fuse_bn:
        p.fold_batch_norms()
    return p


def set_bn_statistics_from_data(p: Program, x: np.ndarray) -> None:
    """Running mean/var of every BatchNormalization := its batch statistics over `x` in one
    training-mode forward pass (each BN normalizes with the statistics of its actual input,
    which already depends on the BNs before it, as in training)."""
    import jax.numpy as jnp

    params = {k: jnp.asarray(v) for k, v in p.params.items()}
    _, stats = p.run_jax(params, jnp.asarray(x), train=True)
    for node, (mean, var) in stats.items():
        mean_name, var_name = p.bn_stats[node]
        p.params[mean_name] = np.asarray(mean, dtype=np.float32)
        p.params[var_name] = np.asarray(var, dtype=np.float32)


def calibration_data(n: int, resolution: int, seed: int) -> np.ndarray:
    """Uniform [0, 1) pixels normalized with the ImageNet mean and std, N x 3 x R x R."""
    rng = np.random.default_rng(seed + 1000)
    x = rng.random((n, 3, resolution, resolution), dtype=np.float32)
    mean = np.array([0.485, 0.456, 0.406], np.float32)[None, :, None, None]
    std = np.array([0.229, 0.224, 0.225], np.float32)[None, :, None, None]
    return np.ascontiguousarray((x - mean) / std, dtype=np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="directory to write into (created)")
    ap.add_argument("--model", default="mobilenet_v2",
                    choices=sorted(DEFAULT_WIDTH) + ["all"])
    ap.add_argument("--width", type=float, default=None, help="width multiplier (default per model)")
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fuse-bn", action="store_true", help="fold BatchNormalization into Conv biases")
    ap.add_argument("--constants", choices=["node", "initializer"], default="node",
                    help="Reshape/Split/Clip shape operands as Constant nodes or initializers")
    ap.add_argument("--calibration", type=int, default=0, metavar="N",
                    help="also write N random calibration samples (N x 3 x R x R float32 .npy)")
    ap.add_argument("--eval", type=int, default=0, metavar="N",
                    help="also write N evaluation samples (other seed than calibration) as STEM_eval.npy")
    ap.add_argument("--bn-from-data", type=int, default=0, metavar="N",
                    help="BN running statistics from N random samples (realistic activation ranges)")
    ap.add_argument("--verify", action="store_true",
                    help="check onnxruntime against the jax interpretation on one sample")
    ap.add_argument("--name", default=None, help="file stem (default: model_width_resolution)")
    args = ap.parse_args()

    import onnx

    os.makedirs(args.out, exist_ok=True)
    models = sorted(DEFAULT_WIDTH) if args.model == "all" else [args.model]
    for model in models:
        width = args.width if args.width is not None else DEFAULT_WIDTH[model]
        p = build(model, width, args.resolution, args.classes, args.seed, args.fuse_bn, args.constants,
                  args.bn_from_data)
        stem = args.name or f"{model}_{width:g}_{args.resolution}" + ("_fused" if args.fuse_bn else "")
        onnx_model = p.to_onnx(3, args.resolution, args.resolution, args.classes, graph_name=model,
                               doc=f"Quanta {model} width {width:g} resolution {args.resolution}, random "
                                   f"weights (seed {args.seed})")
        path = os.path.join(args.out, stem + ".onnx")
        onnx.save(onnx_model, path)
        print(path)
        if args.calibration > 0:
            cpath = os.path.join(args.out, stem + "_calibration.npy")
            np.save(cpath, calibration_data(args.calibration, args.resolution, args.seed))
            print(cpath)
        if args.eval > 0:
            epath = os.path.join(args.out, stem + "_eval.npy")
            np.save(epath, calibration_data(args.eval, args.resolution, args.seed + 2000))
            print(epath)
        if args.verify:
            import jax.numpy as jnp
            import onnxruntime as ort

            x = calibration_data(1, args.resolution, args.seed)
            sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
            got = sess.run(None, {"input": x})[0]
            params = {k: jnp.asarray(v) for k, v in p.params.items()}
            want = np.asarray(p.run_jax(params, jnp.asarray(x))[0])
            diff = float(np.max(np.abs(got - want)))
            scale = float(np.max(np.abs(want)))
            print(f"# {stem}: max |onnxruntime - jax| = {diff:.2e} (output max {scale:.2e})", file=sys.stderr)
            if diff > 1e-4 * max(1.0, scale):
                print(f"error: {stem}: onnxruntime and jax disagree", file=sys.stderr)
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
