#!/usr/bin/env bash
# The test command: set-up, then every test of the solution (Release). Exits non-zero when any test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet build Loader.sln -c Release -nologo -v quiet
dotnet test Loader.sln -c Release --no-build -nologo
