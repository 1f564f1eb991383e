#!/usr/bin/env python3
"""What open /status/events streams cost the daemon, on 127.0.0.1 only.

    benches/gateway/sse.py [BIN] [STREAMS] [IDLE_SECS]

BIN defaults to target/release/zeroclaw, STREAMS to 50, IDLE_SECS to 40
(past `[gateway] connection_timeout`, so the streams are seen to stay open).
It starts `zeroclaw daemon` (gateway, one cron job) on a private state dir,
opens one stream and closes it (the page's code paths warmed), then reports
RSS and CPU while idle with no stream open and with STREAMS open, each
stream having received its first event. Target: <= 2 MiB RSS for 50
streams and no measurable CPU when idle.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOKEN = "sse-bench-token"
TICK = os.sysconf("SC_CLK_TCK")


def start(bin_path):
    tmp = tempfile.mkdtemp(prefix="zeroclaw-sse-")
    config = os.path.join(tmp, "config.toml")
    with open(config, "w") as f:
        f.write(
            f'[daemon]\nstate_dir = "{tmp}/state"\n[gateway]\nport = 0\n'
            f'auth_token = "{TOKEN}"\n\n[[cron.jobs]]\nname = "tick"\n'
            f'schedule = "0 0 1 1 *"\nmessage = "tick"\n'
        )
    proc = subprocess.Popen(
        [bin_path, "--config", config, "daemon"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(tmp, "stderr.log"), "w"),
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        out = subprocess.run(
            [bin_path, "--config", config, "status", "--json"],
            capture_output=True, text=True,
        )
        if out.returncode == 0:
            for c in json.loads(out.stdout)["children"]:
                detail = c.get("detail") or ""
                if c["name"] == "gateway" and detail.startswith("http://"):
                    host, port = detail[len("http://"):].rsplit(":", 1)
                    return proc, (host, int(port))
        time.sleep(0.1)
    proc.kill()
    sys.exit(f"the daemon did not start; see {tmp}/stderr.log")


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def open_stream(addr):
    s = socket.create_connection(addr, timeout=10)
    s.sendall(
        f"GET /status/events HTTP/1.1\r\nHost: {addr[0]}:{addr[1]}\r\n"
        f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    got = b""
    while b"event: state" not in got:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(f"a stream closed before its first event: {got[:200]!r}")
        got += chunk
    if not got.startswith(b"HTTP/1.1 200"):
        sys.exit(f"/status/events answered {got[:100]!r}")
    s.setblocking(False)
    return s


def still_open(s):
    try:
        data = s.recv(65536)
        return data != b""
    except BlockingIOError:
        return True
    except OSError:
        return False


def idle(pid, secs):
    t0 = cpu_ticks(pid)
    time.sleep(secs)
    return (cpu_ticks(pid) - t0) / TICK


def main():
    bin_path = sys.argv[1] if len(sys.argv) > 1 else "target/release/zeroclaw"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    secs = float(sys.argv[3]) if len(sys.argv) > 3 else 40
    proc, addr = start(bin_path)
    try:
        open_stream(addr).close()
        time.sleep(2)  # the hub notices no stream is left and stops
        rss0 = rss_kib(proc.pid)
        cpu0 = idle(proc.pid, secs)
        streams = [open_stream(addr) for _ in range(n)]
        time.sleep(1)
        rss1 = rss_kib(proc.pid)
        cpu1 = idle(proc.pid, secs)
        rss2 = rss_kib(proc.pid)
        alive = sum(still_open(s) for s in streams)
        print(f"{n} streams, idle {secs:.0f} s each way, {os.cpu_count()} CPUs, "
              f"load {os.getloadavg()[0]:.2f}")
        print(f"RSS: {rss0} KiB with none open, {rss1} KiB with {n} open "
              f"(+{rss1 - rss0} KiB = {(rss1 - rss0) / 1024:.2f} MiB), "
              f"{rss2} KiB after idling")
        print(f"CPU while idle: {cpu0:.2f} s with none open, {cpu1:.2f} s with {n} open "
              f"({100 * cpu1 / secs:.2f} % of one CPU)")
        print(f"streams still open after idling: {alive}/{n}")
        for s in streams:
            s.close()
    finally:
        stop(proc)


if __name__ == "__main__":
    main()
