#!/usr/bin/env bash
# Check the shipped unit (and the user unit `zeroclaw service install --user`
# makes from it) with `systemd-analyze verify`.
#
#   systemd/verify.sh [BINARY]
#
# verify insists that ExecStart= names an executable, and the shipped unit
# names /usr/local/bin/zeroclaw, so a copy pointing at BINARY is checked
# (default: target/debug/zeroclaw, else /bin/true as a stand-in). The unknown
# user `zeroclaw` is not an error for verify. Any line verify prints about the
# unit fails the check. Without systemd-analyze (Debian: apt-get install
# systemd) the check is skipped with exit 0, or fails when REQUIRE_SYSTEMD=1.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"

if ! command -v systemd-analyze >/dev/null 2>&1; then
	echo "SKIP: systemd-analyze not found (apt-get install systemd)" >&2
	[ "${REQUIRE_SYSTEMD:-0}" = 1 ] && exit 1
	exit 0
fi

bin="${1:-$repo/target/debug/zeroclaw}"
[ -x "$bin" ] || bin=/bin/true
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/runtime"
export XDG_RUNTIME_DIR="$tmp/runtime" SYSTEMD_LOG_COLOR=0

check() { # check LABEL UNIT [--user]
	local label="$1" unit="$2" out
	shift 2
	if ! out="$(systemd-analyze "$@" verify "$unit" 2>&1)"; then
		echo "FAIL: $label" >&2
		echo "$out" >&2
		return 1
	fi
	if grep -q 'zeroclaw\.service' <<<"$out"; then
		echo "FAIL: $label: verify complained" >&2
		echo "$out" >&2
		return 1
	fi
	echo "ok: $label"
}

mkdir "$tmp/system" "$tmp/user"
sed "s#^ExecStart=/usr/local/bin/zeroclaw #ExecStart=$bin #" \
	"$here/zeroclaw.service" >"$tmp/system/zeroclaw.service"
grep -q "^ExecStart=$bin " "$tmp/system/zeroclaw.service" || {
	echo "FAIL: no 'ExecStart=/usr/local/bin/zeroclaw ...' line in $here/zeroclaw.service" >&2
	exit 1
}
check "systemd/zeroclaw.service (system)" "$tmp/system/zeroclaw.service"

if [ "$bin" != /bin/true ]; then
	"$bin" service install --print --user --bin "$bin" >"$tmp/user/zeroclaw.service"
	check "zeroclaw service install --user (user unit)" "$tmp/user/zeroclaw.service" --user
fi
