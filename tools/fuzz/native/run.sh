#!/usr/bin/env bash
# Fuzzes the JPEG shim (src/Augment/Native/jpeg_shim.c) with clang's libFuzzer, AddressSanitizer and UBSan.
#
#   tools/fuzz/native/run.sh [SECONDS] [OUT]
#
# SECONDS (default 60, at least 1) of fuzzing; OUT (default artifacts/fuzz-native): OUT/corpus (the corpus libFuzzer
# grows, kept from run to run), OUT/findings (this run's crashes, leaks, timeouts and differential findings, one file
# each; cleared at the start, so copy what you keep), OUT/fuzz.log, OUT/summary.tsv (one line per run). Exits 1 when
# the run saved a finding; each is replayed into OUT/findings.txt.
#
# What the target checks: jpeg_shim_fuzz.c (memory errors, undefined behaviour, leaks, return codes, the fast entropy
# decoder against libjpeg's own on the same bytes, regions against full-width decodes). Seeds: the Augment test
# fixtures (every sampling, progressive, arithmetic, CMYK, odd sizes, 1x1) transcoded with restart intervals of 1, 2, 4
# and 8 MCUs, plus the committed corpus of tests/Augment.Tests/Fuzzing/corpus/shim (earlier findings included).
#
# Which libjpeg-turbo (FUZZ_LIBJPEG):
#   system (default)  the machine's, not instrumented: the coverage that guides the fuzzer is the shim's alone, and
#                     memory errors inside libjpeg show only if they crash.
#   source            Debian 12's libjpeg-turbo 2.1.5 (the version the loader runs on; the upstream source Debian
#                     packages, fetched from deb.debian.org and checked against its SHA-256; Debian's four patches are
#                     packaging and SIMD start-up, and SIMD is off here), built static with the same sanitizers and
#                     libFuzzer's coverage, under OUT/libjpeg-turbo (kept between runs): libjpeg's own code is checked
#                     and guides the fuzzer too.
# FUZZ_SANITIZER: address (default: AddressSanitizer + UBSan) or memory (MemorySanitizer, uninitialized reads, with
# origins; needs FUZZ_LIBJPEG=source, since every byte libjpeg writes must be instrumented).
#
# Installs what it needs: clang and its sanitizer runtime (Debian libclang-rt-N-dev; apt-get update first), the
# libjpeg-turbo headers, and for FUZZ_LIBJPEG=source curl and cmake. Environment: FUZZ_NICE (nice level, default 0),
# FUZZ_TIMEOUT_S (an input slower than this is a finding, default 10). One fuzzing process.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../../.." && pwd)
seconds=${1:-60}
case "$seconds" in '' | *[!0-9]* | 0) echo "run.sh: SECONDS must be a whole number above 0, not '$seconds'" >&2; exit 2 ;; esac
out=$(mkdir -p "${2:-$repo/artifacts/fuzz-native}" && cd "${2:-$repo/artifacts/fuzz-native}" && pwd)
here="$repo/tools/fuzz/native"
shim="$repo/src/Augment/Native/jpeg_shim.c"
corpus="$repo/tests/Augment.Tests/Fuzzing/corpus/shim"

install() {
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
command -v clang >/dev/null 2>&1 || install clang
printf '#include <stdio.h>\n#include <jpeglib.h>\n' | clang -E - >/dev/null 2>&1 || install libjpeg-dev
probe="$out/.probe.c"
echo 'int LLVMFuzzerTestOneInput(const unsigned char* d, unsigned long n) { (void)d; (void)n; return 0; }' >"$probe"
if ! clang -fsanitize=fuzzer,address,undefined "$probe" -o "$out/.probe" >/dev/null 2>&1; then
  major=$(clang -dumpversion | cut -d. -f1)
  install "libclang-rt-$major-dev"
fi

sanitizer=${FUZZ_SANITIZER:-address}
libjpeg=${FUZZ_LIBJPEG:-system}
case "$sanitizer" in
  address) flags=(-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined) ;;
  memory) flags=(-g -O1 -fsanitize=memory -fsanitize-memory-track-origins) ;;
  *) echo "run.sh: FUZZ_SANITIZER must be address or memory, not '$sanitizer'" >&2; exit 2 ;;
esac
case "$libjpeg" in
  system) [ "$sanitizer" = address ] || { echo "run.sh: FUZZ_SANITIZER=memory needs FUZZ_LIBJPEG=source" >&2; exit 2; }
    link=(-ljpeg) ;;
  source)
    command -v curl >/dev/null 2>&1 || install curl
    command -v cmake >/dev/null 2>&1 || install cmake
    version=2.1.5
    sha256=254f3642b04e309fee775123133c6464181addc150499561020312ec61c1bf7c
    tarball="$out/libjpeg-turbo/libjpeg-turbo_$version.orig.tar.gz"
    source_dir="$out/libjpeg-turbo/libjpeg-turbo-$version"
    build="$out/libjpeg-turbo/build-$sanitizer"
    mkdir -p "$out/libjpeg-turbo"
    if ! echo "$sha256  $tarball" | sha256sum -c --status 2>/dev/null; then
      curl -sSfL -o "$tarball" "http://deb.debian.org/debian/pool/main/libj/libjpeg-turbo/libjpeg-turbo_$version.orig.tar.gz"
      echo "$sha256  $tarball" | sha256sum -c --status || { echo "run.sh: $tarball: SHA-256 is not $sha256" >&2; exit 1; }
      rm -rf "$source_dir" "$out"/libjpeg-turbo/build-*
    fi
    [ -d "$source_dir" ] || tar -xzf "$tarball" -C "$out/libjpeg-turbo"
    if [ ! -f "$build/libjpeg.a" ]; then
      echo "run.sh: building libjpeg-turbo $version with -fsanitize=$sanitizer into $build" >&2
      cmake -S "$source_dir" -B "$build" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=None \
        -DCMAKE_C_FLAGS="${flags[*]} -fsanitize=fuzzer-no-link" -DENABLE_SHARED=0 -DWITH_SIMD=0 -DWITH_TURBOJPEG=0 \
        >"$out/libjpeg-turbo/cmake-$sanitizer.log" 2>&1
      make -C "$build" -j"$(nproc)" jpeg-static >"$out/libjpeg-turbo/make-$sanitizer.log" 2>&1
    fi
    flags+=(-I"$source_dir" -I"$build")
    link=("$build/libjpeg.a") ;;
  *) echo "run.sh: FUZZ_LIBJPEG must be system or source, not '$libjpeg'" >&2; exit 2 ;;
esac
clang "${flags[@]}" -fsanitize=fuzzer "$here/jpeg_shim_fuzz.c" "$shim" "${link[@]}" -o "$out/jpeg_shim_fuzz"
clang "${flags[@]}" -DLJ_FUZZ_REPLAY "$here/jpeg_shim_fuzz.c" "$shim" "${link[@]}" -o "$out/jpeg_shim_replay"

# Seeds are written afresh each run (the fixtures and the committed corpus may have changed since the last one).
rm -rf "$out/seeds" "$out/findings" "$out/findings.txt"
mkdir -p "$out/corpus" "$out/seeds" "$out/findings"
"$out/jpeg_shim_replay" --seeds "$out/seeds" "$repo"/tests/Augment.Tests/Fixtures/images/*
if [ -d "$corpus" ]; then find "$corpus" -maxdepth 1 -type f -exec cp -t "$out/seeds/" {} +; fi

echo "run.sh: fuzzing the JPEG shim for $seconds s into $out (libjpeg-turbo: $libjpeg, sanitizer: $sanitizer)" >&2
status=0
timeout_s=${FUZZ_TIMEOUT_S:-10}
nice -n "${FUZZ_NICE:-0}" "$out/jpeg_shim_fuzz" -max_len=65536 -timeout="$timeout_s" -report_slow_units="$timeout_s" -rss_limit_mb=2048 \
  -max_total_time="$seconds" -print_final_stats=1 \
  -artifact_prefix="$out/findings/" "$out/corpus" "$out/seeds" >"$out/fuzz.log" 2>&1 || status=$?

stat() { awk -v k="stat::$1:" '$1 == k { print $2 }' "$out/fuzz.log" | tail -1; }
findings=$(find "$out/findings" -type f | wc -l)
[ -f "$out/summary.tsv" ] || printf 'seconds\texecutions\texecs_per_sec\tcorpus_files\tfindings\n' >"$out/summary.tsv"
executions=$(stat number_of_executed_units); rate=$(stat average_exec_per_sec)
printf '%s\t%s\t%s\t%s\t%s\n' "$seconds" "${executions:-0}" "${rate:-0}" \
  "$(find "$out/corpus" -type f | wc -l)" "$findings" | tee -a "$out/summary.tsv"
if [ "$findings" -ne 0 ]; then
  for f in "$out"/findings/*; do
    echo "== $f" >>"$out/findings.txt"
    timeout 60 "$out/jpeg_shim_replay" "$f" >>"$out/findings.txt" 2>&1 || true
  done
  echo "run.sh: $findings findings; replayed in $out/findings.txt" >&2
  exit 1
fi
if [ "$status" -ne 0 ]; then
  echo "run.sh: libFuzzer exited with $status and saved nothing (see $out/fuzz.log)" >&2
  exit 1
fi
