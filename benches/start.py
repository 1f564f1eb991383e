#!/usr/bin/env python3
# Start to the first /health 200 of one zeroclaw binary, gateway only, fresh
# state dir each run: python3 benches/start.py BIN [RUNS]. 127.0.0.1 only.
import os, shutil, socket, statistics, subprocess, sys, tempfile, time, urllib.request
binary = os.path.abspath(sys.argv[1]); runs = int(sys.argv[2]) if len(sys.argv) > 2 else 11
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]
ts = []
for i in range(runs):
    home = tempfile.mkdtemp(); port = free_port()
    cfg = os.path.join(home, "c.toml")
    open(cfg, "w").write(f'[daemon]\nstate_dir = "{home}/state"\n[gateway]\nport = {port}\nauth_token = "bench-token-0123456789"\n')
    t0 = time.monotonic()
    p = subprocess.Popen([binary, "--config", cfg, "daemon"], cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200: break
        except OSError: time.sleep(0.0005)
    ts.append((time.monotonic() - t0) * 1000)
    p.terminate(); p.wait(); shutil.rmtree(home)
print(f"median {statistics.median(ts):.1f} ms, min {min(ts):.1f}, max {max(ts):.1f}")
