#!/usr/bin/env bash
# vigild's stream connections are spread evenly over its workers, whatever
# SO_REUSEPORT's hash of their addresses picked: the worker that accepts a
# connection hands it to the one serving the fewest. 8 connections on 2
# workers are served 4 and 4 (vigil_worker_connections); every message
# sent on them arrives, each connection's alerts in the order sent, each
# alert offered to the response service once; closed
# connections are no longer counted, and new ones go where there are
# fewest again.
. "$(dirname "$0")/lib.sh"
cd "$ROOT"

port=$(free_port)
hport=$(free_port)
cat > "$T/vigil.yml" <<X
inputs:
  - {name: tcp-in, type: tcp, listen: "127.0.0.1:$port"}
parsers: [$ROOT/parsers]
rules: [$ROOT/rules/linux, $ROOT/rules/mappings, $ROOT/rules/placeholders.yml]
playbooks: []
workers: 2
outputs: {file: $T/alerts.jsonl}
http: {listen: "127.0.0.1:$hport"}
data_dir: $T/var
X
start_vigild
ok "vigild starts with 2 workers"

# per worker, in worker order
per_worker() {
	curl -sf "http://127.0.0.1:$hport/metrics" |
	    awk '$1 ~ /^vigil_worker_connections[{]/ {printf "%s%s", sep, $2; sep=" "} END {print ""}'
}
per_worker_sorted() { per_worker | tr ' ' '\n' | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# Phase 1: 8 connections held open, then 2000 messages on each, sent in
# turns of 100 so that all 8 are busy at once; closed together.
mkfifo "$T/go" "$T/opened"
python3 - "$port" 8 2000 "$T/opened" "$T/go" <<'PY' &
import socket, sys
port, conns, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(conns)]
open(sys.argv[4], "w").write("opened\n")
open(sys.argv[5]).read()
for start in range(1, count + 1, 100):
    for c, s in enumerate(socks):
        s.sendall("".join(
            "<38>Nov 23 10:00:00 host%d sshd[%d]: Failed password for root from 203.0.113.%d port %d ssh2\n"
            % (c, 1000 + c, c + 1, i) for i in range(start, start + 100)).encode())
for s in socks:
    s.close()
PY
sender=$!
PIDS+=("$sender")
read -r _ < "$T/opened"
if wait_for metric_is 'vigil_connections_open{input="tcp-in"}' 8; then ok "8 connections open"; else notok "8 connections open" "$(metric 'vigil_connections_open{input="tcp-in"}')"; fi
got=$(per_worker)
check "8 connections on 2 workers: 4 and 4 (got $got)" [ "$got" = "4 4" ]
echo go > "$T/go"
wait "$sender"
if wait_for metric_is 'vigil_messages_received_total{input="tcp-in"}' 16000; then ok "all 16000 messages received"; else notok "all 16000 messages received" "$(metric 'vigil_messages_received_total{input="tcp-in"}')"; fi
# each message fires "SSH login failed" once
count_alerts() { [ "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl" 2>/dev/null)" = 16000 ]; }
if wait_for count_alerts; then ok "16000 login alerts written"; else notok "16000 login alerts written" "$(grep -c '"title":"SSH login failed"' "$T/alerts.jsonl")"; fi
python3 - "$T/alerts.jsonl" > "$T/order" <<'PY'
import json, sys
seen = {}
bad = []
for l in open(sys.argv[1]):
    a = json.loads(l)
    if a["rule"]["title"] != "SSH login failed":
        continue
    e = a["event"]
    ip, p = e["source"]["ip"], int(e["source"]["port"])
    want = seen.get(ip, 0) + 1
    if p != want and len(bad) < 5:
        bad.append("%s: port %d where %d was due" % (ip, p, want))
    seen[ip] = p
for b in bad:
    print(b)
print(" ".join("%s:%d" % (ip, seen[ip]) for ip in sorted(seen)))
PY
cat > "$T/want" <<'X'
203.0.113.1:2000 203.0.113.2:2000 203.0.113.3:2000 203.0.113.4:2000 203.0.113.5:2000 203.0.113.6:2000 203.0.113.7:2000 203.0.113.8:2000
X
same_text "each connection's alerts in the order sent, none missing" "$T/want" "$T/order"
# each message fires two rules; the alert lines a batch's producer cut for
# the response service are exactly those written
check "32000 detection alerts" metric_is 'vigil_alerts_total{kind="detection"}' 32000
check "the response service was offered each of them once" metric_is 'vigil_response_alerts_total{result="submitted"}' 32000
if wait_for metric_is 'vigil_connections_open{input="tcp-in"}' 0; then ok "closed connections are closed"; else notok "closed connections are closed"; fi
got=$(per_worker)
check "closed connections no longer counted per worker (got $got)" [ "$got" = "0 0" ]

# Phase 2: 3 connections: 2 on one worker, 1 on the other.
python3 - "$port" "$T/opened" "$T/go" <<'PY' &
import socket, sys
socks = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(3)]
open(sys.argv[2], "w").write("opened\n")
open(sys.argv[3]).read()
PY
sender=$!
PIDS+=("$sender")
read -r _ < "$T/opened"
wait_for metric_is 'vigil_connections_open{input="tcp-in"}' 3
got=$(per_worker_sorted)
check "3 connections on 2 workers: 1 and 2 (got $got)" [ "$got" = "1 2" ]
echo go > "$T/go"
wait "$sender"
wait_for metric_is 'vigil_connections_open{input="tcp-in"}' 0
got=$(per_worker)
check "and none once they are closed (got $got)" [ "$got" = "0 0" ]

kill -TERM "$vpid"
wait "$vpid"
rc=$?
check "vigild stops cleanly (exit 0)" [ $rc -eq 0 ]
finish
