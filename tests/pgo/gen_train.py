#!/usr/bin/env python3
"""The training workload of vigil's profile-guided build (Makefile, PGO=1).

Writes N log lines to stdout: messages of every shipped decoder (parsers/),
in the syslog header shapes and JSON lines that vigil reads (RFC 3164 with
and without PRI, RFC 3339 times inside 3164 headers, RFC 5424 with
structured data), programs no decoder knows, and a few malformed lines, so
that the compiler sees the pipeline's paths used in the proportions a busy
Linux fleet gives them. Deterministic: the same N gives the same lines.

Usage: gen_train.py [N]   (default 120000)
"""
import json
import random
import sys

R = random.Random(20261124)
USERS = ["alice", "bob", "carol", "deploy", "root", "admin", "git", "backup",
         "jenkins", "postgres", "www-data", "oracle", "test", "ubuntu", "pi"]
HOSTS = ["web-1", "web-2", "db-1", "bastion", "mail", "edge-fw", "ci-runner",
         "app-3.example.net", "10.20.0.7"]
PATHS = ["/", "/index.html", "/login", "/api/v1/items?id=42", "/static/app.js",
         "/wp-login.php", "/admin/config.php", "/../../etc/passwd",
         "/search?q=1%27%20OR%20%271%27=%271", "/cgi-bin/test.cgi",
         "/api/v1/users/7/orders?limit=50&page=3", "/favicon.ico",
         "/.git/config", "/shell.php?cmd=id", "/images/logo.png"]
AGENTS = ["Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
          "curl/8.5.0", "sqlmap/1.8#stable (https://sqlmap.org)",
          "Mozilla/5.0 (compatible; Googlebot/2.1)", "python-requests/2.31",
          "Nikto/2.5.0", "-"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]


def ip():
    if R.random() < 0.05:
        return "2001:db8:%x::%x" % (R.randrange(65536), R.randrange(65536))
    if R.random() < 0.3:
        return "10.%d.%d.%d" % (R.randrange(256), R.randrange(256),
                                R.randrange(1, 255))
    return "%d.%d.%d.%d" % (R.randrange(1, 224), R.randrange(256),
                            R.randrange(256), R.randrange(1, 255))


def user():
    return R.choice(USERS)


def sshd():
    u, a, p = user(), ip(), R.randrange(1024, 65536)
    return "sshd", R.choice([
        "Failed password for %s from %s port %d ssh2" % (u, a, p),
        "Failed password for invalid user %s from %s port %d ssh2" % (u, a, p),
        "Failed publickey for %s from %s port %d ssh2: RSA SHA256:x1" % (u, a, p),
        "Accepted publickey for %s from %s port %d ssh2: ED25519 SHA256:k" % (u, a, p),
        "Accepted password for %s from %s port %d ssh2" % (u, a, p),
        "Invalid user %s from %s port %d" % (u, a, p),
        "Connection closed by authenticating user %s %s port %d [preauth]" % (u, a, p),
        "Disconnected from invalid user %s %s port %d [preauth]" % (u, a, p),
        "Received disconnect from %s port %d:11: Bye Bye [preauth]" % (a, p),
        "maximum authentication attempts exceeded for %s from %s port %d ssh2 [preauth]" % (u, a, p),
        "Did not receive identification string from %s port %d" % (a, p),
        "pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=%s  user=%s" % (a, u),
        "pam_unix(sshd:session): session opened for user %s(uid=1000) by (uid=0)" % u,
        "pam_unix(sshd:session): session closed for user %s" % u,
        "ROOT LOGIN REFUSED FROM %s port %d" % (a, p),
        "User %s from %s not allowed because not listed in AllowUsers" % (u, a),
        "error: PAM: Authentication failure for %s from %s" % (u, a),
        "Server listening on 0.0.0.0 port 22.",
    ])


def sudo():
    u = user()
    cmd = R.choice(["/usr/bin/apt update", "/bin/bash", "/usr/bin/systemctl restart nginx",
                    "/usr/bin/cat /etc/shadow", "/bin/sh -c id", "/usr/bin/vim /etc/hosts"])
    return "sudo", R.choice([
        "%8s : TTY=pts/%d ; PWD=/home/%s ; USER=root ; COMMAND=%s" % (u, R.randrange(9), u, cmd),
        "%s : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/home/%s ; USER=root ; COMMAND=%s" % (u, u, cmd),
        "%s : user NOT in sudoers ; TTY=pts/2 ; PWD=/tmp ; USER=root ; COMMAND=%s" % (u, cmd),
        "pam_unix(sudo:session): session opened for user root(uid=0) by %s(uid=1000)" % u,
        "pam_unix(sudo:session): session closed for user root",
        "pam_unix(sudo:auth): authentication failure; logname=%s uid=1000 euid=0 tty=/dev/pts/1 ruser=%s rhost=  user=%s" % (u, u, u),
    ])


def su():
    u = user()
    return "su", R.choice([
        "(to root) %s on pts/%d" % (u, R.randrange(9)),
        "FAILED SU (to root) %s on pts/%d" % (u, R.randrange(9)),
        "pam_unix(su:auth): authentication failure; logname=%s uid=1000 euid=0 tty=pts/0 ruser=%s rhost=  user=root" % (u, u),
        "pam_unix(su:session): session opened for user root(uid=0) by %s(uid=1000)" % u,
    ])


def cron():
    u = R.choice(["root", "backup", "www-data"])
    return R.choice(["CRON", "crond"]), R.choice([
        "(%s) CMD (/usr/local/bin/backup.sh --full)" % u,
        "(%s) CMD (test -x /usr/sbin/anacron || run-parts --report /etc/cron.daily)" % u,
        "pam_unix(cron:session): session opened for user %s(uid=0) by (uid=0)" % u,
        "pam_unix(cron:session): session closed for user %s" % u,
        "(%s) RELOAD (crontabs/%s)" % (u, u),
    ])


def kernel():
    proto = R.choice(["TCP", "UDP", "ICMP"])
    ports = "" if proto == "ICMP" else " SPT=%d DPT=%d" % (R.randrange(1024, 65536), R.choice([22, 23, 80, 443, 3389, 5900, 8080]))
    tail = " WINDOW=1024 RES=0x00 SYN URGP=0" if proto == "TCP" else (" LEN=60" if proto == "UDP" else " TYPE=8 CODE=0 ID=9 SEQ=1")
    body = ("IN=%s OUT= MAC=52:54:00:12:34:56:52:54:00:65:43:21:08:00 SRC=%s DST=%s LEN=60 TOS=0x00 PREC=0x00 TTL=%d ID=%d DF PROTO=%s%s%s"
            % (R.choice(["eth0", "ens3", "wan0"]), ip(), ip(), R.randrange(30, 255), R.randrange(65536), proto, ports, tail))
    stamp = "[%d.%06d] " % (R.randrange(100000), R.randrange(1000000)) if R.random() < 0.5 else ""
    prefix = R.choice(["[UFW BLOCK] ", "[UFW ALLOW] ", "[UFW AUDIT] ", "iptables-drop: ",
                       "FW-ACCEPT ", "INPUT-REJECT "])
    if R.random() < 0.1:
        return "kernel", "%susb 1-1: new high-speed USB device number %d using ehci-pci" % (stamp, R.randrange(9))
    return "kernel", stamp + prefix + body


def web(prog):
    a = ip()
    req = "%s %s HTTP/1.1" % (R.choice(["GET", "GET", "GET", "POST", "HEAD", "PUT"]), R.choice(PATHS))
    status = R.choice([200, 200, 200, 301, 304, 403, 404, 500])
    line = '%s - %s [23/Nov/2026:%02d:%02d:%02d +0000] "%s" %d %s "%s" "%s"' % (
        a, R.choice(["-", "-", "alice"]), R.randrange(24), R.randrange(60), R.randrange(60),
        req, status, R.choice(["-", str(R.randrange(100000))]),
        R.choice(["-", "https://example.net/"]), R.choice(AGENTS))
    if R.random() < 0.05:
        line = ('2026/11/23 10:00:00 [error] 1234#0: *%d open() "/var/www%s" failed (2: No such file or directory), client: %s, server: example.net, request: "%s", host: "example.net"'
                % (R.randrange(99999), R.choice(PATHS), a, req)) if prog == "nginx" else (
                "[Mon Nov 23 10:00:00.123456 2026] [core:error] [pid 4242:tid 1234] [client %s:%d] AH00126: Invalid URI in request %s" % (a, R.randrange(1024, 65536), req))
    return prog, line


def postfix():
    a, d = ip(), R.choice(["unknown", "mx.example.org", "mail.bad.example"])
    q = "%010X" % R.randrange(1 << 40)
    return R.choice(["postfix/smtpd", "postfix/smtp"]), R.choice([
        "connect from %s[%s]" % (d, a),
        "disconnect from %s[%s] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4" % (d, a),
        "lost connection after AUTH from %s[%s]" % (d, a),
        "NOQUEUE: reject: RCPT from %s[%s]: 554 5.7.1 <spam@example.com>: Relay access denied; from=<x@example.org> to=<spam@example.com> proto=ESMTP helo=<x>" % (d, a),
        "warning: %s[%s]: SASL LOGIN authentication failed: authentication failure" % (d, a),
        "%s: client=%s[%s], sasl_method=PLAIN, sasl_username=%s" % (q, d, a, user()),
        "%s: to=<%s@example.net>, relay=local, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (delivered to mailbox)" % (q, user()),
        "%s: to=<%s@example.net>, relay=none, delay=3, dsn=4.4.1, status=deferred (connect to mx: Connection timed out)" % (q, user()),
    ])


def accounts():
    u = R.choice(["svc%d" % R.randrange(100), user()])
    return R.choice([
        ("useradd", "new user: name=%s, UID=%d, GID=%d, home=/home/%s, shell=/bin/bash, from=/dev/pts/0" % (u, R.randrange(1000, 2000), R.randrange(1000, 2000), u)),
        ("useradd", "new group: name=%s, GID=%d" % (u, R.randrange(1000, 2000))),
        ("usermod", "add '%s' to group 'sudo'" % u),
        ("usermod", "add '%s' to shadow group 'sudo'" % u),
        ("usermod", "change user '%s' password" % u),
        ("userdel", "delete user '%s'" % u),
        ("passwd", "pam_unix(passwd:chauthtok): password changed for %s" % u),
        ("chpasswd", "password for '%s' changed by 'root'" % u),
    ])


def logind():
    s = R.randrange(1, 5000)
    return "systemd-logind", R.choice([
        "New session %d of user %s." % (s, user()),
        "Removed session %d." % s,
        "Session %d logged out. Waiting for processes to exit." % s,
    ])


def other():
    return R.choice([
        ("systemd", "Started Daily apt upgrade and clean activities."),
        ("dhclient", "DHCPACK of 10.0.0.%d from 10.0.0.1" % R.randrange(2, 250)),
        ("named", "client @0x7f 10.1.1.%d#53 (example.org): query (cache) 'example.org/A/IN' denied" % R.randrange(2, 250)),
        ("app", "level=info msg=\"request done\" path=/api/v1 status=200 took=12ms"),
        ("dockerd", "time=\"2026-11-23T10:00:00.000000000Z\" level=warning msg=\"cleaning up\""),
    ])


KINDS = [(sshd, 30), (lambda: web("nginx"), 14), (lambda: web("apache2"), 4),
         (kernel, 14), (cron, 9), (sudo, 6), (postfix, 5), (logind, 4),
         (su, 2), (accounts, 2), (other, 10)]
TOTAL = sum(w for _, w in KINDS)


def pick():
    x = R.randrange(TOTAL)
    for f, w in KINDS:
        if x < w:
            return f()
        x -= w
    raise AssertionError


def header(t, host, prog, pid):
    tag = "%s[%d]" % (prog, pid) if pid else prog
    pri = R.choice([13, 38, 86, 4, 30, 78, 22])
    x = R.random()
    if x < 0.70:
        return "<%d>%s %2d %02d:%02d:%02d %s %s: " % (pri, MONTHS[10], 23 + t // 86400, (t // 3600) % 24,
                                                    (t // 60) % 60, t % 60, host, tag)
    if x < 0.80:
        return "%s %2d %02d:%02d:%02d %s %s: " % (MONTHS[10], 23, (t // 3600) % 24, (t // 60) % 60, t % 60, host, tag)
    if x < 0.88:
        return "<%d>2026-11-23T%02d:%02d:%02d.%06d+00:00 %s %s: " % (pri, (t // 3600) % 24, (t // 60) % 60, t % 60,
                                                                    R.randrange(1000000), host, tag)
    sd = R.choice(["-", '[origin ip="10.0.0.1" software="rsyslogd"]',
                   '[meta sequenceId="%d"][x@32473 a="b\\"c"]' % R.randrange(99999)])
    return "<%d>1 2026-11-23T%02d:%02d:%02d.%03dZ %s %s %s - %s " % (
        pri, (t // 3600) % 24, (t // 60) % 60, t % 60, R.randrange(1000), host, prog, pid or "-", sd)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 120000
    out = sys.stdout
    t = 0
    for _ in range(n):
        t += R.randrange(3)
        prog, msg = pick()
        host = R.choice(HOSTS)
        x = R.random()
        if x < 0.04:
            out.write(json.dumps({"@timestamp": "2026-11-23T10:%02d:%02d.000Z" % ((t // 60) % 60, t % 60),
                                  "host": {"hostname": host}, "process": {"name": prog, "pid": R.randrange(1, 99999)},
                                  "message": msg, "tags": ["train", prog]}, separators=(",", ":")) + "\n")
            continue
        if x < 0.045:
            out.write(R.choice(["last message repeated %d times" % R.randrange(2, 50),
                                "garbage line without any header %d" % R.randrange(1000),
                                "<999>broken priority", "{\"truncated\": ",
                                "%d: *Nov 23 10:00:00.123: %%SEC-6-IPACCESSLOGP: list 101 denied tcp %s(1234) -> 10.0.0.1(22), 1 packet" % (R.randrange(9999), ip())]) + "\n")
            continue
        pid = 0 if prog == "kernel" else R.randrange(1, 99999)
        out.write(header(t, host, prog, pid) + msg + "\n")


if __name__ == "__main__":
    main()
