#!/usr/bin/env bash
# vigild with the shipped correlation rules: an SSH password-guessing burst
# over TCP (10 failures from one address within a minute) gives exactly one
# correlation alert, with its group and count, in the alerts file and on
# /metrics; the correlator shares the embedded Redis of the response service.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules]
playbooks: []
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
data_dir: $T/var
X
"$BIN/vigild" -c "$T/vigil.yml" 2> "$T/vigild.log" &
vpid=$!
PIDS+=("$vpid")
if wait_for healthy; then ok "vigild starts with correlation rules"; else notok "vigild starts with correlation rules" "$(cat "$T/vigild.log")"; fi

# one connection: a firewall block (a building block of the port scan
# correlation, generate: false: no detection of its own), ten failures from
# 203.0.113.60, one second apart in event time, and three from another
# address (below the threshold)
python3 - "$port" <<'PY'
import socket, sys, time
now = time.time()
lines = ["<4>Nov 23 01:01:01 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= SRC=198.51.100.30 DST=10.0.0.5 LEN=44 PROTO=TCP SPT=40000 DPT=1001 WINDOW=1024 SYN URGP=0\n"]
for i in range(10):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 20 + i))
    lines.append("<86>1 %s.000Z bastion sshd %d - - Failed password for root from 203.0.113.60 port %d ssh2\n" % (t, 100 + i, 4000 + i))
for i in range(3):
    t = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now - 20 + i))
    lines.append("<86>1 %s.000Z bastion sshd %d - - Failed password for root from 198.51.100.61 port %d ssh2\n" % (t, 200 + i, 5000 + i))
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall("".join(lines).encode())
s.close()
PY

corr() { grep -c '"kind":"correlation"' "$T/alerts.jsonl" 2>/dev/null; }
has_corr() { [ -f "$T/alerts.jsonl" ] && [ "$(corr)" -ge 1 ]; }
det() { [ -f "$T/alerts.jsonl" ] && [ "$(grep -c '"kind":"detection"' "$T/alerts.jsonl")" -ge 26 ]; }
wait_for det
if wait_for has_corr; then ok "the burst raises a correlation alert"; else notok "the burst raises a correlation alert" "$(tail -5 "$T/vigild.log")"; fi
# the timer closes nothing more for this rule: one alert for ten failures
sleep 2
python3 - "$T/alerts.jsonl" > "$T/got" <<'PY'
import json, sys
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["kind"] == "correlation":
        print(a["rule"]["title"], json.dumps(a["group"]), a["count"], a["event"]["source"]["port"], sep="\t")
PY
printf '%s\t%s\t%s\t%s\n' "SSH password guessing from one address" '{"source.ip": "203.0.113.60"}' 10 4009 > "$T/want"
same_text "exactly one correlation alert: group, count, last event" "$T/want" "$T/got"
check "detections: 13 failures, 13 root guesses, no firewall block" [ "$(grep -c '"kind":"detection"' "$T/alerts.jsonl")" -eq 26 ]
curl -sf "http://127.0.0.1:$hport/metrics" > "$T/metrics"
check "/metrics counts the correlation alert" grep -qx 'vigil_alerts_total{kind="correlation"} 1' "$T/metrics"
# 14 events fed: 13 SSH failures and the firewall block
check "/metrics: correlator counters" grep -qx 'vigil_correlation_events_total 14' "$T/metrics"
check "/metrics: correlator alerts" grep -qx 'vigil_correlation_alerts_total 1' "$T/metrics"
check "/metrics: no correlation update dropped" grep -qx 'vigil_correlation_dropped_total 0' "$T/metrics"

kill -TERM "$vpid"
wait "$vpid"
rc=$?
if [ $rc -eq 0 ]; then ok "vigild stops cleanly (exit 0)"; else notok "vigild stops cleanly (exit 0)" "$(tail -40 "$T/vigild.log")"; fi
finish
