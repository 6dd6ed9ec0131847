#!/usr/bin/env bash
# Hot reload and correlation (vigild, 2 workers, embedded Redis): a reload
# compiles the correlation rules of the new set too, and every worker
# switches to them:
#  - a correlation rule that did not change keeps its window across the
#    reload: six SSH failures before it and four after reach the threshold
#    of ten exactly once, at the tenth;
#  - a correlation rule added by the reload fires;
#  - a correlation rule removed by a later reload no longer fires (its
#    detection rule, kept, still does).
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
cp -r "$ROOT/rules" "$T/rules"
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [rules]
playbooks: []
outputs: {file: alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
workers: 2
data_dir: var
X
start_vigild

# every correlation update sent so far is answered
settled() { metric_is vigil_correlation_redis_inflight 0 && metric_is vigil_correlation_redis_buffered 0; }
count() { grep -c "$1" "$T/alerts.jsonl" 2>/dev/null; }
count_is() { [ "$(count "$1")" = "$2" ]; }
# send FILE over one connection
send() {
	python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(open(sys.argv[2],"rb").read()); s.close()' "$port" "$1"
}
# lines FROM TO KIND: syslog lines, one a second of event time from
# (now - 50 s + FROM); KIND fail: SSH failures from 203.0.113.70 (port
# 40000 + i); KIND mark: reload markers
lines() {
	python3 - "$@" <<'PY'
import sys, time
a, b, kind = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t0 = time.time() - 50
for i in range(a, b):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t0 + i))
    if kind == "fail":
        print("<86>1 %s.000Z bastion sshd %d - - Failed password for root from 203.0.113.70 port %d ssh2" % (t, 100 + i, 40000 + i))
    else:
        print("<38>1 %s.000Z h1 app 7 - - vigil-reload-marker %d" % (t, i))
PY
}
GUESS='"title":"SSH password guessing from one address"'
BURST='"title":"Reload marker burst"'
MARK='"title":"Reload marker"'

check "start: the correlators are connected (2 workers + HTTP ingest)" wait_for metric_is vigil_correlation_redis_connected 3
check "start: 3 connections made" metric_is vigil_correlation_redis_connects_total 3
# six failures, then three markers (no rule yet)
lines 0 6 fail > "$T/a"
lines 6 9 mark >> "$T/a"
send "$T/a"
wait_for count_is '"kind":"detection"' 12
wait_for settled
check "before the reload: 6 failures, no correlation alert" [ "$(count '"kind":"correlation"')" = 0 ]
check "before the reload: 6 correlation events" metric_is vigil_correlation_events_total 6

# the reload adds a detection rule and a correlation rule over it; the SSH
# correlation rules stay as they were
cat > "$T/rules/marker.yml" <<'X'
title: Reload marker
id: 5d0b8a52-7a61-4f0e-9c4e-0d7c2f1e9a01
name: reload_marker
level: low
logsource: {product: linux}
detection:
    keywords: [vigil-reload-marker]
    condition: keywords
---
title: Reload marker burst
id: 0e6f7c1a-3b2d-4c5e-8f90-a1b2c3d4e5f6
correlation:
  type: event_count
  rules: [reload_marker]
  group-by: [host.hostname]
  timespan: 1m
  condition: {gte: 3}
generate: true
level: medium
X
kill -HUP "$vpid"
wait_for metric_is vigil_rules_generation 2
check "SIGHUP: generation 2" metric_is vigil_rules_generation 2
check "reload logged with its correlation rules" grep -q "rules: reloaded: .* (generation 2), 7 correlation rules" "$T/vigild.log"
check "after the reload: a new correlator per worker, connected" wait_for metric_is vigil_correlation_redis_connects_total 6
check "after the reload: 3 connected" metric_is vigil_correlation_redis_connected 3

# four more failures (the 7th to 10th of the window) and three markers
lines 10 14 fail > "$T/b"
lines 14 17 mark >> "$T/b"
send "$T/b"
wait_for count_is "$MARK" 3
wait_for count_is "$GUESS" 1
wait_for settled
sleep 1.5   # a timer tick: nothing more closes
python3 - "$T/alerts.jsonl" > "$T/got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["kind"] == "correlation":
        last = a["event"]["source"]["port"] if "source" in a["event"] else a["event"]["message"].split(" ")[-1]
        print(a["rule"]["title"], json.dumps(a["group"]), a["count"], last, sep="\t")
PY
printf '%s\t%s\t%s\t%s\n' \
	"SSH password guessing from one address" '{"source.ip": "203.0.113.70"}' 10 40013 \
	"Reload marker burst" '{"host.hostname": "h1"}' 3 16 > "$T/want"
same_text "unchanged rule: one alert at the 10th failure across the reload; new rule fires" "$T/want" "$T/got"
check "metrics: 2 correlation alerts" metric_is 'vigil_alerts_total{kind="correlation"}' 2
check "metrics: correlation events counted across the reload (10 + 3)" metric_is vigil_correlation_events_total 13

# a second reload removes the burst correlation, keeps the marker rule
python3 - "$T/rules/marker.yml" <<'PY'
import sys
p = sys.argv[1]
keep = open(p).read().split("\n---\n")[0]
open(p, "w").write(keep + "\n")
PY
curl -sf -X POST "http://127.0.0.1:$hport/api/v1/reload" > /dev/null
check "API reload: generation 3" wait_for metric_is vigil_rules_generation 3
check "reload logged: 6 correlation rules" grep -q "rules: reloaded: .* (generation 3), 6 correlation rules" "$T/vigild.log"
lines 20 23 mark > "$T/c"
send "$T/c"
wait_for count_is "$MARK" 6
wait_for settled
sleep 1.5
check "removed rule: the markers are detected" count_is "$MARK" 6
check "removed rule: no new correlation alert" count_is "$BURST" 1
check "metrics: still 2 correlation alerts" metric_is 'vigil_alerts_total{kind="correlation"}' 2

[ -n "${KEEP:-}" ] && cp "$T/alerts.jsonl" "$T/vigild.log" "$T/rules/marker.yml" "$KEEP"/ && curl -sf "http://127.0.0.1:$hport/metrics" > "$KEEP/metrics"
kill -TERM "$vpid"
wait "$vpid"
rc=$?
if [ $rc -eq 0 ]; then ok "vigild stops cleanly (exit 0)"; else notok "vigild stops cleanly (exit 0)" "$(tail -40 "$T/vigild.log")"; fi
finish
