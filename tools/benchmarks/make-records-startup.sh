#!/usr/bin/env bash
# make-records' start-up cost, as its tool package ships it (published for linux-x64, ReadyToRun) against the
# `dotnet build` output (IL, JIT-compiled at start-up): `verify` of a small record set, page cache warm, the two
# alternating, ROUNDS rounds; medians of wall and CPU (user + system) seconds. JSON on stdout (and to $JSON when set).
# Usage: bash tools/benchmarks/make-records-startup.sh [RECORDS] (default: the shared 500-image sample, converted
# into a scratch folder). Run under the cpu lock after `dotnet build Loader.sln -c Release`; a benchmark, not a test.
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${ROUNDS:-5}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
locate_tools
[ -f "$make_records_dll" ] || { echo "build make-records first (dotnet build tools/make-records -c Release)" >&2; exit 2; }
records=${1:-}
if [ -z "$records" ]; then
  records=$scratch/records
  dotnet "$make_records_dll" --input ../shared/data/imagenet-sample --output "$records" > /dev/null
fi
dotnet publish tools/make-records/make-records.csproj -c Release -r linux-x64 --self-contained false -nologo -v quiet -o "$scratch/tool" >&2

build=() r2r=()
for ((r = 0; r < rounds; r++)); do
  for which in build r2r; do
    dll=$make_records_dll; [ "$which" = r2r ] && dll=$scratch/tool/make-records.dll
    /usr/bin/time -o "$scratch/time" -f '%e %U %S' dotnet "$dll" verify "$records" > /dev/null
    read -r e u s < "$scratch/time"
    if [ "$which" = build ]; then build+=("$e,$u,$s"); else r2r+=("$e,$u,$s"); fi
  done
done
json=$(python3 - "$records" "$rounds" "${build[*]}" "${r2r[*]}" <<'PY'
import json, statistics, sys
records, rounds, build, r2r = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split()
def summary(runs):
    wall = [float(r.split(",")[0]) for r in runs]
    cpu = [round(float(r.split(",")[1]) + float(r.split(",")[2]), 2) for r in runs]
    return {"wallSecondsMedian": statistics.median(wall), "cpuSecondsMedian": statistics.median(cpu), "wall": wall, "cpu": cpu}
b, p = summary(build), summary(r2r)
print(json.dumps({"command": "make-records verify RECORDS", "records": records, "rounds": rounds,
                  "dotnetBuild": b, "readyToRunPublish": p,
                  "wallSpeedup": round(b["wallSecondsMedian"] / p["wallSecondsMedian"], 3),
                  "cpuSpeedup": round(b["cpuSecondsMedian"] / p["cpuSecondsMedian"], 3)}, indent=2))
PY
)
echo "$json"
[ -n "${JSON:-}" ] && echo "$json" > "$JSON"
exit 0
