#!/usr/bin/env python3
"""Reference count of 'SSH password guessing from one address' alerts.

Written from the rule's meaning (rules/correlation/ssh.yml, CORRELATION.md),
not from vigil's code, to cross-check the engine on a syslog corpus such as
the one of ../shared/bench/gen_syslog.py:

  - an event is a failed SSH login: an sshd line saying "Failed <method> for
    [invalid user] USER from IP port N", "ROOT LOGIN REFUSED FROM IP" or
    "User USER from IP not allowed because ...";
  - events are grouped by source address and read in file order, which is
    event-time order for this corpus (the script checks that);
  - an alert fires at an event when the events of its group within the
    timespan before it, ends included ([t - timespan, t]), number at least
    the threshold; those events are then consumed (they count for no other
    alert).

Reads syslog lines (RFC 3164 or RFC 5424) on stdin or from the files given;
prints the number of alerts. --timespan and --threshold default to the
rule's (1 minute, 10); --alerts prints one line per alert instead
("<time ms> <address> <count>").
"""
import argparse
import collections
import datetime as dt
import re
import sys

MONTHS = {m: i + 1 for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split())}

RFC3164 = re.compile(r'^<\d{1,3}>([A-Z][a-z]{2}) +(\d{1,2}) (\d\d):(\d\d):(\d\d) (\S+) ([^:\[\s]+)(?:\[\d+\])?: (.*)$')
RFC5424 = re.compile(r'^<\d{1,3}>1 (\S+) (\S+) (\S+) (\S+) (\S+) (?:-|(?:\[.*?\])+) ?(.*)$')

IP = r'([0-9A-Fa-f:.]+)'
FAILED = [
    re.compile(r'^Failed (?:password|keyboard-interactive/pam|publickey|hostbased|gssapi-with-mic|none) for (?:invalid user )?.*? from ' + IP + r' port \d+'),
    re.compile(r'^ROOT LOGIN REFUSED FROM ' + IP),
    re.compile(r'^User .*? from (\d{1,3}(?:\.\d{1,3}){3}|[0-9A-Fa-f]*:[0-9A-Fa-f:.]*) not allowed because '),
]
SSHD = {"sshd", "sshd-session", "sshd-auth"}


def event_time_ms(line, year):
    """(ms since the epoch, program, message) or None."""
    m = RFC5424.match(line)
    if m:
        stamp = m.group(1).replace("Z", "+00:00")
        t = dt.datetime.fromisoformat(stamp)
        return int(t.timestamp() * 1000), m.group(3), m.group(6)
    m = RFC3164.match(line)
    if m:
        mon, day, hh, mm, ss = MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)), int(m.group(4)), int(m.group(5))
        t = dt.datetime(year, mon, day, hh, mm, ss, tzinfo=dt.timezone.utc)
        return int(t.timestamp() * 1000), m.group(7), m.group(8)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*")
    ap.add_argument("--timespan", type=float, default=60.0, help="seconds")
    ap.add_argument("--threshold", type=int, default=10)
    ap.add_argument("--year", type=int, default=2026, help="year of RFC 3164 stamps")
    ap.add_argument("--alerts", action="store_true")
    a = ap.parse_args()
    span = int(a.timespan * 1000)
    windows = collections.defaultdict(collections.deque)
    alerts = 0
    last = None
    streams = [open(f, encoding="utf-8", errors="replace") for f in a.files] or [sys.stdin]
    for stream in streams:
        for line in stream:
            parsed = event_time_ms(line.rstrip("\n"), a.year)
            if parsed is None:
                continue
            t, prog, msg = parsed
            if last is not None and t < last:
                sys.exit("reference: the input is not in time order; this script needs it")
            last = t
            if prog not in SSHD:
                continue
            ip = None
            for rx in FAILED:
                m = rx.match(msg)
                if m:
                    ip = m.group(1)
                    break
            if ip is None:
                continue
            w = windows[ip]
            w.append(t)
            while w[0] < t - span:
                w.popleft()
            if len(w) >= a.threshold:
                alerts += 1
                if a.alerts:
                    print(t, ip, len(w))
                w.clear()
    if not a.alerts:
        print(alerts)


if __name__ == "__main__":
    main()
