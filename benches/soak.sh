#!/usr/bin/env bash
# Soak with fault injection, loopback only, bounded in time.
#
#   benches/soak.sh [DURATION]      # default 10m; e.g. benches/soak.sh 2m
#   SOAK_KEEP=1 benches/soak.sh 2m  # keep the state dir (config, log, cron db)
#
# examples/soak.rs starts fakes of Telegram, Discord, Slack and an
# OpenAI-compatible provider on 127.0.0.1, the release daemon on them with 3
# cron jobs firing every second, then for DURATION: webhook POSTs at 20/s, one
# message per channel every 0.5 s (each in a chat of its own), random faults
# (Telegram getUpdates 502 / dropped / sendMessage 429; Discord socket drops,
# withheld heartbeat ACKs, 429 and 502 on posts; Slack socket drops,
# `disconnect` frames, 429 on posts, 500 on connections.open; provider 500/429
# on 10% of requests), whole-service outages of 30 s (every call to Telegram,
# Discord or Slack refused or dropped, in turn, one a minute, none in the last
# minute) and `zeroclaw restart <child>` every 3 s over every child.
# Then it asserts: the daemon never exited; every child is running; every
# Telegram, Discord and Slack message was answered exactly once (the Discord
# fake replays missed events on RESUME, as Discord does); every webhook answer
# was its own; every cron run in the history has a final status and matches
# a provider request; RSS grew <= 1 MiB after warm-up; no fd growth. Exit status 1 on a failure.
# Not part of CI.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-10m}
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}
# Two invocations: built together with an example, the daemon would get the
# dev-dependencies' features too and not be the binary users get.
cargo build --release --example soak >&2
cargo build --release --bin zeroclaw >&2
# The whole run is bounded: the soak itself, then at most ~2 minutes of checks.
secs=$(awk -v d="$DURATION" 'BEGIN {
  n = d + 0; u = d; sub(/^[0-9.]+/, "", u)
  if (u == "m" || u == "min") n *= 60; else if (u == "h") n *= 3600; else if (u == "ms") n /= 1000
  printf "%d", n }')
exec timeout --kill-after=10 $((secs + 180)) target/release/examples/soak target/release/zeroclaw soak "$DURATION"
