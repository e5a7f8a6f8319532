# shellcheck shell=bash
# Builds make-records and the trainer and defines `make_records` and `trainer`, which run them. Sourced, from the
# repository root, by scripts/demo.sh and tools/benchmarks/fashion-mnist.sh:
#   source scripts/lib/build-tools.sh && build_tools
# ARTIFACTS (environment): a dotnet --artifacts-path for the build; default: the projects' bin/.

# Sets make_records_dll and trainer_dll to where the build puts them (nothing is built or checked).
locate_tools() {
  if [ -n "${ARTIFACTS:-}" ]; then
    make_records_dll="$ARTIFACTS/bin/make-records/release/make-records.dll"
    trainer_dll="$ARTIFACTS/bin/Trainer/release/trainer.dll"
  else
    make_records_dll="tools/make-records/bin/Release/net10.0/make-records.dll"
    trainer_dll="src/Trainer/bin/Release/net10.0/trainer.dll"
  fi
}

build_tools() {
  local art=()
  [ -n "${ARTIFACTS:-}" ] && art=(--artifacts-path "$ARTIFACTS")
  dotnet build tools/make-records/make-records.csproj -c Release -nologo -v quiet "${art[@]}"
  dotnet build src/Trainer/Trainer.csproj -c Release -nologo -v quiet "${art[@]}"
  locate_tools
}

make_records() { dotnet "$make_records_dll" "$@"; }
trainer() { dotnet "$trainer_dll" "$@"; }
