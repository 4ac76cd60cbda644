#!/usr/bin/env bash
# End-to-end timing for issue #2: one `gsprov generate` run on a 10,000-device site
# (mixed models, encrypted cfg<mac>.xml) against a shell loop of `openssl enc` over
# the same plain XML files gsprov encrypts. Slow (the openssl loop takes a minute);
# not part of .ci/run.
#
#   bash benches/generate_vs_openssl.sh [COUNT]        # COUNT defaults to 10000
#   WORK=/some/dir bash benches/generate_vs_openssl.sh   # files on that file system
#   GSPROV_BEFORE=/tmp/gsprov-old bash benches/generate_vs_openssl.sh   # and an older build, same run
#
# By default the files go to a fresh folder on tmpfs (/dev/shm) so the numbers measure
# gsprov and openssl rather than the disk; WORK=<dir on disk> measures the disk too.
set -euo pipefail
cd "$(dirname "$0")/.."

count=${1:-10000}
password="bench-xml-secret" # the site's xml_password (benches/support/bigsite.rs)

if [ -n "${WORK:-}" ]; then
  mkdir -p "$WORK"
  work=$(mktemp -d "$WORK/gsprov-bench.XXXXXX")
else
  base=/tmp
  [ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
  work=$(mktemp -d "$base/gsprov-bench.XXXXXX")
fi
trap 'rm -rf "$work"' EXIT
fs=$(df -PT "$work" | awk 'NR==2 {print $2 " (" $7 ")"}')

if ! command -v hyperfine >/dev/null; then
  echo "bench: installing hyperfine"
  if ! { apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq hyperfine >/dev/null 2>&1; }; }; then
    echo "bench: hyperfine unavailable; timing with date instead"
  fi
fi

# (a) release build
echo "bench: building gsprov and the site generator (release)"
cargo build --release --quiet --bin gsprov --example bigsite
gsprov=target/release/gsprov

target/release/examples/bigsite "$count" >"$work/site.gsprov.toml"
target/release/examples/bigsite "$count" --plain >"$work/plain.gsprov.toml"
"$gsprov" generate "$work/plain.gsprov.toml" --out "$work/plain" >/dev/null
"$gsprov" generate "$work/site.gsprov.toml" --out "$work/tree" >/dev/null

# The files gsprov encrypts: every cfg<mac>.xml (legacy units get only a binary file).
mapfile -t plain_xml < <(find "$work/plain" -maxdepth 1 -name 'cfg????????????.xml' | sort)
encrypted=$(find "$work/tree" -maxdepth 1 -name 'cfg????????????.xml' | wc -l)
[ "${#plain_xml[@]}" -eq "$encrypted" ] || { echo "bench: ${#plain_xml[@]} plain vs $encrypted encrypted files"; exit 1; }
files=$(find "$work/tree" -maxdepth 1 -type f | wc -l)

# Sanity: openssl decrypts what gsprov wrote back to the plain file.
first=$(basename "${plain_xml[0]}")
openssl enc -d -aes-256-cbc -md md5 -pass "pass:$password" -in "$work/tree/$first" 2>/dev/null | cmp -s - "$work/plain/$first" \
  || { echo "bench: openssl does not decrypt $first back to the plain file"; exit 1; }

# (b) gsprov generate, the whole run: load, check, layer, encode, encrypt, write the tree.
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
echo "bench: timing gsprov generate ($count devices, $encrypted encrypted XML files, $files files in all) on $fs"
if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs 10 --export-json "$work/gsprov.json" \
    "$gsprov generate $work/site.gsprov.toml --out $work/tree"
  json_num() { grep -o "\"$1\": *[0-9.e+-]*" "$work/gsprov.json" | head -1 | sed 's/.*: *//'; }
  gsprov_s=$(json_num mean)
  gsprov_cpu=$(calc "$(json_num user) + $(json_num system)")
  if [ -n "${GSPROV_BEFORE:-}" ]; then
    # The older build on the same site, interleaved with this one (hyperfine runs
    # each command's runs back to back, so alternate whole rounds of 5).
    for round in 1 2; do
      hyperfine --warmup 1 --runs 5 --export-json "$work/round$round.json" \
        "$gsprov generate $work/site.gsprov.toml --out $work/tree" \
        "$GSPROV_BEFORE generate $work/site.gsprov.toml --out $work/tree-before" | grep -E "Time|User|±|faster" || true
    done
  fi
else
  start=$(now)
  for _ in 1 2 3 4 5; do "$gsprov" generate "$work/site.gsprov.toml" --out "$work/tree" >/dev/null; done
  gsprov_s=$(calc "($(now) - $start) / 5")
  gsprov_cpu=unknown
fi

# (c) the openssl loop over the same plain files, one process per file as a shell script would.
echo "bench: timing openssl enc over ${#plain_xml[@]} files (one run)"
mkdir "$work/openssl"
load=$(cut -d' ' -f1-3 /proc/loadavg)
# CPU seconds (user+sys) used by finished child processes so far, from bash's `times`.
# `times` must run in this shell (in a pipe or $(...) it would ask a subshell), so it
# writes to a file that is read afterwards.
child_cpu() {
  times >"$work/times"
  tail -1 "$work/times" | awk '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%.6f", u[1] * 60 + u[2] + s[1] * 60 + s[2] }' >"$work/cpu"
}
child_cpu
cpu_before=$(cat "$work/cpu")
start=$(now)
for f in "${plain_xml[@]}"; do
  # stderr only carries OpenSSL 3's "deprecated key derivation" warning: MD5 with one
  # iteration is what the devices use (spec 8).
  openssl enc -e -aes-256-cbc -md md5 -salt -pass "pass:$password" -in "$f" -out "$work/openssl/${f##*/}" 2>/dev/null
done
openssl_s=$(calc "$(now) - $start")
child_cpu
openssl_cpu=$(calc "$(cat "$work/cpu") - $cpu_before")

# (d) the numbers
printf '\nresult: machine %s cores, %s, files on %s\n' "$(nproc)" "$(date -u +%Y-%m-%d)" "$fs"
printf 'result: load average before the openssl loop: %s\n' "$load"
printf 'result: gsprov generate, %d devices (%d files, %d encrypted): %.3f s wall, %s s CPU (user+sys)\n' \
  "$count" "$files" "$encrypted" "$gsprov_s" "$gsprov_cpu"
printf 'result: openssl enc loop, %d files: %.3f s wall (%.2f ms per file), %.3f s CPU (user+sys)\n' \
  "${#plain_xml[@]}" "$openssl_s" "$(calc "$openssl_s * 1000 / ${#plain_xml[@]}")" "$openssl_cpu"
printf 'result: ratio (openssl loop / gsprov): %.1fx wall' "$(calc "$openssl_s / $gsprov_s")"
if [ "$gsprov_cpu" != unknown ]; then printf ', %.1fx CPU' "$(calc "$openssl_cpu / $gsprov_cpu")"; fi
printf '\n'
