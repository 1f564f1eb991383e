#!/usr/bin/env bash
# Build and run every fuzz target for EXECS executions each (default
# 10,000,000), one after another, and print executions, exec/s and whether it
# crashed. Not part of CI.
#
#   fuzz/run.sh [EXECS]            all targets
#   TARGETS="config slack_event" fuzz/run.sh 1000000
#   MAX_TIME=600 fuzz/run.sh       also stop each target after 600 s
#
# The machine has a stable toolchain only: cargo-fuzz's nightly flags are
# enabled with RUSTC_BOOTSTRAP=1, and the sanitizer is off (`-s none`): the
# code under test is safe Rust, so what we hunt is panics (including
# overflow, debug assertions are on), which libFuzzer catches without ASan.
# New inputs go to fuzz/target/corpus-work/<target>; the committed seeds in
# fuzz/corpus/<target> are read, never written. Crashes land in fuzz/artifacts/.
set -u
cd "$(dirname "$0")"
EXECS="${1:-10000000}"
MAX_TIME="${MAX_TIME:-0}"
ALL="config control_request gateway_request telegram_update slack_event anthropic_reply openai_reply"
TARGETS="${TARGETS:-$ALL}"
export RUSTC_BOOTSTRAP=1
# Secrets written "${VAR}" in the seed configs resolve to these.
export ANTHROPIC_API_KEY=sk-ant-fuzz TELEGRAM_BOT_TOKEN=1:fuzz SLACK_BOT_TOKEN=xoxb-fuzz

cargo fuzz build -s none || { echo "build failed"; exit 2; }

status=0
results=()
for t in $TARGETS; do
    work="target/corpus-work/$t"
    mkdir -p "$work" "artifacts/$t"
    log="target/fuzz-$t.log"
    echo "== $t: -runs=$EXECS (log: fuzz/$log)"
    cargo fuzz run -s none "$t" "$work" "corpus/$t" -- \
        -runs="$EXECS" -max_total_time="$MAX_TIME" -print_final_stats=1 >"$log" 2>&1
    rc=$?
    runs=$(grep -oE '^stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    speed=$(grep -oE '^stat::average_exec_per_sec: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
    if [ "$rc" -eq 0 ]; then verdict="no crash"; else verdict="CRASH (rc=$rc, see fuzz/$log and fuzz/artifacts/$t)"; status=1; fi
    line=$(printf '%-16s %12s execs %8s exec/s  %s' "$t" "${runs:-?}" "${speed:-?}" "$verdict")
    echo "$line"
    results+=("$line")
done
echo
echo "== summary (EXECS=$EXECS, MAX_TIME=$MAX_TIME)"
printf '%s\n' "${results[@]}"
exit $status
