#!/usr/bin/env bash
# Installs what the build needs on a fresh Debian/Ubuntu machine: a C compiler and the libjpeg-turbo headers
# (the CPU decoder's shim is compiled by the build), the TurboJPEG runtime (the augment benchmark's baseline), and
# checks for the .NET SDK; Open MPI (mpirun, libmpi, mpicc) for the distributed trainer and its mpirun tests, and MPICH
# (mpiexec.mpich, libmpich) for the tests of the other MPI ABI. Idempotent and quiet when everything is already there. Run by scripts/demo.sh and
# scripts/test.sh.
set -euo pipefail

# The linker cache, listed once. Not `ldconfig -p | grep -q`: under pipefail, grep -q leaving at the first match kills
# ldconfig with SIGPIPE once the listing outgrows the pipe (82 KB on the CI machine), and a library that is there was
# counted missing: every run then called apt-get, which fails without root or network.
libraries=$(ldconfig -p 2>/dev/null || true)
has_library() { grep -q "$1" <<<"$libraries"; }

missing_compiler=0; missing_headers=0; missing_turbojpeg=0; missing_mpi=0; missing_mpich=0
command -v cc >/dev/null 2>&1 || missing_compiler=1
[ -f /usr/include/jpeglib.h ] || missing_headers=1
has_library 'libturbojpeg\.so\.0' || missing_turbojpeg=1
{ command -v mpirun >/dev/null 2>&1 && command -v mpicc >/dev/null 2>&1 && has_library 'libmpi\.so\.40'; } || missing_mpi=1
# MPICH beside Open MPI: the tests run the other MPI ABI under its own launcher (Open MPI stays the default mpirun).
{ command -v mpiexec.mpich >/dev/null 2>&1 && has_library 'libmpich\.so\.12'; } || missing_mpich=1

if [ $((missing_compiler + missing_headers + missing_turbojpeg + missing_mpi + missing_mpich)) -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  # Update first: on a fresh machine the package lists are empty, and the names below differ between Debian and Ubuntu.
  $SUDO apt-get update -qq
  pick() { for name in "$@"; do apt-cache show "$name" >/dev/null 2>&1 && { echo "$name"; return; }; done; echo "$1"; }
  need=()
  [ $missing_compiler -eq 1 ] && need+=(gcc libc6-dev)
  [ $missing_headers -eq 1 ] && need+=("$(pick libjpeg62-turbo-dev libjpeg-turbo8-dev)")
  [ $missing_turbojpeg -eq 1 ] && need+=("$(pick libturbojpeg0 libturbojpeg)")
  [ $missing_mpi -eq 1 ] && need+=(openmpi-bin libopenmpi-dev)
  [ $missing_mpich -eq 1 ] && need+=(mpich)
  echo "setup: installing ${need[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if ! command -v dotnet >/dev/null 2>&1; then
  echo "setup: the .NET 10 SDK is required (dotnet not found on PATH)" >&2
  exit 1
fi
