#!/usr/bin/env bash
# Our loader against PyTorch DataLoader peers over the same images, in the same run (torchvision + PIL,
# torchvision.io.decode_jpeg with tensor transforms, OpenCV with INTER_AREA and with INTER_LINEAR;
# tools/peers/torchvision_loader.py):
# installs the peers if missing (tools/peers/setup.sh), makes records from the image folder (once), then runs
# `loader-bench compare`, which prints a table of images/s for ours and every peer with our ratio against the
# fastest peer, and writes compare.json (every figure) and compare.png (images/s against threads).
#
#   tools/peers/compare.sh [IMAGES_DIR] [OUT_DIR] [extra loader-bench compare options, e.g. --threads 1,2 --repeat 3]
#
# RESTART_INTERVAL=auto|rows|N: make the records with `make-records --restart-interval` (spliced decoding; see the
# README's "Restart intervals"), in OUT_DIR/records-restart-N; the peers still read the original JPEGs.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
images="${1:-$repo/../shared/data/imagenet-sample}"
out="${2:-$repo/artifacts/compare}"
shift $(( $# > 2 ? 2 : $# ))
bash "$repo/tools/peers/setup.sh"

make_options=()
records="$out/records"
if [[ -n "${RESTART_INTERVAL:-}" ]]; then
  make_options=(--restart-interval "$RESTART_INTERVAL")
  records="$out/records-restart-$RESTART_INTERVAL"
fi
if [[ ! -f "$records/manifest.json" ]]; then
  dotnet run -c Release --project "$repo/tools/make-records" -- --input "$images" --output "$records" "${make_options[@]}"
fi
cd "$repo"
dotnet run -c Release --project "$repo/tools/loader-bench" -- compare --data "$records" --images "$images" \
  --out "$out" --peer-script "$repo/tools/peers/torchvision_loader.py" "$@"
