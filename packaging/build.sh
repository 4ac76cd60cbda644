#!/usr/bin/env bash
# Builds gsprov's Linux release artifacts into target/packaging/out/:
#
#   gsprov_<version>-1_amd64.deb        Debian/Ubuntu package (cargo-deb, [package.metadata.deb])
#   gsprov-<version>-x86_64.AppImage    single-file app for any glibc-based x86_64 distribution
#
# Usage: packaging/build.sh [STEP...]      (no step: all of them, in this order)
#   binary    cargo build --release (the one binary: desktop app + headless CLI)
#   assets    shell completions and man pages, printed by the binary itself
#             (`gsprov completions bash|zsh|fish`, `gsprov manpage [SUBCOMMAND]`)
#   deb       the .deb, from the built binary and assets (installs cargo-deb if missing)
#   appimage  the AppImage: an AppDir squashed with mksquashfs behind the AppImage runtime
#
# Environment:
#   CARGO_BUILD_JOBS   parallel rustc jobs (use 2 on a shared machine)
#   APPIMAGE_RUNTIME   a type 2 runtime file to use instead of the pinned one (see below)
#   SOURCE_DATE_EPOCH  timestamps inside the packages (default: the last commit's time)
#
# Needs (Debian packages): dpkg-dev (dpkg-shlibdeps computes the .deb's Depends),
# binutils (strip), squashfs-tools (mksquashfs); python3 reads `cargo metadata`.
#
# The AppImage runtime: appimagetool is not in Debian and downloads its runtime, which this
# build may not do. The crates.io package `appimage` 0.4.0 ships AppImageKit's type 2
# runtime as a file, so packaging/appimage-runtime/ pins that package (checksum in its
# Cargo.lock) and this script takes the file from cargo's cache and checks its sha256.
# That runtime mounts the image with libfuse2; without it, run the AppImage with
# --appimage-extract-and-run. Release builds can pass the current static runtime from
# the AppImage project in APPIMAGE_RUNTIME (packaging/release.yml does).
#
# Windows (.msi/NSIS .exe) and macOS (.app/.dmg) are built on those systems with
# cargo-packager ([package.metadata.packager] in Cargo.toml); packaging/README.md has the
# exact commands and packaging/release.yml runs them.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DEB_VERSION=3.8.0
# sha256 of assets/runtime-x86_64 in the crates.io package appimage 0.4.0.
PINNED_RUNTIME_SHA256=328e0d745c5c6817048c27bc3e8314871703f8f47ffa81a37cb06cd95a94b323

version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "gsprov"))')
target_dir=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/gsprov"
gen=target/packaging/generated # cargo-deb's asset paths in Cargo.toml name this folder
out=target/packaging/out
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"

say() { echo "build.sh: $*"; }
need() {
  command -v "$1" >/dev/null || { echo "build.sh: $1 is missing; install the Debian package $2" >&2; exit 1; }
}

step_binary() {
  say "cargo build --release (gsprov $version)"
  cargo build --release --locked
}

step_assets() {
  [ -x "$bin" ] || { echo "build.sh: $bin is missing; run the binary step first" >&2; exit 1; }
  say "completions and man pages from $bin"
  rm -rf "$gen"
  mkdir -p "$gen"
  "$bin" completions bash >"$gen/gsprov.bash"
  "$bin" completions zsh >"$gen/_gsprov"
  "$bin" completions fish >"$gen/gsprov.fish"
  "$bin" manpage >"$gen/gsprov.1"
  # One page per subcommand that gsprov(1) refers to ("gsprov\-generate(1)" lines).
  sed -n 's/^gsprov\\-\([a-z]*\)(1)$/\1/p' "$gen/gsprov.1" | while read -r sub; do
    "$bin" manpage "$sub" >"$gen/gsprov-$sub.1"
  done
  gzip -9n "$gen"/*.1
}

step_deb() {
  need dpkg-shlibdeps dpkg-dev
  need strip binutils
  [ -f "$gen/gsprov.1.gz" ] || { echo "build.sh: $gen is empty; run the assets step first" >&2; exit 1; }
  if [ "$(cargo deb --version 2>/dev/null || true)" != "cargo-deb $CARGO_DEB_VERSION" ]; then
    say "installing cargo-deb $CARGO_DEB_VERSION"
    cargo install cargo-deb --version "$CARGO_DEB_VERSION" --locked --quiet
  fi
  mkdir -p "$out"
  say "cargo deb"
  cargo deb --no-build --output "$out/gsprov_${version}-1_amd64.deb"
  ls -l "$out/gsprov_${version}-1_amd64.deb"
}

pinned_runtime() {
  local manifest=packaging/appimage-runtime/Cargo.toml dir
  cargo fetch --locked --quiet --manifest-path "$manifest"
  dir=$(cargo metadata --locked --offline --format-version 1 --manifest-path "$manifest" |
    python3 -c 'import json, os, sys; print(next(os.path.dirname(p["manifest_path"]) for p in json.load(sys.stdin)["packages"] if p["name"] == "appimage"))')
  echo "$dir/assets/runtime-x86_64"
}

step_appimage() {
  need mksquashfs squashfs-tools
  need strip binutils
  [ -x "$bin" ] || { echo "build.sh: $bin is missing; run the binary step first" >&2; exit 1; }
  local runtime="${APPIMAGE_RUNTIME:-}"
  if [ -z "$runtime" ]; then
    runtime=$(pinned_runtime)
    echo "$PINNED_RUNTIME_SHA256  $runtime" | sha256sum --check --quiet ||
      { echo "build.sh: $runtime is not the pinned AppImage runtime" >&2; exit 1; }
  fi
  say "AppImage with runtime $runtime"

  local appdir=target/packaging/AppDir image="$out/gsprov-${version}-x86_64.AppImage" size
  rm -rf "$appdir"
  install -D -m 755 "$bin" "$appdir/usr/bin/gsprov"
  strip "$appdir/usr/bin/gsprov"
  install -D -m 644 packaging/gsprov.desktop "$appdir/usr/share/applications/gsprov.desktop"
  install -D -m 644 assets/icon.svg "$appdir/usr/share/icons/hicolor/scalable/apps/gsprov.svg"
  for size in 16 32 48 64 128 256 512; do
    install -D -m 644 "assets/icons/gsprov-$size.png" "$appdir/usr/share/icons/hicolor/${size}x${size}/apps/gsprov.png"
  done
  # The AppImage spec's top level: AppRun, one desktop file, its icon, .DirIcon.
  ln -s usr/bin/gsprov "$appdir/AppRun"
  ln -s usr/share/applications/gsprov.desktop "$appdir/gsprov.desktop"
  install -m 644 assets/icons/gsprov-256.png "$appdir/gsprov.png"
  ln -s gsprov.png "$appdir/.DirIcon"

  mkdir -p "$out"
  rm -f "$appdir.squashfs"
  mksquashfs "$appdir" "$appdir.squashfs" -comp gzip -all-root -no-xattrs -noappend -quiet >/dev/null
  cat "$runtime" "$appdir.squashfs" >"$image"
  chmod 755 "$image"
  size=$(stat -c %s "$runtime")
  # appimagetool's check: the image starts right after the runtime's ELF data.
  [ "$("$image" --appimage-offset 2>/dev/null || echo "$size")" = "$size" ] ||
    { echo "build.sh: $image reports a wrong squashfs offset" >&2; exit 1; }
  ls -l "$image"
}

steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=(binary assets deb appimage)
for s in "${steps[@]}"; do
  case "$s" in
    binary | assets | deb | appimage) "step_$s" ;;
    *) echo "build.sh: unknown step '$s' (binary, assets, deb, appimage)" >&2; exit 2 ;;
  esac
done
