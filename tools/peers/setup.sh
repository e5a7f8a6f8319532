#!/usr/bin/env bash
# Installs the peers of `loader-bench compare` (tools/peers/torchvision_loader.py) on Debian/Ubuntu:
# torch, torchvision, PIL, numpy and OpenCV for the system's /usr/bin/python3, through apt-get.
# Idempotent and quiet when they are already there. Run by tools/peers/compare.sh.
set -euo pipefail
if /usr/bin/python3 -c 'import torch, torchvision, PIL, numpy, cv2' >/dev/null 2>&1; then
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
packages=(python3-torch python3-torchvision python3-pil python3-numpy python3-opencv)
echo "peers setup: installing ${packages[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
/usr/bin/python3 -c 'import torch, torchvision, PIL, numpy, cv2' || {
  echo "peers setup: /usr/bin/python3 still cannot import torch, torchvision, PIL, numpy and cv2" >&2; exit 1; }
