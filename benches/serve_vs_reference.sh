#!/usr/bin/env bash
# gsprov's servers against reference servers, in one run (issue #3):
#   TFTP: CLIENTS concurrent downloads of a FW_MB MB firmware file, blksize 1468,
#         gsprov vs tftpd-hpa (in.tftpd); wall time until all have finished,
#         every copy checked with sha256.
#   HTTP: wrk -t2 -c50 on a small config file (a generated cfg<mac>.xml, the
#         same bytes for both), gsprov vs nginx (worker_processes 2: gsprov runs
#         2 tokio workers); requests/s.
# Targets: TFTP time <= 1.0x tftpd-hpa; HTTP >= 0.8x nginx req/s. (The third
# target, 200 phones p99 < 50 ms, is `cargo bench --bench phones`.)
#
# Each measurement runs RUNS times (servers alternating first/second) and the
# median is reported. Loopback only, high ports, bounded durations; everything
# it starts is stopped on exit. Needs root (apt-get, in.tftpd's chroot).
#
#   bash benches/serve_vs_reference.sh
#   RUNS=5 HTTP_SECONDS=10 PORT_BASE=27000 bash benches/serve_vs_reference.sh
#   GSPROV_BIN=/tmp/gsprov-old bash benches/serve_vs_reference.sh   # no build
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
"$GSPROV" serve "$T/bench.gsprov.toml" --bind 127.0.0.1 --tftp-port "$GS_TFTP" --http-port "$GS_HTTP" --no-https \
  >"$T/gsprov.out" 2>"$T/gsprov.err" &
pids+=($!)
wait_for "gsprov HTTP" curl -sf -o /dev/null -A "$UA" "http://127.0.0.1:$GS_HTTP/$CFG"

# The config file nginx serves: exactly the bytes gsprov serves.
curl -sf -A "$UA" -o "$T/www/$CFG" "http://127.0.0.1:$GS_HTTP/$CFG"
chmod 644 "$T/www/$CFG"
CFG_BYTES=$(stat -c %s "$T/www/$CFG")

# tftpd-hpa in the foreground (-L), chrooted to its root, as root.
/usr/sbin/in.tftpd -L -a "127.0.0.1:$REF_TFTP" -s -u root "$T/tftproot" 2>"$T/tftpd.err" &
pids+=($!)
nginx -p "$T" -c "$T/nginx.conf" -e "$T/nginx-error.log" &
pids+=($!)
wait_for "nginx" curl -sf -o /dev/null "http://127.0.0.1:$REF_HTTP/$CFG"
echo small >"$T/tftproot/ping"
wait_for "gsprov TFTP" curl -sf -o /dev/null "tftp://127.0.0.1:$GS_TFTP/$CFG"
wait_for "tftpd-hpa" curl -sf -o /dev/null "tftp://127.0.0.1:$REF_TFTP/ping"

# --- TFTP ----------------------------------------------------------------------
# Prints the wall time (s) for CLIENTS parallel downloads from PORT; fails if
# any copy is wrong.
tftp_round() {
  local port=$1 i start end failed=0
  rm -f "$T"/out/*
  start=$(date +%s.%N)
  local jobs=()
  for i in $(seq "$CLIENTS"); do
    curl -s --max-time 300 --tftp-blksize "$BLKSIZE" -o "$T/out/$i" "tftp://127.0.0.1:$port/$FW" &
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

# Prints requests/s of one wrk run against PORT; fails on errors or non-2xx.
http_round() {
  local port=$1 out
  out=$(wrk -t"$HTTP_THREADS" -c"$HTTP_CONNECTIONS" -d"${HTTP_SECONDS}s" --timeout 5s -H "User-Agent: $UA" \
    "http://127.0.0.1:$port/$CFG")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "serve_vs_reference: wrk against port $port reported errors:" >&2
    echo "$out" >&2
    return 1
  fi
  awk '/^Requests\/sec:/ { print $2 }' <<<"$out"
}

median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

gs_tftp=()
ref_tftp=()
gs_http=()
ref_http=()
echo "TFTP: $CLIENTS x $FW_MB MB, blksize $BLKSIZE (curl); HTTP: wrk -t$HTTP_THREADS -c$HTTP_CONNECTIONS" \
  "-d${HTTP_SECONDS}s, $CFG_BYTES-byte $CFG; $RUNS runs each"
for run in $(seq "$RUNS"); do
  # Alternate which server goes first, so warm caches and other load even out.
  if [ $((run % 2)) = 1 ]; then order="gs ref"; else order="ref gs"; fi
  for who in $order; do
    if [ "$who" = gs ]; then
      t=$(tftp_round "$GS_TFTP")
      gs_tftp+=("$t")
      echo "  run $run  TFTP gsprov     ${t} s"
    else
      t=$(tftp_round "$REF_TFTP")
      ref_tftp+=("$t")
      echo "  run $run  TFTP tftpd-hpa  ${t} s"
    fi
  done
  for who in $order; do
    if [ "$who" = gs ]; then
      r=$(http_round "$GS_HTTP")
      gs_http+=("$r")
      echo "  run $run  HTTP gsprov     ${r} req/s"
    else
      r=$(http_round "$REF_HTTP")
      ref_http+=("$r")
      echo "  run $run  HTTP nginx      ${r} req/s"
    fi
  done
done

m_gs_tftp=$(printf '%s\n' "${gs_tftp[@]}" | median)
m_ref_tftp=$(printf '%s\n' "${ref_tftp[@]}" | median)
m_gs_http=$(printf '%s\n' "${gs_http[@]}" | median)
m_ref_http=$(printf '%s\n' "${ref_http[@]}" | median)
tftp_ratio=$(awk -v a="$m_gs_tftp" -v b="$m_ref_tftp" 'BEGIN { printf "%.4f", a / b }')
http_ratio=$(awk -v a="$m_gs_http" -v b="$m_ref_http" 'BEGIN { printf "%.4f", a / b }')
# The machine's load drifts between runs; each run's two measurements are
# back to back, so the median of per-run ratios is the steadier figure.
paired_median() {
  local -n xs=$1 ys=$2
  local i
  for i in "${!xs[@]}"; do
    awk -v a="${xs[$i]}" -v b="${ys[$i]}" 'BEGIN { printf "%.4f\n", a / b }'
  done | median
}
tftp_paired=$(paired_median gs_tftp ref_tftp)
http_paired=$(paired_median gs_http ref_http)
# verdict RATIO OP LIMIT: "met" or "MISSED".
verdict() { awk -v r="$1" -v op="$2" -v l="$3" 'BEGIN { ok = (op == "<=") ? r <= l : r >= l; print ok ? "met" : "MISSED" }'; }

echo
echo "medians of $RUNS runs"
printf '%-38s %12s %12s %8s  %s\n' "measurement" "gsprov" "reference" "ratio" "target"
printf '%-38s %12.2f %12.2f %8.2f  <= 1.00 (%s)\n' "TFTP ${CLIENTS}x${FW_MB} MB wall time, s (tftpd-hpa)" \
  "$m_gs_tftp" "$m_ref_tftp" "$tftp_ratio" "$(verdict "$tftp_ratio" "<=" 1.0)"
printf '%-38s %12.0f %12.0f %8.2f  >= 0.80 (%s)\n' "HTTP small file, req/s (nginx)" \
  "$m_gs_http" "$m_ref_http" "$http_ratio" "$(verdict "$http_ratio" ">=" 0.8)"
printf 'median of per-run ratios: TFTP %.2f (%s), HTTP %.2f (%s)\n' "$tftp_paired" \
  "$(verdict "$tftp_paired" "<=" 1.0)" "$http_paired" "$(verdict "$http_paired" ">=" 0.8)"
echo "gsprov request log lines: $(wc -l <"$T/bench.requests.jsonl" 2>/dev/null || echo 0)"
