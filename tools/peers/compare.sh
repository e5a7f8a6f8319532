#!/usr/bin/env bash
# Our loader against torchvision's DataLoader over the same images, in the same run:
# makes records from the image folder (once), then runs `loader-bench compare`, which prints a table of
# images/s for both and their ratio and writes compare.json and compare.png (images/s against threads).
#
#   tools/peers/compare.sh [IMAGES_DIR] [OUT_DIR] [extra loader-bench compare options, e.g. --threads 1,2]
#
# Needs: apt-get install -y --no-install-recommends python3-torch python3-torchvision python3-pil python3-numpy
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
images="${1:-$repo/../shared/data/imagenet-sample}"
out="${2:-$repo/artifacts/compare}"
shift $(( $# > 2 ? 2 : $# ))
records="$out/records"

if [[ ! -f "$records/manifest.json" ]]; then
  dotnet run -c Release --project "$repo/tools/make-records" -- --input "$images" --output "$records"
fi
cd "$repo"
dotnet run -c Release --project "$repo/tools/loader-bench" -- compare --data "$records" --images "$images" \
  --out "$out" --peer-script "$repo/tools/peers/torchvision_loader.py" "$@"
