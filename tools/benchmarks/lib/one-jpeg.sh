# shellcheck shell=bash
# one_jpeg WORK DEST: writes one real 64x48 JPEG (make-records parses its header) to DEST, made by make-records
# import-idx from a one-image IDX pair in WORK. Sourced by the make-records scale benchmarks; needs $make_records_dll
# (scripts/lib/build-tools.sh, locate_tools).
one_jpeg() {
  local work=$1 dest=$2
  python3 - "$work" <<'PY'
import struct, sys
root = sys.argv[1]
pixels = bytes((x * 4 + y * 3) % 256 for y in range(48) for x in range(64))
open(f"{root}/img.idx", "wb").write(struct.pack(">iiii", 0x803, 1, 48, 64) + pixels)
open(f"{root}/lbl.idx", "wb").write(struct.pack(">ii", 0x801, 1) + bytes([0]))
PY
  dotnet "$make_records_dll" import-idx --images "$work/img.idx" --labels "$work/lbl.idx" --out "$work/idx" >/dev/null
  cp "$(find "$work/idx" -name '*.jpg' | head -1)" "$dest"
}
