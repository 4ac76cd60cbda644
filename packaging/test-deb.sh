#!/usr/bin/env bash
# Installs the .deb into a clean Debian root and checks it there, the way a user's
# `apt install ./gsprov_*.deb` would meet it:
#   - apt resolves the declared Depends, without Recommends, so the root holds only what
#     the package declares (proves the Depends are enough and the GUI libraries are not
#     needed for headless work);
#   - `gsprov --version`, `gsprov new --demo` and `gsprov generate` run there;
#   - postinst gave /usr/bin/gsprov cap_net_bind_service (getcap);
#   - completions, man pages, desktop file and icons are where the desktop finds them,
#     and every Recommends/Suggests name exists in the archive;
#   - the package removes cleanly.
#
# The root is a `debootstrap --variant=minbase` of this machine's release (Debian, or Ubuntu
# on GitHub's runners) from the mirror in /etc/apt/sources.list*, kept in
# target/packaging/chroot/base-<codename> (rebuilt when missing; delete it to refresh) and
# copied afresh for every run. Needs root (chroot,
# debootstrap). Usage: packaging/test-deb.sh   (builds the .deb first via build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] || { echo "test-deb.sh: needs root (debootstrap, chroot)" >&2; exit 1; }
command -v debootstrap >/dev/null || { echo "test-deb.sh: debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }

say() { echo "test-deb.sh: $*"; }
fail() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }

# shellcheck source=/dev/null
. /etc/os-release
suite="${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}"
# The distribution's own mirror, as apt is configured here: /etc/apt/sources.list.d/<ID>.sources
# (deb822, Debian 12+ and Ubuntu 24.04+) or else the first one-line entry in sources.list.
# GSPROV_DEB_TEST_MIRROR overrides it.
mirror="${GSPROV_DEB_TEST_MIRROR:-}"
if [ -z "$mirror" ] && [ -f "/etc/apt/sources.list.d/$ID.sources" ]; then
  mirror=$(awk '$1 == "URIs:" && $2 !~ /security/ { print $2; exit }' "/etc/apt/sources.list.d/$ID.sources")
fi
if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
  mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list)
fi
# Ubuntu keeps the desktop portals (Suggests) in universe.
components=main
[ "$ID" = ubuntu ] && components=main,universe
[ -n "$mirror" ] || fail "no $ID mirror found in /etc/apt/sources.list* (set GSPROV_DEB_TEST_MIRROR)"

packaging/build.sh binary assets deb
version=$(cargo metadata --no-deps --format-version 1 |
  python3 -c 'import json, sys; print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "gsprov"))')
deb="target/packaging/out/gsprov_${version}-1_amd64.deb"
[ -f "$deb" ] || fail "$deb was not built"

root=target/packaging/chroot
base="$root/base-$suite"
if [ ! -f "$base/.gsprov-base-ok" ]; then
  say "debootstrap --variant=minbase --components=$components $suite from $mirror (once; kept in $base)"
  rm -rf "$base" "$base.tmp"
  mkdir -p "$root"
  debootstrap --variant=minbase --components="$components" "$suite" "$base.tmp" "$mirror" >"$root/debootstrap.log" 2>&1 ||
    { tail -n 20 "$root/debootstrap.log" >&2; fail "debootstrap failed (log: $root/debootstrap.log)"; }
  touch "$base.tmp/.gsprov-base-ok"
  mv "$base.tmp" "$base"
fi

work="$root/work"
cleanup() {
  # apt, dpkg and gsprov need no /proc or /dev mount here, so this script mounts nothing.
  # Should anything be mounted under the root anyway, unmount it before deleting, and
  # never let rm cross into another filesystem.
  local abs
  abs=$(realpath -m "$work")
  awk -v w="$abs/" 'index($2 "/", w) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" || true
  done
  rm -rf --one-file-system "$work"
}
trap cleanup EXIT
rm -rf "$work"
cp -a "$base" "$work"
# apt in the root uses the sources.list debootstrap wrote: the release suite of the mirror
# above, nothing else from this machine (its other sources may need keys the root lacks).
cp /etc/resolv.conf "$work/etc/resolv.conf"
cp "$deb" "$work/tmp/"
in_root() { chroot "$work" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"; }
# No /dev/pts in the root (nothing is mounted): dpkg must not ask for a terminal.
mkdir -p "$work/etc/apt/apt.conf.d"
echo 'Dpkg::Use-Pty "0";' >"$work/etc/apt/apt.conf.d/90gsprov-test"

say "apt-get update in the clean root"
in_root apt-get update -qq >/dev/null
# shellcheck disable=SC2016 # ${Package} is dpkg-query's field, not the shell's
before=$(in_root dpkg-query -W -f '${Package}\n' | sort)

say "apt-get install --no-install-recommends ./$(basename "$deb")"
in_root apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")" >"$root/install.log" 2>&1 ||
  { cat "$root/install.log" >&2; fail "apt-get install failed"; }
grep -i "gsprov:" "$root/install.log" && fail "postinst complained (see above)"
# shellcheck disable=SC2016
after=$(in_root dpkg-query -W -f '${Package}\n' | sort)
added=$(comm -13 <(echo "$before") <(echo "$after") | tr '\n' ' ')
say "installed: $added"

depends=$(dpkg-deb -f "$deb" Depends)
recommends=$(dpkg-deb -f "$deb" Recommends)
suggests=$(dpkg-deb -f "$deb" Suggests)
say "Depends: $depends"
[[ ", $depends," == *", libcap2-bin,"* ]] || fail "Depends lacks libcap2-bin"

# Only the declared dependencies came in: no Recommends (the GUI libraries) at all.
names() { echo "$1" | sed 's/[,|]/\n/g' | sed 's/(.*)//; s/ //g' | grep -v '^$'; }
for p in $(names "$recommends"); do
  echo " $added " | grep -q " $p " && fail "Recommends $p was installed with --no-install-recommends"
done
# A real package, or a virtual one that some package provides.
known() {
  in_root apt-cache show "$1" >/dev/null 2>&1 ||
    in_root apt-cache showpkg "$1" | sed -n '/^Reverse Provides:/,$p' | tail -n +2 | grep -q .
}
for p in $(names "$recommends") $(names "$suggests"); do
  known "$p" || fail "$p (Recommends/Suggests) is not a package in $suite"
done

say "the binary finds every library it links"
in_root ldd /usr/bin/gsprov | tee "$root/ldd.txt" | sed 's/^/    /'
grep -q "not found" "$root/ldd.txt" && fail "a linked library is missing"

say "gsprov --version"
got=$(in_root gsprov --version)
echo "    $got"
[[ "$got" =~ ^gsprov\ ${version//./\\.}\ \([0-9a-f]{7,}\)$|^gsprov\ ${version//./\\.}\ \(unknown\)$ ]] || fail "unexpected version line: $got"

say "gsprov new --demo, then generate, with no GUI library present"
in_root gsprov new /tmp/demo.gsprov.toml --demo
in_root gsprov generate /tmp/demo.gsprov.toml --out /tmp/tftp
[ -f "$work/tmp/tftp/cfg000b82a1b201.xml" ] || fail "generate wrote no cfg000b82a1b201.xml"
say "generated $(find "$work/tmp/tftp" -type f | wc -l) files"
ls "$work/root/.local/share/gsprov/logs/"gsprov.*.log >/dev/null || fail "no log file in /root/.local/share/gsprov/logs"

say "getcap /usr/bin/gsprov"
caps=$(in_root getcap /usr/bin/gsprov)
echo "    $caps"
[[ "$caps" == *cap_net_bind_service* ]] || fail "cap_net_bind_service is not set"

for f in /usr/share/bash-completion/completions/gsprov /usr/share/zsh/vendor-completions/_gsprov \
  /usr/share/fish/vendor_completions.d/gsprov.fish /usr/share/man/man1/gsprov.1.gz \
  /usr/share/man/man1/gsprov-generate.1.gz /usr/share/applications/gsprov.desktop \
  /usr/share/icons/hicolor/256x256/apps/gsprov.png /usr/share/icons/hicolor/scalable/apps/gsprov.svg \
  /usr/share/doc/gsprov/copyright; do
  [ -s "$work$f" ] || fail "$f is missing or empty"
done
in_root bash -c '. /usr/share/bash-completion/completions/gsprov && complete -p gsprov' >/dev/null ||
  fail "the bash completion does not load"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$work/usr/share/applications/gsprov.desktop" || fail "desktop file is invalid"
fi

# The Recommends are what the desktop app needs: install just them, and start it on a
# virtual display. Xvfb runs on this machine and the root reaches it over TCP (it shares
# the network), so nothing is mounted into the root.
if [ "${GSPROV_SKIP_GUI_TEST:-}" = 1 ]; then
  say "skipped the desktop-app start (GSPROV_SKIP_GUI_TEST=1)"
elif ! command -v Xvfb >/dev/null || ! command -v xwininfo >/dev/null; then
  fail "Xvfb and xwininfo are needed for the desktop-app start (apt-get install xvfb x11-utils; or GSPROV_SKIP_GUI_TEST=1)"
else
  say "apt-get install the Recommends only, then start the desktop app on a virtual display"
  # shellcheck disable=SC2046 # one word per package name
  in_root apt-get install -y -qq --no-install-recommends $(names "$recommends") >"$root/recommends.log" 2>&1 ||
    { cat "$root/recommends.log" >&2; fail "the Recommends do not install"; }
  n=90
  while [ -e "/tmp/.X$n-lock" ] || [ -e "/tmp/.X11-unix/X$n" ]; do n=$((n + 1)); done
  # -noreset: Xvfb otherwise regenerates when its last client (the xwininfo probe below)
  # disconnects, and a client connecting during that reset is refused.
  Xvfb ":$n" -listen tcp -ac -noreset -nolisten unix -screen 0 1280x800x24 >"$root/xvfb.log" 2>&1 &
  xvfb=$!
  gui=""
  stop_gui() {
    [ -z "$gui" ] || kill "$gui" 2>/dev/null || true
    kill "$xvfb" 2>/dev/null || true
    wait 2>/dev/null || true
  }
  trap 'stop_gui; cleanup' EXIT
  for _ in $(seq 100); do xwininfo -display "127.0.0.1:$n" -root >/dev/null 2>&1 && break; sleep 0.1; done
  xwininfo -display "127.0.0.1:$n" -root >/dev/null 2>&1 || fail "Xvfb did not start (log: $root/xvfb.log)"
  in_root env DISPLAY="127.0.0.1:$n" gsprov open >"$root/gui.log" 2>&1 &
  gui=$!
  # Wait for the window titled "gsprov" to be mapped: eframe maps it once the first frame is
  # painted, so OpenGL worked too (up to 60 s: software rendering on a loaded machine is slow).
  shown=""
  for _ in $(seq 600); do
    if xwininfo -display "127.0.0.1:$n" -name gsprov 2>/dev/null | grep -q 'Map State: IsViewable'; then shown=1; break; fi
    kill -0 "$gui" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$shown" ]; then
    cat "$root/gui.log" >&2
    fail "the desktop app showed no window with only its Recommends installed"
  fi
  if command -v import >/dev/null; then
    import -display "127.0.0.1:$n" -window root "$root/gui.png" 2>/dev/null && say "screenshot: $root/gui.png"
  fi
  kill -0 "$gui" 2>/dev/null || fail "the desktop app exited after opening its window"
  stop_gui
  gui=""
  say "the desktop app opened its window"
fi

say "apt-get purge gsprov"
in_root apt-get purge -y -qq gsprov >/dev/null
[ ! -e "$work/usr/bin/gsprov" ] || fail "/usr/bin/gsprov is left after purge"

say "ok ($(du -h "$deb" | cut -f1) $deb)"
