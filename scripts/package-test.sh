#!/usr/bin/env bash
# The packaging test (issue 14): packs the libraries and the make-records and loader-bench tools into a folder feed,
# then, as a user would, outside the solution, with its own empty NuGet packages folder and no C compiler on PATH:
#   - builds a fresh console project that references Loader.Pipeline from the feed (dependencies from nuget.org),
#   - installs the tools from the feed, runs `make-records --help`, draws a tiny demo set and converts it,
#   - runs the console project on those records: it opens the set and reads one batch through DataLoader.Create,
#     and the libloader_jpeg.so it loaded must be the package's (runtimes/linux-x64/native in its output).
# The trainer tool is not packed here: its package holds libtorch (hundreds of MB); see the README ("Packages").
# Run by scripts/test.sh after the Release build of the solution; packing builds only what that build lacks (the
# tools' linux-x64 outputs). Alone: bash scripts/package-test.sh (needs what scripts/setup.sh installs, for packing).
# Prints "package-test: passed" last and exits 0, or says which step failed and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
start=$SECONDS

work=$(mktemp -d "${TMPDIR:-/tmp}/package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
feed=$work/feed
log=$work/step.log
failed() { echo "package-test: FAILED: $1" >&2; tail -n 40 "$log" >&2 || true; exit 1; }
run() { local what=$1; shift; "$@" >"$log" 2>&1 || failed "$what (exit $?): $*"; }

version=$(dotnet msbuild src/Records/Records.csproj -getProperty:Version)
run "pack" dotnet pack packages.slnf -c Release -nologo -v quiet -p:PackageOutputPath="$feed"
for id in Loader.Records Loader.Augment Loader.Augment.Cuda Loader.Pipeline Loader.MakeRecords Loader.MakeRecords.linux-x64 Loader.Bench Loader.Bench.linux-x64; do
  [ -f "$feed/$id.$version.nupkg" ] || failed "pack: $feed/$id.$version.nupkg is missing"
done

# The user's side: nothing of the repository. Empty Directory.Build.props/.targets/Directory.Packages.props stop MSBuild reading any
# above $work; the NuGet packages folder is new, so every package is restored from the feed or the NuGet source;
# source mapping takes Loader.* from the feed only.
for f in Directory.Build.props Directory.Build.targets Directory.Packages.props; do echo "<Project />" >"$work/$f"; done
mkdir "$work/consumer"
cat >"$work/consumer/nuget.config" <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="loader-feed" value="$feed" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="loader-feed"><package pattern="Loader.*" /></packageSource>
    <packageSource key="nuget.org"><package pattern="*" /></packageSource>
  </packageSourceMapping>
</configuration>
XML
export NUGET_PACKAGES=$work/nuget-packages DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet_dir=$(dirname "$(readlink -f "$(command -v dotnet)")")
export DOTNET_ROOT=${DOTNET_ROOT:-$dotnet_dir}
# This machine's PATH without its C compilers: a folder of links to every program on PATH except cc, gcc, clang
# and their kin (dotnet needs a few ordinary programs, chmod for installed tools among them).
nocc=$work/nocc-bin
mkdir -p "$nocc"
IFS=: read -ra path_dirs <<<"$PATH"
for dir in "${path_dirs[@]}"; do
  [ -d "$dir" ] || continue
  for program in "$dir"/*; do
    name=${program##*/}
    [ -x "$program" ] && [ ! -d "$program" ] && [ ! -e "$nocc/$name" ] || continue
    [[ $name =~ ^(cc|c89|c99|c\+\+|cpp|gcc|g\+\+|tcc|clang.*|(.*-)?gcc(-[0-9.]+)?|(.*-)?g\+\+(-[0-9.]+)?|.*-cc|.*-c\+\+)$ ]] && continue
    ln -s "$program" "$nocc/$name"
  done
done
[ -e "$nocc/dotnet" ] || ln -s "$dotnet_dir/dotnet" "$nocc/dotnet"
if PATH=$nocc command -v cc >/dev/null 2>&1 || PATH=$nocc command -v gcc >/dev/null 2>&1; then
  failed "the PATH for the consumer still has a C compiler"
fi

# The tools from the feed alone: a config with no sources, plus --add-source (the packages hold their dependencies).
mkdir "$work/tooling"
printf '<configuration><packageSources><clear /></packageSources></configuration>\n' >"$work/tooling/nuget.config"
cd "$work/tooling"
run "tool install make-records" env PATH="$nocc" dotnet tool install Loader.MakeRecords --version "$version" --tool-path "$work/tools" --add-source "$feed"
run "tool install loader-bench" env PATH="$nocc" dotnet tool install Loader.Bench --version "$version" --tool-path "$work/tools" --add-source "$feed"
cd "$work"
run "make-records --help" env PATH="$nocc" "$work/tools/make-records" --help
grep -q -- '--input' "$log" || failed "make-records --help does not list --input"
run "loader-bench --help" env PATH="$nocc" "$work/tools/loader-bench" --help
run "make-records demo" env PATH="$nocc" "$work/tools/make-records" demo "$work/demo" --classes 2 --per-class 6 --val-per-class 2 --seed 3 --threads 1
run "make-records (conversion)" env PATH="$nocc" "$work/tools/make-records" --input "$work/demo/train" --output "$work/records" --threads 1
run "make-records verify" env PATH="$nocc" "$work/tools/make-records" verify "$work/records" --threads 1

cp "$repo/tests/Packaging/consumer/Program.cs" "$repo/tests/Packaging/consumer/consumer.csproj" "$work/consumer/"
run "consumer build" env PATH="$nocc" dotnet build "$work/consumer" -c Release -nologo -v quiet -p:LOADER_VERSION="$version"
out=$work/consumer/bin/Release/net10.0
[ -f "$out/runtimes/linux-x64/native/libloader_jpeg.so" ] || failed "consumer build: no runtimes/linux-x64/native/libloader_jpeg.so in $out"
grep -q '"runtimes/linux-x64/native/libloader_jpeg.so"' "$out/consumer.deps.json" || failed "consumer build: deps.json does not list the shim"
run "consumer run" env PATH="$nocc" dotnet "$out/consumer.dll" "$work/records"
cat "$log"
grep -q "^records 12, classes 2" "$log" || failed "consumer run: not the 12 records of 2 classes written above"
grep -qx "shim $out/runtimes/linux-x64/native/libloader_jpeg.so" "$log" || failed "consumer run: libloader_jpeg.so was not loaded from the package's runtimes/linux-x64/native"

echo "package-test: passed ($((SECONDS - start)) s; packages: $(cd "$feed" && du -k -- *.nupkg | awk '{printf "%s%s %d KB", sep, $2, $1; sep=", "}'))"
