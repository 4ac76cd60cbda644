#!/usr/bin/env bash
# Builds the AppImage (packaging/build.sh) and starts it on this machine:
#   - without FUSE (--appimage-extract-and-run), which works anywhere: --version, new, generate;
#   - mounted through FUSE, the normal way, when libfuse2 and /dev/fuse are usable here
#     (otherwise says it skipped that part, and why);
#   - its top level holds what the AppImage spec asks for (AppRun, desktop file, icon).
# Usage: packaging/test-appimage.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "test-appimage.sh: $*"; }
fail() { echo "test-appimage.sh: FAIL: $*" >&2; exit 1; }

packaging/build.sh binary appimage
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "gsprov"))')
image="$PWD/target/packaging/out/gsprov-${version}-x86_64.AppImage"
[ -x "$image" ] || fail "$image was not built"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Extract-and-run unpacks into $TMPDIR; keep that, and the log files, inside $tmp.
export TMPDIR="$tmp" GSPROV_LOG_DIR="$tmp/logs"
want="^gsprov ${version//./\\.} \\(([0-9a-f]{7,}|unknown)\\)$"

say "--appimage-extract-and-run --version"
got=$("$image" --appimage-extract-and-run --version)
echo "    $got"
[[ "$got" =~ $want ]] || fail "unexpected version line: $got"

say "new --demo and generate through the AppImage"
"$image" --appimage-extract-and-run new "$tmp/demo.gsprov.toml" --demo
"$image" --appimage-extract-and-run generate "$tmp/demo.gsprov.toml" --out "$tmp/tftp"
[ -f "$tmp/tftp/cfg000b82a1b201.xml" ] || fail "generate wrote no cfg000b82a1b201.xml"

say "the image's top level"
(cd "$tmp" && "$image" --appimage-extract >/dev/null)
for f in AppRun gsprov.desktop gsprov.png .DirIcon usr/bin/gsprov; do
  [ -e "$tmp/squashfs-root/$f" ] || fail "$f is missing from the image"
done
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$tmp/squashfs-root/gsprov.desktop" || fail "desktop file is invalid"
fi

if [ -e /dev/fuse ] && ldconfig -p | grep -q 'libfuse\.so\.2' && command -v fusermount >/dev/null; then
  say "--version through a FUSE mount"
  if got=$("$image" --version 2>"$tmp/fuse.err"); then
    echo "    $got"
    [[ "$got" =~ $want ]] || fail "unexpected version line: $got"
  else
    # A container may forbid mounting even with /dev/fuse present; that is the machine, not the image.
    say "skipped the FUSE start: the mount failed here ($(head -c 200 "$tmp/fuse.err"))"
  fi
else
  say "skipped the FUSE start: needs /dev/fuse, libfuse2 and fusermount (Debian: fuse, libfuse2)"
fi

say "ok ($(du -h "$image" | cut -f1) $image)"
