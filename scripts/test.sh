#!/usr/bin/env bash
# The test command: set-up, then every test of the solution (Release). Exits non-zero when any test fails.
# GPU tests skip with the reason where there is no GPU (they run in tools/device/run-on-device.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Loader.sln -c Release -nologo -v quiet
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Loader.sln -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?
# The packaging test (packages -> folder feed -> a consumer outside the solution, tools installed from the feed):
# one test, counted below. It builds only what packing needs beyond the solution build (the linux-x64 tool outputs).
package_passed=0; package_failed=0
if bash scripts/package-test.sh; then package_passed=1; else package_failed=1; status=1; fi
# One closing line over every test project and the packaging test: "N passed, N failed, N skipped".
awk -v pp="$package_passed" -v pf="$package_failed" '/^(Passed|Failed)! +- +Failed:/ {
       gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1) }
     }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p + pp, f + pf, s }' "$log"
exit "$status"
