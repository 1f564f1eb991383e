#!/usr/bin/env bash
# The shipped daemon (not the gateway_bench example): `zeroclaw daemon` with
# the echo provider and its real state store, beside bare axum, wrk -t2 -c50,
# 3 interleaved rounds of 5 s on GET /health | / and POST /webhook (256
# sessions per wrk thread, benches/gateway/webhook.lua). Every webhook turn
# is remembered, so this measures the store's path too (benches/README.md).
#
#   cargo build --release --bin zeroclaw --example bare_axum && benches/gateway/daemon.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
d=$(mktemp -d); P=$(free_port); B=$(free_port)
cat >"$d/config.toml" <<T
[daemon]
state_dir = "$d/state"
[provider]
name = "echo"
[gateway]
port = $P
auth_token = "bench-token"
[logging]
level = "warn"
T
target/release/zeroclaw --config "$d/config.toml" daemon >/dev/null 2>&1 & Z=$!
target/release/examples/bare_axum "$B" >/dev/null 2>&1 & A=$!
trap 'kill $Z $A 2>/dev/null; rm -rf "$d"' EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$P/health" >/dev/null && curl -fs "http://127.0.0.1:$B/" >/dev/null && break
  sleep 0.1
done
export TOKEN=bench-token
rps() { wrk -t2 -c50 -d5s "$@" | awk '/^Requests\/sec:/ {print $2}'; }
for r in 1 2 3; do
  echo "round $r: bare GET / $(rps "http://127.0.0.1:$B/")," \
    "/health $(rps "http://127.0.0.1:$P/health")," \
    "bare POST /webhook $(rps -s benches/gateway/webhook.lua "http://127.0.0.1:$B/webhook")," \
    "POST /webhook $(rps -s benches/gateway/webhook.lua "http://127.0.0.1:$P/webhook")"
done
