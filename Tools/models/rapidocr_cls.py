#!/usr/bin/env python3
"""End to end on a pretrained model exactly as a pip wheel ships it: PaddleOCR's text-direction
classifier `ch_ppocr_mobile_v2.0_cls_infer.onnx` (a paddle2onnx MobileNetV3-small export,
opset 11, input `x` of dims [-1, 3, ?, ?], hard-swish written as Add/Clip/Mul/Div, SE blocks
with HardSigmoid(0.2, 0.5)) from the `rapidocr-onnxruntime` wheel.

Steps (no manual conversion of the model):
  1. `pip download rapidocr-onnxruntime==1.4.4 --no-deps` and take the .onnx out of the wheel;
  2. render text lines (DejaVu fonts, Pillow), half of them rotated by 180°, and preprocess them
     as rapidocr does (resize to height 48 keeping the ratio, pad to 192, (x/255 - 0.5)/0.5, NCHW);
     label 0 = upright, 1 = rotated;
  3. `quanta quantize MODEL --calibration calib.npy` (dims resolved from the data's shape),
     then `quanta eval MODEL MODEL.qmodel --data eval.npy --labels labels.npy --json`;
  4. print the figures and onnxruntime's accuracy for comparison.

Usage (from the repository root, after `swift build`):
    python3 Tools/models/rapidocr_cls.py [--work DIR] [--quanta PATH] [--calibration N] [--eval N]
Needs numpy, onnxruntime and Pillow (installed with pip if missing).
"""
import argparse
import glob
import json
import math
import os
import subprocess
import sys
import zipfile

import numpy as np

WHEEL = "rapidocr-onnxruntime==1.4.4"
MEMBER = "rapidocr_onnxruntime/models/ch_ppocr_mobile_v2.0_cls_infer.onnx"
WORDS = ("the quick brown fox jumps over lazy dog invoice total amount date number street city "
         "receipt price quantity 2024 12.50 No. 0042 shipping order customer account balance payment "
         "OCR text line paddle mobile quantize int8 arena kernel model edge board 3.14 100% $9.99").split()


def ensure_pillow():
    try:
        import PIL  # noqa: F401
    except ImportError:
        subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "pillow"])


def fetch_model(work):
    path = os.path.join(work, os.path.basename(MEMBER))
    if os.path.exists(path):
        return path
    subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", WHEEL, "--no-deps", "-d", work])
    wheel = glob.glob(os.path.join(work, "rapidocr_onnxruntime-*.whl"))[0]
    with zipfile.ZipFile(wheel) as z, open(path, "wb") as f:
        f.write(z.read(MEMBER))
    return path


def render_lines(n, seed):
    from PIL import Image, ImageDraw, ImageFont
    rng = np.random.default_rng(seed)
    fonts = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf")) or [None]
    images, labels = [], []
    for i in range(n):
        text = " ".join(rng.choice(WORDS, size=int(rng.integers(2, 6))))
        size = int(rng.integers(18, 34))
        font = ImageFont.truetype(fonts[i % len(fonts)], size) if fonts[0] else ImageFont.load_default()
        bg = tuple(int(v) for v in rng.integers(170, 256, 3))
        fg = tuple(int(v) for v in rng.integers(0, 90, 3))
        left, top, right, bottom = font.getbbox(text)
        pad = int(rng.integers(2, 10))
        img = Image.new("RGB", (right - left + 2 * pad, bottom - top + 2 * pad), bg)
        ImageDraw.Draw(img).text((pad - left, pad - top), text, fill=fg, font=font)
        label = int(rng.integers(0, 2))
        if label:
            img = img.rotate(180)
        arr = np.asarray(img).astype(np.float32)
        arr += rng.normal(0, 4, arr.shape).astype(np.float32)  # scanner noise
        images.append(preprocess(np.clip(arr, 0, 255), Image))
        labels.append(label)
    return np.stack(images).astype(np.float32), np.array(labels, dtype=np.int64)


def preprocess(arr, Image):
    """rapidocr's TextClassifier.resize_norm_img for cls_image_shape [3, 48, 192]."""
    h, w = arr.shape[:2]
    resized_w = min(192, int(math.ceil(48 * w / float(h))))
    img = Image.fromarray(arr.astype(np.uint8)).resize((resized_w, 48), Image.BILINEAR)
    x = np.asarray(img).astype(np.float32).transpose(2, 0, 1) / 255
    x = (x - 0.5) / 0.5
    out = np.zeros((3, 48, 192), dtype=np.float32)
    out[:, :, :resized_w] = x
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/quanta-rapidocr-cls")
    ap.add_argument("--quanta", default=".build/debug/quanta")
    ap.add_argument("--calibration", type=int, default=64)
    ap.add_argument("--eval", type=int, default=200)
    ap.add_argument("--method", default=None)
    args = ap.parse_args()
    os.makedirs(args.work, exist_ok=True)
    ensure_pillow()
    model = fetch_model(args.work)
    calib, _ = render_lines(args.calibration, seed=1)
    data, labels = render_lines(args.eval, seed=2)
    paths = {k: os.path.join(args.work, k + ".npy") for k in ["calib", "eval", "labels"]}
    np.save(paths["calib"], calib)
    np.save(paths["eval"], data)
    np.save(paths["labels"], labels)

    import onnxruntime as ort
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    probs = np.concatenate([sess.run(None, {"x": data[i:i + 16]})[0] for i in range(0, len(data), 16)])
    ort_acc = float((probs.argmax(1) == labels).mean())

    qmodel = os.path.join(args.work, "cls.qmodel")
    cmd = [args.quanta, "quantize", model, "--calibration", paths["calib"], "-o", qmodel, "--quiet"]
    if args.method:
        cmd += ["--method", args.method]
    print("$", " ".join(cmd))
    subprocess.check_call(cmd)
    cmd = [args.quanta, "eval", model, qmodel, "--data", paths["eval"], "--labels", paths["labels"], "--json", "--quiet"]
    print("$", " ".join(cmd))
    result = json.loads(subprocess.check_output(cmd))
    output = result["outputs"][0]
    c = result["classification"]
    n = c["samples"]
    print(f"samples {n}: onnxruntime float top-1 {100 * ort_acc:.1f}%, quanta float {100 * c['floatCorrect'] / n:.1f}%, "
          f"int8 {100 * c['int8Correct'] / n:.1f}%, int8-vs-float top-1 agreement {100 * c['top1Agreements'] / n:.1f}%; "
          f"output SQNR {output['sqnr']:.2f} dB, cosine {output['cosine']:.5f}")


if __name__ == "__main__":
    main()
