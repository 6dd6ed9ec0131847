#!/usr/bin/env python3
"""http_receiver.py: a webhook receiver for vigil's integration tests.

Listens on 127.0.0.1 (port 0: the kernel picks one, written to --port-file),
answers every POST/PUT/PATCH/DELETE with the next status scripted for its
path (--script /path=500,200: 500 first, then 200 for ever; default 200),
and appends one JSON line per request to --log: method, path, headers,
body (text) and the status it answered. The line is written before the
answer leaves, so a client that saw the answer finds its request logged.

Python 3 standard library only.
"""
import argparse
import json
import ssl
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--script", action="append", default=[],
                    help="/path=STATUS[,STATUS...]")
    ap.add_argument("--retry-after", default=None,
                    help="Retry-After value sent with 429 and 503")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    args = ap.parse_args()

    scripts = {}
    for s in args.script:
        path, _, statuses = s.partition("=")
        scripts[path] = [int(x) for x in statuses.split(",") if x]
    counters = {}
    lock = threading.Lock()
    log = open(args.log, "a", encoding="utf-8")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *a):
            pass

        def handle_any(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n > 0 else b""
            with lock:
                k = counters.get(self.path, 0)
                counters[self.path] = k + 1
                seq = scripts.get(self.path, [200])
                status = seq[min(k, len(seq) - 1)]
                rec = {
                    "method": self.command,
                    "path": self.path,
                    "headers": {h.lower(): v for h, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                    "status": status,
                }
                log.write(json.dumps(rec, sort_keys=True) + "\n")
                log.flush()
            out = json.dumps({"status": status}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(out)))
            if status in (429, 503) and args.retry_after is not None:
                self.send_header("Retry-After", args.retry_after)
            self.end_headers()
            self.wfile.write(out)

        do_POST = do_PUT = do_PATCH = do_DELETE = handle_any

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    # rename: a reader never sees a half-written port
    import os
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
