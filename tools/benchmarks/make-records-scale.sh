#!/usr/bin/env bash
# make-records and verify at ImageNet scale (issue 15), JSON on stdout (and to $JSON when set):
#   1. a file list of N inputs (default 1,000,000; 1000 classes): one small JPEG hard-linked N times under a scratch
#      folder, so the data costs one inode's bytes plus directory entries; make-records --file-list into shards,
#      files/s and peak memory (GNU time's maximum resident set size);
#   2. the same command again: every shard is complete, so the rerun only scans, plans and checks checkpoints;
#   3. verify against `cat shards > /dev/null` on the same files, the page cache dropped before each (when
#      /proc/sys/vm/drop_caches is writable; "cacheDropped" says whether it was), alternating, median of ROUNDS.
#      Also `verify --no-sha256` (records, CRCs and indexes without the shards' SHA-256), in the same rounds.
#   4. with BASELINE_DLL set (another build of make-records.dll, e.g. main's): its verify too, in the same rounds,
#      alternating with ours, so before and after come from one run on one machine state.
# Usage: bash tools/benchmarks/make-records-scale.sh [N]. Run under the cpu lock; a benchmark, not a test.
# Knobs: SCRATCH (default /tmp/make-records-scale; deleted afterwards unless KEEP=1), ROUNDS (3), THREADS (all cores),
# ARTIFACTS, BASELINE_DLL, VERIFY_ONLY=1 (reuse the shards a KEEP=1 run left in SCRATCH: steps 3 and 4 only),
# PUBLISH=1 (measure make-records as its tool package ships it: published for linux-x64 with ReadyToRun code, into
# SCRATCH/tool; default: the `dotnet build` output, IL that is JIT-compiled at start-up). "tool" says which.
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000000}
rounds=${ROUNDS:-3}
threads=${THREADS:-$(nproc)}
scratch=${SCRATCH:-/tmp/make-records-scale}
# shellcheck source=scripts/lib/build-tools.sh
source scripts/lib/build-tools.sh
# shellcheck source=tools/benchmarks/lib/one-jpeg.sh
source tools/benchmarks/lib/one-jpeg.sh
locate_tools
[ -f "$make_records_dll" ] || { echo "build make-records first (dotnet build tools/make-records -c Release)" >&2; exit 2; }
verify_only=${VERIFY_ONLY:-0}
if [ "$verify_only" = 1 ]; then
  [ -f "$scratch/records/manifest.json" ] || { echo "VERIFY_ONLY=1 needs the shards of a KEEP=1 run in $scratch" >&2; exit 2; }
else
  [ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$scratch"' EXIT
  rm -rf "$scratch"
  mkdir -p "$scratch/images"
fi
tool="dotnet build"
if [ "${PUBLISH:-0}" = 1 ]; then
  dotnet publish tools/make-records/make-records.csproj -c Release -r linux-x64 --self-contained false -nologo -v quiet -o "$scratch/tool" >&2
  make_records_dll="$scratch/tool/make-records.dll" tool="published (ReadyToRun, as the tool package)"
fi
classes=1000
if [ "$verify_only" != 1 ]; then

# One 64x48 JPEG (a real one: make-records parses its header), made by make-records import-idx from a one-image IDX
# pair, then hard-linked into 1000 class folders (a copy per 60,000 links: the ext4 limit is 65,000).
one_jpeg "$scratch" "$scratch/images/one.jpg"
python3 - "$scratch/images" "$n" "$classes" "$scratch/list.txt" <<'PY'
import os, sys
root, n, classes, listing = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
import shutil
one = os.path.join(root, "one.jpg")
# ext4 allows 65,000 links to one inode: one copy of the JPEG per 60,000 links.
copies = [one] + [shutil.copy(one, os.path.join(root, f"one-{k}.jpg")) for k in range(1, n // 60000 + 1)]
for c in range(classes):
    os.makedirs(os.path.join(root, f"n{c:08d}"), exist_ok=True)
with open(listing, "w") as out:
    for i in range(n):
        c = i % classes
        rel = f"n{c:08d}/n{c:08d}_{i}.JPEG"
        os.link(copies[i // 60000], os.path.join(root, rel))
        out.write(f"{rel} {c}\n")
PY
fi

measure() { # label, command...: prints "seconds peak_kb"
  local out; out=$( { /usr/bin/time -f '%e %M' "$@" >/dev/null; } 2>&1 | tail -1 ); echo "$out"
}
drop() { sync; if echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; then echo true; else echo false; fi; }

first_s=null first_kb=null rerun_s=null rerun_kb=null
if [ "$verify_only" != 1 ]; then
  make=(dotnet "$make_records_dll" --input "$scratch/images" --file-list "$scratch/list.txt" --output "$scratch/records" --threads "$threads" --report "$scratch/report.json")
  read -r first_s first_kb < <(measure "${make[@]}")
  read -r rerun_s rerun_kb < <(measure "${make[@]}")
fi
shard_bytes=$(du -cb "$scratch"/records/*.tfrecord | tail -1 | cut -f1)

cat_s=(); verify_s=(); nosha_s=(); base_s=(); dropped=true
for ((r = 0; r < rounds; r++)); do
  [ "$(drop)" = true ] || dropped=false
  read -r s _ < <(measure bash -c "cat '$scratch'/records/*.tfrecord > /dev/null"); cat_s+=("$s")
  [ "$(drop)" = true ] || dropped=false
  read -r s _ < <(measure dotnet "$make_records_dll" verify "$scratch/records" --threads "$threads"); verify_s+=("$s")
  [ "$(drop)" = true ] || dropped=false
  read -r s _ < <(measure dotnet "$make_records_dll" verify "$scratch/records" --threads "$threads" --no-sha256); nosha_s+=("$s")
  if [ -n "${BASELINE_DLL:-}" ]; then
    [ "$(drop)" = true ] || dropped=false
    read -r s _ < <(measure dotnet "$BASELINE_DLL" verify "$scratch/records" --threads "$threads"); base_s+=("$s")
  fi
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cat_m=$(median "${cat_s[@]}"); verify_m=$(median "${verify_s[@]}")
cat_all=$(IFS=,; echo "${cat_s[*]}"); verify_all=$(IFS=,; echo "${verify_s[*]}")
nosha_m=$(median "${nosha_s[@]}"); nosha_all=$(IFS=,; echo "${nosha_s[*]}")
base_m=null; base_all=""
if [ -n "${BASELINE_DLL:-}" ]; then base_m=$(median "${base_s[@]}"); base_all=$(IFS=,; echo "${base_s[*]}"); fi
json=$(python3 - <<PY
import json
null=None
n=$n; first=$first_s; rerun=$rerun_s; cat=$cat_m; verify=$verify_m; nosha=$nosha_m; base=$base_m
result = {
  "tool": "$tool", "inputs": n, "classes": $classes, "threads": $threads, "shardBytes": $shard_bytes, "rounds": $rounds,
  "make": null if first is None else {"seconds": first, "filesPerSecond": round(n / first), "peakRssMB": round($first_kb / 1024, 1)},
  "rerunAllShardsComplete": null if rerun is None else {"seconds": rerun, "peakRssMB": round($rerun_kb / 1024, 1)},
  "cacheDropped": "$dropped" == "true",
  "catShards": {"secondsMedian": cat, "all": [$cat_all]},
  "verify": {"secondsMedian": verify, "all": [$verify_all], "speedVsCat": round(cat / verify, 3)},
  "verifyNoSha256": {"secondsMedian": nosha, "all": [$nosha_all], "speedVsCat": round(cat / nosha, 3)},
}
if base is not None:
  result["baselineVerify"] = {"dll": "${BASELINE_DLL:-}", "secondsMedian": base, "all": [$base_all],
                              "speedVsCat": round(cat / base, 3), "speedup": round(base / verify, 3)}
print(json.dumps(result, indent=2))
PY
)
echo "$json"
[ -n "${JSON:-}" ] && echo "$json" > "$JSON"
exit 0
