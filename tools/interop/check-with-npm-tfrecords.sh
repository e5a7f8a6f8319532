#!/usr/bin/env bash
# Reads make-records output with a TFRecord reader this project did not write: @roboflow/tfrecords from npm (its own
# CRC-32C, masking and tf.train.Example protobuf code). TensorFlow and DALI are not installable on this machine (no
# PyPI); this is the independent reader that is. Checks every record's CRCs, the Example features TensorFlow's
# ImageNet scripts define, 1-based labels against the manifest's synsets, the --report's record positions, and that
# passthrough images are byte-identical to their input files. Exit 1 on any problem.
#
# Usage: bash tools/interop/check-with-npm-tfrecords.sh [INPUT_DIR (default ../shared/data/imagenet-sample)] [SHARDS (3)]
set -euo pipefail
cd "$(dirname "$0")/../.."
input=${1:-../shared/data/imagenet-sample}
shards=${2:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
build_tools
make_records --input "$input" --output "$work/records" --shards "$shards" --report "$work/report.json" --threads 2

(cd tools/interop/npm-tfrecords && npm ci --silent --no-audit --no-fund)
node tools/interop/npm-tfrecords/check.js "$work/records" "$input" "$work/report.json"
