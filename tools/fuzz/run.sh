#!/usr/bin/env bash
# Fuzzes the Records parsers and the per-sample decode with AFL++ and SharpFuzz (the JPEG shim's own target, with
# libFuzzer and the sanitizers, is native/run.sh).
#
#   tools/fuzz/run.sh [TARGET|all] [SECONDS] [OUT]
#
# TARGET: framing, example, index, manifest, jpeg, sample, or all (one after another; default all). SECONDS per target
# (default 60). OUT (default artifacts/fuzz): OUT/TARGET/default/ is AFL's output (queue = corpus, crashes, hangs,
# fuzzer_stats), OUT/TARGET/findings.txt the crashes and hangs replayed without AFL, OUT/summary.tsv one line per run.
# Exits 1 when any target saved a crash or a hang.
#
# Installs what it needs: Debian's afl++ (apt-get update first) and the sharpfuzz dotnet tool (under OUT/.tools).
# Builds tools/fuzz twice into OUT/.build: plain (replay) and instrumented by sharpfuzz (Loader.Records,
# Loader.Augment, Google.Protobuf, K4os.Compression.LZ4; System.Text.Json is the framework's and the JPEG shim native,
# neither instrumented: a native crash is still a crash). Seeds: records made with tools/make-records from a few real
# images (FUZZ_IMAGES, default ../shared/data/imagenet-sample; the small ones also with restart intervals), cut
# into single framed records, Example payloads, indexes, manifest.json and JPEG headers by `records-fuzz seeds`,
# plus every committed input of tests/Records.Tests/Fuzzing/corpus (earlier findings included).
#
# Environment: FUZZ_NICE (nice level of afl-fuzz, default 0), CPU_LOCK (a flock file to hold while building),
# FUZZ_HEAP_LIMIT (the harness's GC heap hard limit, default 512 MiB: an allocation past it is a crash),
# FUZZ_TIMEOUT_MS (an execution slower than this is a hang, default 2000).
# Several TARGETs may run at once into the same OUT (the set-up step is serialized).
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
target=${1:-all}
seconds=${2:-60}
out=$(mkdir -p "${3:-$repo/artifacts/fuzz}" && cd "${3:-$repo/artifacts/fuzz}" && pwd)
images=${FUZZ_IMAGES:-$repo/../shared/data/imagenet-sample}
targets=(framing example index manifest jpeg sample)
if [ "$target" = all ]; then selected=("${targets[@]}"); else selected=("$target"); fi
for t in "${selected[@]}"; do
  case " ${targets[*]} " in *" $t "*) ;; *) echo "run.sh: unknown target '$t' (${targets[*]} or all)" >&2; exit 2 ;; esac
done
# The framing harness writes each input to a temporary file: keep that in memory where there is /dev/shm.
[ -z "${TMPDIR:-}" ] && [ -d /dev/shm ] && [ -w /dev/shm ] && export TMPDIR=/dev/shm
locked() { if [ -n "${CPU_LOCK:-}" ]; then flock "$CPU_LOCK" "$@"; else "$@"; fi; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

setup() {
  if ! command -v afl-fuzz >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends afl++ >/dev/null
  fi
  if [ ! -x "$out/.tools/sharpfuzz" ]; then
    dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$out/.tools" >/dev/null
  fi
  # The stamps name the targets they were made for: an OUT from a build with fewer targets is rebuilt and reseeded.
  if [ "$(cat "$out/.build/stamp" 2>/dev/null)" != "${targets[*]}" ]; then
    rm -rf "$out/.build"
    locked dotnet publish "$repo/tools/fuzz" -c Release -o "$out/.build/plain" -nologo -v quiet -clp:NoSummary
    locked dotnet build "$repo/tools/make-records" -c Release -o "$out/.build/make-records" -nologo -v quiet -clp:NoSummary
    cp -r "$out/.build/plain" "$out/.build/afl"
    for dll in Loader.Records.dll Loader.Augment.dll Google.Protobuf.dll K4os.Compression.LZ4.dll; do
      "$out/.tools/sharpfuzz" "$out/.build/afl/$dll"
    done
    echo "${targets[*]}" >"$out/.build/stamp"
  fi
  if [ "$(cat "$out/seeds/stamp" 2>/dev/null)" != "${targets[*]}" ]; then
    rm -rf "$out/seeds" "$out/.records"
    mkdir -p "$out/.records/small" "$out/.records/full"
    # Six images downscaled to 32 px (records of about 1 KB, two shards), and the two smallest images as they are.
    find "$images" -maxdepth 1 -type f -iname '*.jp*g' | sort | sed -n 1,6p | xargs -d '\n' cp -t "$out/.records/small"
    find "$images" -maxdepth 1 -type f -iname '*.jp*g' -printf '%s %p\n' | sort -n | sed -n 1,2p | cut -d' ' -f2- \
      | xargs -d '\n' cp -t "$out/.records/full"
    chmod -R u+w "$out/.records"
    local mr="$out/.build/make-records/make-records.dll" fz="$out/.build/plain/records-fuzz.dll"
    dotnet "$mr" --input "$out/.records/small" --output "$out/.records/small-records" --max-side 32 --shards 2 --threads 1 >/dev/null
    dotnet "$mr" --input "$out/.records/full" --output "$out/.records/full-records" --shards 1 --threads 1 >/dev/null
    # The same six at 64 px with a restart marker every MCU: the sample target's spliced path.
    dotnet "$mr" --input "$out/.records/small" --output "$out/.records/restart-records" --max-side 64 --shards 2 \
      --restart-interval 1 --threads 1 >/dev/null
    dotnet "$fz" seeds "$out/.records/small-records" "$out/seeds"
    dotnet "$fz" seeds "$out/.records/full-records" "$out/seeds"
    dotnet "$fz" seeds "$out/.records/restart-records" "$out/seeds"
    for t in "${targets[@]}"; do
      [ -d "$repo/tests/Records.Tests/Fuzzing/corpus/$t" ] && cp "$repo/tests/Records.Tests/Fuzzing/corpus/$t"/* "$out/seeds/$t/"
    done
    echo "${targets[*]}" >"$out/seeds/stamp"
  fi
}
mkdir -p "$out"
( flock 9; setup ) 9>"$out/.setup.lock"

stat_of() { awk -v k="$1" '$1 == k { print $3 }' "$2"; }
failed=0
[ -f "$out/summary.tsv" ] || printf 'target\tseconds\texecs_per_sec\texecs_done\tcorpus_count\tsaved_crashes\tsaved_hangs\n' >"$out/summary.tsv"
for t in "${selected[@]}"; do
  mkdir -p "$out/$t"
  echo "run.sh: fuzzing $t for $seconds s into $out/$t" >&2
  # AFL_SKIP_BIN_CHECK: the target is dotnet, instrumented through SharpFuzz rather than afl-gcc. The heap limit
  # turns an allocation bomb into an OutOfMemoryException, which AFL saves as a crash.
  AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_AUTORESUME=1 \
  AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CRASHES=1 DOTNET_GCHeapHardLimit=$(printf '0x%x' "${FUZZ_HEAP_LIMIT:-536870912}") \
    nice -n "${FUZZ_NICE:-0}" afl-fuzz -i "$out/seeds/$t" -o "$out/$t" -t "${FUZZ_TIMEOUT_MS:-2000}" -m none \
      -x "$repo/tools/fuzz/dictionaries/$t.dict" -V "$seconds" -- dotnet "$out/.build/afl/records-fuzz.dll" "$t" >"$out/$t/afl.log" 2>&1 \
    || { echo "run.sh: afl-fuzz failed for $t (see $out/$t/afl.log)" >&2; tail -5 "$out/$t/afl.log" >&2; failed=1; continue; }
  stats="$out/$t/default/fuzzer_stats"
  crashes=$(stat_of saved_crashes "$stats"); hangs=$(stat_of saved_hangs "$stats")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$t" "$(stat_of run_time "$stats")" "$(stat_of execs_per_sec "$stats")" \
    "$(stat_of execs_done "$stats")" "$(stat_of corpus_count "$stats")" "$crashes" "$hangs" | tee -a "$out/summary.tsv"
  if [ "$crashes" != 0 ] || [ "$hangs" != 0 ]; then
    failed=1
    dotnet "$out/.build/plain/records-fuzz.dll" replay "$t" "$out/$t/default/crashes" "$out/$t/default/hangs" \
      >"$out/$t/findings.txt" 2>/dev/null || true
    echo "run.sh: $t: $crashes crashes, $hangs hangs; replayed in $out/$t/findings.txt" >&2
  fi
done
exit "$failed"
