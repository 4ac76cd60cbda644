# Shared by scripts/run-app.sh, .ci/run and packaging/windows/*.sh (sourced, not run):
# Debian packages and the Rust toolchain, each installed only when missing, each said
# before it starts. Written for Debian 12 (bookworm); `sudo` is used when not root.

# The Rust version the build needs: `rust-version` in Cargo.toml is the one source.
gsprov_rust_version() {
  sed -n 's/^rust-version *= *"\([0-9.]*\)".*/\1/p' Cargo.toml 2>/dev/null |
    head -1
}

gsprov_sudo() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# gsprov_apt WHO PACKAGE... : installs those of PACKAGE that are missing (no Recommends), and
# says which, how much and roughly how long first. Idempotent: nothing to do, nothing said.
gsprov_apt() {
  local who=$1; shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null; then
    echo "$who: needs the Debian packages ${missing[*]}; run this as root or install sudo" >&2
    return 1
  fi
  echo "$who: installing ${missing[*]} (apt, --no-install-recommends; about a minute per 100 MB of downloads)"
  gsprov_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # apt's own summary line says how many packages and megabytes; the rest is kept quiet.
  gsprov_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" |
    grep -E '^[0-9]+ upgraded|^Need to get|^After this operation' || true
  for p in "${missing[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
      { echo "$who: apt did not install $p" >&2; return 1; }
  done
}

# gsprov_toolchain WHO : makes `cargo` on PATH at least rust-version. Uses ~/.cargo/bin when
# it is there; updates an existing rustup; else installs rustup (the official installer,
# https://sh.rustup.rs, into ~/.cargo; Debian 12 has no rustup package and its own rustc is
# too old). Needs curl (gsprov_apt installs it first).
gsprov_toolchain() {
  local who=$1 want have
  want=$(gsprov_rust_version)
  [ -n "$want" ] || { echo "$who: cannot read rust-version from Cargo.toml" >&2; return 1; }
  case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) [ -d "$HOME/.cargo/bin" ] && export PATH="$HOME/.cargo/bin:$PATH" ;; esac
  hash -r
  have=$(cargo --version 2>/dev/null | cut -d' ' -f2 || true)
  if [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ]; then
    return 0
  fi
  if command -v rustup >/dev/null; then
    echo "$who: cargo ${have:-missing}, the build needs Rust $want: rustup update stable (about a minute)"
    rustup update stable && rustup default stable
  else
    echo "$who: cargo ${have:-missing}, the build needs Rust $want: installing rustup and the stable"
    echo "$who: toolchain into ~/.cargo (https://sh.rustup.rs; about 300 MB, one to two minutes)"
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y
    export PATH="$HOME/.cargo/bin:$PATH"
  fi
  hash -r
  have=$(cargo --version 2>/dev/null | cut -d' ' -f2 || true)
  [ -n "$have" ] && [ "$(printf '%s\n%s\n' "$want" "$have" | sort -V | head -1)" = "$want" ] ||
    { echo "$who: still no cargo >= $want (have: ${have:-none})" >&2; return 1; }
}
