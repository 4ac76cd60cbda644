#!/usr/bin/env bash
# Cross-builds gsprov for 64-bit Windows on Debian 12 (bookworm), with Debian packages only:
#
#   exe        gsprov.exe (x86_64-pc-windows-gnu, stripped), into target/packaging/out/windows/
#              (another profile than release: target/packaging/out/windows-<profile>/)
#   installer  the NSIS installer gsprov-<version>-x64-setup.exe beside it (packaging/windows/gsprov.nsi)
#
# Usage: packaging/windows/build.sh [STEP...]   (no step: exe installer)
#
# Rustup's toolchain cannot fetch another target's standard library here, so this uses
# Debian's own newer compiler: rustc-web/cargo-web (Rust 1.96, newer than rust-version),
# rust-web-src (the standard library's source with its dependencies) and cargo's
# -Zbuild-std, which compiles std for the target from that source. RUSTC_BOOTSTRAP=1 lets a
# stable compiler take -Z flags; it changes nothing else. mingw-w64's gcc links the exe and
# compiles the C parts (ring, mimalloc). Everything goes to target/windows (its own target
# dir: a different compiler than the Linux builds, so they never invalidate each other).
#
# Environment:
#   GSPROV_WINDOWS_PROFILE  cargo profile of the exe (default release: what is shipped;
#                           .ci/run's tests use windows-test, see Cargo.toml)
#   CARGO_BUILD_JOBS        parallel rustc jobs
set -euo pipefail
cd "$(dirname "$0")/../.."
. scripts/lib.sh
who=windows/build.sh

profile="${GSPROV_WINDOWS_PROFILE:-release}"
target=x86_64-pc-windows-gnu
# The shipped (release) build in out/windows; any other profile in its own folder beside it.
out=target/packaging/out/windows
[ "$profile" = release ] || out="$out-$profile"
steps=("$@")
[ "${#steps[@]}" -gt 0 ] || steps=(exe installer)

# rustc-web/cargo-web: Rust 1.96 as /usr/bin/rustc, /usr/bin/cargo (rustup's ~/.cargo/bin is
# not touched); rust-web-src: std's source for -Zbuild-std; gcc-mingw-w64-x86-64: the linker
# and C compiler for Windows; nsis: makensis, the installer compiler.
packages=(rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64)
for s in "${steps[@]}"; do [ "$s" = installer ] && packages+=(nsis); done
gsprov_apt "$who" "${packages[@]}"

# rustc-web must be at least rust-version. Bookworm's own archive has 1.85; bookworm-security
# ships the newer one (1.96.0+dfsg1-1~deb12u2 when this was written), so a machine whose apt
# knows the security archive (an installed Debian does) gets it; a root made by debootstrap
# knows only bookworm main. An older one already installed is upgraded first.
rustc_web_ok() {
  local have want
  have=$(/usr/bin/rustc --version 2>/dev/null | cut -d' ' -f2)
  want=$(gsprov_rust_version)
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]
}
if ! rustc_web_ok; then
  echo "$who: Debian's rustc-web is $(/usr/bin/rustc --version | cut -d' ' -f2), the build needs Rust $(gsprov_rust_version): apt-get install --only-upgrade rustc-web cargo-web rust-web-src"
  gsprov_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  gsprov_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --only-upgrade --no-install-recommends \
    rustc-web cargo-web rust-web-src | grep -E '^[0-9]+ upgraded' || true
  rustc_web_ok || {
    echo "$who: still rustc-web $(/usr/bin/rustc --version | cut -d' ' -f2): the newer one comes from the security archive; add" >&2
    echo "$who: 'deb http://deb.debian.org/debian-security bookworm-security main' to apt's sources (a debootstrap root has only bookworm main) and run this again" >&2
    exit 1
  }
fi

version=$(sed -n 's/^version *= *"\(.*\)"/\1/p' Cargo.toml | head -1)
case "$profile" in release) dir=release ;; dev) dir=debug ;; *) dir=$profile ;; esac
exe="target/windows/$target/$dir/gsprov.exe"
mkdir -p "$out"

step_exe() {
  say_start=$SECONDS
  echo "$who: cargo build --profile $profile --target $target (Debian's $(/usr/bin/rustc --version | cut -d' ' -f1-2), std built from source; first time about 10 min on 2 cores)"
  RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=x86_64-w64-mingw32-gcc \
    CARGO_TARGET_DIR=target/windows \
    /usr/bin/cargo build --locked --profile "$profile" -Zbuild-std=std,panic_abort --target "$target" --bin gsprov
  # Shipped without the symbol table (mingw's strip; the release profile has no debug info).
  x86_64-w64-mingw32-strip -o "$out/gsprov.exe" "$exe"
  echo "$who: $out/gsprov.exe ($(du -h "$out/gsprov.exe" | cut -f1), $((SECONDS - say_start)) s)"
}

step_installer() {
  [ -f "$out/gsprov.exe" ] || { echo "$who: $out/gsprov.exe is missing; run the exe step first" >&2; exit 1; }
  echo "$who: makensis packaging/windows/gsprov.nsi"
  # A test build is large (no optimisation): zlib packs it in seconds where LZMA takes minutes.
  local fast=()
  [ "$profile" = release ] || fast=(-DCOMPRESSOR=zlib)
  makensis -V2 -NOCD "${fast[@]}" -DVERSION="$version" -DEXE="$out/gsprov.exe" -DOUTFILE="$out/gsprov-$version-x64-setup.exe" \
    packaging/windows/gsprov.nsi
  echo "$who: $out/gsprov-$version-x64-setup.exe ($(du -h "$out/gsprov-$version-x64-setup.exe" | cut -f1))"
}

for s in "${steps[@]}"; do
  case "$s" in
    exe) step_exe ;;
    installer) step_installer ;;
    *) echo "$who: unknown step $s (exe, installer)" >&2; exit 2 ;;
  esac
done
