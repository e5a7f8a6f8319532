#!/usr/bin/env bash
# Runs ON THE GPU MACHINE (one `run` call; see docs/GPU.md): every device check of issue 6 that exists so far, all
# results under $OUT. Needs .device/ from tools/device/prepare.sh (carried). Each step has its own time limit and
# its failure does not stop the next: one call must bring back everything. About 4 to 5 minutes; the step limits
# add up to 570 s (30 + 30 + 90 + 30 + 50 + 40 + 30 + 30 + 30 + 85 + 80 + 45), leaving 30 s of the 600 s of one call
# for unpacking, copying the images and the summary.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
DEV=$ROOT/.device
OUT=${OUT:-/tmp/device-out}
mkdir -p "$OUT"
START=$(date +%s)
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$OUT/progress.log" >&2; }
step() { local name=$1 limit=$2; shift 2; log "$name (limit ${limit}s)"; timeout "$limit" "$@"; log "$name: exit $?"; }

[ -d "$DEV/app" ] || { log "no .device/app: run tools/device/prepare.sh here first and carry .device"; exit 1; }

# 1. The environment (cheap; settles the unknowns): GPU, CUDA libraries, GLIBCXX, LibTorchSharp symbols.
step probe 30 bash "$DEV/probe.sh" "$DEV/lib/libLibTorchSharp.so" > "$OUT/probe.txt" 2>&1

# 2. The .NET runtime, torch's libraries and every folder holding nvJPEG / NVRTC on the loader path.
RT=$(mktemp -d)
tar -C "$RT" -xJf "$DEV/dotnet.tar.xz"
export DOTNET_ROOT=$RT DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 LOADER_CUDA_CACHE=$RT/cubin
TORCH_LIB=$(python3 -c 'import torch,os;print(os.path.join(os.path.dirname(torch.__file__),"lib"))' 2>/dev/null)
CUDA_DIRS=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
hits = set()
for r in roots:
    for pat in ("nvidia/*/lib/libnvjpeg.so*", "nvidia/*/lib/libnvrtc.so*"):
        hits.update(os.path.dirname(p) for p in glob.glob(os.path.join(r, pat)))
hits.update(os.path.dirname(p) for p in glob.glob("/usr/local/cuda*/lib64/libnvjpeg.so*"))
print(":".join(sorted(hits)))
PY
)
export LD_LIBRARY_PATH=$DEV/lib:${CUDA_DIRS:+$CUDA_DIRS:}${TORCH_LIB:+$TORCH_LIB:}${LD_LIBRARY_PATH:-}
log "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
env | grep -E '^(LD_LIBRARY_PATH|DOTNET_ROOT|CUDA_HOME)=' > "$OUT/env.txt"

# 3. What our GPU path finds.
step dotnet-probe 30 "$RT/dotnet" "$DEV/app/device-check.dll" probe > "$OUT/dotnet-probe.json" 2> "$OUT/dotnet-probe.err"

# 4. The measured checks: decode PSNR, kernel max difference, end to end, images/s (GPU hw/hybrid, CPU).
step device-check 90 "$RT/dotnet" "$DEV/app/device-check.dll" all --images "$DEV/images" --fixtures "$DEV/fixtures" --seconds 5 --batch 256 \
  --out "$OUT/device-check.json" > /dev/null 2> "$OUT/device-check.log"

# 4b. The GPU loader (records -> reader -> nvJPEG -> augment kernel -> device slots) against the CPU loader on all
#     cores, same records, same machine. 800 records: the 80 sample images 10 times over (flat ImageNet-style names,
#     so make-records labels them by synset), packed by make-records with the packed runtime.
LT=$RT/loader
mkdir -p "$LT" "$RT/loader-images"
tar -C "$LT" -xJf "$DEV/loader.tar.xz"
for r in 0 1 2 3 4 5 6 7 8 9; do
  for f in "$DEV"/images/*; do b=$(basename "$f"); cp "$f" "$RT/loader-images/${b%%_*}_r${r}_${b#*_}"; done
done
step make-records 30 "$RT/dotnet" "$LT/bench/make-records.dll" --input "$RT/loader-images" --output "$RT/records" --shards 4 \
  > "$OUT/make-records.log" 2>&1
step loader-bench-gpu 50 "$RT/dotnet" "$LT/bench/loader-bench.dll" run --data "$RT/records" --backend gpu --batch 256 \
  --epochs 10 --warmup-epochs 2 --json > "$OUT/loader-bench-gpu.json" 2> "$OUT/loader-bench-gpu.log"
step loader-bench-cpu 40 "$RT/dotnet" "$LT/bench/loader-bench.dll" run --data "$RT/records" --backend cpu --batch 256 \
  --epochs 10 --warmup-epochs 2 --json > "$OUT/loader-bench-cpu.json" 2> "$OUT/loader-bench-cpu.log"
# 4c. Crop-proportional decoding on the GPU (issue 11): the same images written with restart intervals, timed with
#     nvJPEG given each crop's sub-JPEG (spliced_samples, spliced_entropy_fraction) and, on the same records, the whole
#     JPEG with a region of interest (--gpu-splice off): their ratio is what splicing gains, apart from transcoding.
step make-records-restart 30 "$RT/dotnet" "$LT/bench/make-records.dll" --input "$RT/loader-images" --output "$RT/records-restart" \
  --shards 4 --restart-interval auto > "$OUT/make-records-restart.log" 2>&1
step loader-bench-gpu-restart 30 "$RT/dotnet" "$LT/bench/loader-bench.dll" run --data "$RT/records-restart" --backend gpu --batch 256 \
  --epochs 5 --warmup-epochs 1 --json > "$OUT/loader-bench-gpu-restart.json" 2> "$OUT/loader-bench-gpu-restart.log"
step loader-bench-gpu-restart-whole 30 "$RT/dotnet" "$LT/bench/loader-bench.dll" run --data "$RT/records-restart" --backend gpu --batch 256 \
  --epochs 5 --warmup-epochs 1 --gpu-splice off --json > "$OUT/loader-bench-gpu-restart-whole.json" 2> "$OUT/loader-bench-gpu-restart-whole.log"

# 5. PyTorch baselines on the same GPU: torchvision decode_jpeg(device='cuda') batched; eager ResNet-50 AMP steps.
step torch-reference 85 python3 tools/device/torch_reference.py "$DEV/images" --seconds 5 --batch 256 \
  > "$OUT/torch-reference.json" 2> "$OUT/torch-reference.log"

# 6. The GPU tests (skipped here without a GPU, run there): kernel vs CPU per type/layout, nvJPEG PSNR, end to end.
#    Last: they repeat device-check's comparisons as pass/fail, so a cut-short run loses the least.
step tests 80 "$RT/dotnet" "$DEV/tests/Augment.Cuda.Tests.dll" -noColor -xml "$OUT/tests.xml" > "$OUT/tests.txt" 2>&1
tail -5 "$OUT/tests.txt" | tee -a "$OUT/progress.log"

# 6b. The GPU loader's tests: same samples, labels, state and pixels (PSNR >= 28 dB) as the CPU loader; slots
#     recycled over epochs; resume; a consumer holding every slot gets a clear error.
step loader-tests 45 "$RT/dotnet" "$LT/loader-tests/Loader.Tests.dll" -noColor -namespace Loader.Pipeline.Tests.Gpu \
  -xml "$OUT/loader-tests.xml" > "$OUT/loader-tests.txt" 2>&1
tail -3 "$OUT/loader-tests.txt" | tee -a "$OUT/progress.log"

# 7. One summary with the goals.
python3 - "$OUT" <<'PY' > "$OUT/summary.json" 2>> "$OUT/progress.log"
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        return json.load(open(os.path.join(out, name)))
    except Exception as e:
        return {"error": f"{name}: {e!r}"}
dc, tr = load("device-check.json"), load("torch-reference.json")
s = {"device": dc.get("device"), "date_utc": dc.get("date_utc")}
try:
    s["decode_psnr_pass"] = {k: v.get("pass") for k, v in dc["decode_psnr"].items() if isinstance(v, dict)}
except Exception as e: s["decode_psnr_pass"] = repr(e)
try: s["kernel_vs_cpu_pass"] = dc["kernel_vs_cpu"]["pass"]
except Exception as e: s["kernel_vs_cpu_pass"] = repr(e)
try:
    ours = dc["throughput"]["gpu_hardware_preferred"]["images_per_second"]
    hybrid = dc["throughput"]["gpu_hybrid_only"]["images_per_second"]
    cpu = dc["throughput"]["cpu_all_cores"]["images_per_second"]
    tv = tr["torchvision_decode_jpeg_cuda"]["images_per_second"]
    s["images_per_second"] = {"ours_gpu_decode_augment": ours, "ours_gpu_hybrid_only": hybrid, "ours_cpu_all_cores": cpu, "torchvision_decode_only": tv}
    s["ratio_vs_torchvision"] = round(ours / tv, 3)
    s["goal_1_5x_torchvision"] = ours >= 1.5 * tv
except Exception as e: s["throughput"] = repr(e)
s["pytorch_eager_resnet50"] = tr.get("pytorch_eager_resnet50")
lg, lc = load("loader-bench-gpu.json"), load("loader-bench-cpu.json")
try:
    s["loader_bench"] = {"gpu_images_per_second": lg["images_per_sec"], "cpu_images_per_second": lc["images_per_sec"],
                         "gpu_over_cpu": round(lg["images_per_sec"] / lc["images_per_sec"], 3),
                         "gpu_hardware_decoder": lg.get("gpu_hardware_decoder"),
                         "gpu_decoded": [lg.get("gpu_decoded_hardware"), lg.get("gpu_decoded_hybrid"), lg.get("gpu_decoded_cpu_fallback")],
                         "cpu_threads": lc.get("threads"), "batch": lg.get("batch"), "records": lg.get("dataset_images")}
except Exception as e: s["loader_bench"] = repr(e) + " " + str(lg.get("error", "")) + " " + str(lc.get("error", ""))
lr, lw = load("loader-bench-gpu-restart.json"), load("loader-bench-gpu-restart-whole.json")
try:
    s["loader_bench_restart_intervals"] = {"gpu_spliced_images_per_second": lr["images_per_sec"],
                                           "gpu_whole_jpeg_roi_images_per_second": lw["images_per_sec"],
                                           "spliced_over_whole": round(lr["images_per_sec"] / lw["images_per_sec"], 3),
                                           "spliced_samples": lr.get("spliced_samples"), "decoded_samples": lr.get("decoded_samples"),
                                           "spliced_entropy_fraction": lr.get("spliced_entropy_fraction"),
                                           "gpu_decoded_spliced": [lr.get("gpu_decoded_hardware"), lr.get("gpu_decoded_hybrid"), lr.get("gpu_decoded_cpu_fallback")],
                                           "gpu_decoded_whole": [lw.get("gpu_decoded_hardware"), lw.get("gpu_decoded_hybrid"), lw.get("gpu_decoded_cpu_fallback")]}
except Exception as e: s["loader_bench_restart_intervals"] = repr(e) + " " + str(lr.get("error", "")) + " " + str(lw.get("error", ""))
print(json.dumps(s, indent=2))
PY
cat "$OUT/summary.json"
log "done"
rm -rf "$RT"
