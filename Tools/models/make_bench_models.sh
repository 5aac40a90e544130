#!/usr/bin/env bash
# Writes the benchmark models into .build-models/ (gitignored: MobileNetV2 1.0/224 alone is
# 14 MB): three torchvision-layout MobileNetV2 exports and one ShuffleNetV2 with seeded random
# weights, BatchNormalization unfused with running statistics taken from data (--bn-from-data,
# so activation ranges are those of a trained network), each with 16 calibration and 16
# evaluation samples (float32 N×3×R×R, ImageNet-normalized uniform pixels).
#
#   mobilenet_v2_1_224      MobileNetV2 1.0, 224×224 (300 M MACs)
#   mobilenet_v2_0.35_96    MobileNetV2 0.35, 96×96
#   mobilenet_v2_0.3_64     MobileNetV2 0.3, 64×64
#   shufflenet_v2_1_224     ShuffleNetV2 1.0, 224×224 (channel shuffle, Split, Concat, MaxPool)
#
# File stems are make_mobilenet_family.py's default MODEL_WIDTH_RESOLUTION (width printed
# with %g: 1.0 gives "1"). Deterministic (fixed seeds): rerunning gives the same files.
# Usage: Tools/models/make_bench_models.sh [OUT]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
out=${1:-.build-models}
mkdir -p "$out"
while read -r model width resolution; do
    python3 Tools/models/make_mobilenet_family.py --out "$out" --model "$model" --width "$width" \
        --resolution "$resolution" --classes 1000 --bn-from-data 8 --calibration 16 --eval 16
done <<'LIST'
mobilenet_v2 1.0 224
mobilenet_v2 0.35 96
mobilenet_v2 0.3 64
shufflenet_v2 1.0 224
LIST
