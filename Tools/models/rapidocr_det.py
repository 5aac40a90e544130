#!/usr/bin/env python3
"""End to end on PP-OCRv4's text detector `ch_PP-OCRv4_det_infer.onnx` exactly as the
`rapidocr-onnxruntime` wheel ships it (paddle2onnx, opset 12, input `x` of dims [-1, 3, ?, ?],
a DB head with 6 nearest Resize and 2 ConvTranspose, output a sigmoid text-probability map).

Steps (no manual conversion of the model):
  1. `pip download rapidocr-onnxruntime==1.4.4 --no-deps` and take the .onnx out of the wheel;
  2. render pages of text lines (DejaVu fonts, Pillow) at HxW (multiples of 32), normalized as
     rapidocr's DetPreProcess does ((x/255 - 0.5)/0.5, NCHW);
  3. `quanta quantize MODEL --calibration calib.npy` (dims from the data's shape), then
     `quanta eval MODEL MODEL.qmodel --data eval.npy --json` (int8 vs float figures) and
     `quanta run` of both models to compare the probability maps binarized at rapidocr's
     threshold 0.3 (pixel agreement, IoU of the text pixels);
  4. print the figures, and onnxruntime's agreement with Quanta's float map.

Usage (from the repository root, after `swift build`):
    python3 Tools/models/rapidocr_det.py [--work DIR] [--quanta PATH] [--size 96x160]
        [--calibration N] [--eval N] [--method M]
Needs numpy, onnxruntime and Pillow (installed with pip if missing).
"""
import argparse
import glob
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rapidocr_cls import WORDS, ensure_pillow, fetch_model as _fetch_cls  # noqa: E402,F401

WHEEL = "rapidocr-onnxruntime==1.4.4"
MEMBER = "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx"
THRESH = 0.3


def fetch_model(work):
    import zipfile
    path = os.path.join(work, os.path.basename(MEMBER))
    if os.path.exists(path):
        return path
    wheels = glob.glob(os.path.join(work, "rapidocr_onnxruntime-*.whl"))
    if not wheels:
        subprocess.check_call([sys.executable, "-m", "pip", "download", "-q", WHEEL, "--no-deps", "-d", work])
        wheels = glob.glob(os.path.join(work, "rapidocr_onnxruntime-*.whl"))
    with zipfile.ZipFile(wheels[0]) as z, open(path, "wb") as f:
        f.write(z.read(MEMBER))
    return path


def render_pages(n, h, w, seed):
    from PIL import Image, ImageDraw, ImageFont
    rng = np.random.default_rng(seed)
    fonts = sorted(glob.glob("/usr/share/fonts/truetype/dejavu/*.ttf")) or [None]
    pages = []
    for i in range(n):
        bg = tuple(int(v) for v in rng.integers(170, 256, 3))
        img = Image.new("RGB", (w, h), bg)
        draw = ImageDraw.Draw(img)
        y = int(rng.integers(2, 12))
        while y < h - 12:
            size = int(rng.integers(10, 20))
            font = ImageFont.truetype(fonts[int(rng.integers(len(fonts)))], size) if fonts[0] else ImageFont.load_default()
            text = " ".join(rng.choice(WORDS, size=int(rng.integers(1, 4))))
            fg = tuple(int(v) for v in rng.integers(0, 90, 3))
            draw.text((int(rng.integers(2, max(3, w // 3))), y), text, fill=fg, font=font)
            y += size + int(rng.integers(4, 16))
        arr = np.asarray(img).astype(np.float32) + rng.normal(0, 4, (h, w, 3)).astype(np.float32)
        x = np.clip(arr, 0, 255).transpose(2, 0, 1) / 255
        pages.append((x - 0.5) / 0.5)
    return np.stack(pages).astype(np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/quanta-rapidocr-cls")
    ap.add_argument("--quanta", default=".build/debug/quanta")
    ap.add_argument("--size", default="96x160")
    ap.add_argument("--calibration", type=int, default=16)
    ap.add_argument("--eval", type=int, default=16)
    ap.add_argument("--method", default=None)
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    os.makedirs(args.work, exist_ok=True)
    ensure_pillow()
    model = fetch_model(args.work)
    paths = {k: os.path.join(args.work, f"det_{k}.npy") for k in ["calib", "eval", "float", "int8"]}
    np.save(paths["calib"], render_pages(args.calibration, h, w, seed=1))
    data = render_pages(args.eval, h, w, seed=2)
    np.save(paths["eval"], data)

    import onnxruntime as ort
    sess = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    ort_map = np.concatenate([sess.run(None, {"x": data[i:i + 1]})[0] for i in range(len(data))])

    qmodel = os.path.join(args.work, "det.qmodel")
    cmd = [args.quanta, "quantize", model, "--calibration", paths["calib"], "-o", qmodel, "--quiet", "--json"]
    if args.method:
        cmd += ["--method", args.method]
    print("$", " ".join(cmd))
    summary = json.loads(subprocess.check_output(cmd))
    cmd = [args.quanta, "eval", model, qmodel, "--data", paths["eval"], "--json", "--quiet"]
    print("$", " ".join(cmd))
    output = json.loads(subprocess.check_output(cmd))["outputs"][0]
    subprocess.check_call([args.quanta, "run", model, "--input", paths["eval"], "--output", paths["float"]])
    subprocess.check_call([args.quanta, "run", qmodel, "--input", paths["eval"], "--output", paths["int8"]])
    f, q = np.load(paths["float"]), np.load(paths["int8"])
    fb, qb, ob = f > THRESH, q > THRESH, ort_map > THRESH
    iou = (fb & qb).sum() / max(1, (fb | qb).sum())
    print(f"ops {sum(summary['opsByKind'].values())} {summary['opsByKind']}")
    print(f"samples {len(data)} at {h}x{w}: quanta float vs onnxruntime max |d| {np.abs(f - ort_map).max():.2e}, "
          f"text pixels {100 * ob.mean():.1f}%; int8 vs float: output SQNR {output['sqnr']:.2f} dB, "
          f"cosine {output['cosine']:.5f}, max |d| {np.abs(q - f).max():.3f}, "
          f"binarized (>{THRESH}) pixel agreement {100 * (fb == qb).mean():.2f}%, text IoU {100 * iou:.1f}%")


if __name__ == "__main__":
    main()
