#!/usr/bin/env python3
"""Attack figures for the gateway (docs/security-gateway.md), against the
real binary on 127.0.0.0/8 only.

    benches/gateway/attack.py starve [BIN]   # 50 idle sockets from 127.0.0.2, max_connections = 8:
                                             # how long /health from 127.0.0.1 takes (target: < 1 s)
    benches/gateway/attack.py bodies [BIN]   # 200 concurrent unauthenticated 1 MiB posts to
                                             # /webhook/slack: RSS growth (target: <= 32 MiB)
    benches/gateway/attack.py control [BIN]  # 3,000 idle control-socket connections: RSS growth,
                                             # how many are served, `status` still answering

BIN defaults to target/release/zeroclaw (`cargo build --release`). Each run
starts `zeroclaw gateway --port 0` on a private state dir and stops it.
"""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

MIB = 1024 * 1024


def start(bin_path, gateway_keys, rest=""):
    tmp = tempfile.mkdtemp(prefix="zeroclaw-attack-")
    config = os.path.join(tmp, "config.toml")
    with open(config, "w") as f:
        f.write(
            f'[daemon]\nstate_dir = "{tmp}/state"\n[gateway]\nport = 0\n'
            f'auth_token = "attack-token"\n{gateway_keys}\n{rest}\n'
        )
    proc = subprocess.Popen(
        [bin_path, "--config", config, "gateway", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=open(os.path.join(tmp, "stderr.log"), "w"),
        text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        sys.exit(f"the gateway did not start; see {tmp}/stderr.log")
    host, port = url[len("http://"):].rsplit(":", 1)
    return proc, (host, int(port))


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


def health_ms(addr, timeout=60.0):
    started = time.monotonic()
    s = socket.create_connection(addr, timeout=timeout, source_address=("127.0.0.1", 0))
    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
    try:
        reply = s.recv(64)
    except TimeoutError:
        reply = f"no answer within {timeout:.0f} s".encode()
    s.close()
    elapsed = (time.monotonic() - started) * 1000
    return elapsed, reply.split(b"\r\n", 1)[0].decode(errors="replace")


def starve(bin_path):
    proc, addr = start(bin_path, "max_connections = 8\nread_timeout = 60")
    try:
        idle = []
        for _ in range(50):
            s = socket.socket()
            s.bind(("127.0.0.2", 0))
            s.connect(addr)
            idle.append(s)
        time.sleep(0.2)  # let the accept loop see all 50 before /health arrives
        times = []
        for _ in range(int(os.environ.get("ROUNDS", "5"))):
            ms, status = health_ms(addr)
            times.append(ms)
        print(f"50 idle sockets from 127.0.0.2, max_connections = 8: /health from 127.0.0.1 "
              f"answered '{status}' in {', '.join(f'{t:.1f}' for t in times)} ms "
              f"(max {max(times):.1f} ms; target < 1000 ms)")
        for s in idle:
            s.close()
    finally:
        stop(proc)


def post(addr, head, body_bytes, chunked, results, i):
    try:
        s = socket.create_connection(addr, timeout=60)
        s.sendall(head)
        piece = b" " * 65536
        sent = 0
        while sent < body_bytes:
            data = piece if not chunked else b"10000\r\n" + piece + b"\r\n"
            s.sendall(data)
            sent += len(piece)
        if chunked:
            s.sendall(b"0\r\n\r\n")
        reply = s.recv(64)
        results[i] = reply.split(b"\r\n", 1)[0].decode(errors="replace")
        s.close()
    except OSError as e:
        results[i] = f"({type(e).__name__})"


def bodies(bin_path):
    rest = (
        '[channel.slack]\nbot_token = "xoxb-attack"\nsigning_secret = "attack-secret"\n'
        'allowed_channels = ["C1"]\napi_base = "http://127.0.0.1:9"\n'
    )
    for chunked in (False, True):
        proc, addr = start(bin_path, "read_timeout = 60", rest)
        try:
            time.sleep(0.5)
            before = rss_kib(proc.pid)
            peak = [before]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], rss_kib(proc.pid))
                    time.sleep(0.005)

            sampler = threading.Thread(target=sample)
            sampler.start()
            length = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {MIB}"
            head = (
                "POST /webhook/slack HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                f"X-Slack-Request-Timestamp: {int(time.time())}\r\n"
                f"X-Slack-Signature: v0={'ab' * 32}\r\n"
                f"Content-Type: application/json\r\n{length}\r\n\r\n"
            ).encode()
            results = [None] * 200
            threads = [
                threading.Thread(target=post, args=(addr, head, MIB, chunked, results, i))
                for i in range(200)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(0.5)
            done.set()
            sampler.join()
            after = rss_kib(proc.pid)
            answers = {}
            for r in results:
                answers[r] = answers.get(r, 0) + 1
            mode = "chunked" if chunked else "Content-Length"
            print(f"200 concurrent 1 MiB posts to /webhook/slack ({mode}, forged signature "
                  f"headers): RSS {before / 1024:.1f} -> peak {peak[0] / 1024:.1f}, after "
                  f"{after / 1024:.1f} MiB (growth {(peak[0] - before) / 1024:.1f} MiB; target "
                  f"<= 32 MiB); answers {answers}")
        finally:
            stop(proc)


def control(bin_path):
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
    tmp = tempfile.mkdtemp(prefix="zeroclaw-attack-")
    config = os.path.join(tmp, "config.toml")
    with open(config, "w") as f:
        f.write(f'[daemon]\nstate_dir = "{tmp}/state"\n[gateway]\nenabled = false\n')
    sock = f"{tmp}/state/zeroclaw.sock"
    proc = subprocess.Popen(
        [bin_path, "--config", config, "daemon"],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(tmp, "stderr.log"), "w"),
    )
    try:
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.02)
        time.sleep(0.5)
        before = rss_kib(proc.pid)
        conns = []
        for _ in range(3000):
            c = socket.socket(socket.AF_UNIX)
            c.connect(sock)
            conns.append(c)
        time.sleep(1.0)
        during = rss_kib(proc.pid)
        busy = 0
        for c in conns:
            c.setblocking(False)
            try:
                if b"busy" in c.recv(4096):
                    busy += 1
            except BlockingIOError:
                pass
        out = subprocess.run(
            [bin_path, "--config", config, "status"], capture_output=True, timeout=30
        )
        status = out.returncode
        if status != 0:
            print(out.stderr.decode(errors="replace").strip())
        print(f"3,000 idle control-socket connections: RSS {before / 1024:.1f} -> "
              f"{during / 1024:.1f} MiB (growth {(during - before) / 1024:.1f} MiB); "
              f"{busy} answered busy; `zeroclaw status` exit {status} while they are open")
        for c in conns:
            c.close()
    finally:
        stop(proc)


def main():
    commands = {"starve": starve, "bodies": bodies, "control": control}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    bin_path = sys.argv[2] if len(sys.argv) > 2 else "target/release/zeroclaw"
    commands[sys.argv[1]](bin_path)


if __name__ == "__main__":
    main()
