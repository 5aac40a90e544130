#!/usr/bin/env python3
"""Trains the small MobileNet-style digits classifier that ships with Quanta and
exports it as ONNX in the layout of a PyTorch export (eval mode, BatchNormalization
not folded).

Data: scikit-learn's bundled digits (8x8, values 0..16, 1797 samples, 10 classes),
upsampled to 16x16 by pixel repetition and normalized as
`x = (pixel / 16 - MEAN) / STD`. The last 300 samples of a seeded shuffle are held out
(Models/digits_eval*.npy); the model is trained on the other 1497, of which the first
200 are the calibration set (Models/digits_calibration.npy).

Network (NCHW, input [batch, 1, 16, 16]):
  features/0  Conv 3x3 s2 1->16, BN, HardSwish                       16x8x8
  features/1  depthwise 3x3 (16), BN, Relu; pointwise 16->24, BN, Relu   24x8x8
  features/2  grouped 1x1 24->24 (groups=2), BN, Relu; channel shuffle (Reshape-Transpose-Reshape)
  features/3  inverted residual: 1x1 24->48 BN HardSwish; dw 3x3 BN HardSwish;
              squeeze-excite (GlobalAveragePool, 1x1 48->16, Relu, 1x1 16->48, HardSigmoid, Mul);
              1x1 48->24 BN; Add with the block input
  features/4  depthwise 3x3 s2 (24), BN, Relu; pointwise 24->64, BN, HardSwish   64x4x4
  GlobalAveragePool, Flatten, classifier Gemm 64->10 (logits)

Writes Models/digits_mobilenet.onnx, digits_calibration.npy, digits_eval.npy,
digits_eval_labels.npy. Checks that onnxruntime reproduces the jax outputs.

Usage: python3 Tools/models/make_digits_model.py [--out Models] [--epochs 40]
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_program import Program  # noqa: E402

SEED = 0
SIZE = 16
EVAL_COUNT = 300
CALIBRATION_COUNT = 200


def load_data():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = digits.images.astype(np.float32) / 16.0                      # N x 8 x 8 in [0, 1]
    x = np.repeat(np.repeat(x, SIZE // 8, axis=1), SIZE // 8, axis=2)  # N x 16 x 16
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(SEED).permutation(len(x))
    x, y = x[order], y[order]
    train_x, train_y = x[:-EVAL_COUNT], y[:-EVAL_COUNT]
    eval_x, eval_y = x[-EVAL_COUNT:], y[-EVAL_COUNT:]
    mean = round(float(train_x.mean()), 4)
    std = round(float(train_x.std()), 4)
    norm = lambda a: ((a - mean) / std).astype(np.float32)[:, None, :, :]
    return norm(train_x), train_y, norm(eval_x), eval_y, mean, std


def build(rng: np.random.Generator) -> Program:
    p = Program()
    x = p.input
    # features.0: stem
    x = p.conv(x, "/features/0/0", "features.0.0", 1, 16, 3, stride=2, rng=rng)
    x = p.batch_norm(x, "/features/0/1", "features.0.1", 16)
    x = p.hardswish(x, "/features/0/2")
    # features.1: depthwise separable
    x = p.conv(x, "/features/1/0", "features.1.0", 16, 16, 3, groups=16, rng=rng)
    x = p.batch_norm(x, "/features/1/1", "features.1.1", 16)
    x = p.relu(x, "/features/1/2")
    x = p.conv(x, "/features/1/3", "features.1.3", 16, 24, 1, rng=rng)
    x = p.batch_norm(x, "/features/1/4", "features.1.4", 24)
    x = p.relu(x, "/features/1/5")
    # features.2: grouped pointwise + channel shuffle
    x = p.conv(x, "/features/2/conv/0", "features.2.conv.0", 24, 24, 1, groups=2, rng=rng)
    x = p.batch_norm(x, "/features/2/conv/1", "features.2.conv.1", 24)
    x = p.relu(x, "/features/2/conv/2")
    x = p.channel_shuffle(x, "/features/2", 24, 2, 8, 8)
    # features.3: inverted residual with squeeze-excite
    block_in = x
    y = p.conv(x, "/features/3/block/0/0", "features.3.block.0.0", 24, 48, 1, rng=rng)
    y = p.batch_norm(y, "/features/3/block/0/1", "features.3.block.0.1", 48)
    y = p.hardswish(y, "/features/3/block/0/2")
    y = p.conv(y, "/features/3/block/1/0", "features.3.block.1.0", 48, 48, 3, groups=48, rng=rng)
    y = p.batch_norm(y, "/features/3/block/1/1", "features.3.block.1.1", 48)
    y = p.hardswish(y, "/features/3/block/1/2")
    s = p.global_avg_pool(y, "/features/3/block/2/avgpool")
    s = p.conv(s, "/features/3/block/2/fc1", "features.3.block.2.fc1", 48, 16, 1, bias=True, rng=rng)
    s = p.relu(s, "/features/3/block/2/activation")
    s = p.conv(s, "/features/3/block/2/fc2", "features.3.block.2.fc2", 16, 48, 1, bias=True, rng=rng)
    s = p.hardsigmoid(s, "/features/3/block/2/scale_activation")
    y = p.mul(s, y, "/features/3/block/2")
    y = p.conv(y, "/features/3/block/3/0", "features.3.block.3.0", 48, 24, 1, rng=rng)
    y = p.batch_norm(y, "/features/3/block/3/1", "features.3.block.3.1", 24)
    x = p.add(y, block_in, "/features/3")
    # features.4: strided depthwise separable
    x = p.conv(x, "/features/4/0", "features.4.0", 24, 24, 3, stride=2, groups=24, rng=rng)
    x = p.batch_norm(x, "/features/4/1", "features.4.1", 24)
    x = p.relu(x, "/features/4/2")
    x = p.conv(x, "/features/4/3", "features.4.3", 24, 64, 1, rng=rng)
    x = p.batch_norm(x, "/features/4/4", "features.4.4", 64)
    x = p.hardswish(x, "/features/4/5")
    # head
    x = p.global_avg_pool(x, "/avgpool")
    x = p.flatten(x, "")
    p.gemm(x, "/classifier", "classifier", 64, 10, rng=rng)
    return p


def train(p: Program, train_x, train_y, epochs: int, batch: int = 64, lr: float = 3e-3):
    import jax
    import jax.numpy as jnp

    trainable = {k: jnp.asarray(v) for k, v in p.params.items() if k in p.trainable}
    frozen = {k: jnp.asarray(v) for k, v in p.params.items() if k not in p.trainable}

    def loss_fn(tp, xb, yb):
        logits, _ = p.run_jax({**tp, **frozen}, xb, train=True)
        logp = jax.nn.log_softmax(logits)
        nll = -jnp.mean(jnp.take_along_axis(logp, yb[:, None], axis=1))
        l2 = sum(jnp.sum(v * v) for k, v in tp.items() if k.endswith("weight") and v.ndim > 1)
        return nll + 1e-4 * l2

    @jax.jit
    def step(tp, m, v, t, xb, yb, lr_t):
        g = jax.grad(loss_fn)(tp, xb, yb)
        b1, b2, eps = 0.9, 0.999, 1e-8
        m = jax.tree_util.tree_map(lambda m_, g_: b1 * m_ + (1 - b1) * g_, m, g)
        v = jax.tree_util.tree_map(lambda v_, g_: b2 * v_ + (1 - b2) * g_ * g_, v, g)
        mhat = jax.tree_util.tree_map(lambda m_: m_ / (1 - b1 ** t), m)
        vhat = jax.tree_util.tree_map(lambda v_: v_ / (1 - b2 ** t), v)
        tp = jax.tree_util.tree_map(lambda p_, a, b: p_ - lr_t * a / (jnp.sqrt(b) + eps), tp, mhat, vhat)
        return tp, m, v

    m = jax.tree_util.tree_map(jnp.zeros_like, trainable)
    v = jax.tree_util.tree_map(jnp.zeros_like, trainable)
    rng = np.random.default_rng(SEED + 1)
    n = len(train_x)
    steps_per_epoch = n // batch
    total = epochs * steps_per_epoch
    t = 0
    for epoch in range(epochs):
        order = rng.permutation(n)
        for i in range(steps_per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            xb = train_x[idx]
            # Augmentation: random shifts of up to one (upsampled) pixel pair.
            dy, dx = rng.integers(-2, 3, size=2)
            xb = np.roll(xb, (int(dy), int(dx)), axis=(2, 3))
            t += 1
            lr_t = lr * 0.5 * (1 + np.cos(np.pi * t / total))
            trainable, m, v = step(trainable, m, v, float(t), jnp.asarray(xb), jnp.asarray(train_y[idx]),
                                   float(lr_t))
    for k, val in trainable.items():
        p.params[k] = np.asarray(val, dtype=np.float32)

    # Precise BN: population statistics of every BN input over the whole training set.
    _, stats = jax.jit(lambda tp, x: p.run_jax({**tp, **frozen}, x, train=True))(trainable, jnp.asarray(train_x))
    for node, (mean_name, var_name) in p.bn_stats.items():
        mean, var = stats[node]
        p.params[mean_name] = np.asarray(mean, dtype=np.float32)
        p.params[var_name] = np.asarray(var, dtype=np.float32)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "Models")))
    ap.add_argument("--epochs", type=int, default=40)
    args = ap.parse_args()

    import jax
    import jax.numpy as jnp
    import onnx
    import onnxruntime as ort

    start = time.time()
    train_x, train_y, eval_x, eval_y, mean, std = load_data()
    p = build(np.random.default_rng(SEED))
    train(p, train_x, train_y, args.epochs)
    elapsed = time.time() - start

    params = {k: jnp.asarray(v) for k, v in p.params.items()}
    jax_logits = np.asarray(jax.jit(lambda x: p.run_jax(params, x)[0])(jnp.asarray(eval_x)))
    train_logits = np.asarray(jax.jit(lambda x: p.run_jax(params, x)[0])(jnp.asarray(train_x)))
    accuracy = float(np.mean(jax_logits.argmax(1) == eval_y))
    train_accuracy = float(np.mean(train_logits.argmax(1) == train_y))

    model = p.to_onnx(1, SIZE, SIZE, 10, graph_name="digits_mobilenet",
                      doc=f"Quanta digits MobileNet; input = (pixel/16 - {mean}) / {std}, 16x16 upsampled "
                          f"from sklearn digits 8x8; output = logits over 0..9")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "digits_mobilenet.onnx")
    onnx.save(model, path)

    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    ort_logits = sess.run(None, {"input": eval_x})[0]
    diff = float(np.max(np.abs(ort_logits - jax_logits)))
    ort_accuracy = float(np.mean(ort_logits.argmax(1) == eval_y))

    np.save(os.path.join(args.out, "digits_calibration.npy"), np.ascontiguousarray(train_x[:CALIBRATION_COUNT]))
    np.save(os.path.join(args.out, "digits_eval.npy"), np.ascontiguousarray(eval_x))
    np.save(os.path.join(args.out, "digits_eval_labels.npy"), eval_y.astype(np.int64))

    print(f"trained in {elapsed:.1f} s; train accuracy {train_accuracy:.4f}")
    print(f"test accuracy (jax) {accuracy:.4f}, (onnxruntime) {ort_accuracy:.4f} on {len(eval_y)} held-out samples")
    print(f"max |onnxruntime - jax| = {diff:.2e}")
    print(f"normalization: x = (pixel/16 - {mean}) / {std}")
    print(f"wrote {path} ({os.path.getsize(path)} bytes), {len(model.graph.node)} nodes")
    if diff >= 1e-4:
        print("error: onnxruntime and jax outputs differ by 1e-4 or more", file=sys.stderr)
        return 1
    if accuracy <= 0.95:
        print("error: test accuracy not above 95%", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
