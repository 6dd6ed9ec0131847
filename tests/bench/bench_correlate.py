#!/usr/bin/env python3
"""End-to-end latency of a correlation alert in vigild (make bench-correlate).

vigild runs with the shipped rules, its alerts on stdout, its correlation
state in the Redis given; `vigil loadgen --rate RATE` keeps a steady load on
its TCP input, and on a second connection this script sends, every INTERVAL
seconds, a burst of ten failed SSH passwords from an address of its own (one
"SSH password guessing" alert each, at the tenth). It notes the time right
after the last line of a burst left, and the time the alert for that address
came out of vigild; prints p50, p99 and max of the difference in ms, and how
many bursts got no alert.

usage: bench_correlate.py VIGILD VIGIL ROOT REDIS_URL WORKDIR RATE SECONDS
"""
import datetime
import json
import os
import socket
import subprocess
import sys
import threading
import time

BURST = 10
INTERVAL = 0.1
WARMUP = 3.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


PROCS = []


def main():
    try:
        return run()
    finally:
        # nothing this script started outlives it
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()


def run():
    vigild, vigil, root, url, work, rate, secs = sys.argv[1:8]
    rate, secs = int(rate), float(secs)
    port = free_port()
    conf = os.path.join(work, "vigil-lat.yml")
    with open(conf, "w") as f:
        f.write(f"""inputs:
  - {{name: tcp, type: tcp, listen: "127.0.0.1:{port}"}}
redis:
  url: "{url}"
parsers: [{root}/parsers]
rules: [{root}/rules]
playbooks: [{root}/playbooks]
outputs:
  file: ""
  stdout: true
http:
  listen: ""
data_dir: {work}/var
""")
    env = dict(os.environ)
    d = subprocess.Popen([vigild, "-c", conf], stdout=subprocess.PIPE,
                         stderr=open(os.path.join(work, "vigild-lat.err"), "w"),
                         env=env)
    PROCS.append(d)
    # only correlation alerts reach this process (vigild writes every
    # detection too, tens of thousands a second)
    g = subprocess.Popen(["grep", "--line-buffered", '"kind":"correlation"'],
                         stdin=d.stdout, stdout=subprocess.PIPE)
    PROCS.append(g)
    d.stdout.close()
    seen = {}

    def reader():
        for line in g.stdout:
            t = time.time()
            try:
                a = json.loads(line)
            except ValueError:
                continue
            ip = a.get("group", {}).get("source.ip", "")
            if ip.startswith("100.") and ip not in seen:
                seen[ip] = t

    th = threading.Thread(target=reader, daemon=True)
    th.start()
    s = None
    for _ in range(300):
        try:
            s = socket.create_connection(("127.0.0.1", port))
            break
        except OSError:
            time.sleep(0.1)
    if s is None:
        print("bench: vigild did not listen", file=sys.stderr)
        d.kill()
        return 1
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    lg = subprocess.Popen([vigil, "loadgen", "--target", f"tcp://127.0.0.1:{port}",
                           "--rate", str(rate), "--duration", str(secs + WARMUP + 2),
                           "--wait", "0", "-q"],
                          stderr=open(os.path.join(work, "loadgen-lat.err"), "w"))
    PROCS.append(lg)
    time.sleep(WARMUP)
    sent = {}
    n = 0
    end = time.time() + secs
    while time.time() < end:
        n += 1
        ip = f"100.{64 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"
        ts = datetime.datetime.now(datetime.timezone.utc)
        stamp = ts.strftime("%b %e %H:%M:%S")
        lines = [f"<86>{stamp} lat sshd[{n}]: Failed password for root from {ip} "
                 f"port {40000 + i} ssh2\n".encode() for i in range(BURST)]
        s.sendall(b"".join(lines[:-1]))
        s.sendall(lines[-1])
        sent[ip] = time.time()
        time.sleep(INTERVAL)
    time.sleep(2.0)
    lg.wait()
    s.close()
    d.terminate()
    try:
        d.wait(timeout=30)
    except subprocess.TimeoutExpired:
        d.kill()
    g.wait()
    th.join(timeout=5)
    lat = sorted((seen[ip] - t) * 1000 for ip, t in sent.items() if ip in seen)
    missing = sum(1 for ip in sent if ip not in seen)
    if not lat:
        print("latency: no alert came out", file=sys.stderr)
        return 1

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100.0 * len(lat)))]
    print(f"{len(sent)} {missing} {pct(50):.2f} {pct(99):.2f} {lat[-1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
