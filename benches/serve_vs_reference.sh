#!/usr/bin/env bash
# gsprov's servers against reference servers, in one run (issues #3, #15):
#   TFTP: CLIENTS concurrent downloads of a FW_MB MB firmware file, blksize 1468,
#         each client from its own address (127.0.0.2, .3, ...: one per phone),
#         gsprov vs tftpd-hpa (in.tftpd); wall time until all have finished,
#         every copy checked with sha256; server CPU seconds (user + sys, the
#         server process and its children: tftpd-hpa forks one per transfer).
#   HTTP: wrk -t2 -c50 on a small config file (a generated cfg<mac>.xml, the
#         same bytes for both), gsprov vs nginx (worker_processes 2: gsprov runs
#         2 tokio workers); requests/s and server CPU seconds (nginx: master
#         and workers).
# Targets (issue #15): TFTP time <= 0.9x tftpd-hpa and less CPU per MB; HTTP
# >= 1.0x nginx req/s. (200 phones p99 < 20 ms is `cargo bench --bench phones`.)
#
# Each measurement runs RUNS times (servers in rotating order) and the median
# is reported, with the median of the per-run ratios. With GSPROV_BEFORE (an
# older build) that build runs in the same rounds too, on its own ports: a
# before/after under the same load. Loopback only, high ports, bounded
# durations; everything it starts is stopped on exit. Needs root (apt-get,
# in.tftpd's chroot).
#
#   bash benches/serve_vs_reference.sh
#   RUNS=5 HTTP_SECONDS=10 PORT_BASE=27000 bash benches/serve_vs_reference.sh
#   GSPROV_BIN=/tmp/gsprov-new bash benches/serve_vs_reference.sh             # no build
#   GSPROV_BEFORE=/tmp/gsprov-old RUNS=5 bash benches/serve_vs_reference.sh   # before/after
#
# Not part of .ci/run: the numbers depend on the machine and its load.
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-20}
FW_MB=${FW_MB:-16}
BLKSIZE=${BLKSIZE:-1468}
HTTP_SECONDS=${HTTP_SECONDS:-10}
HTTP_THREADS=${HTTP_THREADS:-2}
HTTP_CONNECTIONS=${HTTP_CONNECTIONS:-50}
PORT_BASE=${PORT_BASE:-17000}
GS_TFTP=$((PORT_BASE + 69))
GS_HTTP=$((PORT_BASE + 80))
REF_TFTP=$((PORT_BASE + 169))
REF_HTTP=$((PORT_BASE + 180))
OLD_TFTP=$((PORT_BASE + 269))
OLD_HTTP=$((PORT_BASE + 280))
MAC=000b82000001
UA="Grandstream Model HW GXP2170 SW 1.0.11.3 DevId $MAC"
CFG=cfg$MAC.xml
FW=gxp2170fw.bin

if [ "$(id -u)" != 0 ]; then
  echo "serve_vs_reference: run as root (installs packages, in.tftpd chroots)" >&2
  exit 2
fi

# --- tools -------------------------------------------------------------------
packages=(tftpd-hpa nginx wrk curl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # Package scripts may start the system's own daemons (port 69/80); ours use
  # other ports and do not care.
fi

if [ -n "${GSPROV_BIN:-}" ]; then
  GSPROV=$(realpath "$GSPROV_BIN") # e.g. an older build, for a before/after
else
  echo "building gsprov (release)"
  CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2} cargo build --release --locked --quiet
  GSPROV=$PWD/target/release/gsprov
fi
BEFORE=""
[ -n "${GSPROV_BEFORE:-}" ] && BEFORE=$(realpath "$GSPROV_BEFORE")

# --- the stage -----------------------------------------------------------------
T=$(mktemp -d /tmp/gsprov-bench.XXXXXX)
chmod 755 "$T" # nginx workers run as nobody
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$T"
  if [ -n "${CG_ROOT:-}" ]; then
    for d in "$CG_ROOT"/*/; do rmdir "$d" 2>/dev/null || true; done
    rmdir "$CG_ROOT" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$T/firmware" "$T/www" "$T/tftproot" "$T/out" "$T/nginx-tmp"
head -c $((FW_MB * 1024 * 1024)) /dev/urandom >"$T/firmware/$FW"
cp "$T/firmware/$FW" "$T/tftproot/$FW"
chmod 644 "$T/firmware/$FW" "$T/tftproot/$FW"
FW_SUM=$(sha256sum "$T/firmware/$FW" | cut -d' ' -f1)

cat >"$T/bench.gsprov.toml" <<EOF
format_version = 1
name = "serve bench"

[serving]
bind = "127.0.0.1"
firmware_dir = "firmware"

[defaults]
P212 = 1
P47 = "pbx.example.com"

[[devices]]
mac = "$MAC"
model = "GXP2170"
label = "Bench"

[[devices.accounts]]
user_id = "201"
password = "bench-secret"
EOF

cat >"$T/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $T/nginx.pid;
error_log $T/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log $T/nginx-access.log;
  client_body_temp_path $T/nginx-tmp/body;
  proxy_temp_path $T/nginx-tmp/proxy;
  fastcgi_temp_path $T/nginx-tmp/fastcgi;
  uwsgi_temp_path $T/nginx-tmp/uwsgi;
  scgi_temp_path $T/nginx-tmp/scgi;
  types { application/xml xml; }
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 15;
  keepalive_requests 100000;
  server {
    listen 127.0.0.1:$REF_HTTP;
    root $T/www;
  }
}
EOF

# One cgroup per server, for its CPU seconds (see cpu_seconds).
CG_ROOT=""
for root in $(awk '$3 == "cgroup2" { print $2 }' /proc/mounts) $(awk '$3 == "cgroup" && $4 ~ /cpuacct/ { print $2 }' /proc/mounts); do
  if mkdir "$root/gsprov-bench-$$" 2>/dev/null; then
    CG_ROOT=$root/gsprov-bench-$$
    break
  fi
done
if [ -z "$CG_ROOT" ]; then
  echo "serve_vs_reference: no writable cgroup hierarchy: CPU seconds count only living processes (tftpd-hpa's finished children are missed)" >&2
fi
cg_dir() { [ -n "$CG_ROOT" ] && echo "$CG_ROOT/$1"; }
# Becomes COMMAND (exec: the caller's subshell pid is the server's) inside cgroup WHO.
in_cgroup() { # WHO COMMAND...
  local who=$1
  shift
  if [ -n "$CG_ROOT" ]; then
    mkdir -p "$CG_ROOT/$who"
    exec bash -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' _ "$CG_ROOT/$who" "$@"
  else
    exec "$@"
  fi
}

# Waits until a command succeeds (at most 20 s).
wait_for() {
  local what=$1
  shift
  for _ in $(seq 200); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  echo "serve_vs_reference: $what did not come up" >&2
  exit 1
}

# gsprov: TFTP + HTTP, HTTPS off. Its per-request lines go to a file (a
# terminal would be slower still); the JSONL request log is written as usual.
# The site file (and so the request log) is per build: two builds never share one.
start_gsprov() { # NAME BIN TFTP_PORT HTTP_PORT
  local name=$1 bin=$2 tftp=$3 http=$4
  cp "$T/bench.gsprov.toml" "$T/$name.gsprov.toml"
  (in_cgroup "$name" "$bin" serve "$T/$name.gsprov.toml" --bind 127.0.0.1 --tftp-port "$tftp" --http-port "$http" \
    --no-https >"$T/$name.out" 2>"$T/$name.err") &
  pids+=($!)
  eval "pid_$name=$!"
  wait_for "$name HTTP" curl -sf -o /dev/null -A "$UA" "http://127.0.0.1:$http/$CFG"
  wait_for "$name TFTP" curl -sf -o /dev/null "tftp://127.0.0.1:$tftp/$CFG"
}
start_gsprov gs "$GSPROV" "$GS_TFTP" "$GS_HTTP"
[ -n "$BEFORE" ] && start_gsprov old "$BEFORE" "$OLD_TFTP" "$OLD_HTTP"

# The config file nginx serves: exactly the bytes gsprov serves.
curl -sf -A "$UA" -o "$T/www/$CFG" "http://127.0.0.1:$GS_HTTP/$CFG"
chmod 644 "$T/www/$CFG"
CFG_BYTES=$(stat -c %s "$T/www/$CFG")

# tftpd-hpa in the foreground (-L), chrooted to its root, as root.
(in_cgroup tftpd /usr/sbin/in.tftpd -L -a "127.0.0.1:$REF_TFTP" -s -u root "$T/tftproot" 2>"$T/tftpd.err") &
pids+=($!)
pid_tftpd=$!
(in_cgroup nginx nginx -p "$T" -c "$T/nginx.conf" -e "$T/nginx-error.log") &
pids+=($!)
pid_nginx=$!
wait_for "nginx" curl -sf -o /dev/null "http://127.0.0.1:$REF_HTTP/$CFG"
echo small >"$T/tftproot/ping"
wait_for "tftpd-hpa" curl -sf -o /dev/null "tftp://127.0.0.1:$REF_TFTP/ping"

# CPU seconds (user + sys) used so far by server WHO. Each server runs in a
# cgroup of its own (cgroup v2's cpu.stat usage_usec, or v1's cpuacct.usage),
# so every process it forks counts, however short-lived: tftpd-hpa's
# per-transfer children are never waited for by a parent that ignores SIGCHLD,
# and /proc's cutime misses them. Without a writable cgroup hierarchy it falls
# back to /proc/<pid>/stat fields 14-17 of the process and its living children
# (and says so).
TICKS=$(getconf CLK_TCK)
cpu_seconds() {
  local who=$1 cg pid kids
  cg=$(cg_dir "$who")
  if [ -n "$cg" ]; then
    if [ -f "$cg/cpu.stat" ]; then
      awk '$1 == "usage_usec" { printf "%.2f\n", $2 / 1e6 }' "$cg/cpu.stat"
    else
      awk '{ printf "%.2f\n", $1 / 1e9 }' "$cg/cpuacct.usage"
    fi
    return
  fi
  eval "pid=\$pid_$who"
  kids=$(ps -o pid= --ppid "$pid" 2>/dev/null | tr '\n' ' ')
  # shellcheck disable=SC2086
  for p in $pid $kids; do cat "/proc/$p/stat" 2>/dev/null || true; done |
    awk -v hz="$TICKS" '{ sub(/^.*\) /, ""); t += $12 + $13 + $14 + $15 } END { printf "%.2f\n", t / hz }'
}

# --- TFTP ----------------------------------------------------------------------
# Prints the wall time (s) for CLIENTS parallel downloads from PORT; fails if
# any copy is wrong.
tftp_round() {
  local port=$1 i start end failed=0
  rm -f "$T"/out/*
  start=$(date +%s.%N)
  local jobs=()
  for i in $(seq "$CLIENTS"); do
    # Each client from its own loopback address, as CLIENTS phones would be
    # (gsprov allows 16 transfers at once per address: the hardening limit).
    curl -s --max-time 300 --interface "127.0.0.$((i + 1))" --tftp-blksize "$BLKSIZE" \
      -o "$T/out/$i" "tftp://127.0.0.1:$port/$FW" &
    jobs+=($!)
  done
  for i in "${jobs[@]}"; do
    wait "$i" || failed=$((failed + 1))
  done
  end=$(date +%s.%N)
  for i in $(seq "$CLIENTS"); do
    [ "$(sha256sum "$T/out/$i" 2>/dev/null | cut -d' ' -f1)" = "$FW_SUM" ] || failed=$((failed + 1))
  done
  if [ "$failed" != 0 ]; then
    echo "serve_vs_reference: $failed TFTP downloads from port $port failed or differ" >&2
    return 1
  fi
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }'
}

# Prints requests/s of one wrk run against PORT; fails on errors or non-2xx
# (with TOLERATE=1, for an older build: says so on stderr and goes on).
http_round() {
  local port=$1 out
  out=$(wrk -t"$HTTP_THREADS" -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" --timeout 5s -H "User-Agent: $UA" \
    "http://127.0.0.1:$port/$CFG")
  if [ "${TOLERATE:-}" = 1 ] && grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "  (port $port: $(grep -E "Non-2xx|Socket errors" <<<"$out" | tr -s ' ' | tr '\n' ';'))" >&2
  elif grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "serve_vs_reference: wrk against port $port reported errors:" >&2
    echo "$out" >&2
    return 1
  fi
  awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# One measurement of server WHO (gs, old, ref) with KIND (tftp, http): appends
# the value and the server's CPU seconds to the arrays WHO_KIND and WHO_KIND_cpu.
measure() {
  local who=$1 kind=$2 port cg before after value
  case "$who/$kind" in
    gs/tftp) port=$GS_TFTP cg=gs ;;
    gs/http) port=$GS_HTTP cg=gs ;;
    old/tftp) port=$OLD_TFTP cg=old ;;
    old/http) port=$OLD_HTTP cg=old ;;
    ref/tftp) port=$REF_TFTP cg=tftpd ;;
    ref/http) port=$REF_HTTP cg=nginx ;;
  esac
  before=$(cpu_seconds "$cg")
  value=$(TOLERATE=$([ "$who" = old ] && echo 1) "${kind}_round" "$port")
  # tftpd-hpa's per-transfer children end (and are reaped) just after their last ACK.
  sleep 0.5
  after=$(cpu_seconds "$cg")
  eval "${who}_${kind}+=(\"\$value\")"
  eval "${who}_${kind}_cpu+=(\"\$(awk -v a=\"\$before\" -v b=\"\$after\" 'BEGIN { printf \"%.2f\", b - a }')\")"
}

label() {
  case "$1/$2" in
    gs/tftp) echo "gsprov" ;; gs/http) echo "gsprov" ;;
    old/tftp) echo "gsprov (before)" ;; old/http) echo "gsprov (before)" ;;
    ref/tftp) echo "tftpd-hpa" ;; ref/http) echo "nginx" ;;
  esac
}

servers=(gs ref)
[ -n "$BEFORE" ] && servers=(gs old ref)
for who in "${servers[@]}"; do
  for kind in tftp http; do
    eval "${who}_${kind}=()"
    eval "${who}_${kind}_cpu=()"
  done
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
echo "TFTP: $CLIENTS x $FW_MB MB, blksize $BLKSIZE (curl); HTTP: wrk -t$HTTP_THREADS -c$HTTP_CONNECTIONS" \
  "-d${HTTP_SECONDS}s, $CFG_BYTES-byte $CFG; $RUNS runs each; $(nproc) CPUs, load average $load_start"
for run in $(seq "$RUNS"); do
  # Rotate which server goes first, so warm caches and other load even out.
  order=()
  n=${#servers[@]}
  for k in $(seq 0 $((n - 1))); do order+=("${servers[$(((run + k) % n))]}"); done
  for kind in tftp http; do
    for who in "${order[@]}"; do
      measure "$who" "$kind"
      eval "v=\${${who}_${kind}[-1]} c=\${${who}_${kind}_cpu[-1]}"
      unit="s"
      [ "$kind" = http ] && unit="req/s"
      printf '  run %d  %-4s %-16s %10s %-5s  CPU %6s s\n' "$run" "${kind^^}" "$(label "$who" "$kind")" "$v" "$unit" "$c"
    done
  done
done
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

# The machine's load drifts between runs; each run's measurements are back to
# back, so the median of per-run ratios is the steadier figure.
paired_median() {
  local -n xs=$1 ys=$2
  local i
  for i in "${!xs[@]}"; do
    awk -v a="${xs[$i]}" -v b="${ys[$i]}" 'BEGIN { printf "%.4f\n", a / b }'
  done | median
}
med() { local -n xs=$1; printf '%s\n' "${xs[@]}" | median; }
# verdict RATIO OP LIMIT: "met" or "MISSED".
verdict() { awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? r <= l : r >= l; print ok ? "met" : "MISSED" }'; }
mb=$((CLIENTS * FW_MB))

echo
echo "medians of $RUNS runs (load average at the start $load_start, at the end $load_end)"
printf '%-16s %14s %12s %14s %14s %12s\n' "server" "TFTP wall, s" "TFTP CPU, s" "CPU ms per MB" "HTTP req/s" "HTTP CPU, s"
for who in "${servers[@]}"; do
  tw=$(med "${who}_tftp") tc=$(med "${who}_tftp_cpu") hr=$(med "${who}_http") hc=$(med "${who}_http_cpu")
  name=$(label "$who" tftp)/$(label "$who" http)
  [ "$who" != ref ] && name=$(label "$who" tftp)
  printf '%-16s %14.2f %12.2f %14.2f %14.0f %12.2f\n' "$name" "$tw" "$tc" \
    "$(awk -v c="$tc" -v m="$mb" 'BEGIN { print c * 1000 / m }')" "$hr" "$hc"
done
echo
echo "median of per-run ratios against the reference (target):"
for who in "${servers[@]}"; do
  [ "$who" = ref ] && continue
  t=$(paired_median "${who}_tftp" ref_tftp)
  tcpu=$(paired_median "${who}_tftp_cpu" ref_tftp_cpu)
  h=$(paired_median "${who}_http" ref_http)
  printf '  %-16s TFTP wall %.2f (<= 0.90: %s), TFTP CPU %.2f (< 1.00: %s), HTTP req/s %.2f (>= 1.00: %s)\n' \
    "$(label "$who" tftp)" "$t" "$(verdict "$t" "<=" 0.9)" "$tcpu" "$(verdict "$tcpu" "<=" 0.999)" \
    "$h" "$(verdict "$h" ">=" 1.0)"
done
if [ -n "$BEFORE" ]; then
  t=$(paired_median gs_tftp old_tftp)
  h=$(paired_median gs_http old_http)
  printf '  gsprov / gsprov (before): TFTP wall %.2f, HTTP req/s %.2f\n' "$t" "$h"
fi
echo "gsprov request log lines: $(wc -l <"$T/gs.requests.jsonl" 2>/dev/null || echo 0)"
