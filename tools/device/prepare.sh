#!/usr/bin/env bash
# Runs HERE (no GPU needed): builds everything the GPU machine needs into .device/ (ignored by git), under 64 MiB,
# for one `run` call of tools/device/run-on-device.sh (docs/GPU.md has the exact call). The GPU machine has no .NET
# and no network, so we carry: the device checks and the GPU tests (framework-dependent publishes, no libtorch), the
# GPU loader bench + make-records + Loader.Tests (loader.tar.xz), the .NET runtime (tar.xz), ~80 sample JPEGs, libjpeg.so.62 (the CPU path's decoder), libLibTorchSharp.so (symbol
# check only) and the probe script.
# Usage: bash tools/device/prepare.sh [IMAGES_DIR] [COUNT]
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEV=$ROOT/.device
IMAGES=${1:-$ROOT/../shared/data/imagenet-sample}
COUNT=${2:-80}   # 80 keeps .device under the 64 MiB carry limit with room to spare (100 gave 62 MiB)
ART=${LOADER_DEVICE_ARTIFACTS:-/tmp/art-device}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

rm -rf "$DEV"
mkdir -p "$DEV/lib" "$DEV/images" "$DEV/fixtures"
grep -qx '/.device/' .git/info/exclude 2>/dev/null || echo '/.device/' >> .git/info/exclude

echo "prepare: publishing device-check and Augment.Cuda.Tests (framework-dependent)"
dotnet publish tools/device/device-check/device-check.csproj -c Release --artifacts-path "$ART" -o "$DEV/app" -nologo -v quiet
dotnet publish tests/Augment.Cuda.Tests/Augment.Cuda.Tests.csproj -c Release --artifacts-path "$ART" -o "$DEV/tests" -nologo -v quiet
# The test SDK's code-coverage collector (14 MB of native instrumentation) and satellite resources are not needed to run.
(cd "$DEV/tests" && rm -rf CodeCoverage x86 x64 arm64 alpine ubuntu macos cs de es fr it ja ko pl pt-BR ru tr zh-Hans zh-Hant)

echo "prepare: publishing the GPU loader bench (loader-bench + make-records) and Loader.Tests, packed (loader.tar.xz)"
# loader-bench `run` and make-records draw nothing: the SkiaSharp/HarfBuzz natives (ScottPlot's, for `compare` plots)
# stay here. Loader.Tests draws its test JPEGs with SkiaSharp: keep linux-x64 only. xz shrinks libSkiaSharp 9 -> ~3 MB.
STAGE=$(mktemp -d)
dotnet publish tools/loader-bench/loader-bench.csproj -c Release --artifacts-path "$ART" -o "$STAGE/bench" -nologo -v quiet
# Without ReadyToRun (unlike the tool package, which is ReadyToRun): the larger assemblies would take .device over
# the 64 MiB carry limit, and the device script times loader-bench, not make-records' start-up.
dotnet publish tools/make-records/make-records.csproj -c Release --artifacts-path "$ART" -o "$STAGE/bench" -nologo -v quiet -p:PublishReadyToRun=false
rm -rf "$STAGE/bench/runtimes"
dotnet publish tests/Loader.Tests/Loader.Tests.csproj -c Release --artifacts-path "$ART" -o "$STAGE/loader-tests" -nologo -v quiet
(cd "$STAGE/loader-tests" && rm -rf CodeCoverage x86 x64 arm64 alpine ubuntu macos cs de es fr it ja ko pl pt-BR ru tr zh-Hans zh-Hant \
  && find runtimes -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} +)
find "$STAGE" -name '*.pdb' -delete
tar -C "$STAGE" -cJf "$DEV/loader.tar.xz" bench loader-tests
rm -rf "$STAGE"

echo "prepare: packing the .NET runtime"
DOTNET_HOME=$(dirname "$(readlink -f "$(command -v dotnet)")")
RUNTIME=$(ls -d "$DOTNET_HOME"/shared/Microsoft.NETCore.App/10.* | sort -V | tail -1)
tar -C "$DOTNET_HOME" -cJf "$DEV/dotnet.tar.xz" dotnet host "shared/Microsoft.NETCore.App/$(basename "$RUNTIME")"

echo "prepare: native libraries"
# The CPU path's shim links libjpeg.so.62 (Debian's libjpeg-turbo); the GPU machine may not have it.
JPEG=$(ldd "$DEV/app/libloader_jpeg.so" | awk '/libjpeg\.so/ {print $3}')
cp -L "$JPEG" "$DEV/lib/"
TORCHSHARP=$(find "${NUGET_PACKAGES:-$HOME/.nuget/packages}/torchsharp" -path '*linux-x64/native/libLibTorchSharp.so' 2>/dev/null | sort -V | tail -1)
if [ -n "$TORCHSHARP" ]; then cp "$TORCHSHARP" "$DEV/lib/"; fi
PROBE=$ROOT/../shared/device/probe.sh
if [ -f "$PROBE" ]; then cp "$PROBE" "$DEV/probe.sh"; else echo "prepare: warning: $PROBE missing" >&2; fi

echo "prepare: copying $COUNT sample JPEGs from $IMAGES"
# Listed into an array, not `| head`: under pipefail, head leaving early kills sort with SIGPIPE once the listing
# outgrows the pipe (a folder of a few thousand images), which would end this script.
mapfile -d '' -t jpegs < <(find "$IMAGES" -maxdepth 1 -type f \( -iname '*.jpg' -o -iname '*.jpeg' \) -print0 | sort -z)
if [ ${#jpegs[@]} -eq 0 ]; then echo "prepare: no JPEGs in $IMAGES" >&2; exit 1; fi
cp -- "${jpegs[@]:0:$COUNT}" "$DEV/images/"
# The CPU path's special cases (progressive, 4:4:4, CMYK, arithmetic-coded): correctness checks only, not timed.
cp tests/Augment.Tests/Fixtures/images/* "$DEV/fixtures/" 2>/dev/null || true

# The trainer, framework-dependent, without libtorch (the device brings its own CUDA libtorch via torch/lib on
# LD_LIBRARY_PATH): $DEV/trainer.tar.xz, run by tools/device/run-trainer-on-device.sh.
STAGE=$(mktemp -d)
echo "prepare: publishing trainer (framework-dependent, no libtorch)"
dotnet publish src/Trainer/Trainer.csproj -c Release --artifacts-path "$ART" -o "$STAGE/trainer" -nologo -v quiet
# Keep only linux-x64's LibTorchSharp (TorchSharp's glue, built for libtorch 2.10) and Skia/HarfBuzz (end-of-run plots);
# libtorch itself (460 MB of CPU libtorch) comes from the device's PyTorch.
(cd "$STAGE/trainer/runtimes" && find . -mindepth 1 -maxdepth 1 ! -name linux-x64 -exec rm -rf {} + \
  && cd linux-x64/native && find . -type f ! -name libLibTorchSharp.so ! -name libSkiaSharp.so ! -name libHarfBuzzSharp.so -delete)
find "$STAGE" \( -name '*.pdb' -o -name '*.xml' \) -delete
mkdir -p "$DEV"
tar -C "$STAGE" -cJf "$DEV/trainer.tar.xz" trainer
rm -rf "$STAGE"
ls -la "$DEV/trainer.tar.xz"

echo "prepare: checking that the packed app starts here (it must say: no GPU)"
CHECK=$(mktemp -d)
tar -C "$CHECK" -xJf "$DEV/dotnet.tar.xz"
set +e
DOTNET_ROOT=$CHECK LD_LIBRARY_PATH=$DEV/lib "$CHECK/dotnet" "$DEV/app/device-check.dll" probe > "$CHECK/probe.json"
rc=$?
set -e
# The packed loader bench: records from the sample images, a short CPU run, and --backend gpu failing at once.
mkdir -p "$CHECK/loader"
tar -C "$CHECK/loader" -xJf "$DEV/loader.tar.xz"
set +e
DOTNET_ROOT=$CHECK LD_LIBRARY_PATH=$DEV/lib "$CHECK/dotnet" "$CHECK/loader/bench/make-records.dll" --input "$DEV/images" --output "$CHECK/records" --shards 2 > /dev/null 2>&1
mrc=$?
DOTNET_ROOT=$CHECK LD_LIBRARY_PATH=$DEV/lib "$CHECK/dotnet" "$CHECK/loader/bench/loader-bench.dll" run --data "$CHECK/records" --backend cpu --batch 32 --epochs 1 --json > "$CHECK/cpu.json" 2> "$CHECK/cpu.err"
crc=$?
DOTNET_ROOT=$CHECK LD_LIBRARY_PATH=$DEV/lib "$CHECK/dotnet" "$CHECK/loader/bench/loader-bench.dll" run --data "$CHECK/records" --backend gpu --json > /dev/null 2> "$CHECK/gpu.err"
grc=$?
set -e
rm -rf "$CHECK/dotnet" "$CHECK/host" "$CHECK/shared"
python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["probe"]; print("prepare: packed app probe:", p["summary"])' "$CHECK/probe.json"
if [ $mrc -ne 0 ] || [ $crc -ne 0 ]; then echo "prepare: packed make-records (exit $mrc) or loader-bench --backend cpu (exit $crc) failed: $(cat "$CHECK/cpu.err")" >&2; rm -rf "$CHECK"; exit 1; fi
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("prepare: packed loader-bench --backend cpu:", r["images_per_sec"], "images/s over", r["dataset_images"], "records")' "$CHECK/cpu.json"
echo "prepare: packed loader-bench --backend gpu (exit $grc): $(cat "$CHECK/gpu.err")"
rm -rf "$CHECK"
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then echo "prepare: the packed app failed to start (exit $rc)" >&2; exit 1; fi

SIZE=$(du -sm "$DEV" | cut -f1)
echo "prepare: .device is ${SIZE} MiB ($(ls "$DEV/images" | wc -l) images, $(ls "$DEV/fixtures" | wc -l) fixtures)"
du -sh "$DEV"/* | sed 's/^/  /'
if [ "$SIZE" -ge 64 ]; then echo "prepare: .device is over the 64 MiB carry limit" >&2; exit 1; fi
