#!/usr/bin/env bash
# Load benchmark: the zeroclaw gateway next to a bare axum hello-world,
# same wrk settings, figures side by side.
#
#   benches/gateway/run.sh                 # 3 rounds of 5 s per endpoint, 2 threads, 50 connections
#   DURATION=30s CONNS=100 ROUNDS=1 benches/gateway/run.sh
#
# The four runs are interleaved and repeated ROUNDS times; the best round of
# each endpoint is reported (with its p99), so a burst of load from other
# processes on a shared machine does not decide the ratio.
#
# Targets (issue 5): /health >= 0.9x bare GET /, /webhook >= 0.7x bare.
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

cargo build --release --example gateway_bench --example bare_axum >&2
BIN=target/release/examples

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# Start a server on port 0 and print the URL it reports on stdout.
start() {
  local name=$1; shift
  "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" &
  pids+=($!)
  for _ in $(seq 1 100); do
    local url
    url=$(sed -n 's/^listening on //p' "$tmp/$name.out" | head -n1)
    if [ -n "$url" ]; then echo "$url"; return 0; fi
    sleep 0.1
  done
  echo "$name did not start:" >&2; cat "$tmp/$name.err" >&2; exit 1
}

BARE=$(start bare "$BIN/bare_axum" 0)
GW=$(start gateway "$BIN/gateway_bench" 0 "$TOKEN")

# Sanity: the gateway answers the authenticated webhook.
curl -fsS -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' \
  -d '{"message":"ping"}' "$GW/webhook" >/dev/null

run() { # label script url
  local out
  out=$(wrk -t"$THREADS" -c"$CONNS" -d"$DURATION" --latency -s "$2" "$3" | grep '^RESULT')
  echo "$1 $out"
}

results=$(
  for _ in $(seq 1 "$ROUNDS"); do
    run bare_hello "$HERE/report.lua" "$BARE/"
    run gw_health "$HERE/report.lua" "$GW/health"
    run bare_webhook "$HERE/webhook.lua" "$BARE/webhook"
    run gw_webhook "$HERE/webhook.lua" "$GW/webhook"
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
  { split($3, a, "="); split($4, b, "="); split($5, c, "=");
    if ($1 == "bare_hello") r++
    round[$1, r] = a[2]
    if (a[2] + 0 > rps[$1] + 0) { rps[$1] = a[2]; p99[$1] = b[2] }
    err[$1] += c[2] }
  END {
    printf "%-26s %12s %10s %8s\n", "endpoint (best round)", "req/s", "p99 ms", "errors"
    n = split("bare_hello gw_health bare_webhook gw_webhook", k, " ")
    names["bare_hello"] = "bare axum GET /"
    names["gw_health"] = "gateway GET /health"
    names["bare_webhook"] = "bare axum POST /webhook"
    names["gw_webhook"] = "gateway POST /webhook"
    for (i = 1; i <= n; i++)
      printf "%-26s %12d %10.2f %8d\n", names[k[i]], rps[k[i]], p99[k[i]], err[k[i]]
    for (i = 1; i <= r; i++) {
      h[i] = round["gw_health", i] / round["bare_hello", i]
      w[i] = round["gw_webhook", i] / round["bare_hello", i]
      x[i] = round["gw_webhook", i] / round["bare_webhook", i]
    }
    printf "\nratios (best rounds; median of per-round ratios in brackets):\n"
    printf "/health  vs bare GET /:         %.2fx [%.2fx] (target >= 0.90)\n", rps["gw_health"] / rps["bare_hello"], median(h, r)
    printf "/webhook vs bare GET /:         %.2fx [%.2fx] (target >= 0.70)\n", rps["gw_webhook"] / rps["bare_hello"], median(w, r)
    printf "/webhook vs bare POST /webhook: %.2fx [%.2fx]\n", rps["gw_webhook"] / rps["bare_webhook"], median(x, r)
  }'
