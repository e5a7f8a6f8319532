#!/usr/bin/env bash
# make-records on the three ILSVRC2012 training layouts (issue 14), JSON on stdout (and to $JSON when set):
# N inputs (default 100,000) of one small JPEG in 1000 classes, as class folders and as one flat folder (hard links:
# one inode's bytes plus directory entries), and as 1000 per-class tar files (real tars, N copies of the bytes);
# make-records on each: seconds, files/s, peak memory (GNU time's maximum resident set size).
# Usage: bash tools/benchmarks/make-records-layouts.sh [N]. Run under the cpu lock; a benchmark, not a test.
# Knobs: SCRATCH (default /tmp/make-records-layouts; deleted afterwards), THREADS (all cores), ARTIFACTS.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-100000}
threads=${THREADS:-$(nproc)}
scratch=${SCRATCH:-/tmp/make-records-layouts}
# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
# shellcheck source=tools/benchmarks/lib/one-jpeg.sh
source tools/benchmarks/lib/one-jpeg.sh
locate_tools
[ -f "$make_records_dll" ] || { echo "build make-records first (dotnet build tools/make-records -c Release)" >&2; exit 2; }
trap 'rm -rf "$scratch"' EXIT
rm -rf "$scratch"
mkdir -p "$scratch"

# One 64x48 JPEG (tools/benchmarks/lib/one-jpeg.sh).
one_jpeg "$scratch" "$scratch/one.jpg"
python3 - "$scratch" "$n" <<'PY'
import io, os, shutil, sys, tarfile
root, n, classes = sys.argv[1], int(sys.argv[2]), 1000
one = os.path.join(root, "one.jpg")
data = open(one, "rb").read()
# Two links per input (class folder and flat folder); ext4 allows 65,000 per inode: one copy per 30,000 inputs.
copies = [one] + [shutil.copy(one, os.path.join(root, f"one-{k}.jpg")) for k in range(1, n // 30000 + 1)]
for layout in ("folders", "flat", "tars"):
    os.makedirs(os.path.join(root, layout))
tars = {}
for c in range(classes):
    synset = f"n{c:08d}"
    os.makedirs(os.path.join(root, "folders", synset))
    tars[c] = tarfile.open(os.path.join(root, "tars", synset + ".tar"), "w", format=tarfile.USTAR_FORMAT)
for i in range(n):
    c = i % classes
    name = f"n{c:08d}_{i}.JPEG"
    os.link(copies[i // 30000], os.path.join(root, "folders", f"n{c:08d}", name))
    os.link(copies[i // 30000], os.path.join(root, "flat", name))
    info = tarfile.TarInfo(name); info.size = len(data)
    tars[c].addfile(info, io.BytesIO(data))
for t in tars.values():
    t.close()
PY

measure() { local out; out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1 ); echo "$out"; }
declare -A secs kb
for layout in folders flat tars; do
  read -r secs[$layout] kb[$layout] < <(measure dotnet "$make_records_dll" --input "$scratch/$layout" --output "$scratch/out-$layout" --threads "$threads")
  rm -rf "$scratch/out-$layout"
done
json=$(python3 - <<PY
import json
n = $n
r = {l: {"seconds": s, "filesPerSecond": round(n / s), "peakRssMB": round(k / 1024, 1)}
     for l, s, k in (("classFolders", ${secs[folders]}, ${kb[folders]}), ("flatFolder", ${secs[flat]}, ${kb[flat]}), ("perClassTars", ${secs[tars]}, ${kb[tars]}))}
r["tarsVsClassFolders"] = round(${secs[folders]} / ${secs[tars]}, 3)
print(json.dumps({"inputs": n, "classes": 1000, "threads": $threads, **r}, indent=2))
PY
)
echo "$json"
[ -n "${JSON:-}" ] && echo "$json" > "$JSON"
exit 0
