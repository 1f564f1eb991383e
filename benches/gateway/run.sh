#!/usr/bin/env bash
# Load benchmark: the zeroclaw gateway next to a bare axum hello-world,
# same wrk settings, figures side by side.
#
#   benches/gateway/run.sh                 # 5 rounds of 5 s per endpoint, 2 threads, 50 connections
#   DURATION=30s CONNS=100 ROUNDS=1 benches/gateway/run.sh
#   GATEWAY=daemon ROUNDS=3 benches/gateway/run.sh   # the shipped daemon, real store
#
# The four runs are interleaved and repeated ROUNDS times; the best round of
# each endpoint is reported (with its p99), so a burst of load from other
# processes on a shared machine does not decide the ratio.
#
# Targets: /health >= 0.9x bare GET /, /webhook >= 0.7x bare.
# Needs wrk (Debian: apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-5s}
CONNS=${CONNS:-50}
THREADS=${THREADS:-2}
ROUNDS=${ROUNDS:-5}
export TOKEN=${TOKEN:-bench-token}
HERE=benches/gateway

command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

# GATEWAY=daemon loads the shipped `zeroclaw daemon` (echo provider, its
# real state store: every webhook turn is remembered) instead of the
# gateway_bench example, which has no store.
GATEWAY=${GATEWAY:-example}
if [ "$GATEWAY" = daemon ]; then
  cargo build --release --bin zeroclaw --example bare_axum >&2
else
  cargo build --release --example gateway_bench --example bare_axum >&2
fi
BIN=${CARGO_TARGET_DIR:-target}/release/examples

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Start a server on port 0 in the background (in this shell, so the trap
# can stop it); its pid goes to <name>_PID.
start() {
  local name=$1; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  printf -v "${name}_PID" '%s' "$!"
}

# The URL a started server printed on stdout.
url_of() {
  for _ in $(seq 1 100); do
    local url
    url=$(sed -n 's/^listening on //p' "$tmp/$1.out" | head -n1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "$1 did not start:" >&2; cat "$tmp/$1.err" >&2; exit 1
}

# CPU seconds (user + system) a process has used, in clock ticks.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# The shipped daemon on a free port, its URL printed as the examples do.
daemon() {
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf '[daemon]\nstate_dir = "%s/state"\n[provider]\nname = "echo"\n[gateway]\nport = %s\nauth_token = "%s"\n[logging]\nlevel = "warn"\n' \
    "$tmp" "$port" "$TOKEN" >"$tmp/config.toml"
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/health" >/dev/null && { echo "listening on http://127.0.0.1:$port"; break; }
    sleep 0.1
  done &
  exec "${BIN%/examples}/zeroclaw" --config "$tmp/config.toml" daemon
}

start bare "$BIN/bare_axum" 0
if [ "$GATEWAY" = daemon ]; then
  start gateway daemon
else
  start gateway "$BIN/gateway_bench" 0 "$TOKEN"
fi
BARE=$(url_of bare)
GW=$(url_of gateway)

# Sanity: the gateway answers the authenticated webhook.
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"message":"ping"}' "$GW/webhook" >/dev/null

TICK=$(getconf CLK_TCK)
run() { # label script url pid
  local out t0 t1 n
  t0=$(cpu_ticks "$4")
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$2" "$3")
  t1=$(cpu_ticks "$4")
  n=$(echo "$out" | awk '/requests in/ {print $1}')
  # Server CPU per request: steadier than req/s when other processes
  # compete for the CPUs.
  echo "$1 $(echo "$out" | grep '^RESULT') cpu_us=$(awk -v a="$t0" -v b="$t1" -v n="$n" -v t="$TICK" 'BEGIN { printf "%.2f", (b - a) / t * 1e6 / n }')"
}

results=$(
  for _ in $(seq 1 "$ROUNDS"); do
    run bare_hello "$HERE/report.lua" "$BARE/" "$bare_PID"
    run gw_health "$HERE/report.lua" "$GW/health" "$gateway_PID"
    run bare_webhook "$HERE/webhook.lua" "$BARE/webhook" "$bare_PID"
    run gw_webhook "$HERE/webhook.lua" "$GW/webhook" "$gateway_PID"
  done
)
echo "$results" >&2

echo
echo "wrk -t$THREADS -c$CONNS -d$DURATION, best of $ROUNDS rounds, $(nproc) CPUs, load $(cut -d" " -f1-3 /proc/loadavg), $(date -u +%FT%TZ)"
echo "$results" | awk '
  function median(arr, n,    i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && arr[j-1] > arr[j]; j--) { t = arr[j]; arr[j] = arr[j-1]; arr[j-1] = t }
    return (n % 2) ? arr[(n+1)/2] : (arr[n/2] + arr[n/2+1]) / 2
  }
  { split($3, a, "="); split($4, b, "="); split($5, c, "="); split($6, d, "=");
    if ($1 == "bare_hello") r++
    round[$1, r] = a[2]
    cpu[$1, r] = d[2]
    if (a[2] + 0 > rps[$1] + 0) { rps[$1] = a[2]; p99[$1] = b[2] }
    err[$1] += c[2] }
  END {
    printf "%-26s %10s %9s %7s %14s\n", "endpoint (best round)", "req/s", "p99 ms", "errors", "CPU us/req*"
    n = split("bare_hello gw_health bare_webhook gw_webhook", k, " ")
    names["bare_hello"] = "bare axum GET /"
    names["gw_health"] = "gateway GET /health"
    names["bare_webhook"] = "bare axum POST /webhook"
    names["gw_webhook"] = "gateway POST /webhook"
    for (i = 1; i <= n; i++) {
      for (j = 1; j <= r; j++) cc[j] = cpu[k[i], j]
      mc[k[i]] = median(cc, r)
      printf "%-26s %10d %9.2f %7d %14.2f\n", names[k[i]], rps[k[i]], p99[k[i]], err[k[i]], mc[k[i]]
    }
    printf "* server CPU time per request, median of rounds\n"
    for (i = 1; i <= r; i++) {
      h[i] = round["gw_health", i] / round["bare_hello", i]
      w[i] = round["gw_webhook", i] / round["bare_hello", i]
      x[i] = round["gw_webhook", i] / round["bare_webhook", i]
    }
    printf "\nratios (best rounds; median of per-round ratios in brackets):\n"
    printf "/health  vs bare GET /:         %.2fx [%.2fx] (target >= 0.90)\n", rps["gw_health"] / rps["bare_hello"], median(h, r)
    printf "/webhook vs bare GET /:         %.2fx [%.2fx] (target >= 0.70)\n", rps["gw_webhook"] / rps["bare_hello"], median(w, r)
    printf "/webhook vs bare POST /webhook: %.2fx [%.2fx]\n", rps["gw_webhook"] / rps["bare_webhook"], median(x, r)
    printf "\nby CPU per request (bare / gateway):\n"
    printf "/health  vs bare GET /:         %.2fx\n", mc["bare_hello"] / mc["gw_health"]
    printf "/webhook vs bare GET /:         %.2fx\n", mc["bare_hello"] / mc["gw_webhook"]
    printf "/webhook vs bare POST /webhook: %.2fx\n", mc["bare_webhook"] / mc["gw_webhook"]
  }'
