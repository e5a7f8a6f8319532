#!/usr/bin/env bash
# The README's main job, on a fresh machine and with nothing to download but NuGet packages: draw the demo data set
# (make-records demo), write it as records, train a small ResNet on the CPU with the real loader for a few minutes,
# evaluate it, and print accuracy and images/s. Fails when the model did not learn (top-1 below 3x chance).
#
# Knobs (environment): DEMO_DIR (default demo-run), DEMO_EPOCHS (4), DEMO_IMAGE_SIZE (48), DEMO_BATCH (64),
# DEMO_ARCH (resnet-tiny), DEMO_THREADS (loader decode threads, 1), DEMO_TORCH_THREADS (libtorch threads, 2: both cores compute; 68 s of training against 138 s with 1, same machine),
# DEMO_CHANNELS_LAST (1: convolutions in NHWC memory order; 0: off), ARTIFACTS (a dotnet --artifacts-path for the build; default: the projects' bin/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

work=${DEMO_DIR:-demo-run}
epochs=${DEMO_EPOCHS:-4}
size=${DEMO_IMAGE_SIZE:-48}
batch=${DEMO_BATCH:-64}
arch=${DEMO_ARCH:-resnet-tiny}
threads=${DEMO_THREADS:-1}
torch_threads=${DEMO_TORCH_THREADS:-2}
channels_last=()
[ "${DEMO_CHANNELS_LAST:-1}" = 1 ] && channels_last=(--channels-last)

echo "== build"
# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
build_tools

rm -rf "$work"
mkdir -p "$work"
echo "== demo images -> $work/images"
make_records demo "$work/images"
echo "== records -> $work/records"
make_records --input "$work/images/train" --output "$work/records/train" --name train
make_records --input "$work/images/val" --output "$work/records/val" --name val
classes=$(find "$work/images/train" -mindepth 1 -maxdepth 1 -type d | wc -l)

echo "== train $arch at ${size}px for $epochs epochs on the CPU (loader: cpu)"
start=$(date +%s)
trainer train --data "$work/records/train" --val "$work/records/val" --arch "$arch" --epochs "$epochs" \
  --batch "$batch" --image-size "$size" --loader cpu --amp off --threads "$threads" --torch-threads "$torch_threads" \
  "${channels_last[@]}" --metrics "$work/metrics.jsonl" --output "$work/run"
train_seconds=$(( $(date +%s) - start ))

echo "== evaluate"
eval_line=$(trainer eval --checkpoint "$work/run" --val "$work/records/val" --batch 100 | tail -1)
echo "$eval_line"
top1=$(sed -n 's/.*top1=\([0-9.]*\).*/\1/p' <<<"$eval_line")
last=$(tail -1 "$work/metrics.jsonl")
ips=$(sed -n 's/.*"images_per_sec":\([0-9.]*\).*/\1/p' <<<"$last")
chance=$(awk -v c="$classes" 'BEGIN { printf "%.1f", 100 / c }')
echo
echo "demo: $classes classes, top-1 ${top1}% (chance ${chance}%), training ${ips%.*} images/s, ${train_seconds} s of training"
echo "      metrics $work/metrics.jsonl, curves $work/run/plots/, TensorBoard $work/run/tensorboard/"
awk -v t="$top1" -v c="$chance" 'BEGIN { exit !(t >= 3 * c) }' || { echo "demo: the model did not learn (top-1 below 3x chance)" >&2; exit 1; }
