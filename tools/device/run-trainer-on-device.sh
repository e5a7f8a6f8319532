#!/usr/bin/env bash
# Runs ON THE GPU MACHINE (its own `run` call, after run-on-device.sh; needs .device/ with trainer.tar.xz,
# loader.tar.xz, dotnet.tar.xz, images/): `trainer` ResNet-50 images/s, --loader gpu vs --loader synthetic, with
# --amp fp16 and --amp bf16, same steps per epoch, last of 3 epochs timed (the first pays cuDNN/NVRTC/allocator
# warm-up). Goal (issue 6): gpu >= 95% of synthetic. Results: $OUT/trainer-*.jsonl, trainer-summary.json.
# Step limits: 45 + 4 x 120 + 60 = 585 s (expected about 4 minutes).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEV=$ROOT/.device
OUT=${OUT:-/tmp/device-out}
ARCH=${ARCH:-resnet50} BATCH=${BATCH:-256} SIZE=${SIZE:-224} COPIES=${COPIES:-50} EPOCHS=${EPOCHS:-3} DEVICE=${DEVICE:-cuda}
LIMIT=${LIMIT:-120}
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/trainer-progress.log" >&2; }
step() { local name=$1 limit=$2; shift 2; log "$name (limit ${limit}s)"; timeout "$limit" "$@"; log "$name: exit $?"; }

RT=$(mktemp -d)
tar -C "$RT" -xJf "$DEV/dotnet.tar.xz"
tar -C "$RT" -xJf "$DEV/trainer.tar.xz"
mkdir -p "$RT/loader" && tar -C "$RT/loader" -xJf "$DEV/loader.tar.xz"
export DOTNET_ROOT=$RT DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 LOADER_CUDA_CACHE=$RT/cubin
# The device's CUDA libtorch (TorchSharp's libLibTorchSharp.so is built for libtorch 2.10: probe.txt says whether its
# symbols resolve against this one), and every folder holding nvJPEG / NVRTC.
TORCH_LIB=${TORCH_LIB:-$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null)}
CUDA_DIRS=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
hits = set()
for r in roots:
    for pat in ("nvidia/*/lib/libnvjpeg.so*", "nvidia/*/lib/libnvrtc.so*", "nvidia/*/lib/libcudnn.so*"):
        hits.update(os.path.dirname(p) for p in glob.glob(os.path.join(r, pat)))
hits.update(os.path.dirname(p) for p in glob.glob("/usr/local/cuda*/lib64/libnvjpeg.so*"))
print(":".join(sorted(hits)))
PY
)
export LD_LIBRARY_PATH=$DEV/lib:${CUDA_DIRS:+$CUDA_DIRS:}${TORCH_LIB:+$TORCH_LIB:}${LD_LIBRARY_PATH:-}
log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# Records: the sample images COPIES times over (5000 records: 19 full steps of 256 per epoch).
mkdir -p "$RT/images"
for r in $(seq 1 "$COPIES"); do
  for f in "$DEV"/images/*; do b=$(basename "$f"); cp "$f" "$RT/images/${b%%_*}_r${r}_${b#*_}"; done
done
step make-records 45 "$RT/dotnet" "$RT/loader/bench/make-records.dll" --input "$RT/images" --output "$RT/records" --shards 8 \
  > "$OUT/trainer-make-records.log" 2>&1
CLASSES=$(ls "$DEV/images" | sed 's/_.*//' | sort -u | wc -l)
IMAGES=$(ls "$RT/images" | wc -l)
STEPS=$(( IMAGES / BATCH ))
log "$IMAGES records, $CLASSES classes, $STEPS steps/epoch"

train() { # name, extra args...
  local name=$1; shift
  step "trainer-$name" "$LIMIT" "$RT/dotnet" "$RT/trainer/trainer.dll" train --arch "$ARCH" --batch "$BATCH" --image-size "$SIZE" \
    --epochs "$EPOCHS" --warmup-epochs 0 --device "$DEVICE" --threads "$(nproc)" --output "$RT/run-$name" \
    --channels-last --metrics "$OUT/trainer-$name.jsonl" "$@" > "$OUT/trainer-$name.log" 2>&1
}
for amp in fp16 bf16; do
  train "gpu-$amp" --loader gpu --data "$RT/records" --amp "$amp"
  train "synthetic-$amp" --loader synthetic --synthetic-steps "$STEPS" --classes "$CLASSES" --amp "$amp"
done

# PyTorch eager ResNet-50 (channels_last, autocast) on the same GPU in the same call: the reference for synthetic.
step torch-reference 60 python3 tools/device/torch_reference.py "$DEV/images" --seconds 1 --batch "$BATCH" \
  > "$OUT/trainer-torch-reference.json" 2> "$OUT/trainer-torch-reference.log"

python3 - "$OUT" <<'PY' > "$OUT/trainer-summary.json" 2>> "$OUT/trainer-progress.log"
import json, os, sys
out = sys.argv[1]
def last(name):
    try:
        lines = [json.loads(l) for l in open(os.path.join(out, f"trainer-{name}.jsonl")) if l.strip()]
        return lines[-1]["images_per_sec"] if lines else None
    except OSError:
        return None
res = {}
for amp in ("fp16", "bf16"):
    gpu, syn = last(f"gpu-{amp}"), last(f"synthetic-{amp}")
    res[amp] = {"gpu_images_per_sec": gpu, "synthetic_images_per_sec": syn,
                "gpu_over_synthetic": gpu / syn if gpu and syn else None,
                "goal_gpu_at_least_95pct_of_synthetic": (gpu / syn >= 0.95) if gpu and syn else None}
try:
    ref = json.load(open(os.path.join(out, "trainer-torch-reference.json"))).get("pytorch_eager_resnet50", {})
    for amp in ("fp16", "bf16"):
        eager = ref.get(amp, {}).get("images_per_second") if isinstance(ref.get(amp), dict) else None
        syn = res[amp]["synthetic_images_per_sec"]
        res[amp]["pytorch_eager_images_per_sec"] = eager
        res[amp]["synthetic_over_eager"] = syn / eager if syn and eager else None
except (OSError, ValueError):
    pass
print(json.dumps(res, indent=2))
PY
cat "$OUT/trainer-summary.json" | tee -a "$OUT/trainer-progress.log"
rm -rf "$RT"
