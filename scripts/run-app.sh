#!/usr/bin/env bash
# Builds gsprov and opens the desktop app (the demo site the first time); where there is no display, says
# so at once and builds the command-line tool instead (the same binary), with what to try.
# Either way `gsprov` ends up in ~/.cargo/bin (and /usr/local/bin when run as root), where the
# README's later commands call it. Usage: bash scripts/run-app.sh [--no-open]
# Written for Debian 12 (bookworm); `sudo` is used for apt when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
caller_path=$PATH
who=run-app
open=1
[ "${1:-}" = --no-open ] && open=0

display=1
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${WAYLAND_SOCKET:-}" ]; then
  display=0
  open=0
  echo "$who: no display here (neither DISPLAY nor WAYLAND_DISPLAY is set), so the desktop app cannot open."
  echo "$who: building the command-line tool instead; everything the app does also works headless."
  echo "$who: (to see the app, run this from a desktop session, or over ssh -X, or under xvfb-run)"
fi

# What building needs: a C compiler (ring, the TLS crypto, and mimalloc compile C), curl for
# rustup. What the window needs at run time (dlopen, no -dev packages): GL/EGL, X11, Wayland,
# xkbcommon, D-Bus (the file dialogs' portal) and zenity (the dialogs where no portal runs).
packages=(build-essential curl ca-certificates)
if [ "$display" = 1 ]; then
  packages+=(libgl1 libegl1 libx11-6 libx11-xcb1 libxcursor1 libxi6 libxkbcommon0 libxkbcommon-x11-0
    libwayland-client0 libwayland-egl1 libdbus-1-3 zenity)
fi
built=$( [ -x target/release/gsprov ] && echo "an incremental build, seconds to minutes" ||
  echo "the first release build takes about 8 minutes on 2 cores")
echo "$who: steps: Debian packages when missing (${#packages[@]} asked, about a minute), Rust $(gsprov_rust_version) when cargo is missing or older (one to two minutes), then cargo install ($built)"

gsprov_apt "$who" "${packages[@]}"
gsprov_toolchain "$who"

echo "$who: cargo install --locked --path . (builds target/release/gsprov, copies it to ~/.cargo/bin)"
start=$SECONDS
cargo install --locked --path . --bin gsprov --force --quiet
echo "$who: built in $((SECONDS - start)) s: $("$HOME/.cargo/bin/gsprov" --version)"
if [ "$(id -u)" = 0 ] && [ -d /usr/local/bin ]; then
  ln -sf "$HOME/.cargo/bin/gsprov" /usr/local/bin/gsprov
  echo "$who: linked /usr/local/bin/gsprov, so gsprov is on every root shell's PATH"
fi
PATH=$caller_path command -v gsprov >/dev/null ||
  echo "$who: in this shell, run once: export PATH=\"\$HOME/.cargo/bin:\$PATH\" (new shells get it from ~/.profile)"

if [ "$open" = 1 ]; then
  log="${TMPDIR:-/tmp}/gsprov-app.$$.log"
  echo "$who: opening the app (gsprov open: the site last worked on, the demo site the first time); the app runs on its own, this terminal stays free; its output: $log"
  setsid "$HOME/.cargo/bin/gsprov" open >"$log" 2>&1 < /dev/null &
  pid=$!
  # A window that cannot open fails within a second or two; report that here, not in a log.
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" || true; cat "$log" >&2; echo "$who: the app stopped (above)" >&2; exit 1; }
    sleep 0.5
  done
  echo "$who: gsprov is running (pid $pid). Next: README.md, \"A worked example\"."
  exit 0
fi

demo="${TMPDIR:-/tmp}/gsprov-demo"
mkdir -p "$demo"
cat <<MSG

gsprov is built. Without a display, the same things work from the terminal:

  gsprov new $demo/office.gsprov.toml --demo      # the demo site (5 phones, an ATA)
  gsprov check $demo/office.gsprov.toml           # every problem, with where it is
  gsprov generate $demo/office.gsprov.toml --out $demo/tftp
  gsprov serve $demo/office.gsprov.toml --bind 127.0.0.1 --tftp-port 6969 --http-port 8080
  # and in a second terminal, fetch a file as the phone 00:0B:82:A1:B2:01 would:
  gsprov fetch --as 000b82a1b201 --site $demo/office.gsprov.toml http://127.0.0.1:8080/cfg000b82a1b201.xml

Serving to real devices needs TFTP on port 69 (root, or setcap; README "Port 69 and
firewalls"). Next: README.md, "A worked example"; \`gsprov --help\` lists every command.
MSG
