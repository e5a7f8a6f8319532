#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian/Ubuntu machine: a C compiler and the libjpeg-turbo headers
# (the CPU decoder's shim is compiled by the build), and checks for the .NET SDK. Idempotent and quiet when
# everything is already there. Sourced or run by scripts/demo.sh and scripts/test.sh.
set -euo pipefail

need=()
command -v cc >/dev/null 2>&1 || need+=(gcc libc6-dev)
if [ ! -f /usr/include/jpeglib.h ]; then
  if apt-cache show libjpeg62-turbo-dev >/dev/null 2>&1; then need+=(libjpeg62-turbo-dev); else need+=(libjpeg-turbo8-dev); fi
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi
