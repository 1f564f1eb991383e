#!/usr/bin/env bash
# This binary beside zeroclaw 0.1.7 (the release the operator's guide
# matches) and a bare axum hello-world, measured in one run on this
# machine: binary size, start to the first 200 from the health route
# (median of 11), RSS after 10 s idle (gateway only), and
# `wrk -t1 -c32 -d5s` on the health route.
#
#   benches/vs_zeroclaw.sh            # installs zeroclaw 0.1.7 under target/peer when missing
#   PEER=/path/to/zeroclaw benches/vs_zeroclaw.sh
#
# Needs wrk (Debian: apt-get install -y wrk) and python3. Talks to
# 127.0.0.1 only; figures in benches/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

PEER_ROOT=${PEER_ROOT:-target/peer}
PEER=${PEER:-$PEER_ROOT/bin/zeroclaw}
if [ ! -x "$PEER" ]; then
  cargo install zeroclaw --version 0.1.7 --locked --root "$PEER_ROOT" >&2
fi
# Absolute: each server runs in its own temporary directory.
PEER=$(realpath "$PEER")
command -v wrk >/dev/null || { echo "wrk not found: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --bin zeroclaw --example bare_axum >&2

exec python3 - "$PWD/target/release/zeroclaw" "$PEER" "$PWD/target/release/examples/bare_axum" <<'PY'
import os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request

ours, peer, bare = sys.argv[1:4]
RUNS = 11

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]

def command(kind, port, home):
    """The command line and environment that serve HTTP on `port`."""
    env = dict(os.environ, HOME=home)
    env.pop("ZEROCLAW_CONFIG", None)
    if kind == "ours":
        cfg = os.path.join(home, "config.toml")
        with open(cfg, "w") as f:
            f.write(f'[daemon]\nstate_dir = "{home}/state"\n[gateway]\nport = {port}\n'
                    f'auth_token = "bench-token-0123456789"\n')
        return [ours, "--config", cfg, "daemon"], env, "/health"
    if kind == "peer":
        return [peer, "gateway", "--port", str(port)], env, "/health"
    return [bare, str(port)], env, "/"

def up(port, path, proc, deadline):
    url = f"http://127.0.0.1:{port}{path}"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.0005)
    raise SystemExit(f"{proc.args[0]}: no 200 from {url}")

def start(kind):
    home = tempfile.mkdtemp(prefix=f"vs-{kind}-")
    port = free_port()
    argv, env, path = command(kind, port, home)
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, env=env, cwd=home, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    up(port, path, proc, t0 + 30)
    return proc, port, path, home, time.monotonic() - t0

def stop(proc, home):
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    shutil.rmtree(home, ignore_errors=True)

def status(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0

def wrk(port, path):
    out = subprocess.run(["wrk", "-t1", "-c32", "-d5s", f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    for line in out.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    return 0.0

rows = {}
for kind, path in (("ours", ours), ("peer", peer), ("bare", bare)):
    starts = []
    for _ in range(RUNS):
        proc, _, _, home, took = start(kind)
        starts.append(took)
        stop(proc, home)
    proc, port, route, home, _ = start(kind)
    time.sleep(10)
    rss, anon = status(proc.pid, "VmRSS"), status(proc.pid, "RssAnon")
    rps = wrk(port, route)
    stop(proc, home)
    rows[kind] = dict(size=os.path.getsize(path), start=statistics.median(starts) * 1000,
                      rss=rss / 1024, anon=anon / 1024, rps=rps)

names = {"ours": "this binary", "peer": "zeroclaw 0.1.7", "bare": "bare axum"}
load = open("/proc/loadavg").read().split()[:3]
print(f"{os.cpu_count()} CPUs, load {' '.join(load)}, {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}")
print(f"| | binary bytes | start to 200, median of {RUNS} | idle RSS (anon) after 10 s | wrk -t1 -c32 req/s |")
print("|---|---|---|---|---|")
for kind in ("ours", "peer", "bare"):
    r = rows[kind]
    print(f"| {names[kind]} | {r['size']:,} | {r['start']:.1f} ms | {r['rss']:.1f} MiB ({r['anon']:.1f}) | {r['rps']:,.0f} |")
o, p, b = rows["ours"], rows["peer"], rows["bare"]
print(f"\nthis binary / zeroclaw 0.1.7: size {o['size']/p['size']:.2f}x, start {o['start']/p['start']:.2f}x, "
      f"RSS {o['rss']/p['rss']:.2f}x, req/s {o['rps']/p['rps']:.2f}x")
print(f"this binary / bare axum:      size {o['size']/b['size']:.2f}x, start {o['start']/b['start']:.2f}x, "
      f"RSS {o['rss']/b['rss']:.2f}x, req/s {o['rps']/b['rps']:.2f}x")
PY
