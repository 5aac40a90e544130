#!/usr/bin/env bash
# Writes the models of the accuracy regression tests (Tests/AccuracyModels/): small
# MobileNet V1/V2/V3 and ShuffleNet V2 style exports with seeded random weights, each with
# 24 calibration and 8 evaluation samples. Deterministic: rerunning gives the same files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=Tests/AccuracyModels
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"
while read -r model width; do
    python3 Tools/models/make_mobilenet_family.py --out "$tmp" --model "$model" --width "$width" \
        --resolution 32 --classes 10 --calibration 32 >/dev/null
    stem="${model}_${width}_32"
    cp "$tmp/$stem.onnx" "$out/$stem.onnx"
    python3 - "$tmp/${stem}_calibration.npy" "$out/$stem" <<'PY'
import sys, numpy as np
x = np.load(sys.argv[1])
np.save(sys.argv[2] + "_calibration.npy", x[:24])
np.save(sys.argv[2] + "_eval.npy", x[24:32])
PY
    echo "$out/$stem.onnx"
done <<'LIST'
mobilenet_v1 0.25
mobilenet_v2 0.35
mobilenet_v3_small 0.5
shufflenet_v2 0.5
LIST
