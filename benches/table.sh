#!/usr/bin/env bash
# The benchmark table of benches/README.md, measured in one run on
# this machine: builds the release binaries once, runs the existing benches
# and prints a markdown table on stdout (their raw output goes to stderr).
#
#   benches/table.sh            # about 6 minutes after the build
#   IDLE_SECS=60 WRK_ROUNDS=3 CRON_SECS=60 benches/table.sh
#
# Pieces reused, not duplicated:
#   benches/daemon.rs        cold start to READY=1 (median of 20), status round trip
#   examples/soak.rs idle    RSS of gateway + 3 channels on fakes + 100 jobs after IDLE_SECS,
#                            and restart -> running again
#   benches/gateway/run.sh   wrk against the gateway and a bare axum hello-world
#   benches/cron_actors.rs   10,000 job actors: RSS and fire jitter
# Needs wrk (Debian: apt-get install -y wrk). Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."

IDLE_SECS=${IDLE_SECS:-60}
WRK_ROUNDS=${WRK_ROUNDS:-3}
CRON_SECS=${CRON_SECS:-60}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }

log() { echo "== $*" >&2; }
log "build (release)"
cargo build --release --example soak --example bare_axum --example gateway_bench >&2
cargo bench --no-run --bench daemon --bench cron_actors >&2 2>&1
# Last and on its own: built together with examples or benches, the daemon
# would get the dev-dependencies' features too and not be the binary users get.
cargo build --release --bin zeroclaw >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A copy, because `cargo bench` below relinks target/release/zeroclaw.
BIN=$tmp/zeroclaw
cp target/release/zeroclaw "$BIN"
export ZEROCLAW_BIN=$BIN

# A Duration's Debug text (`1.5ms`, `850.2µs`, `2.1s`) in milliseconds.
ms() {
  awk -v d="$1" 'BEGIN {
    if (d ~ /ns$/) { sub(/ns$/, "", d); printf "%.3f", d / 1e6 }
    else if (d ~ /µs$/ || d ~ /us$/) { sub(/(µs|us)$/, "", d); printf "%.3f", d / 1e3 }
    else if (d ~ /ms$/) { sub(/ms$/, "", d); printf "%.3f", d }
    else if (d ~ /s$/) { sub(/s$/, "", d); printf "%.3f", d * 1e3 }
    else print "?" }'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" "$2" | head -n1; }

log "binary size"
size=$(stat -c %s "$BIN")

log "daemon bench: cold start, status round trip"
cargo bench --bench daemon 2>/dev/null | tee "$tmp/daemon" >&2
cold=$(ms "$(sed -n 's/^cold start to READY=1: median \([^,]*\),.*/\1/p' "$tmp/daemon")")
cold_max=$(ms "$(sed -n 's/^cold start.*max \([^ ]*\) .*/\1/p' "$tmp/daemon")")
status_med=$(ms "$(sed -n 's/^status round trip: median \([^,]*\),.*/\1/p' "$tmp/daemon")")
status_p99=$(ms "$(sed -n 's/^status round trip:.*p99 \([^ ]*\) .*/\1/p' "$tmp/daemon")")
rss_min=$(sed -n 's/^idle RSS after 10 s: //p' "$tmp/daemon")

log "idle daemon with gateway + 3 channels on fakes + 100 jobs, ${IDLE_SECS}s"
target/release/examples/soak "$BIN" idle "$IDLE_SECS" | tee "$tmp/idle" >&2
idle_kib=$(field idle_rss_kib "$tmp/idle")
idle_fds=$(field idle_fds "$tmp/idle")
idle_anon=$(field idle_rss_anon_kib "$tmp/idle")
idle_file=$(field idle_rss_file_kib "$tmp/idle")
restart_med=$(field restart_to_running_ms_median "$tmp/idle")
restart_max=$(field restart_to_running_ms_max "$tmp/idle")

log "gateway vs bare axum (wrk, $WRK_ROUNDS rounds)"
ROUNDS=$WRK_ROUNDS benches/gateway/run.sh 2>"$tmp/wrk.err" | tee "$tmp/wrk" >&2
row() { grep "^$1" "$tmp/wrk" | awk '{print $(NF-3), $(NF-2)}'; }
read -r bare_rps bare_p99 < <(row "bare axum GET /")
read -r health_rps health_p99 < <(row "gateway GET /health")
read -r bwh_rps bwh_p99 < <(row "bare axum POST /webhook")
read -r wh_rps wh_p99 < <(row "gateway POST /webhook")
health_ratio=$(awk -v a="$health_rps" -v b="$bare_rps" 'BEGIN { printf "%.2f", a / b }')
health_cpu=$(sed -n 's/^\/health  vs bare GET \/: *\([0-9.]*\)x$/\1/p' "$tmp/wrk" | tail -n1)
wh_ratio=$(awk -v a="$wh_rps" -v b="$bare_rps" 'BEGIN { printf "%.2f", a / b }')

log "10,000 cron job actors, ${CRON_SECS}s"
CRON_BENCH_JOBS=10000 CRON_BENCH_SECS=$CRON_SECS cargo bench --bench cron_actors 2>/dev/null | tee "$tmp/cron" >&2
cron_rss=$(field rss_running "$tmp/cron")
cron_start=$(field start "$tmp/cron")
cron_p50=$(field p50 "$tmp/cron")
cron_p99=$(field p99 "$tmp/cron")
cron_max=$(field max "$tmp/cron")
cron_runs=$(sed -n 's/.*runs=\([0-9]*\) (expected ~\([0-9]*\)).*/\1 of ~\2/p' "$tmp/cron")

ok() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "**missed**"; fi; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }

echo
echo "Measured $(date -u +%F) on $(nproc) CPUs ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -n1)), load average at the end $(cut -d' ' -f1-3 /proc/loadavg), by \`benches/table.sh\`."
echo
echo "| figure | value | target | |"
echo "|---|---|---|---|"
echo "| release binary size (stripped) | $(awk -v s="$size" 'BEGIN { printf "%.2f MiB", s / 1048576 }') | ≤ 8 MB | $(ok "$size <= 8000000") |"
echo "| cold start to READY=1, median of 20 (max) | ${cold} ms (${cold_max} ms) | ≤ 10 ms | $(ok "$cold <= 10") |"
echo "| idle RSS, gateway + 3 channels on fakes + 100 jobs, after ${IDLE_SECS} s | $(mib "$idle_kib"): $(mib "$idle_anon") anonymous + $(mib "$idle_file") file-backed (binary text); $idle_fds fds | ≤ 5 MB | $(ok "$idle_kib * 1024 <= 5000000") |"
echo "| idle RSS, gateway + 1 job, no channels, after 10 s (benches/daemon.rs) | $rss_min | | |"
echo "| bare axum GET / | $bare_rps req/s, p99 $bare_p99 ms | | |"
echo "| gateway GET /health | $health_rps req/s, p99 $health_p99 ms (${health_ratio}× bare; by CPU/request ${health_cpu}×) | ≥ 0.9× bare | $(ok "$health_ratio >= 0.9") |"
echo "| bare axum POST /webhook | $bwh_rps req/s, p99 $bwh_p99 ms | | |"
echo "| gateway POST /webhook (echo provider) | $wh_rps req/s, p99 $wh_p99 ms (${wh_ratio}× bare GET /) | | |"
echo "| \`status\` round trip over the control socket, median (p99) | ${status_med} ms (${status_p99} ms) | | |"
echo "| \`restart <child>\` → child running again, median (max) of 20 | ${restart_med} ms (${restart_max} ms) | | |"
echo "| 10,000 cron job actors: RSS while running (start time) | ${cron_rss} (start ${cron_start}) | | |"
echo "| 10,000 jobs: fire jitter started−scheduled p50 / p99 / max | ${cron_p50} / ${cron_p99} / ${cron_max} ($cron_runs runs in ${CRON_SECS} s) | | |"
