#!/usr/bin/env python3
"""smtp_sink.py: a minimal SMTP server for vigil's integration tests.

Python 3.11 on Debian 12 has no smtpd module any more, so this speaks just
enough RFC 5321 with socketserver: EHLO/HELO, MAIL FROM, RCPT TO, DATA (with
dot-unstuffing), RSET, NOOP, QUIT. Every accepted message is appended as one
JSON line to --log: envelope sender, recipients and the message text.
--fail-first N answers the first N DATA transfers with a temporary failure
(451), --reject-rcpt ADDR refuses a recipient permanently (550). Listens on
127.0.0.1, port written to --port-file.

Python 3 standard library only.
"""
import argparse
import json
import os
import socketserver
import sys
import threading


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log", required=True)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--reject-rcpt", action="append", default=[])
    args = ap.parse_args()
    lock = threading.Lock()
    state = {"data": 0}
    log = open(args.log, "a", encoding="utf-8")

    class Handler(socketserver.StreamRequestHandler):
        def reply(self, text):
            self.wfile.write(text.encode() + b"\r\n")
            self.wfile.flush()

        def handle(self):
            self.reply("220 sink.test ESMTP vigil test sink")
            mail_from, rcpts = None, []
            while True:
                line = self.rfile.readline(65536)
                if not line:
                    return
                cmd = line.decode("utf-8", "replace").rstrip("\r\n")
                verb = cmd[:4].upper()
                if verb == "EHLO":
                    self.wfile.write(b"250-sink.test\r\n250-8BITMIME\r\n"
                                     b"250 SIZE 10485760\r\n")
                    self.wfile.flush()
                elif verb == "HELO":
                    self.reply("250 sink.test")
                elif verb == "MAIL":
                    mail_from = cmd[10:].split(" ")[0].strip("<>")
                    rcpts = []
                    self.reply("250 OK")
                elif verb == "RCPT":
                    addr = cmd[8:].split(" ")[0].strip("<>")
                    if addr in args.reject_rcpt:
                        self.reply("550 5.1.1 no such user")
                    else:
                        rcpts.append(addr)
                        self.reply("250 OK")
                elif verb == "DATA":
                    if mail_from is None or not rcpts:
                        self.reply("503 need MAIL and RCPT first")
                        continue
                    self.reply("354 end with <CRLF>.<CRLF>")
                    lines = []
                    while True:
                        l = self.rfile.readline(65536)
                        if not l:
                            return
                        if l in (b".\r\n", b".\n"):
                            break
                        if l.startswith(b".."):
                            l = l[1:]
                        lines.append(l)
                    with lock:
                        state["data"] += 1
                        fail = state["data"] <= args.fail_first
                        if not fail:
                            rec = {"from": mail_from, "to": rcpts,
                                   "data": b"".join(lines).decode("utf-8",
                                                                   "replace")}
                            log.write(json.dumps(rec, sort_keys=True) + "\n")
                            log.flush()
                    if fail:
                        self.reply("451 4.3.0 try again later")
                    else:
                        self.reply("250 2.0.0 queued")
                    mail_from, rcpts = None, []
                elif verb == "RSET":
                    mail_from, rcpts = None, []
                    self.reply("250 OK")
                elif verb == "NOOP":
                    self.reply("250 OK")
                elif verb == "QUIT":
                    self.reply("221 bye")
                    return
                else:
                    self.reply("502 command not implemented")

    socketserver.ThreadingTCPServer.allow_reuse_address = True
    srv = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    with open(args.port_file + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(args.port_file + ".tmp", args.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
