#!/usr/bin/env python3
"""Check alert JSON lines against the fixed schema of ARCHITECTURE.md and
print one stable line per alert (time, rule id, title, host, message) so a
test can compare them with an expected file. Exits 1 on a schema error."""
import json
import re
import sys

KEYS = ["id", "@timestamp", "kind", "rule", "group", "count", "event"]
ids = set()
bad = 0
for n, line in enumerate(sys.stdin, 1):
    a = json.loads(line)
    err = None
    if list(a.keys())[:7] != KEYS:
        err = "keys %s" % list(a.keys())
    elif not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", a["id"]):
        err = "id %r is not a UUIDv7" % a["id"]
    elif a["id"] in ids:
        err = "duplicate id"
    elif not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", a["@timestamp"]):
        err = "@timestamp %r" % a["@timestamp"]
    elif a["kind"] == "detection" and (a["group"] != {} or a["count"] != 1):
        err = "detection with group/count"
    elif set(a["rule"].keys()) < {"id", "title", "level", "tags"}:
        err = "rule keys"
    if err:
        print("schema error on alert %d: %s" % (n, err), file=sys.stderr)
        bad += 1
    ids.add(a["id"])
    e = a["event"]
    host = e.get("host", {}).get("hostname", "-")
    print("%s\t%s\t%s\t%s\t%s\t%s" % (a["@timestamp"], a["kind"], a["rule"]["id"], a["rule"]["title"], host, e.get("message", "")))
sys.exit(1 if bad else 0)
