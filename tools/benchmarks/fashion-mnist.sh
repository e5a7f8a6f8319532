#!/usr/bin/env bash
# Fashion-MNIST end to end, with the record loader in the loop: Debian's dataset-fashion-mnist (installed if
# missing) -> JPEG ImageFolder trees (make-records import-idx) -> records (make-records) -> train a small ResNet on the
# CPU, validating on the standard 10,000 test images after every epoch (trainer eval --checkpoint FM_DIR/run
# --val FM_DIR/records/test --image-size 28 --eval-resize 28 gives the same figure). Target: >= 90% within 15 minutes on a 2-core machine.
# The last line is `test_top1=NN.NN`. A benchmark, not a CI test.
#
# Knobs (environment): FM_DIR (runs/fashion-mnist), FM_EPOCHS (4), FM_BATCH (128), FM_ARCH (resnet-tiny),
# FM_LR (per 256 images; default 0.512), FM_THREADS (loader decode threads, 1: a 28-pixel JPEG decodes in microseconds,
# so one thread keeps up), FM_TORCH_THREADS (libtorch threads, 2: both cores compute; measured 450 images/s against 204
# with 1), FM_CHANNELS_LAST (1: convolutions in NHWC memory order, 1.7x the steps/s of NCHW on this CPU; 0: off),
# ARTIFACTS (a dotnet --artifacts-path; default the projects' bin/).
set -euo pipefail
cd "$(dirname "$0")/../.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=${FM_DIR:-runs/fashion-mnist}
epochs=${FM_EPOCHS:-4}
batch=${FM_BATCH:-128}
arch=${FM_ARCH:-resnet-tiny}
lr=${FM_LR:-0.512}
threads=${FM_THREADS:-1}
torch_threads=${FM_TORCH_THREADS:-2}
channels_last=()
[ "${FM_CHANNELS_LAST:-1}" = 1 ] && channels_last=(--channels-last)
idx=/usr/share/datasets/fashion-mnist

if [ ! -f "$idx/train-images-idx3-ubyte.gz" ]; then
  echo "== installing dataset-fashion-mnist" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends dataset-fashion-mnist >/dev/null
fi

# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
build_tools

start=$(date +%s)
rm -rf "$work"
mkdir -p "$work"
echo "== IDX -> JPEG folders"
make_records import-idx --images "$idx/train-images-idx3-ubyte.gz" --labels "$idx/train-labels-idx1-ubyte.gz" --out "$work/images/train" --names fashion-mnist
make_records import-idx --images "$idx/t10k-images-idx3-ubyte.gz" --labels "$idx/t10k-labels-idx1-ubyte.gz" --out "$work/images/test" --names fashion-mnist
echo "== records"
make_records --input "$work/images/train" --output "$work/records/train" --name train
make_records --input "$work/images/test" --output "$work/records/test" --name test
prepared=$(date +%s)

echo "== train $arch, $epochs epochs, batch $batch, 28 px (random-resized-crop scale 0.8-1, flip)"
trainer train --data "$work/records/train" --val "$work/records/test" --arch "$arch" --epochs "$epochs" --batch "$batch" \
  --image-size 28 --eval-resize 28 --min-crop-scale 0.8 --lr "$lr" --loader cpu --amp off --threads "$threads" --torch-threads "$torch_threads" \
  "${channels_last[@]}" --metrics "$work/metrics.jsonl" --output "$work/run"
trained=$(date +%s)

echo "prepare $(( prepared - start )) s, train $(( trained - prepared )) s, total $(( $(date +%s) - start )) s"
echo "per epoch (metrics $work/metrics.jsonl, curves $work/run/plots/):"
sed -n 's/.*"epoch":\([0-9]*\),"train_loss":\([0-9.]*\),"val_top1":\([0-9.]*\).*"images_per_sec":\([0-9.]*\).*"seconds":\([0-9.]*\).*/  epoch \1: train_loss \2 test_top1 \3 images\/s \4 seconds \5/p' "$work/metrics.jsonl"
last=$(tail -1 "$work/metrics.jsonl")
echo "test_top1=$(sed -n 's/.*"val_top1":\([0-9.]*\).*/\1/p' <<<"$last")"
